"""Discovery checks: each one against a tiny catalog that passes and one that fails."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance.checks.discovery import (
    DISCOVERY_CHECKS,
    check_additional_properties_true,
    check_catalog_has_streams,
    check_cursors_exist_in_schema,
    check_keyword_absent,
    check_no_all_of,
    check_no_not,
    check_no_refs_in_schemas,
    check_primary_keys_data_type,
    check_primary_keys_exist_in_schema,
    check_single_catalog,
    check_streams_have_sync_modes,
    check_streams_have_valid_json_schemas,
    check_unique_stream_names,
)

USERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": ["null", "string"], "format": "date-time"},
        "address": {"type": ["null", "object"], "properties": {"city": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def stream(name: str = "users", schema: Any = None, **extra: Any) -> dict[str, Any]:
    """A discovered stream; `schema` defaults to USERS_SCHEMA, `extra` adds or overrides stream keys."""
    body: dict[str, Any] = {
        "name": name,
        "json_schema": USERS_SCHEMA if schema is None else schema,
        "supported_sync_modes": ["full_refresh"],
    }
    body.update(extra)
    return body


def catalog(*streams: dict[str, Any]) -> dict[str, Any]:
    return {"streams": list(streams) if streams else [stream()]}


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


# --- single CATALOG message ------------------------------------------------------------------------------------


def test_single_catalog_passes_after_log_lines() -> None:
    messages = [{"type": "LOG", "log": {"level": "INFO", "message": "hi"}}, {"type": "CATALOG", "catalog": catalog()}]
    assert check_single_catalog(messages) == []


def test_no_catalog_mentions_the_trace_error() -> None:
    error = {"type": "TRACE", "trace": {"type": "ERROR", "error": {"message": "Config validation error: bad"}}}
    [finding] = check_single_catalog([error])
    assert finding.check == "single_catalog"
    assert finding.message == ("expected exactly one CATALOG message, got 0 "
                               "(a TRACE error was emitted: Config validation error: bad)")


def test_two_catalogs_fail() -> None:
    message = {"type": "CATALOG", "catalog": catalog()}
    [finding] = check_single_catalog([message, message])
    assert finding.message == "expected exactly one CATALOG message, got 2"


def test_catalog_message_without_catalog_fails() -> None:
    [finding] = check_single_catalog([{"type": "CATALOG"}])
    assert finding.path == "/catalog"
    assert "no `catalog` object" in finding.message


# --- streams -----------------------------------------------------------------------------------------------------


def test_catalog_has_streams() -> None:
    assert check_catalog_has_streams(catalog()) == []
    [finding] = check_catalog_has_streams({"streams": []})
    assert (finding.check, finding.path) == ("catalog_has_streams", "/streams")
    assert "at least one stream" in finding.message


def test_catalog_without_streams_key() -> None:
    [finding] = check_catalog_has_streams({})
    assert finding.message == "expected `streams` to be a list of streams, got none"


def test_unique_stream_names_passes_when_namespaces_differ() -> None:
    assert check_unique_stream_names(catalog(stream(namespace="a"), stream(namespace="b"), stream())) == []


def test_duplicate_stream_names_fail_and_absent_namespace_equals_null() -> None:
    [finding] = check_unique_stream_names(catalog(stream(), stream(namespace=None), stream("orders")))
    assert (finding.check, finding.path) == ("unique_stream_names", "/streams/users")
    assert "'users' (no namespace) is used by 2 streams" in finding.message


def test_duplicate_stream_names_within_a_namespace() -> None:
    [finding] = check_unique_stream_names(catalog(stream(namespace="public"), stream(namespace="public")))
    assert "namespace 'public'" in finding.message


# --- JSON schemas --------------------------------------------------------------------------------------------------


def test_valid_json_schemas_pass() -> None:
    assert check_streams_have_valid_json_schemas(catalog()) == []


def test_invalid_json_schema_names_the_bad_node() -> None:
    [finding] = check_streams_have_valid_json_schemas(catalog(stream(schema=obj(id={"type": "strin"}))))
    assert finding.check == "streams_have_valid_json_schemas"
    assert finding.path == "/streams/users/json_schema/properties/id/type"
    assert "not a valid Draft-7 schema" in finding.message
    assert "'strin'" in finding.message


def test_json_schema_must_be_an_object() -> None:
    [finding] = check_streams_have_valid_json_schemas(catalog(stream(schema=["type", "object"])))
    assert finding.path == "/streams/users/json_schema"
    assert "expected json_schema to be an object, got list" in finding.message
    [missing] = check_streams_have_valid_json_schemas({"streams": [{"name": "users"}]})
    assert "got none" in missing.message


def test_invalid_regex_pattern_is_caught() -> None:
    [finding] = check_streams_have_valid_json_schemas(catalog(stream(schema=obj(id={"pattern": "("}))))
    assert finding.path == "/streams/users/json_schema/properties/id/pattern"


# --- cursors -------------------------------------------------------------------------------------------------------


def test_cursor_in_schema_passes_and_streams_without_cursor_are_skipped() -> None:
    streams = [stream(default_cursor_field=["updated_at"]), stream("orders", schema={"type": "object"})]
    assert check_cursors_exist_in_schema(catalog(*streams)) == []


def test_nested_cursor_passes() -> None:
    assert check_cursors_exist_in_schema(catalog(stream(default_cursor_field=["address", "city"]))) == []


def test_nested_cursor_missing_fails_with_its_expected_location() -> None:
    [finding] = check_cursors_exist_in_schema(catalog(stream(default_cursor_field=["address", "zip"])))
    assert finding.check == "cursors_exist_in_schema"
    assert finding.path == "/streams/users/json_schema/properties/address/properties/zip"
    assert "default cursor ['address', 'zip'] is not defined in the schema" in finding.message


def test_cursor_without_schema_properties_fails() -> None:
    [finding] = check_cursors_exist_in_schema(catalog(stream(schema={"type": "object"}, default_cursor_field=["x"])))
    assert finding.path == "/streams/users/json_schema"
    assert "no `properties`" in finding.message


def test_malformed_cursor_field_fails() -> None:
    [finding] = check_cursors_exist_in_schema(catalog(stream(default_cursor_field="updated_at")))
    assert finding.path == "/streams/users/default_cursor_field"
    assert "list of field names" in finding.message


# --- $ref and forbidden keywords ------------------------------------------------------------------------------------


def test_no_refs_passes() -> None:
    assert check_no_refs_in_schemas(catalog()) == []


@pytest.mark.parametrize(("schema", "path"), [
    (obj(id={"$ref": "#/definitions/id"}), "/streams/users/json_schema/properties/id/$ref"),
    (obj(tags={"type": "array", "items": [{"$ref": "#/x"}]}),
     "/streams/users/json_schema/properties/tags/items/0/$ref"),
    (obj(v={"oneOf": [{"type": "string"}, {"$ref": "#/x"}]}), "/streams/users/json_schema/properties/v/oneOf/1/$ref"),
    ({"$ref": "#/definitions/user", "definitions": {"user": obj()}}, "/streams/users/json_schema/$ref"),
])
def test_refs_are_found_anywhere(schema: dict[str, Any], path: str) -> None:
    [finding] = check_no_refs_in_schemas(catalog(stream(schema=schema)))
    assert (finding.check, finding.path) == ("no_refs_in_schemas", path)
    assert "uses $ref" in finding.message


def test_property_named_like_a_keyword_is_allowed() -> None:
    schema = obj(allOf={"type": "string"}, **{"not": {"type": "boolean"}, "$ref": {"type": "string"}},
                 additionalProperties={"type": "boolean"})
    assert check_keyword_absent(catalog(stream(schema=schema)), "allOf") == []
    assert check_keyword_absent(catalog(stream(schema=schema)), "not") == []
    assert check_no_refs_in_schemas(catalog(stream(schema=schema))) == []
    assert check_additional_properties_true(catalog(stream(schema=schema))) == []


def test_all_of_keyword_fails() -> None:
    schema = obj(name={"allOf": [{"type": "string"}, {"maxLength": 5}]})
    [finding] = check_keyword_absent(catalog(stream(schema=schema)), "allOf")
    assert (finding.check, finding.path) == ("keyword_absent", "/streams/users/json_schema/properties/name/allOf")
    assert "'allOf' keyword" in finding.message
    assert check_no_all_of(catalog(stream(schema=schema))) == [finding]


def test_not_keyword_nested_under_a_property_named_all_of_fails() -> None:
    schema = obj(allOf=obj(inner={"not": {"type": "null"}}))
    [finding] = check_no_not(catalog(stream(schema=schema)))
    assert finding.path == "/streams/users/json_schema/properties/allOf/properties/inner/not"
    assert "'not' keyword" in finding.message


def test_keywords_inside_data_values_are_ignored() -> None:
    schema = obj(v={"type": "object", "default": {"not": 1, "$ref": "x"}, "enum": [{"allOf": []}]})
    assert check_no_not(catalog(stream(schema=schema))) == []
    assert check_no_all_of(catalog(stream(schema=schema))) == []
    assert check_no_refs_in_schemas(catalog(stream(schema=schema))) == []


# --- primary keys ---------------------------------------------------------------------------------------------------


def test_primary_keys_exist_composite_and_nested() -> None:
    pk = [["id"], ["address", "city"]]
    assert check_primary_keys_exist_in_schema(catalog(stream(source_defined_primary_key=pk))) == []
    assert check_primary_keys_exist_in_schema(catalog(stream(schema={"type": "object"}))) == []


def test_missing_primary_key_part_fails() -> None:
    [finding] = check_primary_keys_exist_in_schema(catalog(stream(source_defined_primary_key=[["id"], ["day"]])))
    assert finding.check == "primary_keys_exist_in_schema"
    assert finding.path == "/streams/users/json_schema/properties/day"
    assert "primary key ['day'] is not defined in the schema" in finding.message


def test_malformed_primary_key_fails() -> None:
    findings = check_primary_keys_exist_in_schema(catalog(stream(source_defined_primary_key=["id"])))
    assert [f.path for f in findings] == ["/streams/users/source_defined_primary_key"]
    assert "must be a non-empty list of field names" in findings[0].message
    [not_a_list] = check_primary_keys_exist_in_schema(catalog(stream(source_defined_primary_key="id")))
    assert "must be a list of field paths" in not_a_list.message


def test_primary_key_data_type_passes_for_scalars() -> None:
    pk = [["id"], ["address", "city"], ["updated_at"]]
    assert check_primary_keys_data_type(catalog(stream(source_defined_primary_key=pk))) == []


def test_primary_key_missing_from_schema_fails_data_type_check() -> None:
    [finding] = check_primary_keys_data_type(catalog(stream(source_defined_primary_key=[["nope"]])))
    assert finding.check == "primary_keys_data_type"
    assert finding.message == "stream 'users': primary key ['nope'] is not defined in the schema"
    assert finding.path == "/streams/users/json_schema/properties/nope"


def test_nullable_object_primary_key_is_caught() -> None:
    [finding] = check_primary_keys_data_type(catalog(stream(source_defined_primary_key=[["id"], ["address"]])))
    assert finding.path == "/streams/users/json_schema/properties/address/type"
    assert "forbidden type object" in finding.message
    assert '["null", "object"]' in finding.message


@pytest.mark.parametrize("declared", ["object", "array", ["array"]])
def test_plain_string_type_is_caught(declared: Any) -> None:
    schema = obj(id={"type": declared})
    [finding] = check_primary_keys_data_type(catalog(stream(schema=schema, source_defined_primary_key=[["id"]])))
    assert finding.path == "/streams/users/json_schema/properties/id/type"
    assert "forbidden type" in finding.message


def test_array_primary_key_in_composite_key_is_caught() -> None:
    findings = check_primary_keys_data_type(catalog(stream(source_defined_primary_key=[["id"], ["tags"]])))
    assert [f.path for f in findings] == ["/streams/users/json_schema/properties/tags/type"]
    assert "forbidden type array" in findings[0].message


# --- sync modes ------------------------------------------------------------------------------------------------------


def test_sync_modes_pass() -> None:
    assert check_streams_have_sync_modes(catalog(stream(supported_sync_modes=["full_refresh", "incremental"]))) == []


@pytest.mark.parametrize("modes", [None, []])
def test_missing_or_empty_sync_modes_fail(modes: Any) -> None:
    [finding] = check_streams_have_sync_modes(catalog(stream(supported_sync_modes=modes)))
    assert (finding.check, finding.path) == ("streams_have_sync_modes", "/streams/users/supported_sync_modes")
    assert "expected a non-empty supported_sync_modes" in finding.message


def test_absent_sync_modes_fail() -> None:
    body = stream()
    del body["supported_sync_modes"]
    [finding] = check_streams_have_sync_modes(catalog(body))
    assert "got nothing" in finding.message


def test_unknown_sync_mode_fails() -> None:
    [finding] = check_streams_have_sync_modes(catalog(stream(supported_sync_modes=["full_refresh", "cdc"])))
    assert "unknown sync mode(s) ['cdc']" in finding.message


# --- additionalProperties --------------------------------------------------------------------------------------------


def test_additional_properties_true_passes() -> None:
    schema = {**obj(a=obj(b={"type": "string"}) | {"additionalProperties": True}), "additionalProperties": True}
    assert check_additional_properties_true(catalog(stream(schema=schema))) == []


@pytest.mark.parametrize(("value", "shown"), [(False, "false"), ("foo", '"foo"'), ({"type": "string"}, '{"type"')])
def test_nested_additional_properties_not_true_fails(value: Any, shown: str) -> None:
    schema = obj(a={"type": "object", "additionalProperties": value})
    [finding] = check_additional_properties_true(catalog(stream(schema=schema)))
    assert finding.check == "additional_properties_true"
    assert finding.path == "/streams/users/json_schema/properties/a/additionalProperties"
    assert f"additionalProperties is {shown}" in finding.message


# --- registry and robustness ---------------------------------------------------------------------------------------


def test_discovery_checks_pass_on_a_good_catalog() -> None:
    good = catalog(stream(default_cursor_field=["updated_at"], source_defined_primary_key=[["id"]]))
    assert [f for check in DISCOVERY_CHECKS for f in check(good)] == []
    assert check_catalog_has_streams in DISCOVERY_CHECKS and check_primary_keys_data_type in DISCOVERY_CHECKS


def test_checks_survive_a_malformed_catalog() -> None:
    broken: dict[str, Any] = {"streams": ["not a stream", {"json_schema": 3, "default_cursor_field": ["x"],
                                                           "source_defined_primary_key": [["id"]]}]}
    findings = [f for check in DISCOVERY_CHECKS for f in check(broken)]
    assert {f.path.split("/")[2] for f in findings} == {"1"}  # an unnamed stream is named by its index


def test_stream_names_with_slashes_are_escaped() -> None:
    [finding] = check_streams_have_sync_modes(catalog(stream("a/b", supported_sync_modes=[])))
    assert finding.path == "/streams/a~1b/supported_sync_modes"
