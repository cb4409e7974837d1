"""Many connectors at once (`nox -s acceptance -- --all`, `--modified`, or several names): each connector is its own
pytest process (isolated: one connector's bad config or failed build stops only that connector), `jobs` of them at
a time; each one's output is printed whole when it finishes, then one combined summary."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from tabulate import tabulate

from acceptance.errors import UserError
from tasks.acceptance import AcceptanceArgs, check_inputs, prepare_backend, pytest_command
from tasks.parallel import NOTHING_COLLECTED

Say = Callable[[str], None]


@dataclass(frozen=True)
class ConnectorRun:
    connector: str
    outcome: str  # "passed", "failed", "error"
    seconds: float
    summary: str


def run_many(args: AcceptanceArgs, suites: Sequence[str], jobs: int, say: Say = print) -> list[ConnectorRun]:
    lock = Lock()

    def run_one(folder: Path) -> ConnectorRun:
        started = time.monotonic()
        lines: list[str] = []
        try:
            connector = check_inputs(folder)
            backend = prepare_backend(connector, args, say=lines.append)
        except UserError as error:
            text = str(error)
            outcome, output = "error", text
            summary = " ".join(line.strip(" -") for line in text.splitlines()[:3])[:200]
        else:
            command = pytest_command(folder, args, list(suites), backend)
            result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
            tail = [line for line in result.stdout.splitlines() if line.strip()]
            summary = tail[-1].strip("= ") if tail else f"exit {result.returncode}"
            outcome = "passed" if result.returncode in (0, NOTHING_COLLECTED) else "failed"
            output = result.stdout
        seconds = time.monotonic() - started
        with lock:
            say(f"── {folder.name} ({seconds:.1f} s) " + "─" * 20)
            say("\n".join([*lines, output.rstrip()]))
        return ConnectorRun(folder.name, outcome, seconds, summary)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(run_one, args.connectors))


def render_many(runs: Sequence[ConnectorRun], wall_seconds: float) -> str:
    rows = [(r.connector, r.outcome if r.outcome == "passed" else r.outcome.upper(), f"{r.seconds:.1f}", r.summary)
            for r in runs]
    failed = sum(1 for r in runs if r.outcome != "passed")
    return (tabulate(rows, headers=["connector", "outcome", "seconds", "result"], tablefmt="github")
            + f"\n{len(runs)} connectors in {wall_seconds:.1f} s: {len(runs) - failed} passed, {failed} failed")


def matrix(names: Sequence[str]) -> str:
    """A GitHub Actions matrix: `strategy.matrix: ${{ fromJSON(needs.x.outputs.matrix) }}`."""
    return json.dumps({"include": [{"connector": name} for name in names]})
