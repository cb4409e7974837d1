"""The report: the throughput, memory and targets tables, the printed text and the JSON results."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from tabulate import tabulate

from tasks.bench.inputs import BenchInput
from tasks.bench.memory import MemoryMeasurement
from tasks.bench.paths import PATH_LABELS
from tasks.bench.process import MB
from tasks.bench.targets import Sizes, Target
from tasks.bench.throughput import Measurement


def throughput_table(rows: Sequence[Measurement], baselines: dict[str, Measurement]) -> str:
    orjson_rates = {row.input: row.rate for row in rows if row.path == "orjson" and row.lines == "all"}
    table = []
    for row in rows:
        baseline = baselines.get(row.input)
        same_lines = baseline is not None and baseline.lines == row.lines
        versus_baseline = f"{row.rate / baseline.rate:.1f}×" if same_lines and baseline is not None else ""
        orjson_rate = orjson_rates.get(row.input) if row.lines == "all" else None
        versus_orjson = f"{row.rate / orjson_rate:.0%}" if orjson_rate else ""
        table.append([row.input, PATH_LABELS[row.path], row.lines, f"{row.messages:,}", f"{row.rate:,.0f}",
                      versus_baseline, versus_orjson, row.invalid if row.path != "orjson" else "",
                      f"{row.peak_rss_bytes / MB:.0f}"])
    headers = ["input", "path", "lines", "messages", "msg/s", "vs baseline", "vs orjson", "invalid", "peak RSS MB"]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def memory_table(found: Sequence[MemoryMeasurement]) -> str:
    rows = [[f"{m.records:,}", f"{m.seconds:.1f}", f"{m.records / m.seconds:,.0f}", f"{m.peak_rss_bytes / MB:.1f}",
             m.findings] for m in found]
    headers = ["basic_read records", "seconds", "records/s", "peak RSS MB", "findings"]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def targets_table(targets: Sequence[Target]) -> str:
    rows = [["PASS" if t.passed else "FAIL", t.name, t.value, t.wanted] for t in targets]
    return tabulate(rows, headers=["verdict", "target", "measured", "wanted"], tablefmt="github",
                    disable_numparse=True)


def report_text(command: str, seconds: float, rows: Sequence[Measurement], baselines: dict[str, Measurement],
                memory: Sequence[MemoryMeasurement], targets: Sequence[Target], suites: str | None = None,
                passes: int = 1, rounds: int = 1, environments: str | None = None) -> str:
    machine = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    turns = f"; orjson and ours in {rounds} processes each, taking turns" if rounds > 1 else ""
    return "\n\n".join([
        f"$ {command}    ({machine}; {seconds:.0f}s; throughput: the fastest of {passes} pass"
        f"{'' if passes == 1 else 'es'} per path{turns})",
        throughput_table(rows, baselines),
        memory_table(memory),
        *([suites] if suites else []),
        *([environments] if environments else []),
        targets_table(targets),
    ])


def results_json(command: str, seconds: float, sizes: Sizes, inputs: Sequence[BenchInput],
                 rows: Sequence[Measurement], memory: Sequence[MemoryMeasurement],
                 targets: Sequence[Target]) -> dict[str, Any]:
    return {
        "command": command,
        "seconds": round(seconds, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "sizes": asdict(sizes),
        "inputs": [{"name": s.name, "file": str(s.data_file), "lines": s.lines} for s in inputs],
        "throughput": [{**asdict(row), "messages_per_second": round(row.rate, 1)} for row in rows],
        "memory": [asdict(m) for m in memory],
        "targets": [asdict(t) for t in targets],
        "passed": all(t.passed for t in targets),
    }
