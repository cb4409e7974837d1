"""A tiny Airbyte source with one third-party dependency (tabulate, which formats the LOG table `check` prints):
one stream, `numbers`, of `count` records (`id`, `square`), full refresh or incremental on `id`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from tabulate import tabulate

STREAM = "numbers"
CHECKPOINT_EVERY = 2
SPEC = {
    "documentationUrl": "https://example.com/source-python-example",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Python Example Spec",
        "type": "object",
        "required": ["count"],
        "additionalProperties": True,
        "properties": {
            "count": {"type": "integer", "title": "Count", "description": "How many records to emit.",
                      "minimum": 1, "maximum": 1000, "default": 5, "order": 0},
        },
    },
}
SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": True,
    "properties": {"id": {"type": "integer"}, "square": {"type": "integer"}},
}


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def now_ms() -> int:
    return int(time.time() * 1000)


def config_problem(config: Any) -> str | None:
    count = config.get("count") if isinstance(config, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
        return f"count must be an integer between 1 and 1000, got {count!r}"
    return None


def status(value: str) -> None:
    emit({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": now_ms(),
                                      "stream_status": {"stream_descriptor": {"name": STREAM}, "status": value}}})


def cursor_from(state: Any) -> int:
    for message in state if isinstance(state, list) else []:
        stream = (message or {}).get("stream") or {}
        if (stream.get("stream_descriptor") or {}).get("name") == STREAM:
            return int((stream.get("stream_state") or {}).get("id", 0))
    return 0


def error(message: str, failure_type: str) -> int:
    emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": now_ms(), "error": {
        "message": message, "failure_type": failure_type}}})
    return 1


def read(config: dict[str, Any], catalog: dict[str, Any], state: Any) -> int:
    names = [s.get("stream", {}).get("name") for s in catalog.get("streams", [])]
    unknown = [name for name in names if name != STREAM]
    if unknown or not names:
        return error(f"the catalog names no stream of this source: {unknown or names}", "config_error")
    start = cursor_from(state)
    status("STARTED")
    emitted = 0
    since_state = 0
    for index in range(start + 1, config["count"] + 1):
        if emitted == 0:
            status("RUNNING")
        emit({"type": "RECORD", "record": {"stream": STREAM, "data": {"id": index, "square": index * index},
                                           "emitted_at": now_ms()}})
        emitted, since_state = emitted + 1, since_state + 1
        if since_state == CHECKPOINT_EVERY:
            checkpoint(index, since_state)
            since_state = 0
    checkpoint(max(start, config["count"]), since_state)
    status("COMPLETE")
    return 0


def checkpoint(cursor: int, records: int) -> None:
    emit({"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": STREAM}, "stream_state": {"id": cursor}},
        "sourceStats": {"recordCount": float(records)}}})


def load(path: str | None) -> Any:
    if not path:
        return None
    with open(path) as file:
        return json.load(file)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="source-python-example")
    parser.add_argument("command", choices=["spec", "check", "discover", "read"])
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    parser.add_argument("--state")
    args = parser.parse_args(argv)
    if args.command == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return 0
    config = load(args.config)
    problem = config_problem(config)
    if args.command == "check":
        table = tabulate(sorted((config or {}).items()), headers=["setting", "value"])
        emit({"type": "LOG", "log": {"level": "INFO", "message": "configuration:\n" + table}})
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED" if problem else "SUCCEEDED",
                                                                **({"message": problem} if problem else {})}})
        return 0
    if problem:
        return error(problem, "config_error")
    if args.command == "discover":
        emit({"type": "CATALOG", "catalog": {"streams": [{
            "name": STREAM, "json_schema": SCHEMA, "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True, "default_cursor_field": ["id"], "source_defined_primary_key": [["id"]],
        }]}})
        return 0
    return read(config, load(args.catalog) or {}, load(args.state))
