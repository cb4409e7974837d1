"""`nox -s bench` (tasks/bench/): its synthetic input, the agreement of the paths it compares, its report.

No timing is asserted: the numbers are the benchmark's business, these tests only keep its machinery honest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from acceptance.runner.command import VENV_DIR, BuildRecord
from tasks.bench import cli, inputs, paths, process, targets, throughput, wide
from tasks.bench import memory as memory_bench

SMALL_SIZES = ["--records-wide", "300", "--baseline-lines", "200", "--memory-records", "200", "400"]
JSON_KEYS = {"command", "seconds", "machine", "sizes", "inputs", "throughput", "memory", "targets", "passed", "suites",
             "passes", "rounds"}


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def test_synthetic_file_is_deterministic_and_holds_its_invalid_records(tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    invalid = wide.write_wide_file(first, 2_000)
    assert wide.write_wide_file(second, 2_000) == invalid
    assert first.read_bytes() == second.read_bytes()
    assert len(invalid) == 2_000 // wide.INVALID_EVERY  # 0.1%
    messages = [orjson.loads(line) for line in lines_of(first)]
    assert all(messages[number]["type"] == "RECORD" for number in invalid)
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert len(records) == 2_000
    assert len(records[0]["data"]) == wide.WIDE_COLUMNS
    assert wide.write_wide_file(tmp_path / "other-seed.jsonl", 2_000, seed=7) == invalid
    assert (tmp_path / "other-seed.jsonl").read_bytes() != first.read_bytes()


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], list[int]]:
    """A small synthetic read with every defect twice: its lines and the line numbers of the invalid records."""
    data = tmp_path_factory.mktemp("bench") / "wide.jsonl"
    invalid = wide.write_wide_file(data, 800, invalid_every=50)
    assert len(invalid) == 2 * len(wide.DEFECTS)
    return lines_of(data), invalid


def test_baseline_and_ours_agree_on_the_invalid_records(defective: tuple[list[bytes], list[int]]) -> None:
    lines, invalid = defective
    catalog = wide.wide_catalog()
    baseline = paths.run_baseline(lines, catalog)
    assert baseline.invalid_lines == invalid
    assert paths.run_ours(lines, catalog).invalid == len(invalid)
    assert paths.run_ours(lines, catalog, all_checks=True).invalid == len(invalid)
    assert paths.run_orjson(lines).messages == baseline.messages == len(lines)


def test_each_defect_alone_is_invalid_for_both_paths(defective: tuple[list[bytes], list[int]]) -> None:
    lines, invalid = defective
    catalog = wide.wide_catalog()
    for defect, number in zip(wide.DEFECTS * 2, invalid, strict=True):
        assert paths.run_baseline([lines[number]], catalog).invalid == 1, defect
        assert paths.run_ours([lines[number]], catalog).invalid == 1, defect
        assert paths.run_ours([lines[number - 1]], catalog).invalid == 0, defect  # its valid neighbour


def test_a_clean_synthetic_read_passes_every_basic_read_check(tmp_path: Path) -> None:
    data = tmp_path / "wide.jsonl"
    assert wide.write_wide_file(data, 300, invalid_every=0) == []
    ours = paths.OursPath(wide.wide_catalog(), all_checks=True)
    ours.feed_lines(lines_of(data))
    assert ours.findings() == []
    assert ours.result().invalid == 0
    assert paths.run_baseline(lines_of(data), wide.wide_catalog()).invalid == 0


def test_every_check_includes_the_secret_search(tmp_path: Path) -> None:
    data = tmp_path / "wide.jsonl"
    wide.write_wide_file(data, 20, invalid_every=0)
    leak = json.dumps({"type": "LOG", "log": {"level": "DEBUG", "message": f"token={paths.BENCH_SECRET}"}}).encode()
    ours = paths.OursPath(wide.wide_catalog(), all_checks=True)
    ours.feed_lines([*lines_of(data), leak])
    assert [f.check for f in ours.findings()] == ["secret_never_in_the_output"]


def test_memory_read_passes_every_check_including_its_expected_records(tmp_path: Path) -> None:
    script = tmp_path / "generator.py"
    script.write_text(memory_bench.MEMORY_GENERATOR)
    result = memory_bench.measure_read(script, 2_000)
    assert result["records"] == 2_000 and result["findings"] == 0


def run_main(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, dict[str, Any]]:
    code = cli.main(["--quick", "--work-dir", str(tmp_path), *SMALL_SIZES, *extra], say=lambda _text: None)
    output = capsys.readouterr().out
    return code, output, json.loads((tmp_path / "bench.json").read_text())


def test_quick_run_prints_the_tables_and_writes_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output, results = run_main(tmp_path, capsys, "--no-faker")
    assert code == 0  # verdicts are printed, not turned into an exit status without --check
    for text in ("msg/s", "vs baseline", "vs orjson", "peak RSS MB", "ours / baseline", "ours / orjson.loads",
                 "invalid records agree", "basic_read memory growth, 200 → 400 records", "basic_read peak RSS"):
        assert text in output, text
    assert "PASS" in output or "FAIL" in output
    assert set(results) == JSON_KEYS
    assert results["command"].startswith("nox -s bench -- --quick")
    assert {row["path"] for row in results["throughput"]} == set(paths.PATHS)
    assert {"input", "path", "lines", "messages", "seconds", "invalid", "peak_rss_bytes",
            "messages_per_second"} <= set(results["throughput"][0])
    assert [m["records"] for m in results["memory"]] == [200, 400]
    assert all(m["findings"] == 0 for m in results["memory"])
    agreement = next(t for t in results["targets"] if "invalid records agree" in t["name"])
    assert agreement["passed"], agreement  # the synthetic file's invalid record, found by both paths
    assert {"name", "value", "wanted", "passed"} == set(results["targets"][0])


def canned_results(monkeypatch: pytest.MonkeyPatch, passed: bool) -> None:
    row = throughput.Measurement("wide", "baseline", "all", 10, 1.0, 0, 40 * process.MB)
    target = targets.Target("a target", "1×", "≥ 2×", passed)
    memory = memory_bench.MemoryMeasurement(10, 1.0, 40 * process.MB, 0)
    monkeypatch.setattr(cli, "wide_input", lambda work_dir, records, say: inputs.BenchInput(
        "wide", work_dir / "wide.jsonl", work_dir / "catalog.json", 10))
    monkeypatch.setattr(cli, "bench_input", lambda source, lines, say, passes, rounds: ([row], [target]))
    monkeypatch.setattr(cli, "bench_memory", lambda work_dir, sizes, say: ([memory], []))


@pytest.mark.parametrize(("passed", "check", "expected"), [(True, True, 0), (False, False, 0), (False, True, 1)])
def test_exit_status_fails_only_with_check(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, passed: bool, check: bool,
                                           expected: int) -> None:
    canned_results(monkeypatch, passed)
    code, output, results = run_main(tmp_path, capsys, "--no-faker", *(["--check"] if check else []))
    assert code == expected
    assert ("PASS" if passed else "FAIL") in output
    assert results["passed"] is passed


def test_bad_options_are_one_clear_error() -> None:
    with pytest.raises(process.BenchError, match="unknown arguments --nope"):
        cli.parse_args(["--nope"])
    with pytest.raises(process.BenchError, match="--count"):
        cli.parse_args(["--count", "many"])
    with pytest.raises(process.BenchError, match="--passes must be at least 1, not 0"):
        cli.main(["--passes", "0"], say=lambda _text: None)
    with pytest.raises(process.BenchError, match="--rounds must be at least 1, not 0"):
        cli.main(["--rounds", "0"], say=lambda _text: None)


def test_each_path_keeps_its_fastest_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    canned_results(monkeypatch, True)
    code, output, results = run_main(tmp_path, capsys, "--no-faker", "--passes", "2")
    assert code == 0 and results["passes"] == 2 and "the fastest of 2 passes per path" in output
    data, catalog = tmp_path / "data.jsonl", tmp_path / "catalog.json"
    wide.write_wide_file(data, 50, invalid_every=0)
    catalog.write_text(json.dumps(wide.wide_catalog()))
    seconds = iter([0.0, 5.0, 5.0, 7.0])  # a slow first pass, then a fast one
    monkeypatch.setattr(throughput.time, "perf_counter", lambda: next(seconds))
    measured = throughput.measure_path("ours", data, catalog, 0, passes=2)
    assert measured["seconds"] == 2.0 and measured["messages"] > 50


@pytest.mark.slow
@pytest.mark.skipif(BuildRecord.read(inputs.FAKER / VENV_DIR) is None,
                    reason="source-faker is not built (nox -s build -- source-faker)")
def test_quick_run_with_a_real_faker_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output, results = run_main(tmp_path, capsys, "--count", "20")
    assert code == 0
    faker = next(i for i in results["inputs"] if i["name"].startswith("source-faker"))
    assert faker["lines"] > 40  # users, purchases, products, with statuses and states
    agreement = next(t for t in results["targets"] if t["name"].startswith("source-faker")
                     and "invalid records agree" in t["name"])
    assert agreement["passed"] and agreement["value"] == "ours 0, baseline 0"
    said: list[str] = []
    inputs.faker_input(tmp_path, 20, said.append)
    assert any(text.startswith("bench: reusing") for text in said)  # recorded once per count


def _run(wall: float, connector: float, commands: dict[str, int]) -> dict[str, Any]:
    return {"wall_seconds": wall, "connector_seconds": connector, "commands": commands, "suites_passed": True}


@pytest.mark.parametrize(("previous", "shown"), [
    ({"prepared": True, "release": "airbyte-source-faker 7.2.0", "seconds": 41.5},
     "previous release for backward_compat: airbyte-source-faker 7.2.0, installed or found before the runs in 41.5 s"),
    ({"prepared": False, "why": "no release before 0.1.0", "seconds": 1.2},
     "previous release: unavailable (no release before 0.1.0); backward_compat skips its comparisons"),
    (None, "previous release: not prepared before the runs"),
])
def test_whole_run_table_says_how_the_previous_release_was_prepared(previous: dict[str, Any] | None,
                                                                    shown: str) -> None:
    from tasks.bench.suites import suites_table

    result = {"count": 10_000, "previous_release": previous, "cold": _run(30.0, 26.0, {"spec": 2}),
              "warm": _run(25.0, 22.0, {"read": 7}), "parallel": _run(16.0, 27.0, {"spec": 2})}
    table = suites_table(result)
    assert "| cold, one suite at a time" in table
    assert table.splitlines()[-1].startswith(shown)


def test_preparing_the_previous_release_reports_why_it_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from acceptance.compat import previous_package
    from acceptance.config.metadata import load_metadata
    from tasks.bench import suites as bench_suites
    asked: list[tuple[str, str]] = []

    def unavailable(package: str, current: str, **_: Any) -> previous_package.Unavailable:
        asked.append((package, current))
        return previous_package.Unavailable(package, f"{package}: no release before {current}")

    monkeypatch.setattr(previous_package, "resolve_previous_package", unavailable)
    prepared = bench_suites.prepare_previous_release(say=lambda _: None)
    metadata = load_metadata(bench_suites.FAKER)
    assert metadata is not None
    assert asked == [("airbyte-source-faker", metadata.data.dockerImageTag)]  # the release before the one tested
    assert prepared["prepared"] is False and prepared["why"].startswith("airbyte-source-faker: no release before")


def test_paths_take_turns_and_keep_their_fastest_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = inputs.BenchInput("wide", tmp_path / "wide.jsonl", tmp_path / "catalog.json", 10)
    seconds = {("orjson", 1): 1.0, ("ours", 1): 3.0, ("orjson", 2): 1.5, ("ours", 2): 2.0}
    calls: list[str] = []

    def child(label: str, path: str, data: Path, catalog: Path, limit: int, passes: int) -> throughput.Measurement:
        calls.append(path)
        turn = calls.count(path)
        return throughput.Measurement(label, path, "all", 10, seconds[(path, turn)], 0, (40 + turn) * process.MB)

    monkeypatch.setattr(throughput, "measure_in_child", child)
    orjson_row, ours_row = throughput.measure_taking_turns(source, ("orjson", "ours"), lambda _: None, 3, 2)
    assert calls == ["orjson", "ours", "orjson", "ours"]
    assert (orjson_row.seconds, ours_row.seconds) == (1.0, 2.0)  # each path's fastest, whichever round it was
    assert orjson_row.peak_rss_bytes == ours_row.peak_rss_bytes == 42 * process.MB  # the highest of its rounds
