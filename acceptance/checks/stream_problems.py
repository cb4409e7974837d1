"""The bookkeeping behind the streaming record checks' findings: one stream's distinct problems, each counted once
per record, with details kept for the first few only, so memory stays bounded however many records are invalid."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from acceptance.findings import Finding

_MAX_TRACKED_PROBLEMS = 1000  # distinct problems counted per stream; beyond that they are only counted as records


class Problems:
    """One stream's distinct problems, each counted once per record; details kept for the first `limit` only."""

    __slots__ = ("limit", "counts", "details", "invalid_records", "shown_records", "untracked")

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self.counts: dict[Hashable, int] = {}
        self.details: dict[Hashable, tuple[str, int]] = {}  # key -> (description, first record number)
        self.invalid_records = 0
        self.shown_records = 0  # invalid records with at least one problem that has its own finding
        self.untracked = False

    def add_record(self, number: int, problems: Iterable[tuple[Hashable, Callable[[], str]]]) -> None:
        self.invalid_records += 1
        seen: set[Hashable] = set()
        shown = False
        for key, describe in problems:
            if key in seen:
                continue
            seen.add(key)
            count = self.counts.get(key)
            if count is not None:
                self.counts[key] = count + 1
            elif len(self.counts) >= _MAX_TRACKED_PROBLEMS:
                self.untracked = True
            else:
                self.counts[key] = 1
                if len(self.details) < self.limit:
                    self.details[key] = (describe(), number)
            shown = shown or key in self.details
        self.shown_records += shown

    def findings(self, check: str, stream: str, records: int) -> list[Finding]:
        found = [Finding(check, f"stream {stream!r}: {text}; in {records_text(self.counts[key])}, first record "
                                f"#{first} of the stream")
                 for key, (text, first) in self.details.items()]
        hidden = len(self.counts) - len(self.details)
        if not hidden and not self.untracked:
            return found  # every problem has its finding, with its own count
        more_records = self.invalid_records - self.shown_records
        hidden_text = f"{hidden}{'+' if self.untracked else ''} more distinct problem{'' if hidden == 1 else 's'}"
        totals = f"{self.invalid_records} of {records_text(records)} invalid in total"
        if more_records:
            found.append(Finding(check, f"… {more_records} more invalid record{'' if more_records == 1 else 's'} "
                                        f"in stream {stream!r} ({totals}; "
                                        f"{hidden_text} not shown)"))
        else:
            found.append(Finding(check, f"… {hidden_text} in stream {stream!r} ({totals})"))
        return found


def records_text(count: int) -> str:
    return f"{count} record{'' if count == 1 else 's'}"
