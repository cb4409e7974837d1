"""The commands behind both fronts, one function per command: the nox sessions (noxfile.py) and the Invoke tasks
(tasks/invoke_tasks.py) are thin calls of these.

Each takes the command's arguments as strings (nox's posargs; what follows `--` for Invoke), says its progress
through `say`, runs any subprocess through `run` (nox's `session.run`, or Invoke's `c.run`) and returns how it ended,
an Outcome; a front only maps the Outcome to its own terms. `said_once` turns a UserError into its message, said once
across the commands of one run.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from acceptance import registry
from acceptance.config.connector import Connector
from acceptance.errors import UserError
from acceptance.runner.backend import docker_client
from tasks import acceptance as acceptance_task
from tasks.builder.image import build_image
from tasks.builder.virtualenv import build_virtualenv

Say = Callable[[str], None]
# Runs argv, each word as it is (no shell splitting or expansion), and returns its exit code; `success_codes` are the
# codes that are no failure. nox's session.run raises on any other code instead of returning it.
Run = Callable[[Sequence[str], Sequence[int]], int]


@dataclass(frozen=True)
class Outcome:
    """How a command ended: `code` 0 is success, else its exit code with `message` saying why; `skipped`: it had
    nothing to do, `message` says why (code 0)."""

    code: int = 0
    message: str = ""
    skipped: bool = False


DONE = Outcome()


def failed(message: str, code: int = 1) -> Outcome:
    return Outcome(code, message)


def skipped(message: str) -> Outcome:
    return Outcome(0, message, skipped=True)


_said: dict[str, str] = {}  # a user error's message -> the command (nox session name) that said it first


def said_once(name: str, command: Callable[[], Outcome]) -> Outcome:
    """Run `command`, named `name` (nox's session name, e.g. `acceptance(suite='spec')`); a UserError ends it with its
    message, said once: the other commands of the same run (e.g. every suite of `nox -s acceptance`) that meet the
    same error are skipped with a pointer to the first."""
    try:
        return command()
    except UserError as error:
        message = str(error)
        first = _said.setdefault(message, name)
        if first != name:
            return skipped(f"the same error as {first}")
        return failed(message)


def quiet_docker_logs() -> None:
    for chatty in ("docker", "urllib3", "filelock"):  # nox logs at DEBUG: keep the engine's HTTP calls out
        logging.getLogger(chatty).setLevel(logging.WARNING)


def _ran(run: Run, argv: Sequence[str], success_codes: Sequence[int] = (0,)) -> Outcome:
    code = run(argv, success_codes)
    return DONE if code in success_codes else failed(f"`{shlex.join(argv)}` exited with code {code}", code)


def build(argv: list[str], say: Say) -> Outcome:
    """`build -- <connector>... [--backend auto|local|docker]`: the image where Docker answers, else the venv."""
    args = acceptance_task.parse_args(argv, prog="build")
    quiet_docker_logs()
    for folder in args.connectors:
        wants_image = args.backend == "docker" or (args.backend == "auto" and docker_client() is not None)
        if wants_image:
            build_image(Connector.read(folder), say=say, cache_root=Path(args.cache_dir) if args.cache_dir else None)
        else:
            cache_root = Path(args.cache_dir) if args.cache_dir else None
            build_virtualenv(Connector.read(folder), say=say, cache_root=cache_root)
    return DONE


def acceptance(argv: list[str], suite: str, say: Say, run: Run) -> Outcome:
    """`acceptance -- <connector>... [options]`: one suite's pytest for one connector (several connectors: each its own
    pytest process, --jobs N at a time, with one summary)."""
    from tasks.parallel import NOTHING_COLLECTED

    args = acceptance_task.parse_args(argv, prog="acceptance")
    quiet_docker_logs()
    if not args.connectors:
        return skipped("no connector selected (--modified found no changed connector)")
    if len(args.connectors) > 1:
        return _many_connectors(args, [suite], say)
    folder = args.connectors[0]
    connector = acceptance_task.check_inputs(folder)
    backend = acceptance_task.prepare_backend(connector, args, say=say)
    # Exit code 5 (nothing collected): the suite has no tests for this connector, which is not a failure.
    return _ran(run, acceptance_task.pytest_command(folder, args, [suite], backend), (0, NOTHING_COLLECTED))


def _many_connectors(args: acceptance_task.AcceptanceArgs, suites: list[str], say: Say) -> Outcome:
    import time

    from tasks.many import render_many, run_many

    started = time.monotonic()
    runs = run_many(args, suites, args.jobs, say=print)
    say(render_many(runs, time.monotonic() - started))
    failures = [run.connector for run in runs if run.outcome != "passed"]
    if failures:
        return failed(f"{', '.join(suites)}: {len(failures)} connector(s) failed: {', '.join(failures)}")
    return DONE


def matrix(argv: list[str]) -> Outcome:
    """`matrix -- --modified [--base REF] | --all | <names>`: the selected connectors as a JSON matrix, on stdout."""
    import argparse

    from tasks.connectors import connectors_root
    from tasks.many import matrix as render_matrix

    parser = argparse.ArgumentParser(prog="matrix", add_help=False, allow_abbrev=False)
    parser.add_argument("connectors", nargs="*")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--modified", action="store_true")
    parser.add_argument("--base", default=acceptance_task.DEFAULT_BASE_REF)
    parser.add_argument("--connectors-root", default=None)
    known, unknown = parser.parse_known_args(argv)
    if unknown:
        raise UserError(f"matrix: unknown arguments {' '.join(unknown)} (expected names, --all, --modified, --base)")
    root = connectors_root(known.connectors_root)
    names = acceptance_task.selected_connectors(known.connectors, root, every=known.all, modified=known.modified,
                                                base=known.base)
    print(render_matrix(names))
    return DONE


def acceptance_parallel(argv: list[str], say: Say) -> Outcome:
    """`acceptance_parallel -- <connector> [--jobs N] [the acceptance options]`: every suite as its own pytest
    process, several at once."""
    import argparse
    import time

    from tasks.parallel import default_jobs, parallel_jobs, render_summary, run_suites

    parser = argparse.ArgumentParser(prog="acceptance_parallel", add_help=False, allow_abbrev=False)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    known, rest = parser.parse_known_args(argv)
    args = acceptance_task.parse_args(rest, prog="acceptance_parallel")
    quiet_docker_logs()
    failures: list[str] = []
    for folder in args.connectors:
        connector = acceptance_task.check_inputs(folder)
        backend = acceptance_task.prepare_backend(connector, args, say=say)
        jobs, why = parallel_jobs(connector, known.jobs)
        if why:
            say(f"{folder.name}: {why}")
        started = time.monotonic()
        runs = run_suites(folder, args, registry.names(), backend, jobs, say=print)
        say(render_summary(folder, runs, time.monotonic() - started))
        failures += [f"{folder.name} {run.suite}" for run in runs if not run.passed]
    if failures:
        return failed(f"failed: {', '.join(failures)}")
    return DONE


def backward_compat(argv: list[str], say: Say) -> Outcome:
    """`backward_compat -- <connector>... [options]`: fails when a breaking difference is not declared."""
    from tasks.backward_compat import run_backward_compat
    from tasks.comparison import parse_args

    args = parse_args(argv, prog="backward_compat")
    quiet_docker_logs()
    failures = [folder.name for folder in args.run.connectors if run_backward_compat(folder, args, say=say)]
    if failures:
        return failed(f"breaking changes not declared by the version: {', '.join(failures)}")
    return DONE


def regression(argv: list[str], say: Say) -> Outcome:
    """`regression -- <connector>... [options]`: informational; fails only when a read fails (a UserError)."""
    from tasks.comparison import parse_args
    from tasks.regression import run_regression

    args = parse_args(argv, prog="regression")
    quiet_docker_logs()
    for folder in args.run.connectors:
        run_regression(folder, args, say=say)
    return DONE


def pre_merge(argv: list[str], say: Say) -> Outcome:
    """`pre_merge -- <connector>... [options]`: every gate, one summary per connector, one exit code."""
    from tasks.comparison import parse_args
    from tasks.pre_merge import exit_code, render_steps, run_pre_merge

    args = parse_args(argv, prog="pre_merge")
    quiet_docker_logs()
    failures = []
    for folder in args.run.connectors:
        steps = run_pre_merge(folder, args, say=say)
        say(render_steps(folder, steps))
        if exit_code(steps):
            failures.append(folder.name)
    if failures:
        return failed(f"not ready to merge: {', '.join(failures)}")
    return DONE


def update_expected_records(argv: list[str], say: Say) -> Outcome:
    """`update_expected_records -- <connector>... [--per-stream N] [options]`."""
    from tasks import expected_records

    args, per_stream = expected_records.parse_args(argv)
    quiet_docker_logs()
    for folder in args.run.connectors:
        expected_records.update_expected_records(folder, args, per_stream, say=say)
    return DONE


def bench(argv: list[str]) -> Outcome:
    """`bench -- [options]`: fails on a missed target only with --check. The report names the nox command."""
    from tasks.bench.cli import main as run_bench

    command = shlex.join(["nox", "-s", "bench", *(["--", *argv] if argv else [])])
    try:
        missed = run_bench(argv, command=command)
    except SystemExit as done:  # --help
        if done.code:
            raise
        return DONE
    if missed:
        return failed("bench: a target was missed (--check)")
    return DONE


def tests(argv: list[str], run: Run) -> Outcome:
    """This project's own test-suite (what .ci/run runs)."""
    # One worker per core; a test module stays on one worker (the end-to-end ones share a connector's build).
    return _ran(run, ["python", "-m", "pytest", "tests", "-n", "auto", "--dist", "loadfile", *argv])


