"""`nox -s pre_merge`: every gate in one summary and one exit code, on the fake connector."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from acceptance.runner.environment import create_virtualenv
from tasks.comparison import parse_args
from tasks.pre_merge import exit_code, metadata_problems, render_steps, run_pre_merge

Make = Callable[..., Path]
PREVIOUS = f"env FAKE_SOURCE_MUTATION= {sys.executable} main.py"


def pre_merge(folder: Path, tmp_path: Path, previous_version: str = "0.0.9") -> dict[str, tuple[str, str]]:
    args = parse_args([str(folder), "--backend", "local", "--previous-command", PREVIOUS, "--previous-version",
                       previous_version, "--report-dir", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c")],
                      prog="pre_merge")
    steps = run_pre_merge(folder, args, say=lambda _: None)
    verdict = render_steps(folder, steps).splitlines()[-1]
    assert verdict == f"{folder.name}: {'NOT ready' if exit_code(steps) else 'ready'} to merge"
    return {s.name: (s.outcome, s.detail) for s in steps} | {"exit": (str(exit_code(steps)), "")}


def test_a_good_connector_is_ready(fake_source: Make, tmp_path: Path) -> None:
    found = pre_merge(fake_source(), tmp_path)
    assert {name: outcome for name, (outcome, _) in found.items()} == {
        "metadata": "passed", "acceptance-test-config.yml": "passed", "build": "passed", "allowed hosts": "passed",
        "strictness": "passed", "version": "passed", "unit tests": "skipped", "acceptance": "passed",
        "backward compatibility": "passed", "exit": "0"}


def test_broken_metadata_stops_before_the_build(fake_source: Make, tmp_path: Path) -> None:
    def broken(data: dict) -> None:
        del data["dockerImageTag"]
        data["releaseStage"] = "gold"

    found = pre_merge(fake_source(change_metadata=broken), tmp_path)
    assert found["metadata"][0] == "failed" and found["exit"][0] == "1"
    assert "data.dockerImageTag" in found["metadata"][1] and "data.releaseStage" in found["metadata"][1]
    assert found["build"][0] == found["acceptance"][0] == "skipped"


def test_a_tag_that_is_not_semver_is_named(fake_source: Make) -> None:
    folder = fake_source(change_metadata=lambda data: data.update(dockerImageTag="latest"))
    assert metadata_problems(folder) == [f"{folder / 'metadata.yaml'}: data.dockerImageTag: 'latest' is not a "
                                         "semantic version (X.Y.Z)"]


def test_generally_available_needs_allowed_hosts_and_high_strictness(fake_source: Make, tmp_path: Path) -> None:
    def generally_available(data: dict) -> None:
        data["releaseStage"] = "generally_available"
        del data["allowedHosts"]

    folder = fake_source(change=lambda config: config.update(test_strictness_level="low"),
                         change_metadata=generally_available)
    found = pre_merge(folder, tmp_path)
    assert found["allowed hosts"][0] == "failed" and "data.allowedHosts" in found["allowed hosts"][1]
    assert found["strictness"] == ("failed", "a generally available connector needs test_strictness_level: high in "
                                             "acceptance-test-config.yml (it is low)")
    assert found["exit"][0] == "1"


def test_a_version_that_did_not_increase_fails(fake_source: Make, tmp_path: Path) -> None:
    found = pre_merge(fake_source(), tmp_path, previous_version="0.1.0")
    assert found["version"] == ("failed", "dockerImageTag 0.1.0 is not greater than the previous release's 0.1.0")


def test_a_failing_suite_and_a_breaking_change_fail(fake_source: Make, tmp_path: Path) -> None:
    found = pre_merge(fake_source("catalog_field_type_changed,check_always_fails"), tmp_path)
    assert found["acceptance"][0] == "failed" and "connection: 1 failed" in found["acceptance"][1]
    assert found["backward compatibility"][0] == "failed"
    assert "type changed" in found["backward compatibility"][1]


def test_unit_tests_without_a_virtualenv_are_skipped_with_the_reason(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source()
    (folder / "unit_tests").mkdir()
    (folder / "unit_tests" / "test_x.py").write_text("def test_x():\n    assert True\n")
    outcome, detail = pre_merge(folder, tmp_path)["unit tests"]
    assert outcome == "skipped" and "no virtualenv" in detail


def test_the_connectors_own_unit_tests_run_in_its_virtualenv(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source()
    # a virtualenv that sees the packages pytest is installed with (a .pth file: `--system-site-packages` would
    # reach the base interpreter's, not those of a virtualenv these tests may run in), as `nox -s build` makes one
    create_virtualenv(folder / ".venv", cache_root=tmp_path / "cache")
    site_packages = next((folder / ".venv" / "lib").glob("python3*/site-packages"))
    (site_packages / "tests-packages.pth").write_text(str(Path(pytest.__file__).resolve().parent.parent) + "\n")
    (folder / "unit_tests").mkdir()
    (folder / "unit_tests" / "test_units.py").write_text(
        "def test_adds():\n    assert 1 + 1 == 2\n\n\ndef test_breaks():\n    assert 'a' == 'b'\n")
    outcome, detail = pre_merge(folder, tmp_path)["unit tests"]
    assert outcome == "failed" and "1 failed, 1 passed" in detail
    (folder / "unit_tests" / "test_units.py").write_text("def test_adds():\n    assert 1 + 1 == 2\n")
    assert pre_merge(folder, tmp_path)["unit tests"][0] == "passed"
