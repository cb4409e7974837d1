"""End to end: the real airbyte-source-faker from PyPI through `nox -s acceptance`, every suite its own session.

Slow on a fresh machine (the connector's virtualenv takes one to three minutes to build), so marked `slow`;
CI runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from acceptance.connector import venv_bin
from tasks.build import build_virtualenv

ROOT = Path(__file__).resolve().parent.parent
FAKER = ROOT / "connectors" / "source-faker"
COUNT_CALLS = ROOT / "tests" / "helpers" / "count_calls.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faker_script() -> Path:
    record = build_virtualenv(FAKER, say=lambda _: None)  # reused when up to date
    assert record.package == "airbyte-source-faker" and record.version == "7.2.1"
    return venv_bin(FAKER / ".venv") / record.console_script


def nox_acceptance(*args: str, calls: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "acceptance", "--", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=900, check=False,
        env={**os.environ, "COUNT_CALLS_LOG": str(calls)},
    )


def test_source_faker_passes_spec_connection_and_discovery_and_reuses_the_cache(faker_script: Path,
                                                                               tmp_path: Path) -> None:
    calls = tmp_path / "calls.log"
    command = f"{sys.executable} {COUNT_CALLS} {faker_script}"
    args = ["source-faker", f"--cache-dir={tmp_path / 'cache'}", f"--connector-command={command}", "-v"]

    first = nox_acceptance(*args, calls=calls)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output[-4000:]
    for session in ("spec", "connection", "discovery", "basic_read", "full_refresh", "incremental"):
        assert f"acceptance(suite='{session}'): success" in output
    assert "test_check[inputs0] PASSED" in output and "test_check[inputs1] PASSED" in output  # succeed, failed
    assert "test_discover[inputs0] PASSED" in output and "test_config_match_spec[inputs0] PASSED" in output
    assert " FAILED" not in output
    # Seven suite sessions, one shared cache: spec and discover ran once each.
    assert Counter(calls.read_text().split()) == {"spec": 1, "discover": 1, "check": 2}

    second = nox_acceptance(*args, calls=calls)
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    assert Counter(calls.read_text().split()) == {"spec": 1, "discover": 1, "check": 4}, "warm cache: checks only"


def test_source_faker_invalid_config_is_reported_as_failed_check(faker_script: Path) -> None:
    """The real connector's own answer to a bad config, seen through the runner (exit 0, CONNECTION_STATUS)."""
    from acceptance.runner import LocalRunner
    from acceptance.runner.base import check

    result = check(LocalRunner([str(faker_script)], cwd=FAKER), {"count": "abc"}, timeout=120)
    statuses = result.of_type("CONNECTION_STATUS")
    assert result.exit_code == 0 and len(statuses) == 1
    assert statuses[0]["connectionStatus"]["status"] == "FAILED"
    assert "'abc' is not of type 'integer'" in statuses[0]["connectionStatus"]["message"]
