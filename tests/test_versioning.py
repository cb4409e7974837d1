"""Semver bump rules: each rule with passing and failing cases."""

from __future__ import annotations

import pytest

from acceptance.compat.differences import Difference
from acceptance.compat.versioning import check_version_bump, exit_code_for
from acceptance.findings import Finding

BREAKING = [Difference(rule="field_removed", path="/properties/api_key", breaking=True, message="removed")]
SAFE = [Difference(rule="field_added", path="/properties/extra", breaking=False, message="added")]
DECLARED = {"2.0.0": {"message": "api_key renamed", "upgradeDeadline": "2030-01-01"}}

# (previous, current, differences, breakingChanges, expected substrings — one per finding, in order)
CASES = {
    "patch bump, no differences": ("1.2.3", "1.2.4", [], None, []),
    "minor bump, safe differences": ("1.2.3", "1.3.0", SAFE, None, []),
    "major bump without breaking differences": ("1.2.3", "2.0.0", SAFE, None, []),
    "major bump, breaking, declared": ("1.2.3", "2.0.0", BREAKING + SAFE, DECLARED, []),
    "prerelease to release": ("2.0.0-rc.1", "2.0.0", [], None, []),
    "v prefix on both": ("v1.2.3", "v1.2.4", [], None, []),
    "v prefix, breaking, declared": ("v1.9.0", "v2.0.0", BREAKING, DECLARED, []),
    "YAML float key 2.0": ("1.2.3", "2.0.0", BREAKING, {2.0: {"message": "m"}}, []),
    "YAML int key 2": ("1.2.3", "2.0.0", BREAKING, {2: {"message": "m"}}, []),
    "equal versions": ("1.2.3", "1.2.3", [], None, ["version did not increase: 1.2.3 → 1.2.3"]),
    "lower version": ("1.2.3", "1.2.0", SAFE, None, ["version did not increase: 1.2.3 → 1.2.0"]),
    "release to its prerelease": ("2.0.0", "2.0.0-rc.1", [], None, ["did not increase"]),
    "patch bump, breaking": (
        "1.2.3",
        "1.2.4",
        BREAKING,
        None,
        ["1 breaking difference (field_removed at /properties/api_key)", 'e.g. "1.2.4"'],
    ),
    "minor bump, breaking, declared": ("1.2.3", "1.3.0", BREAKING, {"1.3.0": {}}, ["not a major version bump"]),
    "major bump, breaking, undeclared": ("1.2.3", "2.0.0", BREAKING, None, ["entry after 1.2.3 up to 2.0.0"]),
    "later release of the new major, declared at X.0.0": ("1.9.0", "2.0.1", BREAKING, DECLARED, []),
    "declared at the exact current version": ("1.9.0", "2.1.0", BREAKING, {"2.1.0": {}}, []),
    "declared in the new major but above the current": ("1.9.0", "2.0.0", BREAKING, {"2.0.1": {}}, ["after 1.9.0"]),
    "declared only before the previous release": ("2.3.0", "3.0.0", BREAKING, DECLARED, ["after 2.3.0 up to 3.0.0"]),
    "several majors at once, declared at an intermediate one": ("4.0.0", "7.2.1", BREAKING, {"5.0.0": {}}, []),
    "major bump, breaking, other version declared": (
        "1.2.3",
        "2.0.0",
        BREAKING,
        {"1.0.0": {}},
        ["upgradeDeadline"],
    ),
    "major bump, breaking, empty breakingChanges": ("1.2.3", "2.0.0", BREAKING, {}, ["add one with a message"]),
    "equal versions, breaking, declared": (
        "2.0.0",
        "2.0.0",
        BREAKING,
        DECLARED,
        ["did not increase", "not a major version bump"],
    ),
    "unparseable current": ("1.2.3", "latest", BREAKING, None, ["current version 'latest' is not a semantic version"]),
    "unparseable previous": ("1.2", "1.2.4", [], None, ["previous version '1.2' is not a semantic version"]),
    "both unparseable": ("dev", "", [], None, ["previous version 'dev'", "current version ''"]),
}


@pytest.mark.parametrize(("previous", "current", "differences", "declared", "expected"), CASES.values(), ids=CASES)
def test_check_version_bump(
    previous: str, current: str, differences: list[Difference], declared: dict | None, expected: list[str]
) -> None:
    findings = check_version_bump(previous, current, differences, declared)
    assert len(findings) == len(expected), [f.message for f in findings]
    for finding, text in zip(findings, expected, strict=True):
        assert text in finding.message
        assert finding.check == "version_bump"
        assert finding.severity == "error"
    assert exit_code_for(findings) == (1 if expected else 0)


def test_many_breaking_differences_are_counted_and_the_first_few_named() -> None:
    many = [Difference(rule=f"rule_{i}", path=f"/p{i}", breaking=True, message="m") for i in range(5)]
    (finding, _) = check_version_bump("1.0.0", "1.1.0", many, None)
    assert "5 breaking differences" in finding.message
    assert "rule_0 at /p0" in finding.message and "rule_2 at /p2" in finding.message
    assert "rule_3" not in finding.message and "and 2 more" in finding.message
    assert "2.0.0" in finding.message


def test_exit_code_ignores_warnings() -> None:
    assert exit_code_for([]) == 0
    assert exit_code_for([Finding("x", "w", severity="warning")]) == 0
    assert exit_code_for([Finding("x", "w", severity="warning"), Finding("x", "e")]) == 1
    assert exit_code_for(iter([Finding("x", "e")])) == 1
