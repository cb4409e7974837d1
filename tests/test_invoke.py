"""The Invoke front (tasks/invoke_tasks.py): every nox session is an Invoke task of the same name, taking the same
arguments after `--` and ending with the same outcome, because both call the same function of tasks/commands.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from invoke import Context

from tasks.invoke_tasks import posargs

ROOT = Path(__file__).parent.parent
TIMEOUT = 300
Make = Callable[..., Path]


def environment() -> dict[str, str]:
    """This environment without the variables that would redirect the commands (connectors root, timings file)."""
    drop = {"CONNECTORS_ROOT", "CONNECTOR_ACCEPTANCE_TIMINGS", "CONNECTOR_ACCEPTANCE_CACHE_DIR", "PYTEST_ADDOPTS"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def run(*argv: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, env=environment(), capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr


def invoke(*argv: str) -> tuple[int, str]:
    return run("invoke", *argv)


def nox(session: str, *posargs: str) -> tuple[int, str]:
    return run("nox", "-f", str(ROOT / "noxfile.py"), "-s", session, "--", *posargs)


def pytest_summary(output: str) -> str:
    """pytest's closing line without its duration, e.g. `1 failed, 19 passed, 3 skipped, 5 deselected`."""
    found = re.findall(r"^=+ (.+) in [\d.]+s(?: \([^)]*\))? =+$", output, flags=re.M)
    assert found, output
    return found[-1]


def test_invoke_lists_a_task_for_every_nox_session() -> None:
    code, output = invoke("--list", "--list-format", "json")
    assert code == 0, output
    tasks = {entry["name"] for entry in json.loads(output)["tasks"]}
    code, listing = run("nox", "-f", str(ROOT / "noxfile.py"), "--list")
    assert code == 0, listing
    sessions = {re.sub(r"\(.*\)$", "", name) for name in re.findall(r"^[*-] (\S+)", listing, flags=re.M)}
    assert "acceptance" in sessions and "pre_merge" in sessions
    assert tasks == sessions


@pytest.mark.parametrize("mutation", ["", "enum_duplicate"])
def test_a_suite_through_invoke_ends_as_through_nox(mutation: str, fake_source: Make, tmp_path: Path) -> None:
    folder = str(fake_source(mutation))
    through_invoke = invoke("acceptance", "--suite", "spec", "--", folder, "--backend", "local",
                            "--cache-dir", str(tmp_path / "invoke"))
    through_nox = nox("acceptance(suite='spec')", folder, "--backend", "local", "--cache-dir", str(tmp_path / "nox"))
    (invoke_code, invoke_output), (nox_code, nox_output) = through_invoke, through_nox
    assert (invoke_code == 0) == (nox_code == 0) == (not mutation), (invoke_output, nox_output)
    if mutation:
        assert invoke_code == pytest.ExitCode.TESTS_FAILED, invoke_output  # pytest's own code
    assert pytest_summary(invoke_output) == pytest_summary(nox_output)
    assert "--suite spec" in invoke_output  # the pytest command, echoed as nox does


def test_a_user_error_is_said_once_by_both() -> None:
    """Every suite meets the unknown connector: the first says it, the others point to it, in both fronts."""
    for code, output in (invoke("acceptance", "--", "no-such-connector"), nox("acceptance", "no-such-connector")):
        assert code != 0, output
        assert "Traceback" not in output, output
        assert output.count("no connector 'no-such-connector'") == 1, output
        assert output.count("skipped: the same error as acceptance(suite='spec')") == 6, output


def test_the_words_after_dashes_stay_whole(fake_source: Make, tmp_path: Path) -> None:
    """`--connector-command "python main.py"` is one argument, as in nox's posargs (split, `main.py` would reach
    pytest as a path to collect)."""
    folder = fake_source()
    code, output = invoke("acceptance", "--suite", "spec", "--", str(folder), "--backend", "local",
                          "--connector-command", f"{sys.executable} {folder / 'main.py'}",
                          "--cache-dir", str(tmp_path / "c"))
    assert code == 0, output
    assert "passed" in pytest_summary(output)


def test_posargs_without_the_command_line_splits_the_remainder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["invoke", "acceptance", "--", "source-faker", "--connector-command", "a b"])
    assert posargs(Context(remainder="source-faker --connector-command a b")) == [
        "source-faker", "--connector-command", "a b"]
    # Invoke run in-process: the command line is not the task's, the remainder is split as a shell would.
    assert posargs(Context(remainder="source-faker --connector-command 'a b'")) == [
        "source-faker", "--connector-command", "a b"]
    assert posargs(Context()) == []


def test_importing_tasks_does_not_import_invoke() -> None:
    """noxfile.py imports tasks: Invoke (and its collection) load only when Invoke asks for `tasks.ns`."""
    check = "import sys, tasks, tasks.commands; print('invoke' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=environment(), capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr
