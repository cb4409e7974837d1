"""What a run writes besides the console: the report folder (`--report-dir DIR`) and the GitHub step summary.

nox runs each suite as its own pytest session: every session leaves `sessions/<name>.json` (and `.xml`) in DIR and
report.json, report.html and junit.xml are rendered again from all of them, so one run leaves one report. A Markdown
summary is appended to $GITHUB_STEP_SUMMARY. Everything written is masked: a report is the first thing people paste
into a ticket.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acceptance.files import write_atomically
from acceptance.report.render import render_html, render_markdown
from acceptance.report.results import Collector, TestResult, sorted_results, totals
from acceptance.secrets import Masker

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


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
