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

Each session is a thin call of a function of tasks/commands.py; Invoke runs the same ones (tasks/invoke_tasks.py):
`invoke --list`, `invoke <session> -- <same arguments>`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))

from acceptance import registry
from tasks import commands
from tasks.commands import Outcome

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]


def _end(session: nox.Session, command: Callable[[], Outcome]) -> None:
    """Run a command of tasks.commands and end the session as it ended: a user error or a failure with its message
    (a user error said once across the sessions of one run, see commands.said_once), a skip with its reason."""
    outcome = commands.said_once(session.name, command)
    if outcome.skipped:
        session.skip(outcome.message)
    if outcome.code:
        session.error(outcome.message)


def _run(session: nox.Session) -> commands.Run:
    def run(argv: Sequence[str], success_codes: Sequence[int]) -> int:
        session.run(*argv, success_codes=list(success_codes))  # raises on any other code
        return success_codes[0]

    return run


@nox.session(venv_backend="none")
def build(session: nox.Session) -> None:
    """Build a connector: its image `<dockerRepository>:dev` where Docker answers (from its Dockerfile, or generated
    from its base image), else its virtualenv (`connectors/<name>/.venv`); `--backend local` forces the venv."""
    _end(session, lambda: commands.build(session.posargs, say=session.log))


@nox.session(venv_backend="none")
@nox.parametrize("suite", registry.names())
def acceptance(session: nox.Session, suite: str) -> None:
    """Run one acceptance suite against a connector (all suites when the session is given without a suite).

    Several connectors (names, --all, --modified [--base REF]) run isolated, --jobs N at a time, with one summary.
    """
    _end(session, lambda: commands.acceptance(session.posargs, suite, say=session.log, run=_run(session)))


@nox.session(venv_backend="none")
def matrix(session: nox.Session) -> None:
    """Print the selected connectors as a JSON matrix for CI runners (GitHub Actions `fromJSON`), on stdout.

    nox -s matrix -- --modified [--base origin/main]      nox -s matrix -- --all
    """
    _end(session, lambda: commands.matrix(session.posargs))


@nox.session(venv_backend="none")
def acceptance_parallel(session: nox.Session) -> None:
    """Every suite as its own pytest process, as `nox -s acceptance`, but several at once (default: one per core).

    nox -s acceptance_parallel -- source-faker [--jobs N] [the acceptance options]
    """
    _end(session, lambda: commands.acceptance_parallel(session.posargs, say=session.log))


@nox.session(venv_backend="none")
def backward_compat(session: nox.Session) -> None:
    """Compare a connector's spec and catalog with its previous release and check the version bump says so.

    nox -s backward_compat -- source-faker [--backend local|docker] [--previous-image NAME]
        [--previous-command CMD --previous-version V] [--report-dir DIR]
    Fails exactly when a breaking difference is not declared (major bump + releases.breakingChanges entry), or the
    version did not increase. Report: <report-dir>/<connector>/backward_compat.json (default report-dir: reports).
    """
    _end(session, lambda: commands.backward_compat(session.posargs, say=session.log))


@nox.session(venv_backend="none")
def regression(session: nox.Session) -> None:
    """Read the same config with the previous and the current release and compare the records, stream by stream.

    nox -s regression -- source-faker [same options as backward_compat]
    Report: <report-dir>/<connector>/regression.json. Informational: exits non-zero only when a read fails.
    """
    _end(session, lambda: commands.regression(session.posargs, say=session.log))


@nox.session(venv_backend="none")
def pre_merge(session: nox.Session) -> None:
    """Everything a connector must pass before merging, in one summary and one exit code: metadata.yaml, allowed
    hosts (generally available and beta), strictness (high for generally available), version increased, build, its
    own unit tests, every acceptance suite, backward compatibility.

    nox -s pre_merge -- source-faker [--backend local|docker] [--connector-command CMD] [--previous-command CMD ...]
    """
    _end(session, lambda: commands.pre_merge(session.posargs, say=session.log))


@nox.session(venv_backend="none")
def update_expected_records(session: nox.Session) -> None:
    """Regenerate each basic_read entry's expect_records.path from a read (sorted, secrets masked, ignored_fields
    left out, a fixed emitted_at), so the file is never maintained by hand.

    nox -s update_expected_records -- source-faker [--per-stream N] [--backend local|docker] [--connector-command CMD]
    """
    _end(session, lambda: commands.update_expected_records(session.posargs, say=session.log))


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Record validation throughput vs the upstream-style path, basic_read peak memory, and uv against pip making
    the same environments; PASS/FAIL per target.

    Baseline: each line parsed into pydantic AirbyteMessage, each record through jsonschema Draft7Validator; every
    measurement runs in its own fresh process. Environments: each row installed by uv and by pip (python -m venv +
    pip install) into fresh venvs, taking turns for --rounds rounds (--no-environments leaves them out).
    nox -s bench [-- --count N --records-wide N --baseline-lines N --memory-records SMALL LARGE --no-faker --no-suites
                     --no-environments --work-dir DIR --json PATH --check --quick --passes N --rounds N]
    Inputs (a recorded source-faker read, a synthetic wide stream) are generated in the work dir (default: the
    system temp dir's connector-acceptance-bench) and reused. Results: <work-dir>/bench.json. Exits non-zero on a
    missed target only with --check. --quick: tiny sizes, a smoke run.
    """
    _end(session, lambda: commands.bench(session.posargs))


@nox.session(venv_backend="none")
def cache(session: nox.Session) -> None:
    """The tool's cache folder, part by part (uv's cache, previous releases, connector outputs); `--prune` runs
    `uv cache prune` on uv's cache. nox -s cache [-- --show] [--prune [--ci]] [--cache-dir DIR]"""
    _end(session, lambda: commands.cache(session.posargs, say=session.log))


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """This project's own test-suite (what .ci/run runs)."""
    _end(session, lambda: commands.tests(session.posargs, run=_run(session)))


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    _end(session, lambda: commands.lint(run=_run(session)))


@nox.session(venv_backend="none")
def base_image(session: nox.Session) -> None:
    """Make the Python connector base image from Debian (debootstrap + docker import); reused when present.

    nox -s base_image [-- --force] [--tag IMAGE:TAG ...]    (--tag adds tags to the default ones)
    """
    _end(session, lambda: commands.base_image(session.posargs, say=session.log))
