"""Bad input from users (issue 7): every mistake in what a user gives the tool gets one clear message naming the
file (or key) and the problem, a non-zero exit and no traceback.

Each case breaks a copy of the fake connector and runs the real user-facing command: the pytest command that
`nox -s acceptance` runs (tasks.acceptance.pytest_command), and nox itself for a connector name and a broken config.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.acceptance import AcceptanceArgs, pytest_command
from tasks.connectors import PROJECT_ROOT

Make = Callable[..., Path]
Break = Callable[[Path], Path]  # breaks a copy of the fake connector; returns the folder the command is given

CONFIG_FILE = "acceptance-test-config.yml"
TIMEOUT = 60  # seconds per command: a hang is a failure, not a stuck test run


@dataclass(frozen=True)
class Case:
    breaks: Break
    words: tuple[str, ...]  # what the message must say: the file or key path, and the problem
    suite: str = "spec"  # the suite that reads the broken file (the run is restricted to it)
    at_start: bool = True  # refused before any test runs (pytest's usage error), else reported by the tests


# -- ways to break the fake connector's folder ------------------------------------------------------------------


def write(relative: str, text: str | bytes) -> Break:
    def apply(folder: Path) -> Path:
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return folder

    return apply


def edit(change: Callable[[dict[str, Any]], None], relative: str = CONFIG_FILE) -> Break:
    """Edit a YAML file of the folder as data (the config by default)."""

    def apply(folder: Path) -> Path:
        path = folder / relative
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return folder

    return apply


def entry(suite: str, **values: Any) -> Break:
    """Set keys of the first `tests` entry of a suite."""
    return edit(lambda config: config["acceptance_tests"][suite]["tests"][0].update(values))


def top(**values: Any) -> Break:
    return edit(lambda config: config.update(values))


def both(*breaks: Break) -> Break:
    def apply(folder: Path) -> Path:
        for each in breaks:
            folder = each(folder)
        return folder

    return apply


def unreadable(relative: str) -> Break:
    def apply(folder: Path) -> Path:
        path = folder / relative
        path.chmod(0)
        if os.access(path, os.R_OK):
            pytest.skip("chmod 000 does not stop this user reading the file (running as root)")
        return folder

    return apply


def folder_instead(relative: str) -> Break:
    def apply(folder: Path) -> Path:
        (folder / relative).unlink()
        (folder / relative).mkdir()
        return folder

    return apply


def remove(relative: str) -> Break:
    def apply(folder: Path) -> Path:
        (folder / relative).unlink()
        return folder

    return apply


def elsewhere(name: str) -> Break:
    """A folder that is not the connector: `name` beside it (created empty unless it is `missing`)."""

    def apply(folder: Path) -> Path:
        other = folder.parent / name
        if name != "missing":
            other.mkdir()
        return other

    return apply


LOW = top(test_strictness_level="low")  # high strictness forbids configured_catalog_path in basic_read
GOOD_CONFIG = "integration_tests/config.json"

CASES: dict[str, Case] = {
    "yaml-unclosed-bracket": Case(
        write(CONFIG_FILE, "acceptance_tests:\n  spec: {tests: [{}]\n"),
        (CONFIG_FILE, "YAML syntax error at line 3", "flow mapping started at line 2")),
    "yaml-tab-indent": Case(
        write(CONFIG_FILE, "acceptance_tests:\n  spec:\n\ttests: []\n"),
        (CONFIG_FILE, "YAML syntax error at line 3", "a tab")),
    "yaml-empty": Case(write(CONFIG_FILE, "# nothing yet\n"), (CONFIG_FILE, "the file is empty")),
    "yaml-unreadable": Case(unreadable(CONFIG_FILE), (CONFIG_FILE, "cannot read the file: Permission denied")),
    "yaml-not-utf8": Case(write(CONFIG_FILE, b"acceptance_tests: \xff\n"), (CONFIG_FILE, "cannot read", "utf-8")),
    "wrong-type-strictness": Case(
        top(test_strictness_level=5), (CONFIG_FILE, "test_strictness_level", "expected one of: low, high", "(5)")),
    "wrong-type-timeout": Case(
        entry("spec", timeout_seconds="abc"),
        (CONFIG_FILE, "acceptance_tests.spec.tests[0].timeout_seconds", "expected an integer", "'abc'")),
    "unknown-key-top": Case(top(colour="red"), (CONFIG_FILE, "unknown key 'colour'", "allowed keys")),
    "unknown-key-entry": Case(
        entry("spec", spec_paht="x.json"),
        (CONFIG_FILE, "acceptance_tests.spec.tests[0].spec_paht", "unknown key", "did you mean 'spec_path'")),
    "config-missing": Case(
        entry("connection", config_path="secrets/nope.json"),
        ("secrets/nope.json", "acceptance_tests.connection.tests[0].config_path", "file not found"),
        suite="connection", at_start=False),
    "config-not-json": Case(
        write(GOOD_CONFIG, "{api_key: 1"), (GOOD_CONFIG, "not valid JSON"), suite="connection", at_start=False),
    "config-unreadable": Case(
        unreadable(GOOD_CONFIG), (GOOD_CONFIG, "permission denied"), suite="connection", at_start=False),
    "config-is-a-folder": Case(
        folder_instead(GOOD_CONFIG), (GOOD_CONFIG, "is a folder"), suite="connection", at_start=False),
    "config-path-too-long": Case(
        entry("connection", config_path="x" * 300 + ".json"),
        ("acceptance_tests.connection.tests[0].config_path", "cannot be read", "too long"),
        suite="connection", at_start=False),
    "config-path-with-nul": Case(
        entry("connection", config_path="secrets/a\x00b.json"),
        ("secrets/a\\0b.json", "config_path", "contains a NUL character"), suite="connection", at_start=False),
    "spec-file-not-json": Case(
        write("integration_tests/spec.json", "{"), ("integration_tests/spec.json", "spec_path", "not valid JSON"),
        at_start=False),
    "spec-yaml-not-utf8": Case(
        both(entry("spec", spec_path="integration_tests/spec.yaml"), write("integration_tests/spec.yaml", b"a: \xff")),
        ("integration_tests/spec.yaml", "spec_path", "not valid YAML", "utf-8"), at_start=False),
    "catalog-missing": Case(
        both(LOW, entry("basic_read", configured_catalog_path="integration_tests/catalog.json")),
        ("integration_tests/catalog.json", "configured_catalog_path", "file not found"),
        suite="basic_read", at_start=False),
    "catalog-not-json": Case(
        both(LOW, entry("basic_read", configured_catalog_path="integration_tests/catalog.json"),
             write("integration_tests/catalog.json", "[1, 2")),
        ("integration_tests/catalog.json", "configured_catalog_path", "not valid JSON"),
        suite="basic_read", at_start=False),
    "catalog-not-a-catalog": Case(
        both(LOW, entry("basic_read", configured_catalog_path="integration_tests/catalog.json"),
             write("integration_tests/catalog.json", '{"streams": 5}')),
        ("integration_tests/catalog.json", "not a valid ConfiguredAirbyteCatalog", "streams"),
        suite="basic_read", at_start=False),
    "expected-records-missing": Case(
        remove("integration_tests/expected_records.jsonl"),
        ("expected_records.jsonl", "expect_records.path", "file not found"), suite="basic_read", at_start=False),
    "expected-records-broken-line": Case(
        write("integration_tests/expected_records.jsonl",
              '{"stream": "users", "data": {"id": 1}, "emitted_at": 1}\n{"stream": "users", "data": {\n'),
        ("expected_records.jsonl:2", "not valid JSON"), suite="basic_read", at_start=False),
    "future-state-missing": Case(
        remove("integration_tests/abnormal_state.json"),
        ("abnormal_state.json", "future_state.future_state_path", "file not found"),
        suite="incremental", at_start=False),
    "future-state-broken": Case(
        write("integration_tests/abnormal_state.json", '[{"type": "STREAM",'),
        ("abnormal_state.json", "future_state.future_state_path", "not valid JSON"),
        suite="incremental", at_start=False),
    "metadata-malformed": Case(
        write("metadata.yaml", "data:\n  name: [Fake Source\n"), ("metadata.yaml", "YAML syntax error at line 3")),
    "metadata-wrong-type": Case(
        edit(lambda m: m["data"]["allowedHosts"].update(hosts=5), "metadata.yaml"),
        ("metadata.yaml", "data.allowedHosts.hosts", "expected a list", "(5)")),
    "metadata-unreadable": Case(
        unreadable("metadata.yaml"), ("metadata.yaml", "cannot read the file: Permission denied")),
    "metadata-not-a-mapping": Case(write("metadata.yaml", "- data\n"), ("metadata.yaml", "expected a mapping")),
    "folder-missing": Case(elsewhere("missing"), ("missing", CONFIG_FILE, "does not exist")),
    "folder-without-config": Case(elsewhere("empty"), ("empty", CONFIG_FILE, "file not found")),
    "config-file-is-a-folder": Case(folder_instead(CONFIG_FILE), (CONFIG_FILE, "is a folder")),
}


# -- running the real commands ----------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    """This environment without the variables that would redirect the commands (connectors root, timings file)."""
    drop = {"CONNECTORS_ROOT", "CONNECTOR_ACCEPTANCE_TIMINGS", "CONNECTOR_ACCEPTANCE_CACHE_DIR", "PYTEST_ADDOPTS"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def run(command: list[str]) -> tuple[int, str]:
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=environment(), capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr


def acceptance_command(folder: Path, suite: str, cache_dir: Path) -> list[str]:
    """What `nox -s "acceptance(suite='<suite>')" -- <folder> --backend local` runs."""
    args = AcceptanceArgs([folder], cache_dir=str(cache_dir), backend="local")
    command = pytest_command(folder, args, [suite], ["--backend", "local"])
    return [sys.executable, *command[1:]] if command[0] == "python" else command


def nox_command(session: str, *posargs: str) -> list[str]:
    return [sys.executable, "-m", "nox", "-f", str(PROJECT_ROOT / "noxfile.py"), "-s", session, "--", *posargs]


# -- what every answer to bad input must look like ----------------------------------------------------------------

INTERNAL_FRAME = re.compile(r"^\S+\.py:\d+: in |^E {3}", re.MULTILINE)


def assert_no_traceback(output: str) -> None:
    assert "Traceback" not in output, output
    assert 'File "' not in output, output  # a Python frame (e.g. File "/.../acceptance/config.py")
    assert not INTERNAL_FRAME.search(output), output  # a pytest-style frame or an `E   ` exception line


def input_error_section(output: str) -> list[str]:
    """The lines of the run's "input errors" section (one problem, then its `named by ...; stopped N tests`)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if re.fullmatch(r"=+ input errors =+", line)), None)
    assert start is not None, f"no 'input errors' section:\n{output}"
    section = []
    for line in lines[start + 1:]:
        if line.startswith(("=", "connector commands:")):
            break
        section.append(line)
    return section


