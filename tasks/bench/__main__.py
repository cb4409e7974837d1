"""`python -m tasks.bench [options]`: the benchmark's command line (`nox -s bench` runs the same `main`)."""

import shlex
import sys

from tasks.bench.cli import main
from tasks.bench.process import BenchError

if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:], command=shlex.join(["python", "-m", "tasks.bench", *sys.argv[1:]])))
    except BenchError as failure:
        sys.exit(f"{failure}")
