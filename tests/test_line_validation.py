"""The line filter (msgspec typed decoding of the raw RECORD line) never vouches for a record the detailed path
rejects, vouches for real source-faker output, and basic_read uses it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceptance import catalog as catalogs
from acceptance.checks.basic_read import RecordSchemaValidator, feed_read
from acceptance.connector import venv_bin
from acceptance.line_validation import RecordLineFilter
from acceptance.protocol import parse_line
from acceptance.runner import LocalRunner
from acceptance.runner.base import discover, read
from tests.test_native_validation import SHAPED, detailed_valid

FAKER = Path(__file__).parent.parent / "connectors" / "source-faker"


def record_line(data: Any, stream: str = "s", **envelope: Any) -> bytes:
    record = {"stream": stream, "data": data, "emitted_at": 1700000000000, **envelope}
    return json.dumps({"type": "RECORD", "record": record}).encode()


def vouched(schema: dict[str, Any], data: Any, *, forbid_undeclared: bool = False) -> bool:
    return RecordLineFilter({"s": schema}, forbid_undeclared=forbid_undeclared)(record_line(data)) == "s"


def detailed_accepts(schema: dict[str, Any], data: Any, *, forbid_undeclared: bool = False) -> bool:
    declared = set(schema.get("properties") or {})
    undeclared = forbid_undeclared and isinstance(data, dict) and not declared.issuperset(data)
    return isinstance(data, dict) and detailed_valid(schema, data) and not undeclared


@pytest.mark.parametrize("fmt", ["date-time", "date", "time", "email"])
@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_a_format_is_vouched_for_only_when_the_detailed_check_accepts_it(fmt: str, data: st.DataObject) -> None:
    value = data.draw(st.one_of(st.from_regex(SHAPED[fmt], fullmatch=True), st.text(max_size=40)))
    schema = {"type": "object", "properties": {"v": {"type": "string", "format": fmt}}}
    if vouched(schema, {"v": value}):
        assert detailed_valid(schema, {"v": value}), f"{fmt}: {value!r} vouched for, the detailed check refuses it"


@pytest.mark.parametrize(("fmt", "value", "valid"), [
    ("date-time", "2024-01-01T00:00:00+00:00", True), ("date-time", "2012-04-10T00:14:07.596313", True),
    ("date-time", "2024-02-29 10:00:00Z", True), ("date-time", "2024-01-01T00:00:00.123456789012Z", True),
    ("date-time", "2024-01-01T00:00:00.1234567890123Z", False),  # 13 digits: msgspec would take it, we do not
    ("date-time", "2023-02-29T00:00:00Z", False), ("date", "2024-02-29", True), ("date", "2024-2-29", False),
    ("time", "10:20:30.1234567890123", False), ("time", "10:20:30+01:00", True),
    ("email", "a@example.com", True), ("email", "a@example.com\n", False), ("email", "a b@example.com", False),
])
def test_format_cases(fmt: str, value: str, valid: bool) -> None:
    schema = {"type": "object", "properties": {"v": {"type": "string", "format": fmt}}}
    assert vouched(schema, {"v": value}) is valid
    if valid:
        assert detailed_valid(schema, {"v": value})


SCHEMA = {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "integer"}, "price": {"type": ["null", "number"]}, "name": {"type": ["string", "null"]},
    "flag": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": ["integer", "string"]}},
    "at": {"type": ["null", "string"], "format": "date-time"}, "anything": {}, "raw": {"type": "array"},
    "nested": {"type": "object", "properties": {"n": {"type": "integer"}, "when": {"type": "string", "format": "date"}},
               "additionalProperties": False},
    "free": {"type": "object"},
}}
KEYS = [*SCHEMA["properties"], "n", "when", "extra"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.floats(allow_nan=False, allow_infinity=False), st.integers(-3, 3).map(float),
    st.sampled_from(["2024-01-01T00:00:00Z", "2024-02-30", "2024-02-29", "x", ""]), st.text(max_size=5),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=12)


DATES = st.sampled_from(["2024-01-01T00:00:00Z", "2024-02-29", "2024-02-29T10:00:00.5+01:00"])
# Mostly valid values per property, sometimes anything: a record then tends to break at most one rule.
LIKELY_VALID = {
    "id": st.integers(), "price": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    "name": st.one_of(st.none(), st.text(max_size=5)), "flag": st.booleans(),
    "tags": st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=3), "at": st.one_of(st.none(), DATES),
    "anything": VALUES, "raw": st.lists(VALUES, max_size=2),
    "nested": st.fixed_dictionaries({}, optional={"n": st.integers(), "when": st.just("2024-02-29")}),
    "free": st.dictionaries(st.text(max_size=3), VALUES, max_size=2), "extra": VALUES,
}
RECORDS = st.fixed_dictionaries({"id": st.one_of(st.integers(), VALUES)}, optional={
    key: st.one_of(valid, valid, valid, VALUES) for key, valid in LIKELY_VALID.items() if key != "id"})


@pytest.mark.parametrize("forbid_undeclared", [False, True])
@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(data=st.one_of(RECORDS, st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8)))
def test_random_records_are_vouched_for_only_when_valid(forbid_undeclared: bool, data: dict[str, Any]) -> None:
    if vouched(SCHEMA, data, forbid_undeclared=forbid_undeclared):
        assert detailed_accepts(SCHEMA, data, forbid_undeclared=forbid_undeclared), data


@pytest.mark.parametrize(("data", "valid"), [
    ({"id": 1}, True), ({"id": 2 ** 70, "price": 1, "name": None, "tags": [1, "a"]}, True),
    ({"id": 1, "nested": {"n": 1, "when": "2024-02-29"}, "free": {"x": [1.5]}, "anything": [None]}, True),
    ({"id": 1.0}, False), ({"id": True}, False), ({}, False), ({"id": 1, "flag": 0}, False),
    ({"id": 1, "price": True}, False), ({"id": 1, "tags": [1.5]}, False),
    ({"id": 1, "nested": {"n": 1, "other": 1}}, False), ({"id": 1, "nested": {"when": "2023-02-29"}}, False),
    ({"id": 1, "at": "2024-13-01T00:00:00Z"}, False), ({"id": 1, "at": 5}, False),
])
def test_record_cases(data: dict[str, Any], valid: bool) -> None:
    assert vouched(SCHEMA, data) is valid and detailed_accepts(SCHEMA, data) is valid


def test_undeclared_columns_are_refused_only_when_asked() -> None:
    assert vouched(SCHEMA, {"id": 1, "extra": 1}) and not vouched(SCHEMA, {"id": 1, "extra": 1}, forbid_undeclared=True)


def test_duplicate_keys_are_checked_at_every_occurrence() -> None:
    line_filter = RecordLineFilter({"s": SCHEMA}, forbid_undeclared=False)
    base = b'{"type": "RECORD", "record": {"stream": "s", "emitted_at": 1, "data": {"id": 1, "id": %s}}}'
    assert line_filter(base % b"2") == "s"
    assert line_filter(base % b'"x"') is None and parse_line(base % b'"x"')["record"]["data"]["id"] == "x"


@pytest.mark.parametrize("line", [
    b'{"type": "STATE", "state": {}}', b"not json", b'{"type": "RECORD"}', b"\xff\xfe",
    record_line({"id": 1}, stream="elsewhere"), record_line({"id": 1}, emitted_at="now"),
    record_line({"id": 1}, namespace=5), record_line([1]),
    b'{"type": "RECORD", "record": {"stream": "s", "data": {"id": 1}, "emitted_at": NaN}}',
])
def test_lines_left_to_the_detailed_path(line: bytes) -> None:
    assert RecordLineFilter({"s": SCHEMA}, forbid_undeclared=False)(line) is None


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}},
    {"type": "object", "properties": {"a": {"type": "string", "format": "hostname"}}},
    {"type": "object", "properties": {"a": {"enum": [1, 2]}}},
    {"type": "object", "properties": {"a": {"oneOf": [{"type": "integer"}, {"type": "string"}]}}},
    {"type": "object", "properties": {"a": {"$ref": "#/definitions/x"}}, "definitions": {"x": {}}},
    {"type": "object", "additionalProperties": {"type": "string"}},
    {"type": "object", "properties": {"a": {"type": "array", "items": [{"type": "integer"}]}}},
    {"type": "object", "properties": {"a": {"properties": {"b": {"type": "integer"}}}}},  # no type
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}}},
    {"type": ["object", "null"], "properties": {}}, {"properties": {}}, True,
])
def test_schemas_it_does_not_translate_leave_the_stream_out(schema: Any) -> None:
    line_filter = RecordLineFilter({"s": schema, "t": {"type": "object"}}, forbid_undeclared=False)
    assert list(line_filter.streams.values()) == ["t"]
    assert line_filter(record_line({"a": 1})) is None and line_filter(record_line({"a": 1}, stream="t")) == "t"


def test_odd_property_names_are_matched_exactly() -> None:
    schema = {"type": "object", "required": ["class", "a b", "_x", "é"],
              "properties": {"class": {"type": "integer"}, "a b": {"type": "string"}}}
    assert vouched(schema, {"class": 1, "a b": "x", "_x": None, "é": []})
    assert not vouched(schema, {"class": 1, "a b": 2, "_x": None, "é": []})
    assert not vouched(schema, {"class": 1, "a b": "x", "_x": None})


def test_a_stream_with_patterns_is_validated_from_the_parsed_record_once_it_is_parsed() -> None:
    """msgspec checks patterns through Python's re: slower than the native filter on a record parsed anyway."""
    schemas = {"s": SCHEMA, "mail": {"type": "object", "properties": {"m": {"type": "string", "format": "email"}}}}
    validator = RecordSchemaValidator(schemas)
    detailed_calls = []
    original = validator.feed
    validator.feed = lambda message: (detailed_calls.append(message), original(message))  # type: ignore
    lines = [record_line({"id": 1}), record_line({"m": "a@example.com"}, stream="mail")]
    list(feed_read(lines, validator, []))
    assert [m["record"]["stream"] for m in detailed_calls] == ["mail"]
    assert validator.feed_line(lines[1]) and validator.invalid_records == 0


