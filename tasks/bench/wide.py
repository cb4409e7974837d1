"""The synthetic wide-schema stream: 100 columns of every kind, statuses and states, and a few deliberately invalid
records (one defect each, in turn); the same arguments give the same messages."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

WIDE_STREAM = "wide"
WIDE_SEED = 42
WIDE_FORMAT_VERSION = 1  # part of the synthetic file's name: bump when the generator changes
INVALID_EVERY = 1000  # one deliberately invalid record per this many synthetic records (0.1%)

_DATE_TIME = {"type": "string", "format": "date-time"}
_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "string": {"type": "string"},
    "nullable_string": {"type": ["null", "string"]},
    "date_time": _DATE_TIME,
    "date": {"type": "string", "format": "date"},
    "email": {"type": "string", "format": "email"},
    "boolean": {"type": "boolean"},
    "nullable_integer": {"type": ["null", "integer"]},
    "object": {"type": ["null", "object"], "properties": {
        "street": {"type": "string"}, "zip": {"type": ["null", "string"]},
        "geo": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}}}},
    "int_array": {"type": ["null", "array"], "items": {"type": "integer"}},
    "object_array": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string"}, "qty": {"type": "integer"}, "at": _DATE_TIME}}},
}
WIDE_COLUMNS = 100
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo")
_DOMAINS = ("example.com", "mail.example.org", "corp.example.net")
# Each breaks a rule both paths enforce (strict or not about integers): type, format, nesting, arrays, columns,
# the record envelope.
DEFECTS = ("wrong_type", "bad_date_time", "bad_email", "nested_wrong_type", "array_item_wrong_type",
           "undeclared_column", "bad_date", "missing_emitted_at")


def wide_columns() -> list[tuple[str, str]]:
    """(column, kind): `id` then the kinds in turn, 100 columns in all."""
    kinds = list(_KIND_SCHEMAS)
    return [("id", "integer")] + [(f"{kinds[i % len(kinds)]}_{i:02d}", kinds[i % len(kinds)])
                                  for i in range(WIDE_COLUMNS - 1)]


def wide_catalog() -> dict[str, Any]:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": ["id"],
              "properties": {name: _KIND_SCHEMAS[kind] for name, kind in wide_columns()}}
    stream = {"name": WIDE_STREAM, "json_schema": schema, "supported_sync_modes": ["full_refresh"],
              "source_defined_primary_key": [["id"]]}
    return {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "append",
                         "primary_key": [["id"]]}]}


def _date_time(rng: random.Random) -> str:
    zone = rng.choice(("Z", "+00:00", "+02:00", "-05:30"))
    return (f"20{rng.randrange(10, 25)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}"
            f":{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1_000_000):06d}{zone}")


def _value(kind: str, rng: random.Random, index: int) -> Any:
    if kind in ("nullable_string", "nullable_integer", "object", "int_array") and rng.random() < 0.2:
        return None
    if kind in ("integer", "nullable_integer"):
        return rng.randrange(-(10**9), 10**9)
    if kind == "number":
        return round(rng.uniform(-1e6, 1e6), 4)
    if kind in ("string", "nullable_string"):
        return f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {index}"
    if kind == "date_time":
        return _date_time(rng)
    if kind == "date":
        return f"20{rng.randrange(10, 25)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    if kind == "email":
        return f"{rng.choice(_WORDS)}.{index}@{rng.choice(_DOMAINS)}"
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "object":
        return {"street": f"{rng.randrange(1, 200)} {rng.choice(_WORDS)} street",
                "zip": None if rng.random() < 0.3 else f"{rng.randrange(100000):05d}",
                "geo": {"lat": round(rng.uniform(-90, 90), 6), "lon": round(rng.uniform(-180, 180), 6)}}
    if kind == "int_array":
        return [rng.randrange(1000) for _ in range(rng.randrange(6))]
    return [{"sku": f"SKU-{rng.randrange(10**6):06d}", "qty": rng.randrange(1, 10), "at": _date_time(rng)}
            for _ in range(rng.randrange(4))]


def _break(record: dict[str, Any], defect: str, first_of: dict[str, str]) -> None:
    """Make a valid record invalid in the given way."""
    data = record["data"]
    if defect == "wrong_type":
        data[first_of["integer"]] = "12"
    elif defect == "bad_date_time":
        data[first_of["date_time"]] = "2024-02-30T10:00:00Z"
    elif defect == "bad_email":
        data[first_of["email"]] = "no-at-sign.example.com"
    elif defect == "nested_wrong_type":
        data[first_of["object"]] = {"street": "1 main street", "zip": None, "geo": {"lat": "north", "lon": 2.35}}
    elif defect == "array_item_wrong_type":
        data[first_of["int_array"]] = [1, "two", 3]
    elif defect == "undeclared_column":
        data["undeclared_column"] = 1
    elif defect == "bad_date":
        data[first_of["date"]] = "2023-13-01"
    else:
        del record["emitted_at"]


def wide_messages(records: int, *, seed: int = WIDE_SEED, invalid_every: int = INVALID_EVERY
                  ) -> Iterator[tuple[dict[str, Any], bool]]:
    """The synthetic read, message by message with whether it was made invalid: statuses, records with a STATE
    per 1,000, one invalid record per `invalid_every` (the defects in turn). Same arguments, same messages."""
    rng = random.Random(seed)
    columns = wide_columns()
    first_of: dict[str, str] = {}
    for name, kind in columns[1:]:
        first_of.setdefault(kind, name)
    yield _status("STARTED"), False
    yield _status("RUNNING"), False
    broken = 0
    for index in range(records):
        data = {"id": index, **{name: _value(kind, rng, index) for name, kind in columns[1:]}}
        record = {"stream": WIDE_STREAM, "data": data, "emitted_at": 1_700_000_000_000 + index}
        invalid = invalid_every > 0 and index % invalid_every == invalid_every // 2
        if invalid:
            _break(record, DEFECTS[broken % len(DEFECTS)], first_of)
            broken += 1
        yield {"type": "RECORD", "record": record}, invalid
        if (index + 1) % 1000 == 0:
            yield _state(index + 1, 1000), False
    yield _state(records, records % 1000), False
    yield _status("COMPLETE"), False


def _status(status: str) -> dict[str, Any]:
    return {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1.0, "stream_status": {
        "stream_descriptor": {"name": WIDE_STREAM}, "status": status}}}


def _state(position: int, records: int) -> dict[str, Any]:
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": WIDE_STREAM}, "stream_state": {"position": position}},
        "sourceStats": {"recordCount": float(records)}}}


def write_wide_file(path: Path, records: int, *, seed: int = WIDE_SEED, invalid_every: int = INVALID_EVERY
                    ) -> list[int]:
    """Write the synthetic read as JSON lines; return the 0-based line numbers of the invalid records."""
    invalid_lines: list[int] = []
    with path.open("wb") as out:
        for number, (message, invalid) in enumerate(wide_messages(records, seed=seed, invalid_every=invalid_every)):
            out.write(orjson.dumps(message) + b"\n")
            if invalid:
                invalid_lines.append(number)
    return invalid_lines
