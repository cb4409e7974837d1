"""A stdlib Airbyte source that reads notes over HTTP from `base_url`: the example whose acceptance hooks
(integration_tests/acceptance.py) start the local service it reads from."""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

SPEC = {
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["base_url"],
        "additionalProperties": True,
        "properties": {"base_url": {"type": "string", "title": "Base URL", "order": 0}},
    }
}
NOTES = {
    "name": "notes",
    "json_schema": {
        "type": "object",
        "additionalProperties": True,
        "properties": {"id": {"type": "integer"}, "text": {"type": "string"}},
    },
    "supported_sync_modes": ["full_refresh"],
    "source_defined_primary_key": [["id"]],
}


def emit(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


def fetch(base_url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base_url.rstrip('/')}/{path}", timeout=10) as response:
        return json.load(response)


def status(stream: str, value: str) -> None:
    emit({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": time.time() * 1000,
                                     "stream_status": {"stream_descriptor": {"name": stream}, "status": value}}})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="http-source")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("spec")
    for name in ("check", "discover", "read"):
        command = sub.add_parser(name)
        command.add_argument("--config", required=True)
        if name == "read":
            command.add_argument("--catalog", required=True)
            command.add_argument("--state")
    args = parser.parse_args(argv)
    if args.command == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return 0
    with open(args.config) as handle:
        config = json.load(handle)
    if args.command == "discover":
        emit({"type": "CATALOG", "catalog": {"streams": [NOTES]}})
        return 0
    try:
        if args.command == "check":
            fetch(config["base_url"], "health.json")
            emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
            return 0
        with open(args.catalog) as handle:
            catalog = json.load(handle)
        names = [s["stream"]["name"] for s in catalog.get("streams", [])]
        if names != ["notes"] or catalog["streams"][0].get("sync_mode") != "full_refresh":
            raise ValueError(f"unsupported catalog: streams {names}")
        status("notes", "STARTED")
        status("notes", "RUNNING")
        notes = fetch(config["base_url"], "notes.json")
        for note in notes:
            emit({"type": "RECORD", "record": {"stream": "notes", "data": note, "emitted_at": int(time.time() * 1000)}})
        emit({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "notes"},
              "stream_state": {"__ab_no_cursor_state_message": True}}, "sourceStats": {"recordCount": len(notes)}}})
        status("notes", "COMPLETE")
        return 0
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        if args.command == "check":
            emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": str(error)}})
            return 0
        emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": time.time() * 1000,
                                         "error": {"message": str(error), "failure_type": "system_error"}}})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