def test_the_validator_counts_vouched_records_and_explains_the_rest() -> None:
    """Through feed_read, as basic_read feeds it: valid records never reach the detailed path; the findings and
    their record numbers are those of feeding every parsed message."""
    lines = [record_line({"id": n}) for n in range(50)]
    lines[7] = record_line({"id": "seven"})
    lines[30] = record_line({"id": 30, "extra": 1})
    lines.insert(10, b'{"type": "STATE", "state": {"data": {}}}')
    through_lines = RecordSchemaValidator({"s": SCHEMA})
    detailed_calls = []
    original = through_lines.feed
    through_lines.feed = lambda message: (detailed_calls.append(message), original(message))  # type: ignore
    messages = list(feed_read(lines, through_lines, []))
    every_message = RecordSchemaValidator({"s": SCHEMA})
    for message in messages:
        every_message.feed(message)
    assert len(messages) == 51 and len(detailed_calls) == 3  # the two invalid records and the STATE
    line_only = RecordSchemaValidator({"s": SCHEMA})
    assert [line_only.feed_line(line) for line in lines].count(True) == 48
    assert [f.message for f in through_lines.findings()] == [f.message for f in every_message.findings()]
    assert through_lines.invalid_records == 2 and "first record #8 of" in through_lines.findings()[0].message


