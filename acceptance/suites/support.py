"""What every suite does with findings: fail with a readable, masked message; surface warnings."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import pytest

from acceptance.backward_compat import Comparison, version_findings
from acceptance.compat import render_table
from acceptance.context import AcceptanceContext, Deadline
from acceptance.findings import Finding, errors, render_findings, warnings_of
from acceptance.previous_release import PreviousRelease, Unavailable, current_version
from acceptance.runner.base import RunResult
from acceptance.secrets import Masker


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


def previous_release_or_skip(acceptance: AcceptanceContext, inputs: Any, deadline: Deadline) -> PreviousRelease:
    """The previous release for this entry; skips with the reason when there is none or it is disabled."""
    settings = inputs.backward_compatibility_tests_config
    release = acceptance.previous_release(settings.previous_connector_version, settings.disable_for_version)
    deadline.restart()  # finding (pulling, installing) the previous release is not the connector's time
    if isinstance(release, Unavailable):
        pytest.skip(release.reason)
    return release


def assert_backward_compatible(acceptance: AcceptanceContext, release: PreviousRelease, comparison: Comparison) -> None:
    """Fails exactly when a breaking difference is not declared by the version bump; declared ones are warnings."""
    if comparison.identical:
        pytest.skip(f"the {comparison.kind} is identical to the previous release's ({release.description})")
    if not comparison.breaking:
        return
    metadata = acceptance.metadata
    releases = metadata.data.releases if metadata else None
    current = current_version(acceptance.backend, metadata)
    findings = version_findings(release.version, current, comparison.differences,
                                releases.breakingChanges if releases else None)
    table = render_table(comparison.differences)
    if errors(findings):
        pytest.fail(acceptance.masker.mask(
            f"the {comparison.kind} breaks users of the previous release ({release.description}) and the version "
            f"does not declare it:\n{render_findings(errors(findings))}\n\n{table}"), pytrace=False)
    warnings.warn(AcceptanceWarning(acceptance.masker.mask(
        f"{len(comparison.breaking)} breaking {comparison.kind} difference(s), declared by {release.version} → "
        f"{current}:\n{table}")), stacklevel=2)
