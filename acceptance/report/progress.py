"""Progress of connector commands: a line when one starts, records spooled so far during a read, and how it ended."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from acceptance.runner.base import ConnectorRunner, RunResult
from acceptance.runner.spool import RECORDS_LISTENER

PROGRESS_SECONDS = 5.0  # at most one records-so-far line this often


class ProgressRunner:
    """Says when a connector command starts, how many records a read has spooled so far (at most every
    PROGRESS_SECONDS), and how it ended (exit code, duration, records for reads)."""

    def __init__(self, inner: ConnectorRunner, say: Callable[[str], None], suite: Callable[[], str]) -> None:
        self.inner = inner
        self.say = say
        self.suite = suite
        self.backend = inner.backend

    def run(self, args: Sequence[str], **inputs: Any) -> RunResult:
        verb = args[0] if args else "?"
        suite = self.suite()
        self.say(f"[{suite}] {verb}: started")
        started = last = time.monotonic()

        def records_so_far(count: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_SECONDS:
                last = now
                self.say(f"[{suite}] {verb}: {count:,} records so far ({now - started:.0f}s)")

        token = RECORDS_LISTENER.set(records_so_far)
        try:
            result = self.inner.run(args, **inputs)
        finally:
            RECORDS_LISTENER.reset(token)
        self.say(f"[{suite}] {verb}: {ended(result, verb)}")
        return result

    def describe(self) -> str:
        return self.inner.describe()


def ended(result: RunResult, verb: str) -> str:
    how = "timed out" if result.timed_out else f"exit code {result.exit_code}"
    records = f", {result.messages.counts.get('RECORD', 0)} records" if verb == "read" else ""
    return f"{how} after {result.duration:.1f}s{records}"