@pytest.fixture(scope="module")
def faker_lines() -> tuple[dict[str, Any], list[bytes]]:
    script = venv_bin(FAKER / ".venv") / "source-faker"
    if not script.exists():
        pytest.skip("connectors/source-faker/.venv is not built (nox -s build -- source-faker --backend local)")
    runner = LocalRunner([str(script)], cwd=FAKER)
    config = json.loads((FAKER / "integration_tests" / "config.json").read_text())
    catalog = discover(runner, config, timeout=120).of_type("CATALOG")[-1]["catalog"]
    output = read(runner, config, catalogs.configured_from_discovered(catalog), timeout=300)
    return {s["name"]: s["json_schema"] for s in catalog["streams"]}, list(output.messages.lines())


@pytest.mark.slow
def test_real_faker_records_are_vouched_for_and_broken_copies_are_not(
        faker_lines: tuple[dict[str, Any], list[bytes]]) -> None:
    schemas, lines = faker_lines
    line_filter = RecordLineFilter(schemas, forbid_undeclared=True)
    assert set(line_filter.streams.values()) == set(schemas)
    records = [line for line in lines if parse_line(line)["type"] == "RECORD"]  # type: ignore[index]
    assert len(records) > 2000
    assert all(line_filter(line) == orjson.loads(line)["record"]["stream"] for line in records)
    breakages = {
        "id as a float": lambda data: {**data, "id": float(data["id"])},
        "an impossible date": lambda data: {**data, "created_at": "2023-02-29T00:00:00+00:00"},
        "an undeclared column": lambda data: {**data, "surprise": 1},
        "an hour out of range": lambda data: {**data, "updated_at": "2024-01-01T25:00:00+00:00"},
    }
    for line in records[:: math.ceil(len(records) / 100)]:
        message = orjson.loads(line)
        name, data = message["record"]["stream"], message["record"]["data"]
        for what, breaks in breakages.items():
            broken = record_line(breaks(data), stream=name)
            assert line_filter(broken) is None, f"{what} vouched for in {name}"
            assert not detailed_accepts(schemas[name], breaks(data), forbid_undeclared=True), what
