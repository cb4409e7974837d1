"""The results of a run's tests: each test's outcome gathered from its pytest phase reports (masked and bounded),
their order (failures first) and totals; what every report shows."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from acceptance.secrets import Masker

BYPASSED_PREFIX = "Bypassed:"
MAX_REASON_CHARS = 4000  # a failure text in the files; the console table shows its first line only
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
