"""connector-acceptance sessions. They run in the current environment (`pip install -e .` first): no per-session
virtualenvs, so the suites of one connector share one install and one on-disk cache.

    nox -s build -- source-faker
    nox -s acceptance -- source-faker                       # every suite, each its own session
    nox -s "acceptance(suite='spec')" -- source-faker       # one suite
    nox -s backward_compat -- source-faker                  # spec and catalog against the previous release
    nox -s regression -- source-faker                       # records against the previous release
    nox -s update_expected_records -- source-faker          # integration_tests/expected_records.jsonl from a read
    nox -s bench                                            # validation throughput and read memory, vs upstream
    nox -s cache -- --prune                                 # the cache's sizes; prune uv's cache
    nox -s tests                                            # this project's own tests
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))

from acceptance import registry
from acceptance.config.connector import Connector
from acceptance.errors import UserError
from acceptance.runner.backend import docker_client
from tasks import acceptance as acceptance_task
from tasks.builder.image import build_image
from tasks.builder.virtualenv import build_virtualenv

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]


_said: dict[str, str] = {}  # a user error's message -> the session that said it


def _user_errors_as_messages(session: nox.Session, action: object) -> object:
    """Run `action`; a UserError ends the session with its message, said once: the other sessions of the same run
    (e.g. every suite of `nox -s acceptance`) that meet the same error are skipped with a pointer to the first."""
    try:
        return action()  # type: ignore[operator]
    except UserError as error:
        message = str(error)
        first = _said.setdefault(message, session.name)
        if first != session.name:
            session.skip(f"the same error as {first}")
        session.error(message)


def _quiet_docker_logs() -> None:
    for chatty in ("docker", "urllib3", "filelock"):  # nox logs at DEBUG: keep the engine's HTTP calls out
        logging.getLogger(chatty).setLevel(logging.WARNING)


@nox.session(venv_backend="none")
def build(session: nox.Session) -> None:
    """Build a connector: its image `<dockerRepository>:dev` where Docker answers (from its Dockerfile, or generated
    from its base image), else its virtualenv (`connectors/<name>/.venv`); `--backend local` forces the venv."""
    args = _user_errors_as_messages(session, lambda: acceptance_task.parse_args(session.posargs, prog="build"))
    _quiet_docker_logs()
    for folder in args.connectors:  # type: ignore[attr-defined]
        wants_image = args.backend == "docker" or (args.backend == "auto" and docker_client() is not None)  # type: ignore[attr-defined]
        if wants_image:
            _user_errors_as_messages(session, lambda f=folder: build_image(Connector.read(f), say=session.log))
        else:
            cache_root = Path(args.cache_dir) if args.cache_dir else None  # type: ignore[attr-defined]
            _user_errors_as_messages(session, lambda f=folder, c=cache_root: build_virtualenv(
                Connector.read(f), say=session.log, cache_root=c))


@nox.session(venv_backend="none")
@nox.parametrize("suite", registry.names())
def acceptance(session: nox.Session, suite: str) -> None:
    """Run one acceptance suite against a connector (all suites when the session is given without a suite).

    Several connectors (names, --all, --modified [--base REF]) run isolated, --jobs N at a time, with one summary.
    """
    args = _user_errors_as_messages(session, lambda: acceptance_task.parse_args(session.posargs, prog="acceptance"))
    _quiet_docker_logs()
    if not args.connectors:  # type: ignore[attr-defined]
        session.skip("no connector selected (--modified found no changed connector)")
    if len(args.connectors) > 1:  # type: ignore[attr-defined]
        _many_connectors(session, args, [suite])
        return
    folder = args.connectors[0]  # type: ignore[attr-defined]
    connector = _user_errors_as_messages(session, lambda: acceptance_task.check_inputs(folder))
    backend = _user_errors_as_messages(
        session, lambda: acceptance_task.prepare_backend(connector, args, say=session.log))  # type: ignore[arg-type]
    # Exit code 5 (nothing collected): the suite has no tests for this connector, which is not a failure.
    session.run(*acceptance_task.pytest_command(folder, args, [suite], backend), success_codes=[0, 5])


def _many_connectors(session: nox.Session, args: object, suites: list[str]) -> None:
    import time

    from tasks.many import render_many, run_many

    started = time.monotonic()
    runs = run_many(args, suites, args.jobs, say=print)  # type: ignore[arg-type, attr-defined]
    session.log(render_many(runs, time.monotonic() - started))
    failed = [run.connector for run in runs if run.outcome != "passed"]
    if failed:
        session.error(f"{', '.join(suites)}: {len(failed)} connector(s) failed: {', '.join(failed)}")


@nox.session(venv_backend="none")
def matrix(session: nox.Session) -> None:
    """Print the selected connectors as a JSON matrix for CI runners (GitHub Actions `fromJSON`), on stdout.

    nox -s matrix -- --modified [--base origin/main]      nox -s matrix -- --all
    """
    import argparse

    from tasks.connectors import connectors_root
    from tasks.many import matrix as render_matrix

    parser = argparse.ArgumentParser(prog="matrix", add_help=False, allow_abbrev=False)
    parser.add_argument("connectors", nargs="*")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--modified", action="store_true")
    parser.add_argument("--base", default=acceptance_task.DEFAULT_BASE_REF)
    parser.add_argument("--connectors-root", default=None)
    known, unknown = parser.parse_known_args(session.posargs)
    if unknown:
        session.error(f"matrix: unknown arguments {' '.join(unknown)} (expected names, --all, --modified, --base)")
    root = connectors_root(known.connectors_root)
    names = _user_errors_as_messages(session, lambda: acceptance_task.selected_connectors(
        known.connectors, root, every=known.all, modified=known.modified, base=known.base))
    print(render_matrix(names))  # type: ignore[arg-type]


@nox.session(venv_backend="none")
def acceptance_parallel(session: nox.Session) -> None:
    """Every suite as its own pytest process, as `nox -s acceptance`, but several at once (default: one per core).

    nox -s acceptance_parallel -- source-faker [--jobs N] [the acceptance options]
    """
    import argparse
    import time

    from tasks.parallel import default_jobs, parallel_jobs, render_summary, run_suites

    parser = argparse.ArgumentParser(prog="acceptance_parallel", add_help=False, allow_abbrev=False)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    known, rest = parser.parse_known_args(session.posargs)
    args = _user_errors_as_messages(session, lambda: acceptance_task.parse_args(rest, prog="acceptance_parallel"))
    _quiet_docker_logs()
    failed: list[str] = []
    for folder in args.connectors:  # type: ignore[attr-defined]
        connector = _user_errors_as_messages(session, lambda f=folder: acceptance_task.check_inputs(f))
        backend = _user_errors_as_messages(
            session, lambda c=connector: acceptance_task.prepare_backend(c, args, say=session.log))
        jobs, why = parallel_jobs(connector, known.jobs)  # type: ignore[arg-type]
        if why:
            session.log(f"{folder.name}: {why}")
        started = time.monotonic()
        runs = run_suites(folder, args, registry.names(), backend, jobs, say=print)  # type: ignore[arg-type]
        session.log(render_summary(folder, runs, time.monotonic() - started))
        failed += [f"{folder.name} {run.suite}" for run in runs if not run.passed]
    if failed:
        session.error(f"failed: {', '.join(failed)}")


@nox.session(venv_backend="none")
def backward_compat(session: nox.Session) -> None:
    """Compare a connector's spec and catalog with its previous release and check the version bump says so.

    nox -s backward_compat -- source-faker [--backend local|docker] [--previous-image NAME]
        [--previous-command CMD --previous-version V] [--report-dir DIR]
    Fails exactly when a breaking difference is not declared (major bump + releases.breakingChanges entry), or the
    version did not increase. Report: <report-dir>/<connector>/backward_compat.json (default report-dir: reports).
    """
    from tasks.backward_compat import run_backward_compat
    from tasks.comparison import parse_args

    args = _user_errors_as_messages(session, lambda: parse_args(session.posargs, prog="backward_compat"))
    _quiet_docker_logs()
    failed = [folder.name for folder in args.run.connectors  # type: ignore[attr-defined]
              if _user_errors_as_messages(session, lambda f=folder: run_backward_compat(f, args, say=session.log))]
    if failed:
        session.error(f"breaking changes not declared by the version: {', '.join(failed)}")


@nox.session(venv_backend="none")
def regression(session: nox.Session) -> None:
    """Read the same config with the previous and the current release and compare the records, stream by stream.

    nox -s regression -- source-faker [same options as backward_compat]
    Report: <report-dir>/<connector>/regression.json. Informational: exits non-zero only when a read fails.
    """
    from tasks.comparison import parse_args
    from tasks.regression import run_regression

    args = _user_errors_as_messages(session, lambda: parse_args(session.posargs, prog="regression"))
    _quiet_docker_logs()
    for folder in args.run.connectors:  # type: ignore[attr-defined]
        _user_errors_as_messages(session, lambda f=folder: run_regression(f, args, say=session.log))


@nox.session(venv_backend="none")
def pre_merge(session: nox.Session) -> None:
    """Everything a connector must pass before merging, in one summary and one exit code: metadata.yaml, allowed
    hosts (generally available and beta), strictness (high for generally available), version increased, build, its
    own unit tests, every acceptance suite, backward compatibility.

    nox -s pre_merge -- source-faker [--backend local|docker] [--connector-command CMD] [--previous-command CMD ...]
    """
    from tasks.comparison import parse_args
    from tasks.pre_merge import exit_code, render_steps, run_pre_merge

    args = _user_errors_as_messages(session, lambda: parse_args(session.posargs, prog="pre_merge"))
    _quiet_docker_logs()
    failed = []
    for folder in args.run.connectors:  # type: ignore[attr-defined]
        steps = run_pre_merge(folder, args, say=session.log)  # type: ignore[arg-type]
        session.log(render_steps(folder, steps))
        if exit_code(steps):
            failed.append(folder.name)
    if failed:
        session.error(f"not ready to merge: {', '.join(failed)}")


@nox.session(venv_backend="none")
def update_expected_records(session: nox.Session) -> None:
    """Regenerate each basic_read entry's expect_records.path from a read (sorted, secrets masked, ignored_fields
    left out, a fixed emitted_at), so the file is never maintained by hand.

    nox -s update_expected_records -- source-faker [--per-stream N] [--backend local|docker] [--connector-command CMD]
    """
    from tasks.expected_records import parse_args, update_expected_records

    args, per_stream = _user_errors_as_messages(session, lambda: parse_args(session.posargs))  # type: ignore[misc]
    _quiet_docker_logs()
    for folder in args.run.connectors:
        _user_errors_as_messages(
            session, lambda f=folder: update_expected_records(f, args, per_stream, say=session.log))


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Record validation throughput vs the upstream-style path, and basic_read peak memory; PASS/FAIL per target.

    Baseline: each line parsed into pydantic AirbyteMessage, each record through jsonschema Draft7Validator; every
    measurement runs in its own fresh process.
    nox -s bench [-- --count N --records-wide N --baseline-lines N --memory-records SMALL LARGE --no-faker --no-suites
                     --work-dir DIR --json PATH --check --quick]
    Inputs (a recorded source-faker read, a synthetic wide stream) are generated in the work dir (default: the
    system temp dir's connector-acceptance-bench) and reused. Results: <work-dir>/bench.json. Exits non-zero on a
    missed target only with --check. --quick: tiny sizes, a smoke run.
    """
    import shlex

    from tasks.bench.cli import main as run_bench

    command = shlex.join(["nox", "-s", "bench", *(["--", *session.posargs] if session.posargs else [])])
    try:
        missed = _user_errors_as_messages(session, lambda: run_bench(session.posargs, command=command))
    except SystemExit as done:  # --help
        if done.code:
            raise
        return
    if missed:
        session.error("bench: a target was missed (--check)")


