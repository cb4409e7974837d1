import sys

from source_dockerfile_example import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