def cache(argv: list[str], say: Say) -> Outcome:
    """`cache -- [--show] [--prune [--ci]] [--cache-dir DIR]`: the tool's cache folder part by part; prune uv's."""
    from tasks.cache import run_cache

    return failed("cache: failed") if run_cache(argv, say=say) else DONE


def lint(run: Run) -> Outcome:
    return _ran(run, ["ruff", "check", "."])


def base_image(argv: list[str], say: Say) -> Outcome:
    """`base_image -- [--force] [--tag IMAGE:TAG ...]`: the Python connector base image from Debian."""
    import argparse

    from tasks.builder.base_image import DEFAULT_TAGS, build_base_image

    parser = argparse.ArgumentParser(prog="nox -s base_image --", exit_on_error=False)
    parser.add_argument("--force", action="store_true", help="rebuild even when the image exists")
    parser.add_argument("--tag", action="append", default=[], metavar="IMAGE:TAG", help="also tag the image so")
    try:
        args, unknown = parser.parse_known_args(argv)
    except argparse.ArgumentError as error:
        raise UserError(f"nox -s base_image: {error}") from None
    if unknown:
        raise UserError(f"nox -s base_image: unknown arguments {' '.join(unknown)} (expected --force, --tag IMAGE:TAG)")
    quiet_docker_logs()
    tags = list(dict.fromkeys([*DEFAULT_TAGS, *args.tag]))
    build_base_image(tags, say=say, force=args.force)
    return DONE
