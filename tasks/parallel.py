"""Suites side by side: each suite is its own pytest process, as with `nox -s acceptance`, but up to `jobs` of them
run at the same time. No suite depends on another's outcome; they share the on-disk cache, whose file locks make
concurrent sessions wait for one `spec` / `discover` instead of running it twice.

A suite's output is printed whole when it finishes (never interleaved), then one summary table.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from tabulate import tabulate

from acceptance.config.loading import load_config
from tasks.acceptance import AcceptanceArgs, pytest_command

Say = Callable[[str], None]
NOTHING_COLLECTED = 5  # pytest's exit code when a suite has no tests for this connector


@dataclass(frozen=True)
class SuiteRun:
    suite: str
    exit_code: int
    seconds: float
    summary: str  # pytest's last line, e.g. "11 passed, 1 skipped in 4.9s"

    @property
    def passed(self) -> bool:
        return self.exit_code in (0, NOTHING_COLLECTED)


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def parallel_jobs(folder: Path, jobs: int) -> tuple[int, str | None]:
    """How many suites may run at once for this connector, and why fewer when a client container is configured
    (its setup and teardown commands act on one shared service)."""
    if jobs > 1 and load_config(folder).config.acceptance_tests.client_container_config is not None:
        return 1, "a client_container_config is shared by the suites: they run one at a time"
    return jobs, None


def run_suites(folder: Path, args: AcceptanceArgs, suites: Sequence[str], backend_options: Sequence[str],
               jobs: int, say: Say = print, env: Mapping[str, str] | None = None) -> list[SuiteRun]:
    """Run each suite's pytest, `jobs` at a time; say each one's output as it finishes. `env` replaces the
    environment of the pytest processes."""
    lock = Lock()

    def run_one(suite: str) -> SuiteRun:
        command = pytest_command(folder, args, [suite], backend_options)
        started = time.monotonic()
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
                                env=None if env is None else dict(env))
        seconds = time.monotonic() - started
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        summary = lines[-1].strip("= ") if lines else f"exit {result.returncode}"
        with lock:  # one suite's output at a time
            say(f"── {folder.name} · {suite} ({seconds:.1f} s) " + "─" * 20)
            say(result.stdout.rstrip())
        return SuiteRun(suite, result.returncode, seconds, summary)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(run_one, suites))


def render_summary(folder: Path, runs: Sequence[SuiteRun], wall_seconds: float) -> str:
    rows = [(run.suite, "passed" if run.passed else "FAILED", f"{run.seconds:.1f}", run.summary) for run in runs]
    total = sum(run.seconds for run in runs)
    table = tabulate(rows, headers=["suite", "outcome", "seconds", "pytest"], tablefmt="github")
    return f"{table}\n{folder.name}: {len(runs)} suites in {wall_seconds:.1f} s wall ({total:.1f} s of suite time)"
