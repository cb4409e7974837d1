"""What a run measures and what it wants: its sizes, the thresholds, `Target`, and the two judged steps (every path
over one input; basic_read's memory at two sizes), each giving its measurements and its targets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tasks.bench.inputs import BenchInput
from tasks.bench.memory import MemoryMeasurement, memory_in_child
from tasks.bench.paths import PATH_LABELS
from tasks.bench.process import MB, Say
from tasks.bench.throughput import Measurement, measure_in_child, measure_taking_turns, warm_page_cache

MIN_SPEEDUP_OVER_BASELINE = 25.0
MIN_SHARE_OF_ORJSON = 0.5
MAX_MEMORY_GROWTH_MB = 30.0
MAX_MEMORY_MB = 150.0


@dataclass(frozen=True)
class Sizes:
    count: int  # source-faker `count` (~2.1 records each)
    wide_records: int
    baseline_lines: int  # 0: the whole file
    memory_small: int
    memory_large: int


DEFAULT_SIZES = Sizes(count=50_000, wide_records=100_000, baseline_lines=20_000, memory_small=10_000,
                      memory_large=1_000_000)
QUICK_SIZES = Sizes(count=100, wide_records=2_000, baseline_lines=1_000, memory_small=1_000, memory_large=5_000)


@dataclass
class Target:
    name: str
    value: str
    wanted: str
    passed: bool


def bench_input(source: BenchInput, baseline_lines: int, say: Say, passes: int = 1, rounds: int = 1
                ) -> tuple[list[Measurement], list[Target]]:
    """Every path over one file, each the fastest of `passes` passes (the baseline too; orjson and ours over the
    whole file in `rounds` processes each, taking turns): throughput rows, then the ratio targets and the
    invalid-count agreement."""
    limit = baseline_lines if 0 < baseline_lines < source.lines else 0
    warm_page_cache(source.data_file)
    rows = measure_taking_turns(source, ("orjson", "ours", "ours_all_checks"), say, passes, rounds)
    say(f"bench: {source.name}: {PATH_LABELS['baseline']}" + (f" (first {limit:,} lines)" if limit else ""))
    baseline = measure_in_child(source.name, "baseline", source.data_file, source.catalog_file, limit, passes)
    ours_full, orjson_full = rows[1], rows[0]
    ours_sample = measure_in_child(source.name, "ours", source.data_file, source.catalog_file, limit, passes) \
        if limit else ours_full
    rows += [baseline] + ([ours_sample] if limit else [])
    speedup = ours_sample.rate / baseline.rate
    share = ours_full.rate / orjson_full.rate
    injected = source.injected_invalid(limit)
    agree = ours_sample.invalid == baseline.invalid and injected in (None, ours_sample.invalid)
    lines = "all lines" if not limit else f"first {limit:,} lines"
    targets = [
        Target(f"{source.name}: ours / baseline ({lines})", f"{speedup:.1f}×", f"≥ {MIN_SPEEDUP_OVER_BASELINE:g}×",
               speedup >= MIN_SPEEDUP_OVER_BASELINE),
        Target(f"{source.name}: ours / orjson.loads (all lines)", f"{share:.0%}", f"≥ {MIN_SHARE_OF_ORJSON:.0%}",
               share >= MIN_SHARE_OF_ORJSON),
        Target(f"{source.name}: invalid records agree ({lines})",
               f"ours {ours_sample.invalid}, baseline {baseline.invalid}"
               + (f", injected {injected}" if injected is not None else ""), "equal", agree),
    ]
    return rows, targets


def bench_memory(work_dir: Path, sizes: Sizes, say: Say) -> tuple[list[MemoryMeasurement], list[Target]]:
    found = []
    for records in (sizes.memory_small, sizes.memory_large):
        say(f"bench: basic_read of {records:,} records through LocalRunner")
        found.append(memory_in_child(work_dir, records))
    small, large = found
    growth = (large.peak_rss_bytes - small.peak_rss_bytes) / MB
    peak = max(small.peak_rss_bytes, large.peak_rss_bytes) / MB
    clean = all(m.findings == 0 for m in found)
    targets = [
        Target(f"basic_read memory growth, {small.records:,} → {large.records:,} records", f"{growth:+.1f} MB",
               f"< {MAX_MEMORY_GROWTH_MB:g} MB", growth < MAX_MEMORY_GROWTH_MB),
        Target("basic_read peak RSS", f"{peak:.1f} MB", f"< {MAX_MEMORY_MB:g} MB", peak < MAX_MEMORY_MB),
        Target("basic_read of the generated reads finds nothing", f"{sum(m.findings for m in found)} findings",
               "0", clean),
    ]
    return found, targets
