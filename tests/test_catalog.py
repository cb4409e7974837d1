"""Configured catalogs: built from discovery, loaded from a file, narrowed to one sync mode, validated."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from acceptance.protocol.catalog import (
    INVALID_STREAM_NAME,
    CatalogError,
    configured_catalog_problems,
    configured_from_discovered,
    configured_from_file,
    configured_stream,
    invalid_catalog_for_trace_test,
    only_supporting,
    primary_keys,
    schemas,
    stream_names,
)

SCHEMA: dict[str, Any] = {"type": "object", "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string"}}}


def stream(name: str, *modes: str, **extra: Any) -> dict[str, Any]:
    modes_list = list(modes or ["full_refresh"])
    body: dict[str, Any] = {"name": name, "json_schema": SCHEMA, "supported_sync_modes": modes_list}
    body.update(extra)
    return body


DISCOVERED: dict[str, Any] = {
    "streams": [
        stream("users", "incremental", "full_refresh", default_cursor_field=["updated_at"],
               source_defined_primary_key=[["id"]]),
        stream("events", "full_refresh"),
        stream("reports", "full_refresh", "incremental"),
    ]
}


# --- configured_from_discovered --------------------------------------------------------------------------------


def test_from_discovered_takes_every_stream_with_first_sync_mode_cursor_and_key() -> None:
    configured = configured_from_discovered(DISCOVERED)
    assert stream_names(configured) == ["users", "events", "reports"]
    users, events, reports = configured["streams"]
    assert users == {
        "stream": DISCOVERED["streams"][0],
        "sync_mode": "incremental",
        "destination_sync_mode": "append",
        "cursor_field": ["updated_at"],
        "primary_key": [["id"]],
    }
    assert events["sync_mode"] == "full_refresh" and "cursor_field" not in events and "primary_key" not in events
    assert reports["sync_mode"] == "full_refresh"
    assert configured_catalog_problems(configured) == []


def test_from_discovered_excludes_streams_and_copies() -> None:
    original = copy.deepcopy(DISCOVERED)
    configured = configured_from_discovered(DISCOVERED, exclude={"events"})
    assert stream_names(configured) == ["users", "reports"]
    configured["streams"][0]["stream"]["name"] = "changed"
    assert DISCOVERED == original


def test_from_discovered_with_sync_mode_skips_streams_that_do_not_support_it() -> None:
    configured = configured_from_discovered(DISCOVERED, sync_mode="incremental")
    assert stream_names(configured) == ["users", "reports"]
    assert {s["sync_mode"] for s in configured["streams"]} == {"incremental"}


def test_from_discovered_defaults_to_full_refresh_when_a_stream_declares_no_modes() -> None:
    configured = configured_from_discovered({"streams": [{"name": "bare", "json_schema": {}}]})
    assert configured["streams"][0]["sync_mode"] == "full_refresh"


# --- configured_from_file --------------------------------------------------------------------------------------


def test_from_file_replaces_schemas_by_discovered_and_keeps_the_file_settings() -> None:
    file = {"streams": [{"stream": {"name": "users", "json_schema": {"stale": True}, "supported_sync_modes": []},
                         "sync_mode": "full_refresh", "destination_sync_mode": "overwrite",
                         "cursor_field": ["id"], "primary_key": [["id"], ["updated_at"]]}]}
    configured = configured_from_file(file, DISCOVERED)
    assert configured == {"streams": [{"stream": DISCOVERED["streams"][0], "sync_mode": "full_refresh",
                                       "destination_sync_mode": "overwrite", "cursor_field": ["id"],
                                       "primary_key": [["id"], ["updated_at"]]}]}
    assert file["streams"][0]["stream"]["json_schema"] == {"stale": True}


def test_from_file_unknown_stream_lists_the_discovered_names() -> None:
    file = {"streams": [{"stream": {"name": "orders"}, "sync_mode": "full_refresh",
                         "destination_sync_mode": "append"}]}
    with pytest.raises(CatalogError) as error:
        configured_from_file(file, DISCOVERED)
    assert str(error.value) == ("configured stream 'orders' is not part of the discovered catalog; discovered "
                                "streams: events, reports, users")


def test_from_file_without_namespace_matches_any_namespace_but_a_given_one_must_match() -> None:
    discovered = {"streams": [stream("users", namespace="public")]}
    file = {"streams": [{"stream": {"name": "users"}, "sync_mode": "full_refresh", "destination_sync_mode": "append"}]}
    assert configured_from_file(file, discovered)["streams"][0]["stream"]["namespace"] == "public"
    file["streams"][0]["stream"]["namespace"] = "other"
    with pytest.raises(CatalogError, match=r"'users' \(namespace 'other'\) is not part .* streams: public.users"):
        configured_from_file(file, discovered)


def test_from_file_ambiguous_name_without_namespace_is_an_error() -> None:
    discovered = {"streams": [stream("users", namespace="a"), stream("users", namespace="b")]}
    file = {"streams": [{"stream": {"name": "users"}, "sync_mode": "full_refresh", "destination_sync_mode": "append"}]}
    with pytest.raises(CatalogError, match=r"several namespaces \(a, b\); set `stream.namespace`"):
        configured_from_file(file, discovered)


def test_from_file_without_streams_or_names_is_an_error() -> None:
    with pytest.raises(CatalogError, match="has no `streams` list"):
        configured_from_file({"stream": []}, DISCOVERED)
    with pytest.raises(CatalogError, match="configured stream #0 has no `stream.name`"):
        configured_from_file({"streams": [{"sync_mode": "full_refresh"}]}, DISCOVERED)


# --- only_supporting -------------------------------------------------------------------------------------------


def test_only_supporting_incremental_forces_the_mode_and_back_fills_the_cursor() -> None:
    configured = configured_from_discovered(DISCOVERED)
    configured["streams"][0].pop("cursor_field")
    incremental = only_supporting(configured, "incremental")
    assert stream_names(incremental) == ["users", "reports"]
    users, reports = incremental["streams"]
    assert users["sync_mode"] == "incremental" and users["cursor_field"] == ["updated_at"]
    assert reports["sync_mode"] == "incremental" and "cursor_field" not in reports  # neither: left for a check
    assert "cursor_field" not in configured["streams"][0]  # the input is not touched
    assert configured["streams"][2]["sync_mode"] == "full_refresh"


def test_only_supporting_keeps_an_explicit_cursor_and_full_refresh_filters() -> None:
    configured = configured_from_discovered(DISCOVERED)
    configured["streams"][0]["cursor_field"] = ["id"]
    assert only_supporting(configured, "incremental")["streams"][0]["cursor_field"] == ["id"]
    full = only_supporting(configured, "full_refresh")
    assert stream_names(full) == ["users", "events", "reports"]
    assert {s["sync_mode"] for s in full["streams"]} == {"full_refresh"}


# --- the invalid catalog and helpers ---------------------------------------------------------------------------


def test_invalid_catalog_has_upstream_shape_and_fails_validation() -> None:
    invalid = invalid_catalog_for_trace_test()
    assert stream_names(invalid) == [INVALID_STREAM_NAME] == ["__AIRBYTE__stream_that_does_not_exist"]
    entry = invalid["streams"][0]
    assert entry["sync_mode"] == "INVALID" and entry["destination_sync_mode"] == "INVALID"
    assert entry["stream"]["json_schema"] == {"type": "object", "properties": {"f1": {"type": "string"}}}
    assert entry["stream"]["supported_sync_modes"] == ["full_refresh"]
    problems = configured_catalog_problems(invalid)
    assert [p.split(":")[0] for p in problems] == [
        f"streams[{INVALID_STREAM_NAME}].sync_mode", f"streams[{INVALID_STREAM_NAME}].destination_sync_mode"]


def test_helpers_read_names_keys_schemas_and_streams() -> None:
    configured = configured_from_discovered(DISCOVERED)
    configured["streams"][2]["primary_key"] = [["updated_at"]]
    del configured["streams"][0]["primary_key"]  # falls back to the source-defined key
    assert primary_keys(configured) == {"users": [["id"]], "events": [], "reports": [["updated_at"]]}
    assert schemas(configured) == {"users": SCHEMA, "events": SCHEMA, "reports": SCHEMA}
    assert configured_stream(configured, "events")["stream"]["name"] == "events"
    with pytest.raises(CatalogError) as error:
        configured_stream(configured, "nope")
    assert str(error.value) == ("stream 'nope' is not in the configured catalog; configured streams: "
                                "events, reports, users")


def test_configured_catalog_problems_name_the_stream_and_field() -> None:
    assert configured_catalog_problems({"streams": []}) == []
    problems = configured_catalog_problems(
        {"streams": [{"stream": {"name": "users", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                      "sync_mode": "sometimes"}]})
    assert any(p.startswith("streams[users].sync_mode: Input should be 'full_refresh' or 'incremental'")
               for p in problems)
    assert "streams[users].destination_sync_mode: Field required" in problems
    assert configured_catalog_problems({}) == ["streams: Field required"]
    assert configured_catalog_problems({"streams": [{}]})[0].startswith("streams[0].stream: Field required")