def without_short_summary(output: str) -> str:
    """The output without pytest's "short test summary info" recap: one line per failed test, cut to the
    terminal's width (COLUMNS), so whether it repeats a message depends on where the tests run."""
    return re.sub(r"^=+ short test summary info =+$.*?(?=^=+ )", "", output, flags=re.M | re.S)


def assert_one_clear_message(code: int, output: str, case: Case) -> None:
    assert code == (pytest.ExitCode.USAGE_ERROR if case.at_start else pytest.ExitCode.TESTS_FAILED), output
    assert_no_traceback(output)
    missing = [word for word in case.words if word not in output]
    assert not missing, f"the message lacks {missing}:\n{output}"
    if case.at_start:  # pytest's usage error: said once, before anything runs
        assert output.count("ERROR: ") == 1 and "collected" not in output, output
        return
    section = input_error_section(output)  # one problem: its message, then the keys and tests it concerns
    assert len(section) == 2 and section[1].lstrip().startswith(("named by", "stopped")), section
    assert all(word in "\n".join(section) for word in case.words), section
    problem = section[0].split(": ", 1)[1]
    # The first test stopped says it in full, every later one points to the section: never once per test.
    assert without_short_summary(output).count(problem) <= 2, output


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_one_clear_message(name: str, fake_source: Make, tmp_path: Path) -> None:
    case = CASES[name]
    folder = case.breaks(fake_source())
    code, output = run(acceptance_command(folder, case.suite, tmp_path / "cache"))
    assert_one_clear_message(code, output, case)


