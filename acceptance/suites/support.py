"""What every suite does with findings: fail with a readable, masked message; surface warnings."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import pytest

from acceptance.context import AcceptanceContext
from acceptance.findings import Finding, errors, render_findings, warnings_of
from acceptance.runner.base import RunResult
from acceptance.secrets import Masker

# Filled by the plugin (acceptance/plugin.py), read by the suites' fixtures: the run's context, each test's time budget.
context_key = pytest.StashKey[AcceptanceContext]()
timeout_key = pytest.StashKey[float]()


class AcceptanceWarning(UserWarning):
    """A check that advises but never fails (e.g. date patterns in a spec)."""


def assert_no_findings(findings: Iterable[Finding], masker: Masker, summary: str) -> None:
    found = list(findings)
    for warning in warnings_of(found):
        warnings.warn(AcceptanceWarning(masker.mask(warning.render())), stacklevel=2)
    failing = errors(found)
    if failing:
        pytest.fail(masker.mask(f"{summary.rstrip('.:')}:\n{render_findings(failing)}"), pytrace=False)


def fail_run(result: RunResult, what: str, masker: Masker) -> None:
    pytest.fail(masker.mask(f"{what}\n{result.describe_failure()}"), pytrace=False)


def protocol_findings(model: str, problems: list[str]) -> list[Finding]:
    """Problems reported by the official protocol models, as findings."""
    return [Finding("protocol", f"not a valid {model}: {problem}") for problem in problems]
