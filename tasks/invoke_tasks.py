"""The Invoke front: one task per nox session, of the same name, each a thin call of the same function of
tasks/commands.py with the same arguments (the words after `--`), ending with the same exit code.

Like nox, a task runs from the project root; a failure or a skip is said on stderr with the command's message; a
subprocess (pytest, ruff) runs through `c.run`, and its exit code is the task's. `invoke acceptance` runs every suite,
each its own pytest process, in order, as `nox -s acceptance` runs its sessions; `--suite NAME` runs one.
tasks/commands.py is imported when a task runs, not for `invoke --list`.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from invoke import Collection, Context, Exit, task

if TYPE_CHECKING:
    from tasks.commands import Outcome, Run


def posargs(c: Context) -> list[str]:
    """The words after `--`, as nox's posargs. Invoke gives them as one string (`c.remainder`, joined with spaces):
    this process's own command line keeps each word whole, so it is used when its words after the first `--` join to
    that string (a task run by `invoke ...`); else (Invoke run in-process by other code) the string is split as a
    shell would."""
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    return argv if " ".join(argv) == c.remainder else shlex.split(c.remainder)


def say(text: str) -> None:
    """What nox says with session.log: on stderr."""
    print(text, file=sys.stderr, flush=True)


def runner(c: Context) -> Run:
    """Run argv as nox's session.run does (no shell parsing: each word quoted), its output streamed; its exit code."""

    def run(argv: Sequence[str], success_codes: Sequence[int]) -> int:
        return c.run(shlex.join(argv), pty=False, warn=True, echo=True).exited

    return run


def call(name: str, command: Callable[[], Outcome]) -> Outcome:
    """Run one command as nox runs a session named `name`: from the project root, a user error said once in the run;
    a failure or a skip is said with its message."""
    from tasks.commands import said_once
    from tasks.connectors import PROJECT_ROOT

    os.chdir(PROJECT_ROOT)  # nox runs its sessions from the noxfile's folder
    outcome = said_once(name, command)
    if outcome.skipped:
        say(f"{name} skipped: {outcome.message}")
    elif outcome.code:
        say(f"{name} failed: {outcome.message}")
    return outcome


def end(*outcomes: Outcome) -> None:
    """Exit with the first failure's code (nothing to do when every command succeeded or was skipped)."""
    code = next((outcome.code for outcome in outcomes if outcome.code), 0)
    if code:
        raise Exit(code=code)


@task
def build(c: Context) -> None:
    """Build a connector: its image where Docker answers, else its virtualenv (nox -s build).

    invoke build -- source-faker [--backend auto|local|docker]
    """
    from tasks import commands

    end(call("build", lambda: commands.build(posargs(c), say=say)))


@task(help={"suite": "run only this suite (default: every suite, in order, each its own pytest process)"})
def acceptance(c: Context, suite: str | None = None) -> None:
    """Run the acceptance suites against a connector, each its own pytest process (nox -s acceptance).

    invoke acceptance -- source-faker [options]                 every suite, in order, as `nox -s acceptance`
    invoke acceptance --suite spec -- source-faker [options]    one, as `nox -s "acceptance(suite='spec')"`
    """
    from acceptance import registry
    from tasks import commands

    if suite is not None and suite not in registry.names():
        raise Exit(f"acceptance: no suite {suite!r} (one of {', '.join(registry.names())})", code=1)
    argv = posargs(c)
    run = runner(c)
    end(*[call(f"acceptance(suite={name!r})",  # nox's name for the session of that suite
               lambda name=name: commands.acceptance(argv, name, say=say, run=run))
          for name in ([suite] if suite else registry.names())])


@task
def matrix(c: Context) -> None:
    """Print the selected connectors as a JSON matrix for CI runners, on stdout (nox -s matrix).

    invoke matrix -- --modified [--base origin/main]      invoke matrix -- --all
    """
    from tasks import commands

    end(call("matrix", lambda: commands.matrix(posargs(c))))


@task
def acceptance_parallel(c: Context) -> None:
    """Every suite as its own pytest process, several at once (nox -s acceptance_parallel).

    invoke acceptance_parallel -- source-faker [--jobs N] [the acceptance options]
    """
    from tasks import commands

    end(call("acceptance_parallel", lambda: commands.acceptance_parallel(posargs(c), say=say)))


@task
def backward_compat(c: Context) -> None:
    """Compare the spec and catalog with the previous release; the version bump must say so (nox -s backward_compat).

    invoke backward_compat -- source-faker [--backend local|docker] [--previous-image NAME]
        [--previous-command CMD --previous-version V] [--report-dir DIR]
    """
    from tasks import commands

    end(call("backward_compat", lambda: commands.backward_compat(posargs(c), say=say)))


@task
def regression(c: Context) -> None:
    """Compare the records of the previous and the current release, stream by stream (nox -s regression).

    invoke regression -- source-faker [same options as backward_compat]
    """
    from tasks import commands

    end(call("regression", lambda: commands.regression(posargs(c), say=say)))


@task
def pre_merge(c: Context) -> None:
    """Everything a connector must pass before merging, in one summary and one exit code (nox -s pre_merge).

    invoke pre_merge -- source-faker [--backend local|docker] [--connector-command CMD] [--previous-command CMD ...]
    """
    from tasks import commands

    end(call("pre_merge", lambda: commands.pre_merge(posargs(c), say=say)))


@task
def update_expected_records(c: Context) -> None:
    """Regenerate each basic_read entry's expected records from a read (nox -s update_expected_records).

    invoke update_expected_records -- source-faker [--per-stream N] [--backend local|docker] [--connector-command CMD]
    """
    from tasks import commands

    end(call("update_expected_records", lambda: commands.update_expected_records(posargs(c), say=say)))


@task
def bench(c: Context) -> None:
    """Record validation throughput and basic_read peak memory, PASS/FAIL per target (nox -s bench).

    invoke bench [-- --quick --check ...]     (the options: nox -s bench's docstring)
    """
    from tasks import commands

    end(call("bench", lambda: commands.bench(posargs(c))))


@task
def tests(c: Context) -> None:
    """This project's own test-suite (nox -s tests).

    invoke tests [-- pytest options]
    """
    from tasks import commands

    end(call("tests", lambda: commands.tests(posargs(c), run=runner(c))))


@task
def lint(c: Context) -> None:
    """ruff check . (nox -s lint)."""
    from tasks import commands

    end(call("lint", lambda: commands.lint(run=runner(c))))


@task
def base_image(c: Context) -> None:
    """Make the Python connector base image from Debian; reused when present (nox -s base_image).

    invoke base_image [-- --force] [--tag IMAGE:TAG ...]
    """
    from tasks import commands

    end(call("base_image", lambda: commands.base_image(posargs(c), say=say)))


@task
def cache(c: Context) -> None:
    """The tool's cache folder part by part; --prune prunes uv's cache (nox -s cache).

    invoke cache [-- --show] [--prune [--ci]] [--cache-dir DIR]
    """
    from tasks import commands

    end(call("cache", lambda: commands.cache(posargs(c), say=say)))


ns = Collection(build, acceptance, matrix, acceptance_parallel, backward_compat, regression, pre_merge,
                update_expected_records, bench, tests, lint, base_image, cache)
