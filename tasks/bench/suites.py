"""The whole-run benchmark: a full acceptance run on source-faker (count 10,000), where the time goes.

1. cold, suites one after another: wall time against the time the connector's own commands take (each pytest
   session reports its commands through CONNECTOR_ACCEPTANCE_TIMINGS) — the tool's overhead. Checks fed while a
   read runs are taken out of the connector's time (counted as the tool's, as if they never overlapped);
2. warm, again: which commands ran (a warm cache must run no `spec` and no `discover`);
3. cold, suites two at a time: the wall-time gain of running independent suites side by side.

"Cold" means an empty acceptance cache (no spec, catalog or state kept). The previous release that
backward_compat compares against is installed before the runs, once per machine, as the connector itself is
built before them: its install time is reported apart, not counted as the tool's overhead.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabulate import tabulate

from acceptance import registry
from acceptance.compat import previous_package
from acceptance.config.connector import Connector
from acceptance.config.metadata import load_metadata
from acceptance.runner.command import venv_bin
from acceptance.runner.timing import TIMINGS_ENV
from tasks.acceptance import AcceptanceArgs
from tasks.builder.virtualenv import build_virtualenv
from tasks.parallel import run_suites

Say = Callable[[str], None]
FAKER = Path(__file__).resolve().parents[2] / "connectors" / "source-faker"
OVERHEAD_TARGET = 0.20


def faker_at(count: int, root: Path) -> Path:
    """A copy of the faker connector's config and inputs, reading `count` users (and as many purchases)."""
    folder = root / f"source-faker-{count}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in ("acceptance-test-config.yml", "metadata.yaml"):
        shutil.copy2(FAKER / name, folder / name)
    shutil.copytree(FAKER / "integration_tests", folder / "integration_tests")
    config_file = folder / "integration_tests" / "config.json"
    config = json.loads(config_file.read_text())
    config["count"] = count
    config_file.write_text(json.dumps(config))
    return folder


def measure_run(folder: Path, script: Path, cache: Path, jobs: int, say: Say) -> dict[str, Any]:
    """One full run (every suite its own pytest process); wall time and the connector commands' time."""
    timings = Path(tempfile.mkstemp(prefix="timings-", suffix=".jsonl")[1])
    args = AcceptanceArgs([folder], connector_command=str(script), cache_dir=str(cache), backend="local")
    env = {**os.environ, TIMINGS_ENV: str(timings)}
    started = time.monotonic()
    runs = run_suites(folder, args, registry.names(), ["--backend", "local"], jobs, say=lambda _: None, env=env)
    wall = time.monotonic() - started
    sessions = [json.loads(line) for line in timings.read_text().splitlines() if line.strip()]
    timings.unlink()
    commands: Counter[str] = Counter()
    for session in sessions:
        for verb, stats in session["commands"].items():
            commands[verb] += stats["count"]
    connector = sum(s["connector_seconds"] for s in sessions)
    checks = sum(s.get("checks_during_commands_seconds", 0.0) for s in sessions)
    outcome = {"jobs": jobs, "wall_seconds": round(wall, 2), "connector_seconds": round(connector, 2),
               "checks_during_commands_seconds": round(checks, 2),
               "session_seconds": round(sum(s["wall_seconds"] for s in sessions), 2), "commands": dict(commands),
               "suites_passed": all(run.passed for run in runs)}
    say(f"  jobs {jobs}: {wall:.1f} s wall, connector commands {connector:.1f} s, {dict(commands)}")
    return outcome


def prepare_previous_release(say: Say) -> dict[str, Any]:
    """Install (or find installed) the release backward_compat will compare against; how long that took."""
    metadata = load_metadata(FAKER)
    package = metadata.data.pypi_package if metadata else None
    current = metadata.data.dockerImageTag if metadata else None
    if not (package and current):
        return {"prepared": False, "why": "metadata.yaml names no PyPI package or version", "seconds": 0.0}
    started = time.monotonic()
    found = previous_package.resolve_previous_package(package, current, say=say)
    seconds = round(time.monotonic() - started, 2)
    if isinstance(found, previous_package.Unavailable):
        return {"prepared": False, "why": found.reason, "seconds": seconds}
    return {"prepared": True, "release": f"{found.package} {found.version}", "seconds": seconds}


def bench_suites(count: int = 10_000, say: Say = print) -> dict[str, Any]:
    record = build_virtualenv(Connector.read(FAKER), say=say)
    script = venv_bin(FAKER / ".venv") / record.console_script
    previous = prepare_previous_release(say)
    root = Path(tempfile.mkdtemp(prefix="bench-suites-"))
    try:
        folder = faker_at(count, root)
        say(f"full acceptance run on source-faker, count {count}:")
        cold = measure_run(folder, script, root / "cache-sequential", 1, say)
        warm = measure_run(folder, script, root / "cache-sequential", 1, say)
        parallel = measure_run(folder, script, root / "cache-parallel", 2, say)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    overhead = (cold["wall_seconds"] - cold["connector_seconds"]) / cold["connector_seconds"]
    return {
        "count": count, "previous_release": previous, "cold": cold, "warm": warm, "parallel": parallel,
        "overhead": round(overhead, 3), "overhead_target": OVERHEAD_TARGET,
        "warm_ran_spec_or_discover": bool(warm["commands"].get("spec") or warm["commands"].get("discover")),
        "parallel_gain": round(cold["wall_seconds"] / parallel["wall_seconds"], 2),
    }


def suites_table(result: dict[str, Any]) -> str:
    rows = []
    for label, key in (("cold, one suite at a time", "cold"), ("warm cache, again", "warm"),
                       ("cold, two suites at a time", "parallel")):
        run = result[key]
        commands = ", ".join(f"{verb} {count}" for verb, count in sorted(run["commands"].items())) or "none"
        rows.append((label, f"{run['wall_seconds']:.1f}", f"{run['connector_seconds']:.1f}", commands,
                     "yes" if run["suites_passed"] else "NO"))
    table = tabulate(rows, headers=[f"full run, source-faker count {result['count']:,}", "wall s", "connector s",
                                    "connector commands", "all passed"], tablefmt="github")
    return f"{table}\n{previous_release_line(result.get('previous_release'))}"


def previous_release_line(previous: dict[str, Any] | None) -> str:
    if not previous:
        return "previous release: not prepared before the runs"
    if not previous["prepared"]:
        return f"previous release: unavailable ({previous['why']}); backward_compat skips its comparisons"
    return (f"previous release for backward_compat: {previous['release']}, installed or found before the runs in "
            f"{previous['seconds']:.1f} s (once per machine, like the connector's build; not in the times above)")


def suites_targets(result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(name, measured, wanted, passed) for the whole-run targets."""
    cold = result["cold"]
    tool = cold["wall_seconds"] - cold["connector_seconds"]
    return [
        ("tool overhead of a full cold run (wall − connector commands; checks fed during reads count as tool)",
         f"{tool:.1f} s (checks during reads {cold.get('checks_during_commands_seconds', 0.0):.1f} s) = "
         f"{result['overhead']:.0%} of {cold['connector_seconds']:.1f} s", "≤ 20%",
         result["overhead"] <= OVERHEAD_TARGET),
        ("warm cache: spec / discover run again", str(result["warm"]["commands"].get("spec", 0)
                                                     + result["warm"]["commands"].get("discover", 0)), "0",
         not result["warm_ran_spec_or_discover"]),
        ("two suites at a time on 2 cores: wall-time gain", f"{result['parallel_gain']:.2f}×", "> 1×",
         result["parallel_gain"] > 1.0),
    ]
