"""Reports of an acceptance run: a progress line per connector command, a summary table on the console, and — with
`--report-dir DIR` — report.json, report.html (self-contained) and junit.xml in DIR, plus a Markdown summary appended
to $GITHUB_STEP_SUMMARY. nox runs each suite as its own pytest session: every session leaves `sessions/<name>.json`
(and `.xml`) in DIR and the combined files are rendered again from all of them, so one run leaves one report.
Everything written is masked: a report is the first thing people paste into a ticket.
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tabulate import tabulate

from acceptance.files import write_atomically
from acceptance.runner.base import ConnectorRunner, RunResult
from acceptance.runner.spool import RECORDS_LISTENER
from acceptance.secrets import Masker

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
BYPASSED_PREFIX = "Bypassed:"
MAX_REASON_CHARS = 4000  # a failure text in the files; the console table shows its first line only
MAX_CELL_CHARS = 100
OUTCOME_ORDER = {"failed": 0, "bypassed": 1, "skipped": 2, "passed": 3}
SUITE_ATTRIBUTE = "acceptance_suite"  # set on each TestReport by the plugin; survives xdist's serialisation


@dataclass
class TestResult:
    """One test of one session, as every report shows it."""

    __test__ = False  # not a pytest test class, whatever its name

    suite: str
    test: str
    outcome: str  # passed, failed, skipped or bypassed
    reason: str  # the failure text or the skip reason, masked and bounded ("" when passed)
    duration: float


# -- collecting ---------------------------------------------------------------------------------------------------


def outcome_of(report: pytest.TestReport) -> tuple[str, str]:
    """(outcome, reason) of one phase's report; a skip whose reason says "Bypassed:" is a bypass."""
    if report.failed:
        return "failed", _longrepr_text(report.longrepr)
    if report.skipped:
        reason = _skip_reason(report.longrepr)
        return ("bypassed" if reason.startswith(BYPASSED_PREFIX) else "skipped"), reason
    return "passed", ""


def _skip_reason(longrepr: Any) -> str:
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


def _longrepr_text(longrepr: Any) -> str:
    return str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)


