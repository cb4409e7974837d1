"""Backward compatibility verdicts: classified differences against the previous release, judged with the version.

A difference that breaks users is fine when the version says so (a major bump with a `releases.breakingChanges`
entry, see `acceptance.compat.versioning`); the verdict fails exactly when a breaking difference is not declared, or the
version did not increase. The suites' `test_backward_compatibility` and `nox -s backward_compat` both use this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import semver
from tabulate import tabulate

from acceptance.compat.differences import (
    Difference,
    breaking,
    catalog_streams,
    connection_specification,
    diff_catalogs,
    diff_specs,
    render_table,
)
from acceptance.compat.versioning import CHECK, check_version_bump
from acceptance.findings import Finding, errors

Kind = Literal["spec", "catalog"]
CONFIG_EXAMPLES = 100  # configs generated from the previous spec (reference §3.4 rule 8 uses up to 100)


@dataclass
class Comparison:
    """One document (spec or catalog) compared with the previous release's."""

    kind: Kind
    differences: list[Difference] = field(default_factory=list)
    identical: bool = False
    examples: int | None = None  # configs generated from the previous spec and checked against the current one
    note: str | None = None  # why the example check did less than asked

    @property
    def breaking(self) -> list[Difference]:
        return breaking(self.differences)


def compare_specs(previous: Any, current: Any, examples: int = CONFIG_EXAMPLES) -> Comparison:
    """Structural spec differences, plus configs generated from the previous spec that the current one rejects."""
    before, after = connection_specification(previous), connection_specification(current)
    if before == after:
        return Comparison("spec", identical=True)
    comparison = Comparison("spec", diff_specs(before, after))
    if examples > 0:
        from acceptance.compat.config_examples import (
            previous_configs_rejected,  # hypothesis loads in ~1 s: only when needed
        )

        outcome = previous_configs_rejected(before, after, examples=examples)
        comparison.differences += outcome.differences
        comparison.examples, comparison.note = outcome.generated, outcome.note
    return comparison


def compare_catalogs(previous: Any, current: Any) -> Comparison:
    differences = diff_catalogs(previous, current)
    # Same streams with equal contents, whatever their order in the list.
    return Comparison("catalog", differences, identical=catalog_streams(previous) == catalog_streams(current))


def version_findings(previous_version: str | None, current_version: str | None, differences: Sequence[Difference],
                     breaking_changes: Mapping[str, Any] | None) -> list[Finding]:
    """The semver verdict; when either version is unknown a breaking difference cannot be declared, so it fails."""
    if previous_version and current_version:
        return check_version_bump(previous_version, current_version, differences, breaking_changes)
    if not breaking(differences):
        return []
    unknown = "previous" if not previous_version else "current"
    return [Finding(CHECK, f"{len(breaking(differences))} breaking difference(s), and the {unknown} version is "
                           "unknown, so no version bump can declare them")]


def disabled_for(previous_version: str | None, disable_for_version: str | None) -> str | None:
    """A skip reason when `disable_for_version` names the previous release's version (semver equality)."""
    if not disable_for_version or not previous_version:
        return None
    try:
        same = semver.Version.parse(previous_version.strip()) == semver.Version.parse(disable_for_version.strip())
    except (ValueError, TypeError):
        same = previous_version.strip() == disable_for_version.strip()
    if not same:
        return None
    return (f"backward compatibility is disabled for version {disable_for_version} (disable_for_version), the "
            f"previous release's version")


@dataclass
class Verdict:
    """Everything `nox -s backward_compat` reports for one connector."""

    connector: str
    previous: str  # description of the previous release
    previous_version: str | None
    current_version: str | None
    comparisons: list[Comparison]
    findings: list[Finding]
    skipped: str | None = None

    @property
    def differences(self) -> list[Difference]:
        return [d for c in self.comparisons for d in c.differences]

    @property
    def exit_code(self) -> int:
        return 1 if errors(self.findings) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "previous": {"release": self.previous, "version": self.previous_version},
            "current": {"version": self.current_version},
            "skipped": self.skipped,
            "comparisons": [
                {"kind": c.kind, "identical": c.identical, "generated_configs": c.examples, "note": c.note,
                 "breaking": len(c.breaking), "differences": [asdict(d) for d in c.differences]}
                for c in self.comparisons
            ],
            "version_findings": [asdict(f) for f in self.findings],
            "passed": self.exit_code == 0,
        }

    def render(self) -> str:
        lines = [f"{self.connector}: {self.current_version or 'unknown version'} compared with {self.previous}"]
        if self.skipped:
            return "\n".join([*lines, f"skipped: {self.skipped}"])
        for c in self.comparisons:
            title = f"{c.kind}: " + ("identical" if c.identical else f"{len(c.differences)} difference(s), "
                                                                      f"{len(c.breaking)} breaking")
            if c.examples is not None:
                title += f"; {c.examples} configs generated from the previous spec"
            if c.note:
                title += f" ({c.note})"
            lines += ["", title]
            if c.differences:
                lines.append(render_table(c.differences))
        lines.append("")
        if self.findings:
            lines.append(tabulate([(f.severity, f.message) for f in self.findings], headers=["version", "finding"],
                                  tablefmt="github"))
        elif self.differences and breaking(self.differences):
            lines.append(f"the breaking differences are declared by {self.previous_version} → {self.current_version}")
        else:
            lines.append("no breaking difference")
        return "\n".join(lines)
