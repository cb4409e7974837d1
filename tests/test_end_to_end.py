"""End to end: real connectors from PyPI (airbyte-source-faker, -file, -hardcoded-records) through
`nox -s acceptance`, every suite its own session, at test_strictness_level high.

Slow on a fresh machine (each connector's virtualenv takes one to three minutes to build), so marked `slow`;
CI runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from acceptance import registry
from acceptance.config.connector import Connector
from acceptance.runner.backend import docker_client
from acceptance.runner.command import venv_bin
from tasks.builder.virtualenv import build_virtualenv

ROOT = Path(__file__).resolve().parent.parent
FAKER = ROOT / "connectors" / "source-faker"
COUNT_CALLS = ROOT / "tests" / "helpers" / "count_calls.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faker_script() -> Path:
    record = build_virtualenv(Connector.read(FAKER), say=lambda _: None)  # reused when up to date
    assert record.package == "airbyte-source-faker" and record.version == "7.2.1"
    return venv_bin(FAKER / ".venv") / record.console_script


def nox_acceptance(*args: str, calls: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "acceptance", "--", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=900, check=False,
        env={**os.environ, "COUNT_CALLS_LOG": str(calls)},
    )


def test_source_faker_passes_every_suite_and_reuses_the_cache(faker_script: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls.log"
    command = f"{sys.executable} {COUNT_CALLS} {faker_script}"
    args = ["source-faker", f"--cache-dir={tmp_path / 'cache'}", f"--connector-command={command}", "-v"]

    first = nox_acceptance(*args, calls=calls)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output[-4000:]
    for session in registry.names():
        assert f"acceptance(suite='{session}'): success" in output
    for test in ("test_check[inputs0]", "test_check[inputs1]", "test_discover[inputs0]",
                 "test_config_match_spec[inputs0]", "test_records_match_schema[inputs0]",
                 "test_expected_records[inputs0]", "test_stream_statuses[inputs0]", "test_sequential_reads[inputs0]",
                 "test_two_sequential_reads[inputs0]", "test_state_with_abnormally_large_values[inputs0]",
                 "test_streams_define_primary_key[inputs0]"):
        assert f"{test} PASSED" in output, test
    assert " FAILED" not in output
    # Seven suite sessions, one shared cache: spec and discover ran once each.
    first_calls = Counter(calls.read_text().split())
    assert (first_calls["spec"], first_calls["discover"], first_calls["check"]) == (1, 1, 2)
    assert first_calls["read"] >= 6

    second = nox_acceptance(*args, calls=calls)
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    both = Counter(calls.read_text().split())
    assert (both["spec"], both["discover"], both["check"]) == (1, 1, 4), "warm cache: no spec or discover again"


def test_tool_catches_fakers_resume_bug(faker_script: Path, tmp_path: Path) -> None:
    """faker 7.2.1 (always_updated false) resumed from a mid-stream checkpoint emits nothing: the sequential slices
    test, which the faker config skips for that reason, must fail on it with numbers."""
    folder = tmp_path / "source-faker"
    shutil.copytree(FAKER, folder, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    config_file = folder / "acceptance-test-config.yml"
    config_file.write_text(config_file.read_text().replace("skip_comprehensive_incremental_tests: true",
                                                           "skip_comprehensive_incremental_tests: false"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "acceptance.plugin", f"--acceptance-test-config={folder}",
         f"--connector-command={faker_script}", f"--cache-dir={tmp_path / 'cache'}", "-p", "no:cacheprovider",
         "--suite", "incremental", "-k", "sequential_slices"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600, check=False,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "the read resumed from state" in result.stdout and "returned 0 records; expected at least" in result.stdout


@pytest.mark.parametrize("name", ["source-hardcoded-records", "source-file"])
def test_other_real_connectors_pass_what_they_support(name: str, tmp_path: Path) -> None:
    build_virtualenv(Connector.read(ROOT / "connectors" / name), say=lambda _: None)
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "acceptance", "--", name,
         f"--cache-dir={tmp_path / 'cache'}", "--backend", "local", "-rs"],
        capture_output=True, text=True, cwd=ROOT, timeout=900, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert " FAILED" not in output and "Bypassed: " in output  # incremental is bypassed with its honest reason


def test_source_faker_invalid_config_is_reported_as_failed_check(faker_script: Path) -> None:
    """The real connector's own answer to a bad config, seen through the runner (exit 0, CONNECTION_STATUS)."""
    from acceptance.runner import LocalRunner
    from acceptance.runner.base import check

    result = check(LocalRunner([str(faker_script)], cwd=FAKER), {"count": "abc"}, timeout=120)
    statuses = result.of_type("CONNECTION_STATUS")
    assert result.exit_code == 0 and len(statuses) == 1
    assert statuses[0]["connectionStatus"]["status"] == "FAILED"
    assert "'abc' is not of type 'integer'" in statuses[0]["connectionStatus"]["message"]


def test_source_faker_builds_into_an_image_and_passes_every_suite_in_docker(tmp_path: Path) -> None:
    client = docker_client()
    if client is None:
        pytest.skip("no Docker engine answers: the Docker end-to-end test needs one")
    from tasks.builder.base_image import DEFAULT_TAGS, build_base_image

    build_base_image(list(DEFAULT_TAGS), say=lambda _: None)  # reused when present
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "acceptance", "--", "source-faker",
         "--backend", "docker", f"--cache-dir={tmp_path / 'cache'}", "-v"],
        capture_output=True, text=True, cwd=ROOT, timeout=1800, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "running the suites against the Docker image airbyte/source-faker:dev" in output
    for test in ("test_image_labels[inputs0]", "test_image_environment_variables[inputs0]",
                 "test_records_match_schema[inputs0]", "test_two_sequential_reads[inputs0]"):
        assert f"{test} PASSED" in output, test
    labels = client.images.get("airbyte/source-faker:dev").labels
    assert labels["io.airbyte.name"] == "airbyte/source-faker" and labels["io.airbyte.version"] == "7.2.1"
