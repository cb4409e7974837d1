"""`nox -s update_expected_records -- <connector>`: regenerate each basic_read entry's `expect_records.path` from a
read, so authors stop maintaining the file by hand.

The read is the one test_expected_records compares with (same config, same catalog: discovered streams minus the
entry's empty streams, or its configured catalog at low strictness). Written stable, so a diff shows real changes:
records sorted by stream, then primary key (else the whole record); the entry's `ignored_fields` left out (they
change from read to read and are never compared); a fixed `emitted_at`; every config secret masked.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acceptance import registry
from acceptance.config.connector import Connector
from acceptance.config.models import ignored_field_paths
from acceptance.context import AcceptanceContext, PreviousOptions
from acceptance.errors import UserError
from acceptance.files import write_atomically
from acceptance.protocol import catalog as catalogs
from acceptance.protocol.messages import dumps, record_of
from acceptance.protocol.records import primary_key_value, remove_fields
from tasks.acceptance import parse_args as parse_acceptance_args
from tasks.comparison import ComparisonArgs, open_context

Say = Callable[[str], None]
FIXED_EMITTED_AT = 1700000000000  # expected records are compared without it: a constant keeps diffs quiet


def parse_args(posargs: list[str]) -> tuple[ComparisonArgs, int | None]:
    """The acceptance arguments plus `--per-stream N` (keep at most N records of each stream)."""
    parser = argparse.ArgumentParser(prog="update_expected_records", add_help=False, allow_abbrev=False)
    parser.add_argument("--per-stream", type=int, default=None)
    known, rest = parser.parse_known_args(posargs)
    if known.per_stream is not None and known.per_stream < 1:
        raise UserError("update_expected_records: --per-stream must be at least 1")
    run = parse_acceptance_args(rest, prog="update_expected_records")
    if run.pytest_args:
        raise UserError(f"update_expected_records: unknown arguments {' '.join(run.pytest_args)} (expected a "
                        "connector, --per-stream, --backend, --connector-command, --no-cache, --cache-dir)")
    return ComparisonArgs(run, PreviousOptions(), Path("reports")), known.per_stream


def update_expected_records(folder: Path, args: ComparisonArgs, per_stream: int | None = None,
                            say: Say = print) -> list[Path]:
    """Rewrite every basic_read entry's expected-records file; the files written."""
    context = open_context(Connector.read(folder), args, say)
    entries = [e for e in context.loaded.entries("basic_read") if e.expect_records and e.expect_records.path]
    if not entries:
        raise UserError(f"{context.loaded.file}: no basic_read entry has expect_records.path to write")
    written: list[Path] = []
    for entry in entries:
        try:
            written.append(_write_entry(context, entry, per_stream, say))
        except UserError as error:
            raise UserError(context.masker.mask(str(error))) from None
    return written


def _write_entry(context: AcceptanceContext, entry: Any, per_stream: int | None, say: Say) -> Path:
    timeout = registry.get("basic_read").default_timeout
    config = context.load_connector_config(entry, timeout)
    catalog = _catalog(context, entry, config)
    run = context.read_run(config, catalog, timeout)
    if not run.succeeded:
        raise UserError(f"{entry.location}: the read failed, nothing was written:\n{run.describe_failure()}")
    ignored = ignored_field_paths(entry)
    keys = catalogs.primary_keys(catalog)
    by_stream: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = defaultdict(list)
    for message in run.of_type("RECORD"):
        record = record_of(message)
        stream, data = record.get("stream"), record.get("data")
        if not isinstance(stream, str) or not isinstance(data, dict):
            continue
        data = context.masker.mask_data(remove_fields(data, ignored.get(stream, [])))
        key_paths = keys.get(stream)
        order = _sort_key(primary_key_value(data, key_paths) if key_paths else (data,))
        by_stream[stream].append((order, data))
    lines = []
    for stream in sorted(by_stream):
        kept = sorted(by_stream[stream], key=lambda pair: pair[0])[:per_stream]
        lines += [dumps({"stream": stream, "data": data, "emitted_at": FIXED_EMITTED_AT}) for _, data in kept]
    path = context.loaded.resolve(entry.expect_records.path)
    before = _line_count(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, b"\n".join(lines) + (b"\n" if lines else b""))
    counts = ", ".join(f"{name} {min(len(rows), per_stream or len(rows))}" for name, rows in sorted(by_stream.items()))
    say(f"{path}: {len(lines)} records ({counts}); it had {before} lines")
    return path


def _sort_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Numbers in numeric order, then strings, then anything else by its JSON: ids 2 before 10."""
    key: list[tuple[int, Any]] = []
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            key.append((0, value))
        elif isinstance(value, str):
            key.append((1, value))
        else:
            key.append((2, dumps(value, sort_keys=True)))
    return tuple(key)


def _catalog(context: AcceptanceContext, entry: Any, config: Any) -> dict[str, Any]:
    """The catalog test_expected_records reads with (see acceptance/suites/test_basic_read.py)."""
    run = context.discover_run(config, registry.get("discovery").default_timeout)
    found = run.of_type("CATALOG")
    if not run.succeeded or not found:
        raise UserError(f"`discover` failed, nothing was written:\n{run.describe_failure()}")
    return context.basic_read_catalog(entry, found[-1]["catalog"])


def _line_count(path: Path) -> int:
    try:
        return sum(1 for line in path.read_bytes().splitlines() if line.strip())
    except OSError:
        return 0
