"""The pytest plugin object of the reports: collects every test report (on the xdist controller too), prints the
summary table, writes the report folder and the step summary, and says each connector command as it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from acceptance.report.files import ReportDir, append_step_summary
from acceptance.report.render import render_table
from acceptance.report.results import SUITE_ATTRIBUTE, Collector
from acceptance.secrets import Masker


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
