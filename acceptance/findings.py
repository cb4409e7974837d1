"""What a check returns: findings, each naming where the problem is and what was expected."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem found by a check.

    `path` is a JSON pointer-like location inside the checked document (``/properties/api_key``),
    empty when the finding is about the document as a whole. `message` says what was found and
    what was expected, in words a connector author can act on.
    """

    check: str
    message: str
    path: str = ""
    severity: Severity = "error"

    def render(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.message}{where}"


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def warnings_of(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "warning"]


def render_findings(findings: Iterable[Finding], limit: int = 50) -> str:
    """Render findings as a bullet list, bounded so a huge schema cannot flood a report."""
    items = list(findings)
    lines = [f"- {f.render()}" for f in items[:limit]]
    if len(items) > limit:
        lines.append(f"- … and {len(items) - limit} more")
    return "\n".join(lines)
