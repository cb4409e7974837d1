"""test_backward_compatibility in the spec and discovery suites, and `nox -s backward_compat`'s verdict, on the fake
connector: the unmutated source plays the previous release (through --previous-command), a mutation the current."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from acceptance.context import PreviousOptions
from tasks.backward_compat import run_backward_compat
from tasks.comparison import parse_args
from tasks.regression import run_regression
from tests.conftest import AcceptanceOutcome

Make = Callable[..., Path]
Runner = Callable[..., AcceptanceOutcome]
TEST = "test_backward_compatibility[inputs0]"
# The unmutated fake source: `env` clears the mutation the current release gets from custom_environment_variables.
PREVIOUS = f"env FAKE_SOURCE_MUTATION= {sys.executable} main.py"


def declare_major(version: str) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        data["dockerImageTag"] = version
        data["releases"] = {"breakingChanges": {version: {"message": "m", "upgradeDeadline": "2030-01-01"}}}

    return change


def run_bc(run_acceptance: Runner, folder: Path, suite: str, *extra: str,
           previous: str = PREVIOUS, version: str | None = "0.0.9") -> AcceptanceOutcome:
    options = ["--suite", suite, "-k", "backward_compatibility", f"--previous-command={previous}"]
    if version:
        options.append(f"--previous-version={version}")
    return run_acceptance(folder, *options, *extra)


@pytest.mark.parametrize("suite", ["spec", "discovery"])
def test_identical_release_is_skipped(suite: str, fake_source: Make, run_acceptance: Runner) -> None:
    outcome = run_bc(run_acceptance, fake_source(), suite)
    assert outcome.skipped == {TEST}, outcome.outcomes
    assert "identical to the previous release's" in outcome.texts[TEST]


SUITE_CASES = {
    # mutation: (suite, outcome, words in the report)
    "spec_new_required_field": ("spec", "failed", ["new required field", "/required", "'workspace' is now required",
                                                   "not a major version bump"]),
    "spec_maximum_lowered": ("spec", "failed", ["previous config rejected", "/count", "maximum"]),
    "spec_optional_field_added": ("spec", "passed", []),
    "catalog_field_type_changed": ("discovery", "failed", ["/streams/products/json_schema/properties/price/type",
                                                           "type changed", "releases.breakingChanges"]),
    "catalog_stream_added": ("discovery", "passed", []),
    "no_primary_key": ("discovery", "failed", ["primary key changed", "/streams/products/source_defined_primary_key"]),
}


@pytest.mark.parametrize("mutation", SUITE_CASES)
def test_breaking_changes_fail_and_compatible_ones_pass(mutation: str, fake_source: Make,
                                                        run_acceptance: Runner) -> None:
    suite, expected, words = SUITE_CASES[mutation]
    outcome = run_bc(run_acceptance, fake_source(mutation), suite)
    assert outcome.outcomes == {TEST: expected}, outcome.texts
    for word in words:
        assert word in outcome.texts[TEST]
    assert "Traceback" not in outcome.texts.get(TEST, "")


@pytest.mark.parametrize(("mutation", "suite"), [("spec_new_required_field", "spec"),
                                                  ("catalog_field_type_changed", "discovery")])
def test_a_declared_major_bump_passes_with_the_differences_as_a_warning(
        mutation: str, suite: str, fake_source: Make, run_acceptance: Runner) -> None:
    folder = fake_source(mutation, change_metadata=declare_major("1.0.0"))
    assert run_bc(run_acceptance, folder, suite).outcomes == {TEST: "passed"}


def test_a_major_bump_without_a_breaking_changes_entry_still_fails(fake_source: Make, run_acceptance: Runner) -> None:
    folder = fake_source("catalog_field_type_changed", change_metadata=lambda d: d.update(dockerImageTag="1.0.0"))
    outcome = run_bc(run_acceptance, folder, "discovery")
    assert outcome.outcomes == {TEST: "failed"}
    assert "no releases.breakingChanges entry after 0.0.9 up to 1.0.0" in outcome.texts[TEST]
    assert "not a major version bump" not in outcome.texts[TEST]


def test_an_unknown_previous_version_cannot_declare_anything(fake_source: Make, run_acceptance: Runner) -> None:
    folder = fake_source("catalog_field_type_changed", change_metadata=declare_major("1.0.0"))
    outcome = run_bc(run_acceptance, folder, "discovery", version=None)
    assert outcome.outcomes == {TEST: "failed"}
    assert "previous version is unknown" in outcome.texts[TEST]


def disable_for(version: str) -> Callable[[dict], None]:
    def change(config: dict) -> None:
        for suite in ("spec", "discovery"):
            config["acceptance_tests"][suite]["tests"][0]["backward_compatibility_tests_config"] = {
                "disable_for_version": version}

    return change


@pytest.mark.parametrize("suite", ["spec", "discovery"])
def test_disable_for_version_is_decided_before_the_previous_release_runs(
        suite: str, fake_source: Make, run_acceptance: Runner, tmp_path: Path) -> None:
    marker = tmp_path / "previous-ran"
    previous = f"sh -c 'touch {marker}; exit 3'"  # would fail (and leave a trace) if it were run
    folder = fake_source("spec_new_required_field,catalog_field_type_changed", change=disable_for("0.0.9"))
    outcome = run_bc(run_acceptance, folder, suite, previous=previous)
    assert outcome.skipped == {TEST}
    assert "disabled for version 0.0.9 (disable_for_version)" in outcome.texts[TEST]
    assert not marker.exists()


def test_disable_for_another_version_still_checks(fake_source: Make, run_acceptance: Runner) -> None:
    folder = fake_source("catalog_field_type_changed", change=disable_for("0.0.8"))
    assert run_bc(run_acceptance, folder, "discovery").outcomes == {TEST: "failed"}


def test_no_previous_release_is_a_skip_naming_why(fake_source: Make, run_acceptance: Runner) -> None:
    outcome = run_acceptance(fake_source("catalog_field_type_changed"), "--suite", "discovery", "-k",
                             "backward_compatibility")
    assert outcome.skipped == {TEST}
    assert "remoteRegistries.pypi.packageName" in outcome.texts[TEST]


def test_a_previous_release_that_cannot_discover_is_a_skip(fake_source: Make, run_acceptance: Runner) -> None:
    previous = f"env FAKE_SOURCE_MUTATION=catalog_missing {sys.executable} main.py"
    outcome = run_bc(run_acceptance, fake_source("catalog_field_type_changed"), "discovery", previous=previous)
    assert outcome.skipped == {TEST}
    assert "could not discover with this config" in outcome.texts[TEST]


def test_the_marker_deselects_them(fake_source: Make, run_acceptance: Runner) -> None:
    outcome = run_acceptance(fake_source("catalog_field_type_changed"), "--suite", "discovery", "-m",
                             "not backward_compatibility", f"--previous-command={PREVIOUS}")
    assert outcome.outcomes and TEST not in outcome.outcomes
    assert outcome.failed == set()


# ------------------------------------------------------------------------------------------ nox -s backward_compat


def compat_args(folder: Path, report_dir: Path, *extra: str) -> list[str]:
    return [str(folder), "--backend", "local", "--previous-command", PREVIOUS, "--report-dir", str(report_dir),
            "--cache-dir", str(report_dir / "cache"), *extra]


def test_the_session_reports_every_difference_and_fails_on_undeclared_ones(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source("spec_new_required_field,catalog_field_type_changed,catalog_stream_added")
    said: list[str] = []
    args = parse_args(compat_args(folder, tmp_path, "--previous-version", "0.0.9"), prog="backward_compat")
    assert run_backward_compat(folder, args, say=said.append) == 1
    text = "\n".join(said)
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:2]) for line in text.splitlines()
            if line.startswith("|")}
    assert {("breaking", "new required field"), ("breaking", "previous config rejected"),
            ("breaking", "type changed"), ("compatible", "stream added")} <= rows
    report = json.loads((tmp_path / folder.name / "backward_compat.json").read_text())
    assert report["passed"] is False
    assert report["previous"]["version"] == "0.0.9" and report["current"]["version"] == "0.1.0"
    kinds = {c["kind"]: c for c in report["comparisons"]}
    assert {d["rule"] for d in kinds["catalog"]["differences"]} == {"type changed", "stream added"}
    assert kinds["spec"]["generated_configs"] >= 100
    assert any(d["rule"] == "new required field" and d["path"] == "/required" and d["breaking"]
               for d in kinds["spec"]["differences"])
    assert [f["message"] for f in report["version_findings"]][0].startswith("3 breaking differences")


def test_the_session_passes_when_the_version_declares_the_break(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source("catalog_field_type_changed", change_metadata=declare_major("1.0.0"))
    args = parse_args(compat_args(folder, tmp_path, "--previous-version", "0.9.0"), prog="backward_compat")
    assert run_backward_compat(folder, args, say=lambda _: None) == 0
    report = json.loads((tmp_path / folder.name / "backward_compat.json").read_text())
    assert report["passed"] is True and report["comparisons"][1]["breaking"] == 1


def test_a_version_that_did_not_increase_fails_even_without_differences(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source()
    said: list[str] = []
    args = parse_args(compat_args(folder, tmp_path, "--previous-version", "0.1.0"), prog="backward_compat")
    assert run_backward_compat(folder, args, say=said.append) == 1
    assert "version did not increase: 0.1.0 → 0.1.0" in "\n".join(said)


def test_unknown_session_arguments_are_named() -> None:
    from acceptance.errors import UserError

    with pytest.raises(UserError, match="unknown arguments --frobnicate"):
        parse_args(["source-faker", "--frobnicate"], prog="backward_compat")


def test_previous_options_reach_the_context() -> None:
    args = parse_args(["source-faker", "--previous-image", "x/y:1", "--report-dir", "out"], prog="backward_compat")
    assert args.previous == PreviousOptions("x/y:1", None, None)
    assert args.report_dir == Path("out")


# ------------------------------------------------------------------------------------------------ nox -s regression


def test_regression_pairs_records_by_primary_key_and_names_changed_fields(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source("record_value_changed")
    said: list[str] = []
    report = run_regression(folder, parse_args(compat_args(folder, tmp_path), prog="regression"), say=said.append)
    assert report is not None and report.has_differences()
    summary = json.loads((tmp_path / folder.name / "regression.json").read_text())
    streams = {s["name"]: s for s in summary["streams"]}
    assert (streams["products"]["changed"], streams["products"]["changed_fields"]) == (1, {"price": 1})
    assert streams["users"]["has_differences"] is False
    assert summary["streams_with_differences"] == ["products"]
    table = next(text for text in said if text.startswith("| stream"))
    row = next(line for line in table.splitlines() if line.startswith("| products"))
    assert [cell.strip() for cell in row.strip("|").split("|")][:6] == ["products", "3", "3", "0", "0", "1"]


def test_regression_leaves_out_the_entrys_ignored_fields(fake_source: Make, tmp_path: Path) -> None:
    def ignore_price(config: dict) -> None:
        config["acceptance_tests"]["basic_read"]["tests"][0]["ignored_fields"] = {
            "products": [{"name": "price", "bypass_reason": "changes between releases on purpose"}]}

    folder = fake_source("record_value_changed", change=ignore_price)
    report = run_regression(folder, parse_args(compat_args(folder, tmp_path), prog="regression"), say=lambda _: None)
    assert report is not None and not report.has_differences()
    summary = json.loads((tmp_path / folder.name / "regression.json").read_text())
    assert summary["ignored_fields"] == {"products": ["price"]}


def test_regression_without_a_previous_release_says_why(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source()
    args = parse_args([str(folder), "--backend", "local", "--report-dir", str(tmp_path)], prog="regression")
    said: list[str] = []
    assert run_regression(folder, args, say=said.append) is None
    assert "regression skipped" in "\n".join(said) and "remoteRegistries.pypi.packageName" in "\n".join(said)