def test_an_input_error_shared_by_many_tests_is_said_once(fake_source: Make, tmp_path: Path) -> None:
    """A broken connector config stops every test of every suite that reads it: the full message is given for the
    first of them only, and the run lists it once, with every key that named the file."""
    folder = write(GOOD_CONFIG, "{not json")(fake_source())
    args = AcceptanceArgs([folder], cache_dir=str(tmp_path / "cache"), backend="local")
    command = pytest_command(folder, args, ["connection", "discovery", "basic_read"], ["--backend", "local"])
    code, output = run([sys.executable, *command[1:]])
    assert code == pytest.ExitCode.TESTS_FAILED
    assert_no_traceback(output)
    stopped = int(re.search(r"(\d+) errors?", output.splitlines()[-1]).group(1))  # type: ignore[union-attr]
    assert stopped > 10
    message, named = input_error_section(output)
    assert message.endswith(f"{GOOD_CONFIG}: not valid JSON (Expecting property name enclosed in double quotes: "
                            "line 1 column 2 (char 1))")
    for suite in ("connection", "discovery", "basic_read"):
        assert f"acceptance_tests.{suite}.tests[0].config_path" in named
    assert named.endswith(f"stopped {stopped} tests")
    assert without_short_summary(output).count("not valid JSON") == 2  # the first test's report and the section
    assert without_short_summary(output).count("the same input error as") == stopped - 1


@pytest.mark.parametrize("session", ["acceptance(suite='spec')", "acceptance"])
def test_unknown_connector_name_through_nox(session: str) -> None:
    """`nox -s acceptance` runs one session per suite: the message is still said once, the others point to it."""
    code, output = run(nox_command(session, "no-such-connector"))
    assert code != 0
    assert_no_traceback(output)
    assert output.count("no connector 'no-such-connector'") == 1, output
    assert "not a connector under" in output and "connectors" in output


@pytest.mark.parametrize("session", ["acceptance(suite='spec')", "acceptance", "acceptance_parallel"])
def test_malformed_config_through_nox(session: str, fake_source: Make, tmp_path: Path) -> None:
    folder = CASES["yaml-unclosed-bracket"].breaks(fake_source())
    code, output = run(nox_command(session, str(folder), "--backend", "local", "--cache-dir", str(tmp_path / "c")))
    assert code != 0
    assert_no_traceback(output)
    assert output.count(f"{folder / CONFIG_FILE}: invalid configuration") == 1, output
    assert "YAML syntax error at line 3" in output
    if session == "acceptance":
        assert output.count("skipped: the same error as acceptance(suite='spec')") == 6, output