@nox.session(venv_backend="none")
def cache(session: nox.Session) -> None:
    """The tool's cache folder, part by part (uv's cache, previous releases, connector outputs); `--prune` runs
    `uv cache prune` on uv's cache. nox -s cache [-- --show] [--prune [--ci]] [--cache-dir DIR]"""
    from tasks.cache import run_cache

    if run_cache(session.posargs, say=session.log):
        session.error("nox -s cache failed")


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """This project's own test-suite (what .ci/run runs)."""
    # One worker per core; a test module stays on one worker (the end-to-end ones share a connector's build).
    session.run("python", "-m", "pytest", "tests", "-n", "auto", "--dist", "loadfile", *session.posargs)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    session.run("ruff", "check", ".")


@nox.session(venv_backend="none")
def base_image(session: nox.Session) -> None:
    """Make the Python connector base image from Debian (debootstrap + docker import); reused when present.

    nox -s base_image [-- --force] [--tag IMAGE:TAG ...]    (--tag adds tags to the default ones)
    """
    import argparse

    from tasks.builder.base_image import DEFAULT_TAGS, build_base_image

    parser = argparse.ArgumentParser(prog="nox -s base_image --", exit_on_error=False)
    parser.add_argument("--force", action="store_true", help="rebuild even when the image exists")
    parser.add_argument("--tag", action="append", default=[], metavar="IMAGE:TAG", help="also tag the image so")
    try:
        args, unknown = parser.parse_known_args(session.posargs)
    except argparse.ArgumentError as error:
        session.error(f"nox -s base_image: {error}")
    if unknown:
        session.error(f"nox -s base_image: unknown arguments {' '.join(unknown)} (expected --force, --tag IMAGE:TAG)")
    _quiet_docker_logs()
    tags = list(dict.fromkeys([*DEFAULT_TAGS, *args.tag]))
    _user_errors_as_messages(session, lambda: build_base_image(tags, say=session.log, force=args.force))
