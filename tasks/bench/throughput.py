"""Throughput: one path over an input file in a fresh process, the fastest of its passes; the paths taking turns
over the whole file."""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from tasks.bench.inputs import BenchInput
from tasks.bench.paths import PATH_LABELS, PATHS
from tasks.bench.process import MB, Say, child_json, peak_rss_bytes


@dataclass
class Measurement:
    input: str
    path: str
    lines: str  # "all" or "first N"
    messages: int
    seconds: float
    invalid: int
    peak_rss_bytes: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


def measure_path(path: str, data_file: Path, catalog_file: Path, limit: int, passes: int = 1) -> dict[str, Any]:
    """Run one path over the file (its first `limit` lines when > 0) `passes` times, keeping the fastest pass (as
    timeit does: slower passes measure the machine's other work): the child's side of `measure_in_child`."""
    catalog = orjson.loads(catalog_file.read_bytes())
    run = PATHS[path]
    fastest = float("inf")
    for _ in range(max(1, passes)):
        with data_file.open("rb") as handle:
            lines: Iterator[bytes] = itertools.islice(handle, limit) if limit > 0 else iter(handle)
            started = time.perf_counter()
            result = run(lines, catalog)
            fastest = min(fastest, time.perf_counter() - started)
    return {"messages": result.messages, "seconds": fastest, "invalid": result.invalid,
            "peak_rss_bytes": peak_rss_bytes()}


def measure_in_child(label: str, path: str, data_file: Path, catalog_file: Path, limit: int,
                     passes: int = 1) -> Measurement:
    code = ("import json, sys; from pathlib import Path; from tasks.bench.throughput import measure_path; "
            "print(json.dumps(measure_path(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), "
            "int(sys.argv[5]))))")
    raw = child_json([sys.executable, "-c", code, path, str(data_file), str(catalog_file), str(limit), str(passes)])
    lines = f"first {limit:,}" if limit > 0 else "all"
    return Measurement(label, path, lines, raw["messages"], raw["seconds"], raw["invalid"], raw["peak_rss_bytes"])


def measure_taking_turns(source: BenchInput, paths: Sequence[str], say: Say, passes: int, rounds: int
                         ) -> list[Measurement]:
    """Each path over the whole file in `rounds` processes of `passes` passes, the paths taking turns; the fastest
    pass of each path counts. A busy spell of the machine then falls on every path alike instead of on whichever
    ran during it, so the ratios between paths move less from run to run. Peak RSS: the highest of its rounds."""
    fastest: dict[str, Measurement] = {}
    for round_number in range(1, rounds + 1):
        for path in paths:
            shown = f" (round {round_number} of {rounds})" if rounds > 1 else ""
            say(f"bench: {source.name}: {PATH_LABELS[path]}{shown}")
            found = measure_in_child(source.name, path, source.data_file, source.catalog_file, 0, passes)
            kept = fastest.get(path)
            if kept is not None:
                peak = max(kept.peak_rss_bytes, found.peak_rss_bytes)
                found = found if found.seconds < kept.seconds else kept
                found = replace(found, peak_rss_bytes=peak)
            fastest[path] = found
    return [fastest[path] for path in paths]


def warm_page_cache(path: Path) -> None:
    """Read the file once, so the first path measured does not pay for the disk."""
    with path.open("rb") as handle:
        while handle.read(16 * MB):
            pass
