"""Semver: does the current version's bump say what the compatibility differences say?

With a breaking difference the current `dockerImageTag` must be a major bump over the previous one and
`metadata.yaml` `releases.breakingChanges` must declare it: a key above the previous version and not above the
current one (Airbyte keys it by the release that broke, usually `X.0.0`: 2.0.1 over 1.9.0 is covered by `2.0.0`,
and 7.2.1 over 4.0.0 by `5.0.0`). A version that did not increase is a finding of its own. Without breaking
differences any increase is fine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import semver

from acceptance.compat.differences import Difference
from acceptance.findings import Finding, errors

CHECK = "version_bump"
# How many breaking differences a finding names before summarising the rest.
SHOWN_DIFFERENCES = 3


def parse_version(text: Any, *, lenient: bool = False) -> semver.Version | None:
    """Verify that `text` is a semver version (a leading "v" is tolerated); None when it is not.

    `lenient` also accepts a missing minor / patch ("2.0" is 2.0.0), for `breakingChanges` keys that YAML
    may have read as numbers.
    """
    if text is None:
        return None
    raw = str(text).strip()
    if raw[:1] in ("v", "V"):
        raw = raw[1:]
    try:
        return semver.Version.parse(raw, optional_minor_and_patch=lenient)
    except (ValueError, TypeError):
        return None


def _declared(breaking_changes: Mapping[Any, Any] | None, previous: semver.Version, current: semver.Version) -> bool:
    """Verify that `breaking_changes` has a key in (previous, current] (keys may be YAML numbers)."""
    for key in (breaking_changes or {}).keys():
        version = parse_version(key, lenient=True)
        if version is None or version > current:
            continue
        if version > previous or version == current:  # a non-increase is reported on its own, not twice
            return True
    return False


def _summary(breaking: Sequence[Difference]) -> str:
    shown = ", ".join(f"{d.rule} at {d.path or '/'}" for d in breaking[:SHOWN_DIFFERENCES])
    more = f", and {len(breaking) - SHOWN_DIFFERENCES} more" if len(breaking) > SHOWN_DIFFERENCES else ""
    return f"{shown}{more}"


def check_version_bump(
    previous_version: str,
    current_version: str,
    differences: Sequence[Difference],
    breaking_changes: Mapping[str, Any] | None,
) -> list[Finding]:
    """Verify that the version increased, and by a declared major bump when any difference is breaking.

    Returns one finding per rule broken: an unparseable version (then nothing else is checked), a version
    that did not increase, a breaking difference without a major bump, a breaking difference without a
    `releases.breakingChanges` entry for the current version.
    """
    previous = parse_version(previous_version)
    current = parse_version(current_version)
    findings: list[Finding] = []
    for label, text, parsed in (("previous", previous_version, previous), ("current", current_version, current)):
        if parsed is None:
            findings.append(Finding(CHECK, f"{label} version {text!r} is not a semantic version (MAJOR.MINOR.PATCH)"))
    if previous is None or current is None:
        return findings

    if current <= previous:
        findings.append(
            Finding(
                CHECK,
                f"version did not increase: {previous} → {current}; "
                "the current dockerImageTag must be greater than the previous release's",
            )
        )

    breaking = [d for d in differences if d.breaking]
    if not breaking:
        return findings

    count = f"{len(breaking)} breaking difference{'s' if len(breaking) != 1 else ''}"
    if current.major <= previous.major:
        findings.append(
            Finding(
                CHECK,
                f"{count} ({_summary(breaking)}) but {previous} → {current} is not a major version bump; "
                f"release it as {previous.bump_major()} or higher",
            )
        )
    if not _declared(breaking_changes, previous, current):
        findings.append(
            Finding(
                CHECK,
                f"{count} but metadata.yaml has no releases.breakingChanges entry after {previous} up to {current} "
                f'(e.g. "{current}"); add one with a message and an upgradeDeadline',
                path="/data/releases/breakingChanges",
            )
        )
    return findings


def exit_code_for(findings: Iterable[Finding]) -> int:
    """Verify that no finding is an error: 1 when any is, else 0."""
    return 1 if errors(findings) else 0
