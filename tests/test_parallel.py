"""Suites side by side (tasks/parallel.py) and the session timing they report (acceptance/runner/timing.py)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from acceptance.config.connector import Connector
from acceptance.runner import LocalRunner
from acceptance.runner.base import spec
from acceptance.runner.spool import watching
from acceptance.runner.timing import TIMINGS_ENV, RunLog, TimedRunner
from tasks.acceptance import AcceptanceArgs
from tasks.parallel import parallel_jobs, render_summary, run_suites

Make = Callable[..., Path]


def test_a_timed_runner_logs_each_command() -> None:
    log = RunLog()
    runner = TimedRunner(LocalRunner([sys.executable, "-c", "print('{\"type\": \"LOG\"}')"], cwd=Path.cwd()), log)
    spec(runner, timeout=30)
    spec(runner, timeout=30)
    assert [verb for verb, _ in log.runs] == ["spec", "spec"]
    summary = log.summary(wall_seconds=10.0)
    assert summary["commands"]["spec"]["count"] == 2 and summary["wall_seconds"] == 10.0
    assert log.render(wall_seconds=10.0).startswith("connector commands: spec 2×")


def test_checks_fed_while_a_command_runs_count_as_tool_time_not_the_connectors() -> None:
    log = RunLog()
    emit = "import json\nfor i in range(5): print(json.dumps({'type': 'LOG', 'log': {'level': 'INFO', 'message': i}}))"
    runner = TimedRunner(LocalRunner([sys.executable, "-c", emit], cwd=Path.cwd()), log)
    with watching(lambda message: time.sleep(0.2)) as watcher:  # slow checks: 5 messages, 1 s in all
        spec(runner, timeout=30)
    spec(runner, timeout=30)  # not watched
    (_, watched), (_, unwatched) = log.runs
    assert 1.0 <= watcher.seconds <= log.checks_seconds + 1e-9 < 1.5
    assert watched < 1.0 and abs(watched - unwatched) < 0.5  # the connector's own time, the checks taken out
    assert log.summary(wall_seconds=10.0)["checks_during_commands_seconds"] >= 1.0
    assert "of which checks during the commands 1." in log.render(wall_seconds=10.0)


def test_an_empty_log_says_nothing_ran() -> None:
    assert "none run" in RunLog().render()


def test_suites_run_side_by_side_and_each_output_stays_whole(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source()
    timings = tmp_path / "timings.jsonl"
    args = AcceptanceArgs([folder], cache_dir=str(tmp_path / "cache"), backend="local")
    said: list[str] = []
    runs = run_suites(folder, args, ["spec", "discovery", "connection"], ["--backend", "local"], 2, say=said.append,
                      env={**os.environ, TIMINGS_ENV: str(timings)})
    assert [run.suite for run in runs] == ["spec", "discovery", "connection"]
    assert all(run.passed for run in runs), [run.summary for run in runs]
    headers = [text for text in said if text.startswith("── ")]
    assert len(headers) == 3
    for header, output in zip(said[0::2], said[1::2], strict=True):  # each suite: its header, then its whole output
        assert header.startswith("── ") and "passed" in output.splitlines()[-1]
    sessions = [json.loads(line) for line in timings.read_text().splitlines()]
    assert sorted(s["suites"][0] for s in sessions) == ["connection", "discovery", "spec"]
    table = render_summary(folder, runs, 5.0)
    assert "| spec" in table and "3 suites in 5.0 s wall" in table


def test_a_shared_client_container_keeps_suites_one_at_a_time() -> None:
    folder = Path(__file__).parent / "connectors" / "client-container-source"
    jobs, why = parallel_jobs(Connector.read(folder), 2)
    assert jobs == 1 and "client_container_config" in (why or "")
    assert parallel_jobs(Connector.read(Path(__file__).parent / "connectors" / "fake-source"), 2) == (2, None)
