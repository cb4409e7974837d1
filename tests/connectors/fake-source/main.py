"""A small Airbyte source in plain Python, for this project's own tests.

It behaves well by default. `FAKE_SOURCE_MUTATION` (comma-separated names from MUTATIONS) breaks it in exactly
one way each, so every acceptance check can be shown to pass on the good connector and fail on its mutant.
"""

from __future__ import annotations

import argparse
import copy
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
    # behaviour
    "hang", "print_secret",
}

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
            "properties": {"code": {"type": "string"}, "price": {"type": ["null", "number"]}},
        },
        "supported_sync_modes": ["full_refresh"],
        "source_defined_primary_key": [["code"]],
    },
]


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
    if "schema_additional_properties_false" in active:
        users["json_schema"]["additionalProperties"] = False
    return streams


def read_config(path: str) -> dict[str, Any]:
    with open(path) as handle:
        return json.load(handle)


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
    trace_error("read is not implemented yet", "system_error")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
