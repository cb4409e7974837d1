"""A connector's integration_tests/acceptance.py runs around the suites: here it starts the real local HTTP
service the example connector (tests/connectors/http-source) reads from, and stops it at the end."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

HTTP_SOURCE = Path(__file__).parent / "connectors" / "http-source"


def test_hook_fixture_starts_the_service_the_connector_reads_and_stops_it(pytester: pytest.Pytester,
                                                                          tmp_path: Path) -> None:
    from acceptance.plugin import SUITES_DIR

    folder = tmp_path / "http-source"
    shutil.copytree(HTTP_SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__", "secrets"))
    pidfile = tmp_path / "server.pid"
    os.environ["NOTES_SERVICE_PIDFILE"] = str(pidfile)
    try:
        result = pytester.runpytest_subprocess(
            "-p", "acceptance.plugin", "--backend=local", f"--acceptance-test-config={folder}",
            f"--rootdir={SUITES_DIR}", f"--cache-dir={tmp_path / 'cache'}", "-p", "no:cacheprovider", "-rA",
        )
    finally:
        del os.environ["NOTES_SERVICE_PIDFILE"]
    output = result.stdout.str()
    assert result.ret == 0, output[-3000:]
    # The connector really read the service: 7 notes matched the expected records.
    passed = [line for line in output.splitlines() if line.startswith("PASSED")]
    assert any(line.endswith("TestBasicRead::test_expected_records[inputs0]") for line in passed)
    assert any(line.endswith("TestConnection::test_check[inputs0]") for line in passed)
    assert (folder / "secrets" / "config.json").is_file()
    server = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{server}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{server}").exists(), "the service outlived the session: teardown did not run"


def test_without_the_hook_the_connector_cannot_reach_its_service(pytester: pytest.Pytester, tmp_path: Path) -> None:
    from acceptance.plugin import SUITES_DIR

    folder = tmp_path / "http-source"
    shutil.copytree(HTTP_SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__", "secrets"))
    (folder / "integration_tests" / "acceptance.py").unlink()
    result = pytester.runpytest_subprocess(
        "-p", "acceptance.plugin", "--backend=local", f"--acceptance-test-config={folder}", f"--rootdir={SUITES_DIR}",
        "-p", "no:cacheprovider", "--suite", "connection",
    )
    assert result.ret == 1
    assert "secrets/config.json" in result.stdout.str() and "file not found" in result.stdout.str()


def test_a_broken_hook_file_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    folder = tmp_path / "http-source"
    shutil.copytree(HTTP_SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__", "secrets"))
    (folder / "integration_tests" / "acceptance.py").write_text("import not_a_module_that_exists\n")
    result = pytester.runpytest_subprocess(
        "-p", "acceptance.plugin", "--backend=local", f"--acceptance-test-config={folder}")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "integration_tests/acceptance.py" in output and "not_a_module_that_exists" in output
    assert "Traceback" not in output
