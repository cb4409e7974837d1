import sys

from source_python_example import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
