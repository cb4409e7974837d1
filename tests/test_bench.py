"""`nox -s bench` (tasks/bench/): its synthetic input, the agreement of the paths it compares, its report, the
environments table (uv against pip).

No timing is asserted: the numbers are the benchmark's business, these tests only keep its machinery honest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from acceptance.runner.command import VENV_DIR, BuildRecord
from tasks.bench import cli, environments, inputs, paths, process, targets, throughput, wide
from tasks.bench import memory as memory_bench

SMALL_SIZES = ["--records-wide", "300", "--baseline-lines", "200", "--memory-records", "200", "400"]
JSON_KEYS = {"command", "seconds", "machine", "sizes", "inputs", "throughput", "memory", "targets", "passed", "suites",
             "passes", "rounds", "environments"}


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


def run_main(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str,
             environments_too: bool = False) -> tuple[int, str, dict[str, Any]]:
    leave_out = [] if environments_too else ["--no-environments"]  # real installs: their own tests below
    code = cli.main(["--quick", "--work-dir", str(tmp_path), *SMALL_SIZES, *leave_out, *extra], say=lambda _text: None)
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


# --- the environments table (uv against pip) -----------------------------------------------------------------------

def env_row(name: str, cache: str, uv: list[float], pip: list[float], *, judged: bool = False,
            uv_answers: bool | None = True, pip_answers: bool | None = True,
            problems: list[str] | None = None) -> environments.EnvironmentRow:
    return environments.EnvironmentRow(name, f"{name}==1.0", cache, f"{name} spec", uv, pip, uv_answers,
                                       pip_answers, judged, problems or [])


def test_environments_table_shows_medians_ratios_answers_and_rows_measured_elsewhere() -> None:
    rows = [env_row("faker", "empty", [6.0, 5.0, 9.0], [180.0, 190.0, 200.0]),
            env_row("faker", "warm", [3.0, 2.0], [60.0, 40.0], judged=True),
            env_row("file", "empty", [], [90.0], uv_answers=False, problems=["uv, round 1: could not install"])]
    image = environments.EnvironmentRow("faker image, after a one-line change", "connectors/source-faker",
                                        "docker layers", "docker run spec", [12.0], [], True, None)
    table = environments.environments_table(rows, 3, extra_rows=[image])
    assert table.startswith("environments: uv (the tool's make_environment) against pip (python -m venv + pip "
                            "install), each into a fresh venv, the median of 3 rounds taking turns\n")
    lines = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| ")]
    assert [c.strip() for c in lines[0]] == ["environment", "requirement", "cache", "uv s", "pip s", "uv faster",
                                             "answers (uv / pip)"]
    cells = [[c.strip() for c in line] for line in lines[1:]]
    assert cells[0][2:] == ["empty", "6.0", "190.0", "31.7×", "faker spec: yes / yes"]  # medians, pip / uv
    assert cells[1][2:6] == ["warm", "2.5", "50.0", "20.0×"]
    assert cells[2][3:] == ["failed", "90.0", "", "file spec: NO / yes"]
    assert cells[3] == ["faker image, after a one-line change", "connectors/source-faker", "docker layers", "12.0",
                        "—", "", "docker run spec: yes / —"]  # after ours, as given
    assert table.splitlines()[-2:] == ["problems:", "  file (empty cache), uv, round 1: could not install"]
    results = environments.environments_json(rows, 3, extra_rows=[image])
    assert [r["name"] for r in results["rows"]] == ["faker", "faker", "file", "faker image, after a one-line change"]
    assert results["rows"][0]["uv_seconds"] == [6.0, 5.0, 9.0] and results["rows"][0]["uv_median_seconds"] == 6.0
    assert results["rows"][1]["speedup"] == 20.0 and results["rows"][2]["speedup"] is None
    assert (results["rounds"], results["max_warm_seconds"], results["min_speedup_over_pip"]) == (3, 10.0, 10.0)


@pytest.mark.parametrize(("uv", "pip", "verdicts"), [
    ([3.0], [60.0], [True, True]),
    ([12.0], [600.0], [False, True]),  # fast enough against pip, not within 10 s
    ([4.0], [30.0], [True, False]),  # within 10 s, only 7.5× faster
    ([], [30.0], [False, False]),  # uv's install failed
])
def test_environment_targets_judge_the_warm_connector_row(uv: list[float], pip: list[float],
                                                          verdicts: list[bool]) -> None:
    rows = [env_row("faker", "empty", [50.0], [55.0]),  # not judged: slow and close to pip, no verdict on it
            env_row("faker", "warm", uv, pip, judged=True, uv_answers=bool(uv))]
    found = environments.environments_targets(rows)
    assert [t.name for t in found] == ["faker from a warm cache (faker==1.0): uv",
                                       "faker from a warm cache (faker==1.0): uv against pip",
                                       "every environment answers (spec; the CDK's import)"]
    assert [t.passed for t in found[:2]] == verdicts
    assert [t.wanted for t in found] == ["≤ 10 s", "≥ 10×", "all"]
    assert found[2].passed is bool(uv)
    assert found[2].value == ("4 of 4" if uv else "3 of 4; not: faker==1.0 (warm, uv)")


def test_installers_take_turns_each_round_into_a_fresh_folder_a_warm_cache_filled_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Path, Path]] = []

    def installer(name: str) -> environments.Installer:
        def install(case: environments.EnvironmentCase, folder: Path, cache_root: Path) -> environments.Installed:
            calls.append((name, folder, cache_root))
            if name == "pip" and folder.name == "pip-2":
                raise environments.BuildError("pip install six==1.0: exit 1: no network")
            (folder / "venv").mkdir(parents=True)
            return environments.Installed(folder / "venv", {"uv": 1.0, "pip": 10.0}[name] * len(calls))
        return install

    checked: list[Path] = []
    monkeypatch.setattr(environments, "answers", lambda case, venv: checked.append(venv) or None)
    case = environments.EnvironmentCase("six", "six==1.0", environments.WARM, ("python", "-c", "import six"),
                                        judged=True)
    row = environments.measure_case(case, 2, tmp_path, lambda _: None,
                                    {"uv": installer("uv"), "pip": installer("pip")})
    assert [(name, folder.name) for name, folder, _ in calls] == [
        ("uv", "uv-warm-up"), ("pip", "pip-warm-up"), ("uv", "uv-1"), ("pip", "pip-1"), ("uv", "uv-2"),
        ("pip", "pip-2")]
    assert {cache.name for name, _, cache in calls if name == "uv"} == {"uv-warm-cache"}  # one warm cache, reused
    assert (row.uv_seconds, row.pip_seconds) == ([3.0, 5.0], [40.0])  # warm-ups not counted
    assert (row.uv_answers, row.pip_answers) == (True, False)
    assert row.problems == ["pip, round 2: pip install six==1.0: exit 1: no network"]
    assert len(checked) == 3 and not any(venv.exists() for venv in checked)  # checked, then removed
    assert row.check == "python -c 'import six'" and row.judged

    calls.clear()
    case = environments.EnvironmentCase("six", "six==1.0", environments.EMPTY, ("python", "-c", "import six"))
    environments.measure_case(case, 2, tmp_path / "empty", lambda _: None,
                              {"uv": installer("uv"), "pip": installer("pip")})
    caches = [cache for _, _, cache in calls]
    assert [c.relative_to(tmp_path / "empty").as_posix() for c in caches] == [
        "uv-1/cache", "pip-1/cache", "uv-2/cache", "pip-2/cache"]  # each install its own empty cache


def test_the_environment_rows_measure_the_issue_s_environments() -> None:
    full = environments.environment_cases()
    assert [(c.requirement, c.cache) for c in full] == [
        ("airbyte-source-faker==7.2.1", "empty"), ("airbyte-source-faker==7.2.1", "warm"),
        ("airbyte-source-faker==7.2.0", "empty"), ("airbyte-source-file==0.5.39", "empty"),
        ("airbyte-cdk==6.61.6", "empty")]
    assert [c.judged for c in full] == [False, True, False, False, False]
    assert [c.previous_release for c in full] == [False, False, True, False, False]
    assert [c.check_label for c in full] == ["source-faker spec"] * 3 + ["source-file spec",
                                                                        "python -c 'import airbyte_cdk'"]
    quick = environments.environment_cases(quick=True)
    assert {c.requirement for c in quick} == {"airbyte-source-hardcoded-records==0.0.48"}
    assert [c.cache for c in quick] == ["empty", "warm"] and quick[1].judged


def test_bench_runs_the_environments_by_default_and_reports_them(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    canned_results(monkeypatch, True)
    asked: list[tuple[list[str], int]] = []

    def bench_environments(cases: list[environments.EnvironmentCase], rounds: int,
                           say: process.Say) -> list[environments.EnvironmentRow]:
        asked.append(([c.requirement for c in cases], rounds))
        return [env_row("hardcoded", "warm", [2.0], [30.0], judged=True)]

    monkeypatch.setattr(environments, "bench_environments", bench_environments)
    code, output, results = run_main(tmp_path, capsys, "--no-faker", "--rounds", "2", environments_too=True)
    assert code == 0 and asked == [(["airbyte-source-hardcoded-records==0.0.48"] * 2, 2)]  # --quick: the small one
    assert "environments: uv (the tool's make_environment) against pip" in output
    row = next(line for line in output.splitlines() if line.startswith("| hardcoded "))
    assert [c.strip() for c in row.split("|")[1:-1]][2:6] == ["warm", "2.0", "30.0", "15.0×"]
    assert results["environments"]["rows"][0]["speedup"] == 15.0
    assert {t["name"]: t["passed"] for t in results["targets"]} == {
        "a target": True, "hardcoded from a warm cache (hardcoded==1.0): uv": True,
        "hardcoded from a warm cache (hardcoded==1.0): uv against pip": True,
        "every environment answers (spec; the CDK's import)": True}
    asked.clear()
    code, output, results = run_main(tmp_path, capsys, "--no-faker")  # --no-environments
    assert asked == [] and results["environments"] is None and "environments: uv" not in output


@pytest.mark.slow
def test_a_real_small_row_uv_against_pip_taking_turns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_ACCEPTANCE_CACHE_DIR", str(tmp_path / "default-cache"))
    case = environments.EnvironmentCase("six", "six==1.16.0", environments.EMPTY, ("python", "-c", "import six"))
    said: list[str] = []
    [row] = environments.bench_environments([case], 2, said.append)
    print(environments.environments_table([row], 2))
    assert [text.rsplit(", ", 1)[-1] for text in said] == [
        "uv (round 1 of 2)", "pip (round 1 of 2)", "uv (round 2 of 2)", "pip (round 2 of 2)"]
    assert row.problems == [] and (row.uv_answers, row.pip_answers) == (True, True)
    assert len(row.uv_seconds) == len(row.pip_seconds) == 2 and all(s > 0 for s in row.uv_seconds + row.pip_seconds)
    assert row.speedup is not None
