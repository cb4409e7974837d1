"""`nox -s bench`: record validation throughput against an upstream-style baseline, and the memory of a basic_read.

The command line: its options and sizes, and `main`, which runs the benchmark: each input (`inputs`) through every
path (`paths`, `throughput`), basic_read's memory (`memory`), the whole-run benchmark (`suites`), uv against pip
making the same environments (`environments`), judged against the targets (`targets`) and reported (`report`).
The baseline may run on the first lines only (`--baseline-lines`); ours then runs on the same lines for the ratio
and for the invalid-record counts, which must agree. Verdicts are printed; the exit status is 1 on a missed target
only with `--check`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tasks.bench.inputs import BenchInput, faker_input, wide_input
from tasks.bench.process import BenchError, Say
from tasks.bench.report import report_text, results_json
from tasks.bench.targets import DEFAULT_SIZES, QUICK_SIZES, Sizes, Target, bench_input, bench_memory
from tasks.bench.throughput import Measurement

DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "connector-acceptance-bench"

DEFAULT_PASSES = 3
DEFAULT_ROUNDS = 2


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.splitlines()[0],
                                     exit_on_error=False)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests, a smoke run)")
    parser.add_argument("--count", type=int, metavar="N", help=f"source-faker count (default {DEFAULT_SIZES.count:,})")
    parser.add_argument("--records-wide", type=int, metavar="N",
                        help=f"synthetic wide records (default {DEFAULT_SIZES.wide_records:,})")
    parser.add_argument("--baseline-lines", type=int, metavar="N",
                        help=f"lines the baseline reads, 0 for all (default {DEFAULT_SIZES.baseline_lines:,})")
    parser.add_argument("--memory-records", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                        help=f"basic_read sizes (default {DEFAULT_SIZES.memory_small:,} "
                             f"{DEFAULT_SIZES.memory_large:,})")
    parser.add_argument("--no-faker", action="store_true", help="leave out the source-faker recording")
    parser.add_argument("--no-suites", action="store_true",
                        help="leave out the whole-run benchmark (source-faker count 10,000, every suite; ~2 min)")
    parser.add_argument("--no-environments", action="store_true",
                        help="leave out the environments table (uv against pip installing the same connectors, "
                             "rounds taking turns; pip takes minutes per install)")
    parser.add_argument("--work-dir", type=Path, metavar="DIR", default=DEFAULT_WORK_DIR,
                        help="where inputs are generated and reused (default: %(default)s)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="results file (default <work-dir>/bench.json)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--passes", type=int, metavar="N",
                        help=f"passes per path over its file, the fastest counts (default {DEFAULT_PASSES}; "
                             "1 with --quick)")
    parser.add_argument("--rounds", type=int, metavar="N",
                        help=f"processes per path for orjson and ours over the whole file, the paths taking turns, "
                             f"and installs per installer for the environments table, uv and pip taking turns "
                             f"(default {DEFAULT_ROUNDS}; 1 with --quick)")
    try:
        args, unknown = parser.parse_known_args(list(argv))
    except argparse.ArgumentError as error:
        raise BenchError(f"nox -s bench: {error}") from None
    if unknown:
        raise BenchError(f"nox -s bench: unknown arguments {' '.join(unknown)} (see nox -s bench -- --help)")
    return args


def sizes_of(args: argparse.Namespace) -> Sizes:
    base = QUICK_SIZES if args.quick else DEFAULT_SIZES
    small, large = args.memory_records or (base.memory_small, base.memory_large)
    return Sizes(
        count=base.count if args.count is None else args.count,
        wide_records=base.wide_records if args.records_wide is None else args.records_wide,
        baseline_lines=base.baseline_lines if args.baseline_lines is None else args.baseline_lines,
        memory_small=small, memory_large=large,
    )


def main(argv: Sequence[str] = (), *, command: str | None = None, say: Say | None = None) -> int:
    """Run the benchmark, print its tables, write the JSON; 1 only with --check and a missed target."""
    args = parse_args(argv)
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    command = command or shlex.join(["nox", "-s", "bench", *(["--", *argv] if argv else [])])
    sizes = sizes_of(args)
    passes = args.passes if args.passes is not None else 1 if args.quick else DEFAULT_PASSES
    rounds = args.rounds if args.rounds is not None else 1 if args.quick else DEFAULT_ROUNDS
    for option, value in (("--passes", passes), ("--rounds", rounds)):
        if value < 1:
            raise BenchError(f"nox -s bench: {option} must be at least 1, not {value}")
    work_dir = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    inputs: list[BenchInput] = []
    if not args.no_faker:
        faker = faker_input(work_dir, sizes.count, say, build=not args.quick)
        if faker is None:
            say("bench: source-faker is not built (nox -s build -- source-faker): its input is left out")
        else:
            inputs.append(faker)
    inputs.append(wide_input(work_dir, sizes.wide_records, say))
    rows: list[Measurement] = []
    targets: list[Target] = []
    baselines: dict[str, Measurement] = {}
    for source in inputs:
        found, met = bench_input(source, sizes.baseline_lines, say, passes, rounds)
        rows += found
        targets += met
        baselines[source.name] = next(row for row in found if row.path == "baseline")
    memory, met = bench_memory(work_dir, sizes, say)
    targets += met
    suites: dict[str, Any] | None = None
    if not (args.quick or args.no_suites):
        from tasks.bench.suites import bench_suites, suites_table, suites_targets

        suites = bench_suites(say=say)
        targets += [Target(*t) for t in suites_targets(suites)]
    environments_text: str | None = None
    environments: dict[str, Any] | None = None
    if not args.no_environments:
        from tasks.bench.environments import (
            bench_environments,
            environment_cases,
            environments_json,
            environments_table,
            environments_targets,
        )

        found = bench_environments(environment_cases(quick=args.quick), rounds, say)
        targets += environments_targets(found)
        environments_text, environments = environments_table(found, rounds), environments_json(found, rounds)
    seconds = time.monotonic() - started
    print(report_text(command, seconds, rows, baselines, memory, targets,
                      suites_table(suites) if suites else None, passes, rounds, environments_text))
    json_path = args.json or work_dir / "bench.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    results = results_json(command, seconds, sizes, inputs, rows, memory, targets)
    results["passes"] = passes  # throughput: the fastest of this many passes per path
    results["rounds"] = rounds  # ... in this many processes per path (orjson and ours), taking turns
    results["suites"] = suites
    results["environments"] = environments
    json_path.write_text(json.dumps(results, indent=2))
    print(f"\nresults: {json_path}")
    return 1 if args.check and not all(t.passed for t in targets) else 0

