"""`nox -s update_expected_records`: the expected-records file regenerated from a read, stable and masked, and
test_expected_records passes against it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from acceptance.errors import UserError
from tasks.expected_records import FIXED_EMITTED_AT, parse_args, update_expected_records
from tests.conftest import AcceptanceOutcome

Make = Callable[..., Path]
Runner = Callable[..., AcceptanceOutcome]
CANARY = "fake-canary-3f9a1c"


def regenerate(folder: Path, tmp_path: Path, *extra: str) -> Path:
    args, per_stream = parse_args([str(folder), "--backend", "local", "--cache-dir", str(tmp_path / "cache"), *extra])
    [path] = update_expected_records(folder, args, per_stream, say=lambda _: None)
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_changed_connector_gets_a_file_it_passes_against(fake_source: Make, run_acceptance: Runner,
                                                          tmp_path: Path) -> None:
    folder = fake_source("record_value_changed")
    assert run_acceptance(folder, "--suite", "basic_read").failed == {"test_expected_records[inputs0]"}
    path = regenerate(folder, tmp_path)
    records = lines(path)
    assert [(r["stream"], r["data"].get("code", r["data"].get("id"))) for r in records] == [
        ("products", "apple"), ("products", "banana"), ("products", "cherry"),
        ("users", 0), ("users", 1), ("users", 2), ("users", 3), ("users", 4)]
    assert records[0]["data"]["price"] == 9.99 and {r["emitted_at"] for r in records} == {FIXED_EMITTED_AT}
    assert run_acceptance(folder, "--suite", "basic_read").failed == set()


def test_the_file_is_stable_masked_and_leaves_out_ignored_fields(fake_source: Make, tmp_path: Path) -> None:
    def ignore_updated_at(config: dict) -> None:
        config["acceptance_tests"]["basic_read"]["tests"][0]["ignored_fields"] = {
            "users": [{"name": "updated_at", "bypass_reason": "changes every read"}]}

    folder = fake_source("secret_in_record", change=ignore_updated_at)
    path = regenerate(folder, tmp_path)
    first = path.read_bytes()
    assert CANARY not in first.decode() and "**********" in first.decode()
    assert all("updated_at" not in r["data"] for r in lines(path) if r["stream"] == "users")
    assert regenerate(folder, tmp_path) == path and path.read_bytes() == first  # byte for byte the same


def test_per_stream_keeps_the_first_records_by_primary_key(fake_source: Make, tmp_path: Path) -> None:
    path = regenerate(fake_source(), tmp_path, "--per-stream", "2")
    assert [(r["stream"], r["data"].get("code", r["data"].get("id"))) for r in lines(path)] == [
        ("products", "apple"), ("products", "banana"), ("users", 0), ("users", 1)]


def test_a_failing_read_writes_nothing(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source("crash_without_trace_on_bad_catalog,no_records")
    path = folder / "integration_tests" / "expected_records.jsonl"
    before = path.read_bytes()
    folder_config = folder / "integration_tests" / "config.json"
    config = json.loads(folder_config.read_text())
    config["crash"] = True  # the fake source crashes every command but spec/check with this
    folder_config.write_text(json.dumps(config))
    with pytest.raises(UserError, match="nothing was written"):
        regenerate(folder, tmp_path)
    assert path.read_bytes() == before


def test_arguments_are_checked() -> None:
    with pytest.raises(UserError, match="--per-stream must be at least 1"):
        parse_args(["source-faker", "--per-stream", "0"])
    with pytest.raises(UserError, match="unknown arguments --frob"):
        parse_args(["source-faker", "--frob"])


def test_the_nox_session_runs(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source()
    result = subprocess.run([sys.executable, "-m", "nox", "-f", str(Path(__file__).parent.parent / "noxfile.py"),
                             "-s", "update_expected_records", "--", str(folder), "--backend", "local",
                             "--cache-dir", str(tmp_path / "c")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "expected_records.jsonl: 8 records (products 3, users 5)" in result.stderr


def test_a_configured_catalog_naming_an_unknown_stream_is_a_clear_error(fake_source: Make, tmp_path: Path) -> None:
    def read_with_a_catalog_file(config: dict) -> None:
        config["test_strictness_level"] = "low"
        config["acceptance_tests"]["basic_read"]["tests"][0]["configured_catalog_path"] = \
            "integration_tests/unknown_stream_catalog.json"

    folder = fake_source(change=read_with_a_catalog_file)
    (folder / "integration_tests" / "unknown_stream_catalog.json").write_text(json.dumps({"streams": [{
        "stream": {"name": "no_such_stream", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}))
    path = folder / "integration_tests" / "expected_records.jsonl"
    before = path.read_bytes()
    with pytest.raises(UserError, match=r"unknown_stream_catalog\.json.*no_such_stream"):
        regenerate(folder, tmp_path)
    assert path.read_bytes() == before
