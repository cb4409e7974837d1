"""The results rendered for people: the console summary table, the Markdown of the GitHub step summary and the
self-contained report.html."""

from __future__ import annotations

import html
from collections.abc import Sequence

from tabulate import tabulate

from acceptance.report.results import TestResult, sorted_results, totals

MAX_CELL_CHARS = 100


def _first_line(text: str) -> str:
    """The gist of a reason for a table cell: its first line, and the next one when the first only introduces it."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else (lines[0] if lines else "")
    return line if len(line) <= MAX_CELL_CHARS else line[:MAX_CELL_CHARS - 1] + "…"


def _outcome_cell(result: TestResult) -> str:
    return f"{result.outcome}: {_first_line(result.reason)}" if result.reason else result.outcome


def render_table(results: Sequence[TestResult]) -> str:
    """The console summary: one row per test; skips and bypasses say why, failures do not (pytest printed them
    in full just above, and an input error is said once on purpose)."""
    rows = [(r.suite, r.test, r.outcome if r.outcome == "failed" else _outcome_cell(r), f"{r.duration:.2f}s")
            for r in sorted_results(results)]
    table = tabulate(rows, headers=("suite", "test", "outcome", "duration"), tablefmt="simple")
    count = ", ".join(f"{n} {outcome}" for outcome, n in totals(results).items() if n)
    return f"{table}\n{count or 'no tests'}"


def render_markdown(results: Sequence[TestResult], title: str) -> str:
    """A GitHub step summary: counts, then the table (failure text cut to its first line)."""
    def cell(text: str) -> str:
        return html.escape(text).replace("|", "\\|").replace("\n", " ")

    count = ", ".join(f"{n} {outcome}" for outcome, n in totals(results).items() if n) or "no tests"
    lines = [f"### {cell(title)}", "", count, "", "| suite | test | outcome | duration |", "|---|---|---|---|"]
    lines += [f"| {cell(r.suite)} | {cell(r.test)} | {cell(_outcome_cell(r))} | {r.duration:.2f}s |"
              for r in sorted_results(results)]
    return "\n".join(lines) + "\n\n"


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } .meta { color: #555; }
.counts span { display: inline-block; margin-right: 1em; padding: .2em .6em; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.failed { background: #fde2e2; } .passed { background: #e3f6e3; }
.skipped { background: #f2f2f2; } .bypassed { background: #fff4d6; }
details { border: 1px solid #e0a0a0; border-radius: 4px; margin: .6em 0; padding: .4em .8em; background: #fff8f8; }
summary { font-weight: bold; cursor: pointer; }
pre { white-space: pre-wrap; word-break: break-word; font-size: .85em; }
"""


def render_html(results: Sequence[TestResult], title: str, meta: str) -> str:
    """A self-contained page (inline CSS, no script, no remote asset): the counts, every failure expanded, then the
    table of all tests. Every text is escaped."""
    ordered = sorted_results(results)
    counts = "".join(f'<span class="{o}">{n} {o}</span>' for o, n in totals(ordered).items())
    failures = "".join(
        f'<details open class="failure"><summary>{html.escape(r.suite)} · {html.escape(r.test)}</summary>'
        f"<pre>{html.escape(r.reason)}</pre></details>" for r in ordered if r.outcome == "failed")
    rows = "".join(
        f'<tr class="{r.outcome}"><td>{html.escape(r.suite)}</td><td>{html.escape(r.test)}</td>'
        f"<td>{html.escape(r.outcome)}</td><td>{html.escape(_first_line(r.reason))}</td>"
        f"<td>{r.duration:.2f}s</td></tr>" for r in ordered)
    failures_section = f"<h2>Failures</h2>{failures}" if failures else "<h2>No failures</h2>"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f'<p class="meta">{html.escape(meta)}</p><p class="counts">{counts}</p>{failures_section}'
            f"<h2>All tests</h2><table><thead><tr><th>suite</th><th>test</th><th>outcome</th><th>reason</th>"
            f"<th>duration</th></tr></thead><tbody>{rows}</tbody></table></body></html>\n")
