"""The files the paths read, generated in the work dir and reused: a recorded `read` of the real source-faker (its
discovered streams, full refresh) and the synthetic wide-schema file."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acceptance.config.connector import Connector
from acceptance.protocol import catalog as catalogs
from acceptance.runner import LocalRunner
from acceptance.runner.base import discover
from acceptance.runner.command import VENV_DIR, BuildRecord, resolve_command
from tasks.bench.process import CHILD_TIMEOUT_SECONDS, REPO, BenchError, Say
from tasks.bench.wide import WIDE_COLUMNS, WIDE_FORMAT_VERSION, WIDE_SEED, wide_catalog, write_wide_file

FAKER = REPO / "connectors" / "source-faker"
FAKER_CONFIG = {"seed": 42, "records_per_slice": 1000, "parallelism": 1, "always_updated": False}


@dataclass
class BenchInput:
    name: str
    data_file: Path
    catalog_file: Path
    lines: int
    invalid_lines: list[int] | None = None  # known for the synthetic file

    def injected_invalid(self, limit: int) -> int | None:
        if self.invalid_lines is None:
            return None
        return sum(1 for number in self.invalid_lines if limit <= 0 or number < limit)


def faker_input(work_dir: Path, count: int, say: Say, *, build: bool = True) -> BenchInput | None:
    """source-faker's `read` output for `count`, recorded once per count and faker version; None when its
    virtualenv is missing and `build` is off."""
    record = BuildRecord.read(FAKER / VENV_DIR)
    if record is None:
        if not build:
            return None
        from tasks.builder.virtualenv import build_virtualenv

        record = build_virtualenv(Connector.read(FAKER), say=say)
    stem = f"faker-{record.version}-count{count}-seed{FAKER_CONFIG['seed']}"
    data_file, catalog_file = work_dir / f"{stem}.jsonl", work_dir / f"{stem}.catalog.json"
    if not (data_file.is_file() and catalog_file.is_file()):
        argv = resolve_command(Connector.read(FAKER)).argv
        _record_faker(argv, {"count": count, **FAKER_CONFIG}, data_file, catalog_file, say)
    else:
        say(f"bench: reusing {data_file}")
    return BenchInput(f"source-faker {record.version} (count {count:,})", data_file, catalog_file,
                      _line_count(data_file))


def _record_faker(argv: list[str], config: dict[str, Any], data_file: Path, catalog_file: Path, say: Say) -> None:
    runner = LocalRunner(argv, cwd=FAKER)
    discovered = discover(runner, config, timeout=300)
    found = discovered.of_type("CATALOG")
    if not discovered.succeeded or not found:
        raise BenchError(discovered.describe_failure())
    catalog = catalogs.configured_from_discovered(found[0]["catalog"], sync_mode=catalogs.FULL_REFRESH)
    inputs = data_file.parent / f"{data_file.stem}.inputs"
    inputs.mkdir(exist_ok=True)
    (inputs / "config.json").write_text(json.dumps(config))
    (inputs / "catalog.json").write_text(json.dumps(catalog))
    say(f"bench: recording `source-faker read` with {json.dumps(config)} (~{config['count'] * 2.1 / 5500:.0f}s)")
    partial = data_file.with_suffix(".partial")
    with partial.open("wb") as out:
        done = subprocess.run(
            [*argv, "read", "--config", str(inputs / "config.json"), "--catalog", str(inputs / "catalog.json")],
            cwd=FAKER, stdout=out, stderr=subprocess.PIPE, timeout=CHILD_TIMEOUT_SECONDS, check=False)
    if done.returncode != 0:
        raise BenchError(f"source-faker read failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}")
    catalog_file.write_text(json.dumps(catalog))
    partial.replace(data_file)  # only a complete recording is ever reused


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def wide_input(work_dir: Path, records: int, say: Say) -> BenchInput:
    stem = f"wide-v{WIDE_FORMAT_VERSION}-{records}-seed{WIDE_SEED}"
    data_file, catalog_file = work_dir / f"{stem}.jsonl", work_dir / f"{stem}.catalog.json"
    invalid_file = work_dir / f"{stem}.invalid.json"
    if not (data_file.is_file() and invalid_file.is_file()):
        say(f"bench: generating {records:,} synthetic records with {WIDE_COLUMNS} columns")
        partial = data_file.with_suffix(".partial")
        invalid_lines = write_wide_file(partial, records)
        partial.replace(data_file)
        invalid_file.write_text(json.dumps(invalid_lines))
    else:
        say(f"bench: reusing {data_file}")
    catalog_file.write_text(json.dumps(wide_catalog()))
    return BenchInput(f"synthetic wide ({WIDE_COLUMNS} columns)", data_file, catalog_file, _line_count(data_file),
                      json.loads(invalid_file.read_text()))
