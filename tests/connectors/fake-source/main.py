"""A small Airbyte source in plain Python, for this project's own tests.

It behaves well by default. `FAKE_SOURCE_MUTATION` (comma-separated names from MUTATIONS) breaks it in exactly
one way each, so every acceptance check can be shown to pass on the good connector and fail on its mutant.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import sys
import time
from typing import Any

MUTATIONS = {
    # spec
    "spec_missing", "spec_twice", "spec_invalid_schema", "config_mismatch", "spec_changed", "enum_duplicate",
    "oneof_without_const", "secret_unmarked", "type_list_without_null", "object_empty", "array_items_list",
    "forbidden_keyword", "order_duplicate", "group_nested", "display_type_invalid", "ref_in_spec",
    "oauth_path_missing", "oauth_not_default", "spec_additional_properties_false",
    # connection
    "check_always_fails", "check_always_succeeds", "crash_without_trace",
    # discovery
    "catalog_missing", "catalog_twice", "no_streams", "duplicate_stream", "invalid_stream_schema",
    "cursor_not_in_schema", "ref_in_schema", "allof_in_schema", "not_in_schema", "primary_key_not_in_schema",
    "primary_key_object", "no_sync_modes", "schema_additional_properties_false",
    # connector_attributes
    "no_primary_key",
    # basic_read
    "no_records", "empty_stream", "type_violation", "format_violation", "extra_column", "primary_key_null",
    "data_point_missing", "no_stream_status", "incomplete_status", "no_states", "legacy_state",
    "crash_without_trace_on_bad_catalog", "record_value_changed", "record_missing", "file_based",
    "file_based_csv_only", "record_envelope_broken",
    # full_refresh
    "nondeterministic_values", "emitted_at_constant",
    # incremental
    "ignores_state", "slices_lose_records",
    # backward compatibility (against the unmutated source as the previous release)
    "spec_new_required_field", "spec_maximum_lowered", "spec_optional_field_added", "catalog_field_type_changed",
    "catalog_stream_added",
    # behaviour
    "hang", "print_secret", "secret_in_record",
}

BASE_DATE = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
PRODUCTS = [
    {"code": "apple", "price": 1.5},
    {"code": "banana", "price": 0.25},
    {"code": "cherry", "price": None},
]
USERS_PER_STATE = 2

SPEC: dict[str, Any] = {
    "documentationUrl": "https://example.invalid/fake-source",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Fake Source Spec",
        "type": "object",
        "required": ["credentials"],
        "additionalProperties": True,
        "properties": {
            "credentials": {
                "title": "Authentication",
                "type": "object",
                "order": 0,
                "display_type": "radio",
                "oneOf": [
                    {
                        "title": "OAuth2.0",
                        "type": "object",
                        "required": ["auth_type", "client_id", "client_secret", "refresh_token"],
                        "properties": {
                            "auth_type": {"type": "string", "const": "oauth2.0", "default": "oauth2.0"},
                            "client_id": {"type": "string", "title": "Client ID"},
                            "client_secret": {"type": "string", "airbyte_secret": True},
                            "refresh_token": {"type": "string", "airbyte_secret": True},
                        },
                    },
                    {
                        "title": "API Token",
                        "type": "object",
                        "required": ["auth_type", "api_token"],
                        "properties": {
                            "auth_type": {"type": "string", "const": "token", "enum": ["token"]},
                            "api_token": {"type": "string", "airbyte_secret": True},
                        },
                    },
                ],
            },
            "count": {"type": "integer", "minimum": 1, "default": 5, "order": 1, "group": "data"},
            "region": {"type": "string", "enum": ["eu", "us"], "default": "eu", "order": 2, "group": "data"},
            "start_date": {"type": "string", "format": "date", "pattern": "^[0-9]{2}-[0-9]{2}-[0-9]{4}$", "order": 3},
            "tags": {"type": "array", "items": {"type": "string"}, "order": 4},
            "crash": {"type": "boolean", "default": False, "order": 5},
        },
    },
    "advanced_auth": {
        "auth_flow_type": "oauth2.0",
        "predicate_key": ["credentials", "auth_type"],
        "predicate_value": "oauth2.0",
        "oauth_config_specification": {
            "complete_oauth_output_specification": {
                "type": "object",
                "properties": {"refresh_token": {"type": "string", "path_in_connector_config": ["credentials",
                                                                                                 "refresh_token"]}},
            },
            "complete_oauth_server_output_specification": {
                "type": "object",
                "properties": {
                    "client_id": {"type": "string", "path_in_connector_config": ["credentials", "client_id"]},
                    "client_secret": {"type": "string", "path_in_connector_config": ["credentials", "client_secret"]},
                },
            },
        },
    },
}

STREAMS: list[dict[str, Any]] = [
    {
        "name": "users",
        "json_schema": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": ["null", "string"]},
                "address": {"type": ["null", "object"], "properties": {"city": {"type": ["null", "string"]}}},
                "updated_at": {"type": "string", "format": "date-time"},
            },
        },
        "supported_sync_modes": ["full_refresh", "incremental"],
        "source_defined_cursor": True,
        "default_cursor_field": ["updated_at"],
        "source_defined_primary_key": [["id"]],
    },
    {
        "name": "products",
        "json_schema": {
            "type": "object",
            "properties": {"code": {"type": ["null", "string"]}, "price": {"type": ["null", "number"]}},
        },
        "supported_sync_modes": ["full_refresh"],
        "source_defined_primary_key": [["code"]],
    },
]


def user(index: int, active: set[str]) -> dict[str, Any]:
    updated = BASE_DATE + datetime.timedelta(days=index)
    record: dict[str, Any] = {
        "id": index,
        "name": f"user-{index}",
        "address": None if "data_point_missing" in active else {"city": ["Lyon", "Oslo", "Lima"][index % 3]},
        "updated_at": updated.isoformat().replace("+00:00", "Z"),
    }
    if "type_violation" in active and index == 2:
        record["id"] = str(index)
    if "format_violation" in active and index == 2:
        record["updated_at"] = "yesterday"
    if "extra_column" in active:
        record["internal_note"] = "not in the schema"
    if "file_based" in active:  # a file-based source: which file each record came from
        extensions = [".avro", ".csv", ".jsonl", ".parquet", ".pdf"]
        extension = ".csv" if "file_based_csv_only" in active else extensions[index % len(extensions)]
        record["_ab_source_file_url"] = f"s3://bucket/data/part-{index}{extension}"
    return record


def product_records(active: set[str]) -> list[dict[str, Any]]:
    products = [dict(p) for p in PRODUCTS]
    if "primary_key_null" in active:
        products[1]["code"] = None
    if "record_value_changed" in active:
        products[0]["price"] = 9.99
    if "record_missing" in active:
        del products[2]
    if "nondeterministic_values" in active:
        products[1]["price"] = round(time.time() % 1000, 6)
    return products


def state_cursor(state: Any, stream: str) -> str | None:
    """The `updated_at` this connector stored for `stream` in a per-stream (or legacy) state input."""
    if isinstance(state, list):
        for entry in state:
            blob = entry.get("stream") or {}
            if (blob.get("stream_descriptor") or {}).get("name") == stream:
                return (blob.get("stream_state") or {}).get("updated_at")
    if isinstance(state, dict):
        return (state.get(stream) or {}).get("updated_at")
    return None


def read(config: dict[str, Any], catalog: dict[str, Any], state: Any, active: set[str]) -> int:
    known = {stream["name"] for stream in STREAMS}
    configured = catalog.get("streams") or []
    for entry in configured:
        name = (entry.get("stream") or {}).get("name")
        if name not in known or entry.get("sync_mode") not in ("full_refresh", "incremental"):
            if "crash_without_trace_on_bad_catalog" in active:
                raise KeyError(name)
            trace_error(f"stream {name!r} cannot be read with sync mode {entry.get('sync_mode')!r}", "config_error")
            return 1
    count = int(config.get("count", 5))
    pending_states: list[dict[str, Any]] = []
    for entry in configured:
        name = entry["stream"]["name"]
        incremental = entry.get("sync_mode") == "incremental"
        status(name, "STARTED", active)
        status(name, "RUNNING", active)
        emitted = 0
        if name == "users":
            cursor = state_cursor(state, "users") if incremental else None
            for index in range(count):
                record = user(index, active)
                if cursor and record["updated_at"] < cursor and "ignores_state" not in active:
                    continue
                if cursor and "slices_lose_records" in active and index >= count - 2:
                    continue  # resumed from a checkpoint, it forgets the last two records
                if "secret_in_record" in active and index == 1:  # e.g. an API echoing the request's token
                    record["name"] = f"token {config.get('credentials', {}).get('api_token')}"
                if "no_records" not in active:
                    emit_record(name, record, active)
                    emitted += 1
                if incremental and emitted and emitted % USERS_PER_STATE == 0:
                    emit_state(name, {"updated_at": record["updated_at"]}, USERS_PER_STATE, active)
            last = user(count - 1, active)["updated_at"]
            final = {"updated_at": max(last, cursor or last)} if incremental else {"__ab_no_cursor_state_message": True}
            emit_state(name, final, emitted % USERS_PER_STATE if incremental else emitted, active)
            pending_states.append({"name": name, "state": final})  # repeated after COMPLETE, like the concurrent CDK
        else:
            if "empty_stream" not in active and "no_records" not in active:
                for product in product_records(active):
                    emit_record(name, product, active)
                    emitted += 1
            pending_states.append({"name": name, "state": {"__ab_no_cursor_state_message": True}, "count": emitted})
        status(name, "INCOMPLETE" if "incomplete_status" in active and name == "users" else "COMPLETE", active)
    for pending in pending_states:  # real CDKs emit final states after the stream's COMPLETE
        emit_state(pending["name"], pending["state"], pending.get("count", 0), active)
    return 0


def emit_record(stream: str, data: dict[str, Any], active: set[str]) -> None:
    emitted_at: Any = 1700000000000 if "emitted_at_constant" in active else int(time.time() * 1000)
    record = {"stream": stream, "data": data, "emitted_at": emitted_at}
    if "record_envelope_broken" in active and stream == "users" and data.get("id") in (1, 2):
        if data["id"] == 1:
            record["emitted_at"] = str(emitted_at)  # an ISO-ish timestamp where the protocol wants milliseconds
        else:
            del record["emitted_at"]
    emit({"type": "RECORD", "record": record})


def emit_state(stream: str, blob: dict[str, Any], record_count: int, active: set[str]) -> None:
    if "no_states" in active:
        return
    if "legacy_state" in active:
        emit({"type": "STATE", "state": {"data": {stream: blob}}})
        return
    emit({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream},
                                                                  "stream_state": blob},
                                     "sourceStats": {"recordCount": float(record_count)}}})


def status(stream: str, value: str, active: set[str]) -> None:
    if "no_stream_status" in active:
        return
    emit({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": time.time() * 1000,  # float, like CDKs
                                     "stream_status": {"stream_descriptor": {"name": stream}, "status": value}}})


def mutations() -> set[str]:
    chosen = {m for m in os.environ.get("FAKE_SOURCE_MUTATION", "").split(",") if m}
    unknown = chosen - MUTATIONS
    if unknown:
        sys.exit(f"unknown FAKE_SOURCE_MUTATION: {sorted(unknown)}")
    return chosen


def emit(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


def log(text: str, level: str = "INFO") -> None:
    emit({"type": "LOG", "log": {"level": level, "message": text}})


def trace_error(text: str, failure_type: str = "config_error") -> None:
    emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": time.time() * 1000,
                                     "error": {"message": text, "failure_type": failure_type}}})


def spec_for(active: set[str]) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    schema = spec["connectionSpecification"]
    props = schema["properties"]
    oauth, token = props["credentials"]["oneOf"]
    if "spec_invalid_schema" in active:
        props["count"]["type"] = "integr"
    if "config_mismatch" in active:
        props["count"]["type"] = "string"
    if "spec_changed" in active:
        schema["title"] = "Fake Source Spec v2"
    if "enum_duplicate" in active:
        props["region"]["enum"] = ["eu", "us", "eu"]
    if "oneof_without_const" in active:
        del token["properties"]["auth_type"]["const"]
    if "secret_unmarked" in active:
        del token["properties"]["api_token"]["airbyte_secret"]
    if "type_list_without_null" in active:
        props["region"]["type"] = ["string", "integer"]
    if "object_empty" in active:
        props["options"] = {"type": "object", "order": 6}
    if "array_items_list" in active:
        props["tags"]["items"] = [{"type": "string"}]
    if "forbidden_keyword" in active:
        props["labels"] = {"type": "object", "order": 6, "properties": {"a": {"type": "string"}},
                           "patternProperties": {"^x": {"type": "string"}}}
    if "order_duplicate" in active:
        props["region"]["order"] = 1
    if "group_nested" in active:
        oauth["properties"]["client_id"]["group"] = "auth"
    if "display_type_invalid" in active:
        props["credentials"]["display_type"] = "select"
    if "ref_in_spec" in active:
        schema["definitions"] = {"day": {"type": "string"}}
        props["start_date"] = {"$ref": "#/definitions/day", "order": 3}
    if "oauth_path_missing" in active:
        spec["advanced_auth"]["oauth_config_specification"]["complete_oauth_output_specification"]["properties"][
            "refresh_token"]["path_in_connector_config"] = ["credentials", "oauth_refresh_token"]
    if "oauth_not_default" in active:
        props["credentials"]["oneOf"] = [token, oauth]
    if "spec_additional_properties_false" in active:
        schema["additionalProperties"] = False
    if "spec_new_required_field" in active:
        props["workspace"] = {"type": "string", "order": 7}
        schema["required"] = [*schema["required"], "workspace"]
    if "spec_maximum_lowered" in active:
        props["count"]["maximum"] = 3  # configs with count 4…: only generated examples see it
    if "spec_optional_field_added" in active:
        props["page_size"] = {"type": "integer", "minimum": 1, "order": 7}
    return spec


def streams_for(active: set[str]) -> list[dict[str, Any]]:
    streams = copy.deepcopy(STREAMS)
    users, products = streams
    if "no_streams" in active:
        return []
    if "duplicate_stream" in active:
        streams.append(copy.deepcopy(products))
    if "invalid_stream_schema" in active:
        products["json_schema"]["properties"]["price"]["type"] = "numbr"
    if "cursor_not_in_schema" in active:
        users["default_cursor_field"] = ["modified_at"]
    if "ref_in_schema" in active:
        products["json_schema"]["definitions"] = {"money": {"type": "number"}}
        products["json_schema"]["properties"]["price"] = {"$ref": "#/definitions/money"}
    if "allof_in_schema" in active:
        products["json_schema"]["properties"]["code"] = {"allOf": [{"type": "string"}, {"minLength": 1}]}
    if "not_in_schema" in active:
        products["json_schema"]["properties"]["code"] = {"type": "string", "not": {"const": ""}}
    if "primary_key_not_in_schema" in active:
        products["source_defined_primary_key"] = [["sku"]]
    if "primary_key_object" in active:
        products["json_schema"]["properties"]["code"] = {"type": "object", "properties": {"v": {"type": "string"}}}
    if "no_sync_modes" in active:
        products["supported_sync_modes"] = []
    if "no_primary_key" in active:
        del products["source_defined_primary_key"]
    if "schema_additional_properties_false" in active:
        users["json_schema"]["additionalProperties"] = False
    if "catalog_field_type_changed" in active:
        products["json_schema"]["properties"]["price"]["type"] = ["null", "string"]
    if "catalog_stream_added" in active:
        extra = copy.deepcopy(products)
        extra["name"] = "orders"
        streams.append(extra)
    return streams


def read_json(path: str) -> Any:
    with open(path) as handle:
        return json.load(handle)


read_config = read_json


def config_problem(config: dict[str, Any]) -> str | None:
    count = config.get("count", 5)
    if not isinstance(count, int) or count < 1:
        return f"Config validation error: count must be an integer >= 1, got {count!r}"
    if not isinstance(config.get("credentials"), dict):
        return "Config validation error: 'credentials' is a required property"
    return None


def main(argv: list[str]) -> int:
    active = mutations()
    parser = argparse.ArgumentParser(prog="fake-source")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("spec")
    for name in ("check", "discover", "read"):
        command = sub.add_parser(name)
        command.add_argument("--config", required=True)
        if name == "read":
            command.add_argument("--catalog", required=True)
            command.add_argument("--state")
    args = parser.parse_args(argv)
    if os.environ.get("FAKE_SOURCE_PIDFILE"):  # lets tests prove a killed connector left nothing running
        with open(os.environ["FAKE_SOURCE_PIDFILE"], "a") as handle:
            handle.write(f"{os.getpid()}\n")
    log("fake-source starting")  # real CDKs log before the first protocol message too
    print("plain text on stdout is not a protocol message", flush=True)
    if "hang" in active and args.command != "spec":  # answers spec, then hangs like a connector in backoff
        time.sleep(3600)

    if args.command == "spec":
        if "spec_missing" not in active:
            emit({"type": "SPEC", "spec": spec_for(active)})
            if "spec_twice" in active:
                emit({"type": "SPEC", "spec": spec_for(active)})
        return 0

    config = read_config(args.config)
    if "print_secret" in active:  # a careless connector: the secret in its logs, stderr and failure message
        log(f"using credentials {json.dumps(config.get('credentials'))}")
        print(f"token={config.get('credentials', {}).get('api_token')}", file=sys.stderr)
    if config.get("crash"):
        if "crash_without_trace" in active:
            raise RuntimeError("the upstream API is unreachable")
        trace_error("The upstream API is unreachable", "system_error")
        return 1

    if args.command == "check":
        problem = config_problem(config)
        if "check_always_fails" in active:
            problem = "Unable to connect: invalid credentials"
            if "print_secret" in active:
                problem += f" {config.get('credentials', {}).get('api_token')}"
        if "check_always_succeeds" in active:
            problem = None
        status = {"status": "FAILED", "message": problem} if problem else {"status": "SUCCEEDED"}
        emit({"type": "CONNECTION_STATUS", "connectionStatus": status})
        return 0

    problem = config_problem(config)
    if problem:
        log(problem, "FATAL")
        trace_error(problem)
        return 1
    if args.command == "discover":
        if "catalog_missing" not in active:
            catalog = {"type": "CATALOG", "catalog": {"streams": streams_for(active)}}
            emit(catalog)
            if "catalog_twice" in active:
                emit(catalog)
        return 0
    return read(config, read_json(args.catalog), read_json(args.state) if args.state else None, active)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