def bounded(text: str, limit: int = MAX_REASON_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


class Collector:
    """Gathers each test's outcome from its phase reports (setup, call, teardown): a failure in any phase fails the
    test, a skip in setup or call skips it; the duration is the phases' sum."""

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self.results: dict[str, TestResult] = {}
        self.started = time.time()

    def add(self, report: pytest.TestReport) -> None:
        outcome, reason = outcome_of(report)
        reason = bounded(self.masker.mask(reason))
        name = report.nodeid.split("::")[-1]
        suite = str(getattr(report, SUITE_ATTRIBUTE, "") or "")
        current = self.results.setdefault(report.nodeid, TestResult(suite, name, "passed", "", 0.0))
        current.duration += float(report.duration or 0.0)
        if report.when == "call" or outcome != "passed":
            if current.outcome != "failed":  # a teardown error after a failed call adds to the first failure
                current.outcome, current.reason = outcome, reason
            elif outcome == "failed":
                current.reason = bounded(f"{current.reason}\n\n[{report.when}] {reason}")

    def ordered(self) -> list[TestResult]:
        return sorted_results(self.results.values())


def sorted_results(results: Any) -> list[TestResult]:
    """Failures first, then bypasses and skips, then passes; in run order within each."""
    return sorted(results, key=lambda r: OUTCOME_ORDER.get(r.outcome, 9))


def totals(results: Sequence[TestResult]) -> dict[str, int]:
    counts = Counter(r.outcome for r in results)
    return {outcome: counts.get(outcome, 0) for outcome in OUTCOME_ORDER}


# -- rendering ------------------------------------------------------------------------------------------------------


def _first_line(text: str) -> str:
    """The gist of a reason for a table cell: its first line, and the next one when the first only introduces it."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else (lines[0] if lines else "")
    return line if len(line) <= MAX_CELL_CHARS else line[:MAX_CELL_CHARS - 1] + "…"


def _outcome_cell(result: TestResult) -> str:
    return f"{result.outcome}: {_first_line(result.reason)}" if result.reason else result.outcome


def render_table(results: Sequence[TestResult]) -> str:
    """The console summary: one row per test; skips and bypasses say why, failures do not (pytest printed them
    in full just above, and an input error is said once on purpose)."""
    rows = [(r.suite, r.test, r.outcome if r.outcome == "failed" else _outcome_cell(r), f"{r.duration:.2f}s")
            for r in sorted_results(results)]
    table = tabulate(rows, headers=("suite", "test", "outcome", "duration"), tablefmt="simple")
    count = ", ".join(f"{n} {outcome}" for outcome, n in totals(results).items() if n)
    return f"{table}\n{count or 'no tests'}"


def render_markdown(results: Sequence[TestResult], title: str) -> str:
    """A GitHub step summary: counts, then the table (failure text cut to its first line)."""
    def cell(text: str) -> str:
        return html.escape(text).replace("|", "\\|").replace("\n", " ")

    count = ", ".join(f"{n} {outcome}" for outcome, n in totals(results).items() if n) or "no tests"
    lines = [f"### {cell(title)}", "", count, "", "| suite | test | outcome | duration |", "|---|---|---|---|"]
    lines += [f"| {cell(r.suite)} | {cell(r.test)} | {cell(_outcome_cell(r))} | {r.duration:.2f}s |"
              for r in sorted_results(results)]
    return "\n".join(lines) + "\n\n"


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } .meta { color: #555; }
.counts span { display: inline-block; margin-right: 1em; padding: .2em .6em; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.failed { background: #fde2e2; } .passed { background: #e3f6e3; }
.skipped { background: #f2f2f2; } .bypassed { background: #fff4d6; }
details { border: 1px solid #e0a0a0; border-radius: 4px; margin: .6em 0; padding: .4em .8em; background: #fff8f8; }
summary { font-weight: bold; cursor: pointer; }
pre { white-space: pre-wrap; word-break: break-word; font-size: .85em; }
"""


def render_html(results: Sequence[TestResult], title: str, meta: str) -> str:
    """A self-contained page (inline CSS, no script, no remote asset): the counts, every failure expanded, then the
    table of all tests. Every text is escaped."""
    ordered = sorted_results(results)
    counts = "".join(f'<span class="{o}">{n} {o}</span>' for o, n in totals(ordered).items())
    failures = "".join(
        f'<details open class="failure"><summary>{html.escape(r.suite)} · {html.escape(r.test)}</summary>'
        f"<pre>{html.escape(r.reason)}</pre></details>" for r in ordered if r.outcome == "failed")
    rows = "".join(
        f'<tr class="{r.outcome}"><td>{html.escape(r.suite)}</td><td>{html.escape(r.test)}</td>'
        f"<td>{html.escape(r.outcome)}</td><td>{html.escape(_first_line(r.reason))}</td>"
        f"<td>{r.duration:.2f}s</td></tr>" for r in ordered)
    failures_section = f"<h2>Failures</h2>{failures}" if failures else "<h2>No failures</h2>"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f'<p class="meta">{html.escape(meta)}</p><p class="counts">{counts}</p>{failures_section}'
            f"<h2>All tests</h2><table><thead><tr><th>suite</th><th>test</th><th>outcome</th><th>reason</th>"
            f"<th>duration</th></tr></thead><tbody>{rows}</tbody></table></body></html>\n")


