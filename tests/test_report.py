"""The reports of a run: console table and progress lines, report.json, report.html (checked in a headless browser),
junit.xml and the GitHub step summary — combined across the suites' sessions, and never holding a secret."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

from acceptance.plugin import SUITES_DIR
from acceptance.report.files import ReportDir
from acceptance.report.render import render_html, render_table
from acceptance.report.results import Collector, TestResult
from acceptance.secrets import Masker
from tasks.acceptance import REPORT_RUN, AcceptanceArgs, pytest_command

CANARY = "fake-canary-3f9a1c"
RUN_ID = "test-run"


@dataclass
class ReportRun:
    folder: Path  # the report folder
    summary: Path  # the GITHUB_STEP_SUMMARY file
    outputs: list[str]  # each session's console output


def bypass_incremental(config: dict) -> None:
    config["acceptance_tests"]["incremental"] = {"bypass_reason": "no cursor <here> & none planned"}


def run_session(folder: Path, report_dir: Path, summary: Path, cache: Path, *suites: str) -> str:
    command = [sys.executable, "-m", "pytest", "-p", "acceptance.plugin", f"--acceptance-test-config={folder}",
               f"--rootdir={SUITES_DIR}", "-p", "no:cacheprovider", "-p", "no:xdist", "--backend=local",
               f"--cache-dir={cache}", "--report-dir", str(report_dir), "--report-run", RUN_ID,
               "-o", "junit_logging=all", "-o", "junit_log_passing_tests=true"]
    command += [option for suite in suites for option in ("--suite", suite)]
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run(command, cwd=folder.parent, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    """Two sessions of one run into one folder: spec + connection (check fails, the connector prints its token),
    then the bypassed incremental suite."""
    from tests.conftest import FAKE_SOURCE

    base = tmp_path_factory.mktemp("report")
    folder = base / "fake-source"
    shutil.copytree(FAKE_SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    import yaml

    config_file = folder / "acceptance-test-config.yml"
    config = yaml.safe_load(config_file.read_text())
    config.setdefault("custom_environment_variables", {})["FAKE_SOURCE_MUTATION"] = "check_always_fails,print_secret"
    bypass_incremental(config)
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    report_dir, summary, cache = base / "out", base / "step-summary.md", base / "cache"
    summary.write_text("# earlier step\n")
    outputs = [run_session(folder, report_dir, summary, cache, "spec", "connection"),
               run_session(folder, report_dir, summary, cache, "incremental")]
    return ReportRun(report_dir, summary, outputs)


def every_written_text(run: ReportRun) -> dict[str, str]:
    files = {p.name: p.read_text() for p in run.folder.rglob("*") if p.is_file()}
    files["step summary"] = run.summary.read_text()
    files.update({f"console {i}": text for i, text in enumerate(run.outputs)})
    return files


def test_console_shows_progress_and_the_table(report_run: ReportRun) -> None:
    first, second = report_run.outputs
    assert "[connection] check: started" in first
    assert re.search(r"\[connection\] check: exit code 0 after \d+\.\ds", first)
    assert "acceptance summary" in first
    table = first.split("acceptance summary", 1)[1]
    assert re.search(r"connection\s+test_check\[inputs0\]\s+failed\s+\d+\.\d\ds", table)
    assert re.search(r"spec\s+test_image_labels\[inputs0\]\s+skipped: needs the Docker backend", table)
    assert re.search(r"incremental\s+\S+\s+bypassed: Bypassed: no cursor <here> & none planned", second)
    assert f"reports: {report_run.folder}" in first


def test_json_combines_the_sessions(report_run: ReportRun) -> None:
    report = json.loads((report_run.folder / "report.json").read_text())
    assert report["sessions"] == ["connection-spec", "incremental"]
    outcomes = {(t["suite"], t["test"]): t["outcome"] for t in report["tests"]}
    assert outcomes[("connection", "test_check[inputs0]")] == "failed"
    assert outcomes[("connection", "test_check[inputs1]")] == "passed"
    assert outcomes[("spec", "test_image_labels[inputs0]")] == "skipped"
    assert {o for (suite, _), o in outcomes.items() if suite == "incremental"} == {"bypassed"}
    assert report["totals"]["failed"] >= 1 and report["totals"]["bypassed"] >= 1
    assert report["tests"][0]["outcome"] == "failed"  # failures first
    failed = next(t for t in report["tests"] if t["test"] == "test_check[inputs0]")
    assert "invalid credentials" in failed["reason"] and failed["duration"] > 0
    assert set(failed) == {"suite", "test", "outcome", "reason", "duration"}


def test_html_is_self_contained_escaped_and_shows_failures(report_run: ReportRun) -> None:
    page = (report_run.folder / "report.html").read_text()
    assert "<details open" in page and "test_check[inputs0]" in page
    assert page.index("Failures") < page.index("All tests")
    assert not re.search(r"(src|href)\s*=|https?://|<script|@import|url\(", page)
    assert "no cursor &lt;here&gt; &amp; none planned" in page and "<here>" not in page


def test_junit_is_combined_and_parseable(report_run: ReportRun) -> None:
    root = ElementTree.parse(report_run.folder / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"connection-spec", "incremental"}
    failed = [c.get("name") for c in suites["connection-spec"].iter("testcase") if c.find("failure") is not None]
    assert "test_check[inputs0]" in failed
    assert all(c.find("skipped") is not None for c in suites["incremental"].iter("testcase"))


def test_step_summary_is_appended_once_per_session(report_run: ReportRun) -> None:
    summary = report_run.summary.read_text()
    assert summary.startswith("# earlier step\n")
    assert summary.count("### Acceptance tests: fake-source") == 2
    assert re.search(r"\| connection \| test_check\[inputs0\] \| failed: ", summary)
    assert "| bypassed: Bypassed: no cursor &lt;here&gt; &amp; none planned |" in summary


def test_the_secret_is_in_no_report(report_run: ReportRun) -> None:
    texts = every_written_text(report_run)
    for name in ("junit.xml", "report.json", "report.html", "connection-spec.xml", "console 0"):
        assert "credentials **********" in texts[name], name  # the connector did print it: masked
    assert [name for name, text in texts.items() if CANARY in text] == []


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_html_renders_in_a_headless_browser(report_run: ReportRun, tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium): the HTML report is not rendered")
    page = (report_run.folder / "report.html").as_uri()
    options = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,2000",
               f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*options, "--dump-dom", page], capture_output=True, text=True, timeout=60)
    assert "test_check[inputs0]" in dom.stdout and "<details open" in dom.stdout, dom.stderr[-2000:]
    screenshot = tmp_path / "report.png"
    subprocess.run([*options, f"--screenshot={screenshot}", page], capture_output=True, timeout=60)
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000
    shutil.copy(screenshot, report_run.folder.parent / "report.png")  # kept beside the report for a look
    try:
        from PIL import Image
    except ImportError:
        return  # the size says it is not blank; no PIL to count its colours
    assert len(Image.open(screenshot).convert("RGB").getcolors(maxcolors=1 << 20) or [0, 0]) > 1


# -- the pieces --------------------------------------------------------------------------------------------------


def result(outcome: str, reason: str = "", suite: str = "spec") -> TestResult:
    return TestResult(suite, f"test_{outcome}", outcome, reason, 0.5)


def test_a_new_run_drops_the_last_runs_sessions(tmp_path: Path) -> None:
    def write(session: str, run: str) -> None:
        collector = Collector(Masker())
        collector.results["x"] = result("passed", suite=session)
        ReportDir(tmp_path, session, run, Masker()).write(collector, "t", "m")

    write("spec", "run-1")
    write("connection", "run-1")
    assert json.loads((tmp_path / "report.json").read_text())["sessions"] == ["spec", "connection"]
    write("discovery", "run-2")
    assert json.loads((tmp_path / "report.json").read_text())["sessions"] == ["discovery"]
    assert sorted(p.name for p in (tmp_path / "sessions").iterdir()) == ["discovery.json"]


def test_renderers_mask_nothing_they_are_not_given_and_escape_everything() -> None:
    results = [result("passed"), result("failed", "<script>alert(1)</script>\nsecond line"),
               result("bypassed", "Bypassed: why")]
    table = render_table(results)
    assert table.splitlines()[2].split() == ["spec", "test_failed", "failed", "0.50s"]
    assert "second line" not in table and "1 failed, 1 bypassed, 1 passed" in table
    page = render_html(results, "<t>", "m")
    assert "<script>" not in page and "&lt;script&gt;" in page and "<title>&lt;t&gt;</title>" in page


def test_nox_writes_the_reports_under_reports_connector_acceptance(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONNECTOR_ACCEPTANCE_REPORT_DIR")  # the tests' own redirection (tests/conftest.py)
    folder = tmp_path / "source-x"
    command = pytest_command(folder, AcceptanceArgs([folder]), ["spec"])
    assert command[command.index("--report-dir") + 1] == str(Path("reports") / "source-x" / "acceptance")
    assert command[command.index("--report-run") + 1] == REPORT_RUN
    chosen = AcceptanceArgs([folder], report_dir=str(tmp_path / "out"))
    assert pytest_command(folder, chosen, ["spec"])[command.index("--report-dir") + 1] == str(
        tmp_path / "out" / "source-x" / "acceptance")

