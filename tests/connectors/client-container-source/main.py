"""A stdlib source whose records come from a JSON file its config names: a client container's setup makes both.

One stream, `items` (`id`, `name`), full refresh and incremental on `id`. The file is a JSON list of records;
`records_path` is relative to the folder the connector runs in (its own, for the local backend).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

STREAM = "items"
SPEC = {
    "documentationUrl": "https://example.invalid/client-container-source",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Client Container Source Spec",
        "type": "object",
        "required": ["records_path"],
        "additionalProperties": True,
        "properties": {
            "records_path": {"type": "string", "title": "Records file", "description": "A JSON list of records",
                             "order": 0},
        },
    },
}
SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}},
}


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")


def log(text: str, level: str = "INFO") -> None:
    emit({"type": "LOG", "log": {"level": level, "message": text}})


def load(path: str) -> Any:
    with open(path) as handle:
        return json.load(handle)


def records(config: dict[str, Any]) -> list[dict[str, Any]]:
    return load(config["records_path"])


def check(config: dict[str, Any]) -> None:
    try:
        found = records(config)
        status = {"status": "SUCCEEDED"} if isinstance(found, list) else {"status": "FAILED", "message": "not a list"}
    except (OSError, ValueError, KeyError) as error:
        status = {"status": "FAILED", "message": f"cannot read the records: {error}"}
    emit({"type": "CONNECTION_STATUS", "connectionStatus": status})


def discover() -> None:
    stream = {"name": STREAM, "json_schema": SCHEMA, "supported_sync_modes": ["full_refresh", "incremental"],
              "source_defined_cursor": True, "default_cursor_field": ["id"], "source_defined_primary_key": [["id"]]}
    emit({"type": "CATALOG", "catalog": {"streams": [stream]}})


def cursor_from(state: Any) -> int | None:
    for entry in state if isinstance(state, list) else []:
        stream = entry.get("stream") or {}
        if (stream.get("stream_descriptor") or {}).get("name") == STREAM:
            return (stream.get("stream_state") or {}).get("id")
    return None


def read(config: dict[str, Any], catalog: dict[str, Any], state: Any) -> None:
    if not any(c["stream"]["name"] == STREAM for c in catalog.get("streams", [])):
        error = {"message": "no known stream configured", "failure_type": "config_error"}
        emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": time.time() * 1000, "error": error}})
        sys.exit(1)
    after = cursor_from(state)
    latest, count = after, 0
    for data in records(config):
        if after is not None and data["id"] <= after:
            continue
        emit({"type": "RECORD", "record": {"stream": STREAM, "data": data, "emitted_at": int(time.time() * 1000)}})
        latest = data["id"] if latest is None else max(latest, data["id"])
        count += 1
    stream_state = {"id": latest} if latest is not None else {}
    emit({"type": "STATE", "state": {"type": "STREAM", "sourceStats": {"recordCount": float(count)},
                                     "stream": {"stream_descriptor": {"name": STREAM}, "stream_state": stream_state}}})


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("spec")
    for name in ("check", "discover", "read"):
        command = sub.add_parser(name)
        command.add_argument("--config", required=True)
        if name == "read":
            command.add_argument("--catalog", required=True)
            command.add_argument("--state")
    args = parser.parse_args()
    if args.command == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return
    config = load(args.config)
    if args.command == "check":
        check(config)
    elif args.command == "discover":
        discover()
    else:
        read(config, load(args.catalog), load(args.state) if args.state else None)


if __name__ == "__main__":
    main()
