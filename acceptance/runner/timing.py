"""Where a session's time goes: every connector command the tool runs, with how long it took.

The plugin reports it at the end of a session ("connector commands 21.0 s of 25.3 s"), so the tool's own overhead is
visible; `CONNECTOR_ACCEPTANCE_TIMINGS=FILE` also appends one JSON line per session for benchmarks. Checks fed while
a command runs (a read's output watched as it is spooled) are counted as the tool's time, not the connector's.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acceptance.runner.base import ConnectorRunner, RunResult
from acceptance.runner.spool import SPOOL_WATCHER

TIMINGS_ENV = "CONNECTOR_ACCEPTANCE_TIMINGS"


@dataclass
class RunLog:
    """The connector commands of one session: verb ("spec", "read"…) and seconds, in order."""

    started: float = field(default_factory=time.monotonic)
    runs: list[tuple[str, float]] = field(default_factory=list)
    checks_seconds: float = 0.0  # the tool's checks run inside commands (fed as output arrived): tool time

    def add(self, verb: str, seconds: float, checks_seconds: float = 0.0) -> None:
        """A command of `seconds`, of which `checks_seconds` were the tool's checks fed while it ran."""
        self.runs.append((verb, max(0.0, seconds - checks_seconds)))
        self.checks_seconds += checks_seconds

    @property
    def connector_seconds(self) -> float:
        return sum(seconds for _, seconds in self.runs)

    def summary(self, wall_seconds: float | None = None) -> dict[str, Any]:
        wall = time.monotonic() - self.started if wall_seconds is None else wall_seconds
        counts = Counter(verb for verb, _ in self.runs)
        seconds: Counter[str] = Counter()
        for verb, spent in self.runs:
            seconds[verb] += spent
        return {"wall_seconds": round(wall, 3), "connector_seconds": round(self.connector_seconds, 3),
                "checks_during_commands_seconds": round(self.checks_seconds, 3),
                "commands": {verb: {"count": counts[verb], "seconds": round(seconds[verb], 3)} for verb in counts}}

    def render(self, wall_seconds: float | None = None) -> str:
        summary = self.summary(wall_seconds)
        if not self.runs:
            return f"connector commands: none run (all cached or skipped); session {summary['wall_seconds']:.1f} s"
        parts = ", ".join(f"{verb} {c['count']}× {c['seconds']:.1f} s" for verb, c in summary["commands"].items())
        tool = max(0.0, summary["wall_seconds"] - summary["connector_seconds"])
        connector, wall = summary["connector_seconds"], summary["wall_seconds"]
        share = f", {tool / connector:.0%} of the connector's time" if connector > 0 else ""
        during = f", of which checks during the commands {self.checks_seconds:.1f} s" if self.checks_seconds else ""
        return (f"connector commands: {parts}; {connector:.1f} s of a {wall:.1f} s session (tool {tool:.1f} s{share}"
                f"{during})")

    def append_to(self, path: str | os.PathLike[str], **extra: Any) -> None:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**extra, **self.summary()}) + "\n")


class TimedRunner:
    """A runner that records each command it runs in a RunLog; otherwise the runner it wraps."""

    def __init__(self, inner: ConnectorRunner, log: RunLog) -> None:
        self.inner = inner
        self.log = log
        self.backend = inner.backend

    def run(self, args: Sequence[str], **inputs: Any) -> RunResult:
        watcher = SPOOL_WATCHER.get()
        checks_before = watcher.seconds if watcher is not None else 0.0
        started = time.monotonic()
        try:
            return self.inner.run(args, **inputs)
        finally:
            checks = watcher.seconds - checks_before if watcher is not None else 0.0
            self.log.add(args[0] if args else "?", time.monotonic() - started, checks)

    def describe(self) -> str:
        return self.inner.describe()
