"""basic_read checks: each with a passing input and a failing one, fed message by message like a real read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceptance.checks.basic_read import (
    DataPointsTracker,
    PrimaryKeyValueChecker,
    StreamStatusTracker,
    check_error_trace_emitted,
    check_records_exist,
    check_state_messages,
    check_streams_have_records,
)
from acceptance.checks.record_schema import RecordSchemaValidator, StrictDraft7Validator, compile_fast_check
from acceptance.findings import Finding
from acceptance.protocol.formats import FORMAT_CHECKER

SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"

USERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "score": {"type": ["null", "number"]},
        "updated_at": {"type": ["null", "string"], "format": "date-time"},
        "address": {"type": ["null", "object"], "properties": {"city": {"type": "string"}}},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}},
    },
}

# source-faker's purchases stream, as discovered (three nullable date-times).
PURCHASES_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "id": {"type": ["null", "number"]},
        "user_id": {"type": ["null", "number"]},
        "product_id": {"type": ["null", "number"]},
        "created_at": {"type": ["null", "string"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "updated_at": {"type": ["null", "string"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "added_to_cart_at": {"type": ["null", "string"], "format": "date-time"},
        "purchased_at": {"type": ["null", "string"], "format": "date-time"},
        "returned_at": {"type": ["null", "string"], "format": "date-time"},
    },
}


def record(stream: str, data: Any, namespace: str | None = None) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "namespace": namespace, "data": data,
                                         "emitted_at": 1700000000000}}


def status(name: str, value: str, namespace: str | None = None) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": name}
    if namespace is not None:
        descriptor["namespace"] = namespace
    return {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1795616338553.073,
                                       "stream_status": {"stream_descriptor": descriptor, "status": value}}}


def stream_state(name: str, count: float | None = 1.0, **state: Any) -> dict[str, Any]:
    stream_state = state or {"__ab_no_cursor_state_message": True}
    body: dict[str, Any] = {"type": "STREAM",
                            "stream": {"stream_descriptor": {"name": name}, "stream_state": stream_state}}
    if count is not None:
        body["sourceStats"] = {"recordCount": count}
    return body


def feed(checker: Any, messages: Iterable[dict[str, Any]]) -> list[Finding]:
    for message in messages:
        checker.feed(message)
    findings: list[Finding] = checker.findings()
    return findings


def validate(records: Iterable[dict[str, Any]], schemas: dict[str, Any] | None = None,
             **options: Any) -> list[Finding]:
    return feed(RecordSchemaValidator(schemas or {"users": USERS_SCHEMA}, **options), records)


def user(**data: Any) -> dict[str, Any]:
    return record("users", {"id": 1, **data})


# --- RecordSchemaValidator -------------------------------------------------------------------------------------


def test_valid_records_pass_and_other_messages_are_ignored() -> None:
    messages = [
        status("users", "STARTED"),
        user(name="Ann", score=1.5, updated_at="2026-11-25T14:16:23+00:00", address={"city": "Paris"}, tags=["a"]),
        user(name=None, score=2, updated_at=None, address=None, tags=None),
        {"type": "STATE", "state": stream_state("users")},
        {"type": "LOG", "log": {"level": "INFO", "message": "hi"}},
    ]
    assert validate(messages) == []


def test_wrong_type_names_stream_path_kind_and_rule() -> None:
    [finding] = validate([user(address={"city": 12})])
    assert finding.check == "record_schema"
    assert finding.message == ("stream 'users': value at /address/city (integer) violates type: expected string; "
                               "in 1 record, first record #1 of the stream")


def test_float_is_not_an_integer() -> None:
    [finding] = validate([record("users", {"id": 1.0})])
    assert "value at /id (number) violates type: expected integer" in finding.message


def test_boolean_is_not_an_integer_nor_a_number() -> None:
    findings = validate([record("users", {"id": True, "score": False})])
    messages = sorted(f.message for f in findings)
    assert len(messages) == 2
    assert "value at /id (boolean) violates type: expected integer" in messages[0]
    assert "value at /score (boolean) violates type: expected null or number" in messages[1]


def test_faker_purchase_with_zoneless_created_at_passes() -> None:
    purchase = {"id": 1, "user_id": 1, "product_id": 55, "created_at": "2012-04-10T00:14:07.596313",
                "updated_at": "2026-11-25T14:16:23+00:00", "added_to_cart_at": "2012-04-11T00:14:07.596313",
                "purchased_at": None, "returned_at": None}
    assert validate([record("purchases", purchase)], {"purchases": PURCHASES_SCHEMA}) == []


def test_bad_date_time_fails_on_format_without_showing_the_value() -> None:
    [finding] = validate([user(updated_at="yesterday")])
    assert "value at /updated_at (string) violates format: date-time" in finding.message
    assert "yesterday" not in finding.message


def test_undeclared_top_level_column_fails() -> None:
    [finding] = validate([user(nickname="x")])
    assert "stream 'users'" in finding.message
    assert "value at /nickname (string) violates undeclared column" in finding.message


def test_undeclared_column_passes_when_fail_on_extra_columns_is_off() -> None:
    assert validate([user(nickname="x")], fail_on_extra_columns=False) == []


def test_nested_undeclared_key_passes() -> None:
    assert validate([user(address={"city": "Paris", "zip": "75001"})]) == []


def test_columns_declared_in_a_top_level_branch_are_declared() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}},
              "anyOf": [{"properties": {"kind": {"type": "string"}}}]}
    assert validate([user(kind="a")], {"users": schema}) == []


def test_required_and_enum_rules_come_from_the_schema() -> None:
    schema = {"type": "object", "required": ["id", "email"],
              "properties": {"id": {"type": "integer"}, "email": {"type": "string"},
                             "plan": {"enum": ["free", "pro"]}}}
    findings = validate([record("users", {"id": 1, "plan": SECRET})], {"users": schema})
    rendered = sorted(f.message for f in findings)
    assert any("value at / (object) violates required: missing 'email'" in m for m in rendered)
    assert any("value at /plan (string) violates enum: expected one of [\"free\", \"pro\"]" in m for m in rendered)


def test_a_secret_value_never_appears_in_any_message() -> None:
    schema = {"type": "object", "additionalProperties": False,
              "properties": {"id": {"type": "integer"}, "token": {"type": "integer", "pattern": "^x$"},
                             "nested": {"type": "object", "additionalProperties": False,
                                        "properties": {"a": {"const": 1}}},
                             "when": {"type": "string", "format": "date-time", "maxLength": 3},
                             "mail": {"type": "string", "format": "email"},
                             "choice": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]}}}
    bad = {"id": SECRET, "token": SECRET, "nested": {"a": SECRET, "b": SECRET}, "when": SECRET, "mail": SECRET,
           "choice": SECRET, "extra": SECRET}
    findings = validate([record("users", bad), record("users", SECRET), record("users", [SECRET])],
                        {"users": schema}, max_errors_per_stream=100)
    assert len(findings) >= 8
    for finding in findings:
        assert SECRET not in finding.render()
        assert SECRET[:8] not in finding.render()


def test_findings_are_bounded_with_a_summary_count() -> None:
    schema = {"type": "object", "properties": {f"f{i}": {"type": "integer"} for i in range(5)}}
    records = [record("users", {f"f{i}": "x" for i in range(5)}) for _ in range(3)]
    records += [record("users", {"f0": "x"}) for _ in range(20)]
    records += [record("users", {"f4": "x"}) for _ in range(4)]
    records += [record("users", {"f0": 1}) for _ in range(3)]
    findings = validate(records, {"users": schema}, max_errors_per_stream=2)
    assert len(findings) == 3
    assert "value at /f0 (string) violates type: expected integer; in 23 records, first record #1" in \
        findings[0].message
    assert "value at /f1 (string) violates type: expected integer; in 3 records, first record #1" in \
        findings[1].message
    assert findings[2].message == ("… 4 more invalid records in stream 'users' (27 of 30 records invalid in total; "
                                   "3 more distinct problems not shown)")


def test_summary_counts_hidden_problems_of_shown_records() -> None:
    schema = {"type": "object", "properties": {f"f{i}": {"type": "integer"} for i in range(3)}}
    findings = validate([record("users", {"f0": "x", "f1": "x", "f2": "x"})], {"users": schema},
                        max_errors_per_stream=1)
    assert findings[-1].message == "… 2 more distinct problems in stream 'users' (1 of 1 record invalid in total)"


def test_one_finding_per_schema_path_across_array_items() -> None:
    [finding] = validate([user(tags=["a", 1, 2]), user(tags=[3])])
    assert "value at /tags/1 (integer) violates type: expected string; in 2 records, first record #1" in \
        finding.message


def test_record_of_a_stream_outside_the_catalog_is_reported_once() -> None:
    [finding] = validate([record("orders", {"id": 1}), record("orders", {"id": 2}), user()])
    assert finding.message == "2 records for stream 'orders', which is not in the configured catalog"


# The same records through each way the validator can run: the envelope embedded in the native schema, the native
# filter beside a Python envelope check (a schema with `$ref`s), and no native filter at all (a user `pattern`).
ENVELOPE_SCHEMAS = {
    "embedded": USERS_SCHEMA,
    "with_refs": {"type": "object", "definitions": {"id": {"type": "integer"}},
                  "properties": {"id": {"$ref": "#/definitions/id"}, "name": {"type": ["null", "string"]}}},
    "no_native_filter": {"type": "object", "properties": {"id": {"type": "integer"},
                                                          "name": {"type": ["null", "string"], "pattern": "^A"}}},
}
GOOD_ENVELOPE = {"stream": "users", "data": {"id": 1, "name": "Ann"}, "emitted_at": 1700000000000}


@pytest.mark.parametrize("schema", sorted(ENVELOPE_SCHEMAS))
@pytest.mark.parametrize(("change", "expected"), [
    ({"emitted_at": None}, "envelope: `emitted_at` (null) violates type: expected number"),
    ({"emitted_at": "1700000000000"}, "envelope: `emitted_at` (string) violates type: expected number"),
    ({"emitted_at": True}, "envelope: `emitted_at` (boolean) violates type: expected number"),
    ({"namespace": 3}, "envelope: `namespace` (integer) violates type: expected string or null"),
    ({"data": ["Ann"]}, "envelope: `data` (array) violates type: expected object"),
    ({"data": None}, "envelope: `data` (null) violates type: expected object"),
])
def test_a_record_envelope_the_protocol_refuses_fails(schema: str, change: dict[str, Any], expected: str) -> None:
    good = {"type": "RECORD", "record": GOOD_ENVELOPE}
    assert validate([good, good], {"users": ENVELOPE_SCHEMAS[schema]}) == []
    findings = validate([good, {"type": "RECORD", "record": {**GOOD_ENVELOPE, **change}}],
                        {"users": ENVELOPE_SCHEMAS[schema]})
    assert [f.message for f in findings] == [f"stream 'users': {expected}; in 1 record, first record #2 of the stream"]


@pytest.mark.parametrize("schema", sorted(ENVELOPE_SCHEMAS))
def test_a_record_without_emitted_at_fails_and_its_data_is_still_checked(schema: str) -> None:
    broken = {key: value for key, value in GOOD_ENVELOPE.items() if key != "emitted_at"}
    broken["data"] = {"id": "one"}
    findings = sorted(f.message for f in validate([{"type": "RECORD", "record": broken}],
                                                  {"users": ENVELOPE_SCHEMAS[schema]}))
    assert len(findings) == 2
    assert findings[0].startswith("stream 'users': envelope: required: missing 'emitted_at' (an AirbyteRecordMessage "
                                  "needs stream, data and emitted_at); in 1 record")
    assert "value at /id (string) violates type: expected integer" in findings[1]


def test_extra_envelope_keys_and_a_null_namespace_pass() -> None:
    record = {**GOOD_ENVELOPE, "namespace": None, "meta": {"changes": []}}
    assert validate([{"type": "RECORD", "record": record}], {"users": USERS_SCHEMA}) == []


def test_record_messages_that_name_no_stream_are_reported_by_kind() -> None:
    messages = [{"type": "RECORD", "record": "users"}, {"type": "RECORD"}, {"type": "RECORD", "record": {"data": {}}},
                {"type": "RECORD", "record": {**GOOD_ENVELOPE, "stream": ["users"]}},
                {"type": "RECORD", "record": {**GOOD_ENVELOPE, "stream": ["users"]}}]
    validator = RecordSchemaValidator({"users": USERS_SCHEMA})
    assert sorted(f.message for f in feed(validator, messages)) == [
        "1 RECORD message whose `record` has no `stream` (an AirbyteRecordMessage needs stream, data and emitted_at)",
        "1 RECORD message whose `record` is null, not an object (an AirbyteRecordMessage needs stream, data and "
        "emitted_at)",
        "1 RECORD message whose `record` is string, not an object (an AirbyteRecordMessage needs stream, data and "
        "emitted_at)",
        "2 RECORD messages whose `record.stream` is array, not a string (an AirbyteRecordMessage needs stream, data "
        "and emitted_at)",
    ]
    assert validator.invalid_records == 5


def test_invalid_schema_is_reported_instead_of_crashing() -> None:
    [finding] = validate([user()], {"users": {"type": "objekt"}})
    assert "stream 'users': json_schema is not a valid Draft-7 schema" in finding.message


# --- the compiled fast path agrees with jsonschema ----------------------------------------------------------------

FAST_SCHEMAS: list[dict[str, Any]] = [
    USERS_SCHEMA,
    PURCHASES_SCHEMA,
    {"type": "object", "required": ["id"], "additionalProperties": True,
     "properties": {"id": {"type": "integer"}, "name": {"type": "string", "format": "email"},
                    "tags": {"type": "array", "items": {"type": ["integer", "null"]}},
                    "any": {}, "flag": True, "nested": {"properties": {"id": {"type": ["boolean", "object"]}}}}},
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.sampled_from(
        ["", "x", "2012-04-10T00:14:07.596313", "yesterday", "a@b.c", "1.0"]) | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "name", "tags", "address", "city", "any", "flag", "nested", "created_at", "x"]),
        children, max_size=5),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, which=st.integers(0, len(FAST_SCHEMAS) - 1))
def test_fast_path_gives_the_same_answer_as_jsonschema(value: Any, which: int) -> None:
    schema = FAST_SCHEMAS[which]
    fast = compile_fast_check(schema)
    assert fast is not None
    assert fast(value) == StrictDraft7Validator(schema, format_checker=FORMAT_CHECKER).is_valid(value)


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}},
    {"properties": {"a": {"$ref": "#/definitions/a"}}, "definitions": {"a": {"type": "string"}}},
    {"type": "object", "additionalProperties": False},
    {"properties": {"a": {"anyOf": [{"type": "string"}]}}},
    {"type": "array", "items": [{"type": "string"}]},
    {"properties": {"a": False}},
])
def test_schemas_with_other_keywords_have_no_fast_path(schema: dict[str, Any]) -> None:
    assert compile_fast_check(schema) is None


def test_records_failing_the_fast_path_get_jsonschema_details() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "code": {"type": "string", "minLength": 3}}}
    findings = validate([record("users", {"id": 1.0, "code": "ab"})], {"users": schema})
    assert sorted(f.message.split(";")[0] for f in findings) == [
        "stream 'users': value at /code (string) violates minLength: 3",
        "stream 'users': value at /id (number) violates type: expected integer",
    ]


# --- records exist / streams have records ----------------------------------------------------------------------


def test_records_exist() -> None:
    assert check_records_exist({"users": 0, "orders": 3}) == []
    [finding] = check_records_exist({"users": 0})
    assert finding.check == "records_exist"
    assert "got 0" in finding.message
    assert check_records_exist({}) != []


def test_every_configured_stream_has_records_unless_declared_empty() -> None:
    counts = {"users": 10, "orders": 0}
    assert check_streams_have_records(["users", "orders", "refunds"], counts, empty_streams={"orders", "refunds"}) == []
    [finding] = check_streams_have_records(["users", "orders", "refunds"], counts, empty_streams=["refunds"])
    assert finding.check == "streams_have_records"
    assert "stream 'orders'" in finding.message
    assert "refunds" not in finding.message
    assert "empty_streams" in finding.message and "bypass_reason" in finding.message


def test_streams_without_records_are_all_listed() -> None:
    [finding] = check_streams_have_records(["users", "orders"], {}, empty_streams=())
    assert "streams 'users', 'orders'" in finding.message


# --- primary keys ----------------------------------------------------------------------------------------------


def test_scalar_primary_keys_pass() -> None:
    checker = PrimaryKeyValueChecker({"users": [["id"]], "orders": [["org", "id"], ["number"]]})
    messages = [user(), record("orders", {"org": {"id": "a"}, "number": 3}), record("other", {"id": {"x": 1}})]
    assert feed(checker, messages) == []


def test_object_primary_key_value_fails() -> None:
    checker = PrimaryKeyValueChecker({"users": [["id"]]})
    [finding] = feed(checker, [record("users", {"id": {"value": SECRET}}), user()])
    assert finding.check == "primary_key_values"
    assert finding.message.startswith("stream 'users': primary key /id has a value of type object")
    assert SECRET not in finding.message


def test_composite_key_with_one_null_part_passes_all_null_fails() -> None:
    checker = PrimaryKeyValueChecker({"orders": [["org"], ["number"]]})
    assert feed(checker, [record("orders", {"org": None, "number": 3}), record("orders", {"org": "a"})]) == []
    checker = PrimaryKeyValueChecker({"orders": [["org"], ["number"]]})
    [finding] = feed(checker, [record("orders", {"org": None}), record("orders", {"org": "a", "number": 1}),
                               record("orders", {})])
    assert "stream 'orders': every part of the primary key (/org, /number) is null or missing" in finding.message
    assert "in 2 records, first record #1" in finding.message


def test_primary_key_findings_are_bounded() -> None:
    checker = PrimaryKeyValueChecker({"users": [["id"]]}, max_errors_per_stream=1)
    findings = feed(checker, [record("users", {"id": [1]}) for _ in range(5)] + [record("users", {})])
    assert [f.message for f in findings] == [
        "stream 'users': primary key /id has a value of type array; primary key values cannot be objects or arrays; "
        "in 5 records, first record #1 of the stream",
        "… 1 more invalid record in stream 'users' (6 of 6 records invalid in total; "
        "1 more distinct problem not shown)",
    ]


# --- data points -----------------------------------------------------------------------------------------------


def test_every_field_with_a_non_null_value_somewhere_passes() -> None:
    tracker = DataPointsTracker({"users": USERS_SCHEMA})
    messages = [user(name="a", tags=[]), user(score=1.5, updated_at="2020-01-01", address={"city": "x"}),
                user(tags=["t"])]
    assert feed(tracker, messages) == []


def test_fields_never_holding_a_value_are_listed() -> None:
    tracker = DataPointsTracker({"users": USERS_SCHEMA, "orders": {"properties": {"id": {"type": "integer"}}}})
    messages = [user(name=None, address={"city": None}, tags=[], score=1), user(tags=[None])]
    [finding] = feed(tracker, messages)
    assert finding.check == "data_points"
    assert finding.message.startswith(
        "stream 'users': no record has a non-null value for 4 declared fields: /name, /updated_at, /address/city, "
        "/tags/[]")  # 'orders' had no record: check_streams_have_records reports it


def test_data_points_in_one_of_branches() -> None:
    schema = {"type": "object", "properties": {
        "payment": {"oneOf": [{"type": "object", "properties": {"card": {"type": "string"}}},
                              {"type": "object", "properties": {"iban": {"type": "string"}}}]},
        "contact": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"email": {"type": "string"}}}]},
    }}
    tracker = DataPointsTracker({"users": schema})
    assert feed(tracker, [record("users", {"payment": {"iban": "x"}, "contact": {"email": "e"}})]) == []

    tracker = DataPointsTracker({"users": schema})
    [finding] = feed(tracker, [record("users", {"payment": {"card": None}, "contact": "a"})])
    assert "1 declared field: one of (/payment/card, /payment/iban)" in finding.message


def test_listed_missing_fields_are_bounded() -> None:
    schema = {"type": "object", "properties": {f"f{i}": {"type": "string"} for i in range(30)}}
    [finding] = feed(DataPointsTracker({"s": schema}, max_paths_listed=3), [record("s", {})])
    assert "30 declared fields: /f0, /f1, /f2 … and 27 more" in finding.message


# --- stream statuses -------------------------------------------------------------------------------------------

STREAMS = [(None, "items"), (None, "categories")]


def test_interleaved_statuses_with_states_after_complete_pass() -> None:
    # The concurrent CDK's order (real-connectors.md), including STATE after COMPLETE and duplicate states.
    messages = [status("items", "STARTED"), status("categories", "STARTED"), status("categories", "RUNNING"),
                record("categories", {}), record("categories", {}), status("categories", "COMPLETE"),
                status("items", "RUNNING"), record("items", {}), {"type": "STATE", "state": stream_state("items")},
                status("items", "COMPLETE"), {"type": "STATE", "state": stream_state("categories")},
                {"type": "STATE", "state": stream_state("items")}]
    assert feed(StreamStatusTracker(STREAMS), messages) == []


def test_stream_without_records_may_skip_running() -> None:
    messages = [status("items", "STARTED"), status("items", "COMPLETE"),
                status("categories", "STARTED"), status("categories", "RUNNING"), status("categories", "RUNNING"),
                record("categories", {}), status("categories", "COMPLETE")]
    assert feed(StreamStatusTracker(STREAMS), messages) == []


def test_stream_with_records_needs_running() -> None:
    messages = [status("items", "STARTED"), record("items", {}), status("items", "COMPLETE")]
    [finding] = feed(StreamStatusTracker([(None, "items")]), messages)
    assert finding.message == ("stream 'items': no RUNNING status although the stream emitted 1 record "
                               "(got STARTED → COMPLETE)")


def test_incomplete_fails_naming_the_stream() -> None:
    messages = [status("items", "STARTED"), status("items", "RUNNING"), status("items", "INCOMPLETE")]
    [finding] = feed(StreamStatusTracker([(None, "items")]), messages)
    assert finding.check == "stream_statuses"
    assert finding.message.startswith("stream 'items': the connector reported status INCOMPLETE")


def test_missing_complete_fails() -> None:
    messages = [status("items", "STARTED"), status("items", "RUNNING"), record("items", {})]
    [finding] = feed(StreamStatusTracker([(None, "items")]), messages)
    assert finding.message == ("stream 'items': the last status is RUNNING, expected COMPLETE "
                               "(got STARTED → RUNNING)")


def test_wrong_order_and_misplaced_statuses_fail() -> None:
    messages = [status("items", "RUNNING"), status("items", "STARTED"), status("items", "COMPLETE"),
                status("items", "RUNNING"), status("items", "RUNNING"), status("items", "COMPLETE")]
    [finding] = feed(StreamStatusTracker([(None, "items")]), messages)
    assert "the first status is RUNNING, expected STARTED" in finding.message
    assert "only RUNNING may come between the first and last status, got COMPLETE, STARTED" in finding.message
    assert "(got RUNNING → STARTED → COMPLETE → RUNNING×2 → COMPLETE)" in finding.message


def test_configured_stream_without_statuses_and_unknown_stream_fail() -> None:
    messages = [status("items", "STARTED"), status("items", "COMPLETE"),
                status("ghost", "STARTED", namespace="public")]
    findings = feed(StreamStatusTracker(STREAMS), messages)
    assert [f.message for f in findings] == [
        "stream 'categories': no STREAM_STATUS trace message; expected STARTED, RUNNING…, COMPLETE",
        "STREAM_STATUS for stream 'ghost' (namespace 'public'), which is not in the configured catalog "
        "(got STARTED)",
    ]


def test_namespaces_tell_streams_apart() -> None:
    messages = [status("users", "STARTED", "a"), status("users", "COMPLETE", "a")]
    [finding] = feed(StreamStatusTracker([("a", "users"), ("b", "users")]), messages)
    assert finding.message.startswith("stream 'users' (namespace 'b'): no STREAM_STATUS")


# --- state messages --------------------------------------------------------------------------------------------


def test_states_one_per_stream_with_stats_pass_duplicates_included() -> None:
    states = [stream_state("items", 5.0, updated_at="2024-09-01T00:00:00Z"), stream_state("categories", 2),
              stream_state("items", 0.0)]
    assert check_state_messages(states, configured_stream_count=2) == []


def test_whole_state_messages_are_unwrapped() -> None:
    assert check_state_messages([{"type": "STATE", "state": stream_state("items")}], 1) == []


def test_too_few_states_fail() -> None:
    [finding] = check_state_messages([stream_state("items")], configured_stream_count=3)
    assert finding.check == "state_messages"
    assert finding.message == "expected at least 3 STATE messages (one per configured stream), got 1"


def test_legacy_states_fail() -> None:
    legacy = [{"type": "LEGACY", "data": {"items": {}}, "sourceStats": {"recordCount": 1}},
              {"data": {"items": {}}, "sourceStats": {"recordCount": 1}}]
    [finding] = check_state_messages(legacy, configured_stream_count=1)
    assert finding.message.startswith("2 of 2 (first: #1) STATE messages are LEGACY states")


def test_stream_state_carrying_legacy_data_too_is_not_legacy() -> None:
    state = {**stream_state("items"), "data": {"items": {}}}
    assert check_state_messages([state], 1) == []


def test_states_without_source_stats_fail() -> None:
    [finding] = check_state_messages([stream_state("items"), stream_state("items", None)], 1)
    assert finding.message.startswith("1 of 2 (first: #2) STATE messages have no sourceStats.recordCount")


def test_global_state_does_not_crash_and_counts_its_streams() -> None:
    global_state = {"type": "GLOBAL", "global": {"shared_state": {"lsn": 1}, "stream_states": [
        {"stream_descriptor": {"name": "items"}, "stream_state": {}},
        {"stream_descriptor": {"name": "categories"}, "stream_state": {}}]}, "sourceStats": {"recordCount": 3}}
    assert check_state_messages([global_state], configured_stream_count=2) == []
    [finding] = check_state_messages([{"type": "GLOBAL", "global": None, "sourceStats": {"recordCount": 3}}], 1)
    assert "got 0" in finding.message


def test_malformed_states_are_findings() -> None:
    findings = check_state_messages([None, "x"], 0)
    assert [f.message.split(" STATE")[0] for f in findings] == ["2 of 2 (first: #1)"]


# --- error trace on failure ------------------------------------------------------------------------------------


def test_error_trace_present_passes() -> None:
    messages = iter([{"type": "LOG", "log": {"level": "FATAL", "message": "boom"}},
                     {"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1.0,
                                                 "error": {"message": "boom", "failure_type": "system_error"}}}])
    assert check_error_trace_emitted(messages) == []


def test_log_error_alone_is_not_enough() -> None:
    messages = [{"type": "LOG", "log": {"level": "ERROR", "message": "boom"}},
                {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "stream_status": {}}}]
    [finding] = check_error_trace_emitted(messages)
    assert finding.check == "error_trace_on_failure"
    assert "got none; the connector logged 1 ERROR/FATAL LOG message" in finding.message
    assert check_error_trace_emitted([])[0].message.endswith("got none")


# --- docstrings are failure titles -----------------------------------------------------------------------------


def test_every_public_check_has_a_docstring_title() -> None:
    for check in (RecordSchemaValidator, check_records_exist, check_streams_have_records, PrimaryKeyValueChecker,
                  DataPointsTracker, StreamStatusTracker, check_state_messages, check_error_trace_emitted):
        title = (check.__doc__ or "").strip().splitlines()[0]
        assert len(title) > 20, check
