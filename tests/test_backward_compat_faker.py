"""Real releases, offline: airbyte-source-faker 7.2.1 (connectors/source-faker) against older releases installed
from PyPI into their own virtualenvs. 4.0.0 has no console script (it runs through the generated launcher) and
its catalog really differs; 6.2.38 → 7.2.1 changed nothing at the protocol level."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from acceptance.config.connector import Connector
from acceptance.runner.command import venv_bin
from tasks.backward_compat import run_backward_compat
from tasks.builder.virtualenv import build_virtualenv
from tasks.comparison import parse_args
from tasks.regression import run_regression

pytestmark = pytest.mark.slow
FAKER = Path(__file__).parent.parent / "connectors" / "source-faker"

# What 4.0.0 → 7.2.1 really changed in the catalog (the 5.0.0 release notes: "Primary keys and integer types").
EXPECTED_4_TO_7 = {
    ("type changed", "/streams/products/json_schema/properties/id/type"),
    ("type changed", "/streams/products/json_schema/properties/year/type"),
    ("type changed", "/streams/users/json_schema/properties/id/type"),
    ("type changed", "/streams/purchases/json_schema/properties/id/type"),
    ("type changed", "/streams/purchases/json_schema/properties/user_id/type"),
    ("type changed", "/streams/purchases/json_schema/properties/product_id/type"),
    ("primary key changed", "/streams/products/source_defined_primary_key"),
    ("primary key changed", "/streams/users/source_defined_primary_key"),
    ("primary key changed", "/streams/purchases/source_defined_primary_key"),
}


@pytest.fixture(scope="module")
def faker_script() -> Path:
    record = build_virtualenv(Connector.read(FAKER), say=lambda _: None)  # reused when up to date
    return venv_bin(FAKER / ".venv") / record.console_script


def faker_against(tmp_path: Path, previous: str, declared: bool = True) -> Path:
    """A copy of the faker connector's config whose spec entry names `previous` as the release to compare with."""
    folder = tmp_path / "source-faker"
    shutil.copytree(FAKER, folder, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    config_file = folder / "acceptance-test-config.yml"
    config = yaml.safe_load(config_file.read_text())
    config["acceptance_tests"]["spec"]["tests"][0]["backward_compatibility_tests_config"] = {
        "previous_connector_version": previous}
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    if not declared:
        metadata_file = folder / "metadata.yaml"
        metadata = yaml.safe_load(metadata_file.read_text())
        del metadata["data"]["releases"]
        metadata_file.write_text(yaml.safe_dump(metadata, sort_keys=False))
    return folder


def compare(folder: Path, script: Path, reports: Path,
            run: Callable[..., Any] = run_backward_compat) -> tuple[Any, dict[str, Any]]:
    args = parse_args([str(folder), "--backend", "local", "--connector-command", str(script), "--report-dir",
                       str(reports), "--cache-dir", str(reports / "cache")], prog="backward_compat")
    outcome = run(folder, args, say=lambda _: None)
    name = "backward_compat" if run is run_backward_compat else "regression"
    return outcome, json.loads((reports / folder.name / f"{name}.json").read_text())


def test_4_0_0_to_7_2_1_names_the_real_catalog_changes_declared_at_5_0_0(faker_script: Path, tmp_path: Path) -> None:
    exit_code, report = compare(faker_against(tmp_path, "4.0.0"), faker_script, tmp_path / "reports")
    assert report["previous"]["version"] == "4.0.0"
    assert "launcher (no console script): source_faker.SourceFaker" in report["previous"]["release"]
    spec, catalog = report["comparisons"]
    assert [(d["rule"], d["breaking"]) for d in spec["differences"]] == [("required field relaxed", False)]
    assert spec["generated_configs"] >= 100
    assert {(d["rule"], d["path"]) for d in catalog["differences"]} == EXPECTED_4_TO_7
    assert all(d["breaking"] for d in catalog["differences"])
    # metadata.yaml declares the break at 5.0.0, between the two releases
    assert exit_code == 0 and report["passed"] is True and report["version_findings"] == []


def test_the_same_break_undeclared_fails(faker_script: Path, tmp_path: Path) -> None:
    exit_code, report = compare(faker_against(tmp_path, "4.0.0", declared=False), faker_script, tmp_path / "r")
    assert exit_code == 1
    assert "9 breaking differences but metadata.yaml has no releases.breakingChanges entry after 4.0.0 up to " \
           "7.2.1" in report["version_findings"][0]["message"]


def test_6_2_38_to_7_2_1_changed_nothing_at_the_protocol_level(faker_script: Path, tmp_path: Path) -> None:
    exit_code, report = compare(faker_against(tmp_path, "6.2.38"), faker_script, tmp_path / "reports")
    assert exit_code == 0
    assert [(c["kind"], c["identical"], c["differences"]) for c in report["comparisons"]] == [
        ("spec", True, []), ("catalog", True, [])]


def test_regression_reads_both_releases_and_compares_records(faker_script: Path, tmp_path: Path) -> None:
    report, summary = compare(faker_against(tmp_path, "6.2.38"), faker_script, tmp_path / "reports",
                              run=run_regression)
    assert report is not None
    streams = {s["name"]: s for s in summary["streams"]}
    # config: count 1000, seed 42; products are a fixed list of 100
    assert {n: (s["previous_count"], s["current_count"]) for n, s in streams.items()} == {
        "users": (1000, 1000), "purchases": (1000, 1000), "products": (100, 100)}
    assert all(s["added"] == 0 and s["removed"] == 0 for s in streams.values())
    assert summary["ignored_fields"]["users"] == ["updated_at"]
    assert summary["previous"]["version"] == "6.2.38"