# -- the report folder ------------------------------------------------------------------------------------------------


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Sessions running at once (acceptance_parallel) render the combined files one after the other."""
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_files(folder: Path, run: str | None) -> list[dict[str, Any]]:
    """The sessions in the folder, oldest first; with a run id, another run's sessions are removed (a new `nox -s
    acceptance` must not show the suites of the last one)."""
    sessions = []
    for path in sorted((folder / "sessions").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if run and data.get("run") != run:
            path.unlink(missing_ok=True)
            path.with_suffix(".xml").unlink(missing_ok=True)
            continue
        sessions.append(data)
    return sorted(sessions, key=lambda s: s.get("started", 0))


def results_of(sessions: Sequence[dict[str, Any]]) -> list[TestResult]:
    return [TestResult(**test) for session in sessions for test in session.get("tests", [])]


def combine_junit(folder: Path, target: Path) -> None:
    """One JUnit file of the sessions' own: each session's <testsuite>, named after the session."""
    root = ElementTree.Element("testsuites")
    for path in sorted((folder / "sessions").glob("*.xml")):
        try:
            tree = ElementTree.parse(path)
        except (OSError, ElementTree.ParseError):
            continue
        for suite in tree.getroot().iter("testsuite"):
            suite.set("name", path.stem)
            root.append(suite)
    write_atomically(target, ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


class ReportDir:
    """The folder of one run's reports; `session` names this pytest session's files (e.g. the suite it ran)."""

    def __init__(self, folder: Path, session: str, run: str | None, masker: Masker) -> None:
        self.folder = folder
        self.session = session
        self.run = run
        self.masker = masker
        self.owns_junit = False  # pytest writes this session's JUnit file (the user gave no --junitxml)

    @property
    def session_junit(self) -> Path:
        return self.folder / "sessions" / f"{self.session}.xml"

    def write(self, collector: Collector, title: str, meta: str) -> None:
        """This session's file, then report.json and report.html from every session of the run."""
        (self.folder / "sessions").mkdir(parents=True, exist_ok=True)
        session = {"run": self.run, "session": self.session, "started": collector.started,
                   "finished": time.time(), "tests": [asdict(r) for r in collector.results.values()]}
        with locked(self.folder):
            write_atomically(self.folder / "sessions" / f"{self.session}.json",
                             json.dumps(self.masker.mask_data(session), indent=1))
            sessions = session_files(self.folder, self.run)
            results = results_of(sessions)
            document = {"title": title, "meta": meta,
                        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
                        "totals": totals(results), "sessions": [s["session"] for s in sessions],
                        "tests": [asdict(r) for r in sorted_results(results)]}
            write_atomically(self.folder / "report.json", self.masker.mask(json.dumps(document, indent=1)))
            write_atomically(self.folder / "report.html", self.masker.mask(render_html(results, title, meta)))

    def write_junit(self) -> None:
        """junit.xml from the sessions' JUnit files, each masked once more (pytest wrote them)."""
        with locked(self.folder):
            try:
                text = self.session_junit.read_text(encoding="utf-8")
            except OSError:  # pytest wrote none (interrupted), or another run's session removed it
                text = ""
            masked = self.masker.mask(text)
            if masked != text:
                write_atomically(self.session_junit, masked)
            session_files(self.folder, self.run)  # drops another run's files first
            combine_junit(self.folder, self.folder / "junit.xml")


def append_step_summary(results: Sequence[TestResult], title: str, masker: Masker) -> None:
    path = os.environ.get(SUMMARY_ENV)
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(masker.mask(render_markdown(results, title)))


# -- progress ---------------------------------------------------------------------------------------------------------


PROGRESS_SECONDS = 5.0  # at most one records-so-far line this often


class ProgressRunner:
    """Says when a connector command starts, how many records a read has spooled so far (at most every
    PROGRESS_SECONDS), and how it ended (exit code, duration, records for reads)."""

    def __init__(self, inner: ConnectorRunner, say: Callable[[str], None], suite: Callable[[], str]) -> None:
        self.inner = inner
        self.say = say
        self.suite = suite
        self.backend = inner.backend

    def run(self, args: Sequence[str], **inputs: Any) -> RunResult:
        verb = args[0] if args else "?"
        suite = self.suite()
        self.say(f"[{suite}] {verb}: started")
        started = last = time.monotonic()

        def records_so_far(count: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_SECONDS:
                last = now
                self.say(f"[{suite}] {verb}: {count:,} records so far ({now - started:.0f}s)")

        token = RECORDS_LISTENER.set(records_so_far)
        try:
            result = self.inner.run(args, **inputs)
        finally:
            RECORDS_LISTENER.reset(token)
        self.say(f"[{suite}] {verb}: {ended(result, verb)}")
        return result

    def describe(self) -> str:
        return self.inner.describe()


def ended(result: RunResult, verb: str) -> str:
    how = "timed out" if result.timed_out else f"exit code {result.exit_code}"
    records = f", {result.messages.counts.get('RECORD', 0)} records" if verb == "read" else ""
    return f"{how} after {result.duration:.1f}s{records}"


# -- the pytest side ----------------------------------------------------------------------------------------------


def session_name(suites: Sequence[str]) -> str:
    """The name of a session's files: the suites it ran (nox runs one per session), else "all"."""
    return "-".join(sorted(suites)) or "all"


class Reporter:
    """The pytest plugin object of the reports: collects every test report (on the xdist controller too), prints
    the table, writes the report folder, and says each connector command as it runs."""

    def __init__(self, config: pytest.Config, masker: Masker, report_dir: ReportDir | None, title: str,
                 meta: str) -> None:
        self.config = config
        self.masker = masker
        self.report_dir = report_dir
        self.title = title
        self.meta = meta
        self.collector = Collector(masker)
        self.current_suite = "-"

    def say(self, line: str) -> None:
        """A progress line, shown even while pytest captures the test's output; not with -q."""
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if terminal is None or self.config.get_verbosity() < 0:
            return
        if capture is None:
            terminal.write_line(self.masker.mask(line))
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(self.masker.mask(line))

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        marker = item.get_closest_marker(SUITE_ATTRIBUTE)
        self.current_suite = str(marker.args[0]) if marker else "-"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.collector.add(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.report_dir is not None:
            self.report_dir.write(self.collector, self.title, self.meta)
        append_step_summary(self.collector.ordered(), self.title, self.masker)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.collector.results:
            return
        terminalreporter.section("acceptance summary")
        terminalreporter.write_line(self.masker.mask(render_table(self.collector.ordered())))
        if self.report_dir is not None:
            terminalreporter.write_line(f"reports: {self.report_dir.folder} (report.html, report.json, junit.xml)")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.report_dir is not None and self.report_dir.owns_junit:
            self.report_dir.write_junit()
