"""What the spec and discovery suites share for backward compatibility: the previous release, and the verdict on a
comparison with it. Apart from support.py so that the other suites' sessions do not import it."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from acceptance.compat.differences import render_table
from acceptance.compat.previous_release import PreviousRelease, Unavailable, current_version
from acceptance.compat.verdicts import Comparison, version_findings
from acceptance.context import AcceptanceContext, Deadline
from acceptance.findings import errors, render_findings
from acceptance.suites.support import AcceptanceWarning


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
