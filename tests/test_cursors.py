"""Cursors: where they are in catalogs, records and states; their type from the schema; how two values compare."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from acceptance.protocol.cursors import (
    MISSING,
    CursorError,
    CursorType,
    Instant,
    compare,
    cursor_allows_null,
    cursor_field_of,
    cursor_json_types,
    cursor_type_of,
    days_before,
    find_cursor_values,
    parses_as,
    record_cursor_value,
    state_cursor_value,
)

T = CursorType


# ------------------------------------------------------------------------------------------------ where cursors are


def test_cursor_field_prefers_the_configured_one() -> None:
    configured = {"stream": {"name": "s", "default_cursor_field": ["updated_at"]}, "cursor_field": ["created"]}
    assert cursor_field_of(configured) == ["created"]


def test_cursor_field_falls_back_to_the_default_and_supports_nesting() -> None:
    assert cursor_field_of({"stream": {"default_cursor_field": ["meta", "ts"]}, "cursor_field": []}) == ["meta", "ts"]
    assert cursor_field_of({"stream": {"name": "s"}}) == []
    assert cursor_field_of({"default_cursor_field": ["x"]}) == ["x"]  # a bare stream works too


def test_record_cursor_value_nested_null_and_missing() -> None:
    data = {"meta": {"ts": 5, "none": None}, "flat": "v"}
    assert record_cursor_value(data, ["meta", "ts"]) == 5
    assert record_cursor_value(data, ["flat"]) == "v"
    assert record_cursor_value(data, ["meta", "none"]) is None
    assert record_cursor_value(data, ["meta", "absent"]) is MISSING
    assert record_cursor_value(data, ["flat", "deeper"]) is MISSING
    assert record_cursor_value(None, ["x"]) is MISSING
    assert not MISSING and repr(MISSING) == "<missing>"


@pytest.mark.parametrize(("state", "path", "override", "expected"), [
    ({"updated_at": "2024-01-01"}, ["updated_at"], None, "2024-01-01"),  # declarative items
    ({"seed": 42, "updated_at": "2026-11-25T14:16:23+00:00", "loop_offset": 1000}, ["updated_at"], None,
     "2026-11-25T14:16:23+00:00"),  # faker
    ({"meta": {"ts": 7}}, ["meta", "ts"], None, 7),  # nested path
    ({"ts": 8}, ["meta", "ts"], None, 8),  # last element at top level
    ({"users": {"updated_at": 9}}, ["updated_at"], None, 9),  # one level down (legacy-like nesting)
    ({"a": {"b": {"c": {"ts": 10}}}}, ["ts"], None, 10),  # depth 3 is searched
    ({"a": {"b": {"c": {"d": {"ts": 11}}}}}, ["ts"], None, None),  # depth 4 is not
    ({"cursor_field": ["id"], "cursor": "12", "version": 2, "state_type": "cursor_based"}, ["id"], None, "12"),
    ({"cursor_field": ["other"], "cursor": "12"}, ["id"], None, None),  # a DB cursor for another field
    ({"state": {"ts": 1}, "states": [{"partition": {"p": 1}, "cursor": {"ts": 2}}]}, ["ts"], None, None),
    ({"position": {"at": [0, {"ts": 3}]}}, ["ts"], ["position", "at", 1, "ts"], 3),  # historic cursor_paths
    ({"ts": 1}, ["ts"], ["elsewhere"], None),  # an override that misses finds nothing (no guessing)
    ({"__ab_no_cursor_state_message": True}, ["updated_at"], None, None),  # opaque
    ({"updated_at": None}, ["updated_at"], None, None),  # null counts as not found
    ({}, [], None, None),
    (None, ["x"], None, None),
])
def test_state_cursor_value(state: Any, path: list[str], override: list[Any] | None, expected: Any) -> None:
    assert state_cursor_value(state, path, override) == expected


def test_find_cursor_values_enters_lists_and_db_states() -> None:
    partitioned = {"state": {"ts": 1}, "states": [{"partition": {"p": 1}, "cursor": {"ts": 2}},
                                                   {"partition": {"p": 2}, "cursor": {"ts": 3}}]}
    assert find_cursor_values(partitioned, "ts") == [1, 2, 3]
    assert find_cursor_values({"cursor_field": ["id"], "cursor": "5"}, "id") == ["5"]
    assert find_cursor_values({"x": 1}, "ts") == []
    assert find_cursor_values(None, "ts") == []


# ---------------------------------------------------------------------------------------------------- cursor types


def schema(**cursor: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"c": cursor, "nested": {"type": "object", "properties": {"c": cursor}}}}


@pytest.mark.parametrize(("cursor", "expected"), [
    ({"type": "string", "format": "date-time"}, T.DATE_TIME),
    ({"type": ["null", "string"], "format": "date-time"}, T.DATE_TIME),
    ({"type": "string", "airbyte_type": "timestamp_without_timezone"}, T.DATE_TIME),
    ({"type": "string", "format": "date"}, T.DATE),
    ({"type": "integer"}, T.INTEGER),
    ({"type": ["null", "integer"]}, T.INTEGER),
    ({"type": "number", "airbyte_type": "integer"}, T.INTEGER),
    ({"type": "number"}, T.NUMBER),
    ({"type": ["integer", "number"]}, T.NUMBER),
    ({"type": "string"}, T.STRING),
    ({"type": ["string", "integer"]}, T.STRING),
    ({"anyOf": [{"type": "null"}, {"type": "string", "format": "date-time"}]}, T.DATE_TIME),
    ({}, T.STRING),
])
def test_cursor_type_of(cursor: dict[str, Any], expected: CursorType) -> None:
    assert cursor_type_of(schema(**cursor), ["c"]) == expected
    assert cursor_type_of(schema(**cursor), ["nested", "c"]) == expected


def test_undeclared_cursor_is_a_string_and_not_nullable() -> None:
    assert cursor_type_of(schema(type="integer"), ["absent"]) == T.STRING
    assert cursor_type_of(None, ["c"]) == T.STRING
    assert not cursor_allows_null(schema(type="integer"), ["absent"])


def test_nullability_and_json_types() -> None:
    assert cursor_allows_null(schema(type=["null", "string"]), ["c"])
    assert cursor_allows_null(schema(anyOf=[{"type": "null"}, {"type": "integer"}]), ["c"])
    assert not cursor_allows_null(schema(type="string"), ["c"])
    assert cursor_json_types(schema(type=["null", "string", "integer"]), ["c"]) == {"string", "integer"}
    assert cursor_json_types(schema(type="string"), ["absent"]) == set()


# ------------------------------------------------------------------------------------------------------ comparison


@pytest.mark.parametrize(("a", "b", "cursor_type", "expected"), [
    # date-times: zones, zone-less as UTC, fractions, separators
    ("2024-01-01T00:00:00Z", "2024-01-01T02:00:00+02:00", T.DATE_TIME, 0),
    ("2024-01-01T00:00:00", "2024-01-01T00:00:00+00:00", T.DATE_TIME, 0),  # zone-less vs zoned
    ("2024-01-01T00:00:00", "2024-01-01T00:30:00+01:00", T.DATE_TIME, 1),  # 00:30+01:00 is 23:30 the day before
    ("2012-04-10T00:14:07.596313", "2012-04-10T00:14:07.5963Z", T.DATE_TIME, 1),  # faker's zone-less purchases
    ("2024-01-01 10:00:00.1234567+0000", "2024-01-01T10:00:00.123456Z", T.DATE_TIME, 0),  # 7 digits, +0000
    ("2024-01-01T00:00:00-05", "2024-01-01T05:00:00Z", T.DATE_TIME, 0),
    ("2024/01/02", "2024-01-01T23:59:59Z", T.DATE_TIME, 1),
    ("Wed, 01 Jan 2024 00:00:00 GMT", "2024-01-01", T.DATE_TIME, 0),  # RFC 2822
    ("2024-01-01T00:00:00 UTC", "2024-01-01T00:00:00Z", T.DATE_TIME, 0),
    (datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1))), "2023-12-31T23:00:00", T.DATE_TIME, 0),
    # dates, and dates against date-times
    ("2024-01-02", "2024-01-01", T.DATE, 1),
    ("2024-01-01", "2024-01-01T00:00:00Z", T.DATE, 0),
    (date(2024, 1, 1), "2024-01-01", T.DATE, 0),
    ("0000-00-00", "0001-01-01", T.DATE, 0),  # MySQL zero date
    ("10000-01-01", "9999-12-31T23:59:59Z", T.DATE, 1),  # beyond datetime's range
    # epochs against dates, in every unit
    (1704067200, "2024-01-01T00:00:00Z", T.DATE_TIME, 0),
    (1704067200000, "2024-01-01", T.INTEGER, 0),  # integer schema, date string in the state
    ("1704067200000", "2023-12-31", T.INTEGER, 1),
    (1704067200000000, "2024-01-01", T.DATE_TIME, 0),
    (1704067200000000000, "2024-01-01", T.DATE_TIME, 0),
    # numbers
    (10, 9, T.INTEGER, 1),
    ("10", 9, T.INTEGER, 1),  # database sources store cursors as strings
    ("10", "9", T.INTEGER, 1),
    (1.5, "1.50", T.NUMBER, 0),
    (12345678901234567890123, 12345678901234567890122, T.INTEGER, 1),  # exact beyond 64 bits
    # strings: numeric if both are, dates if both are, else plain
    ("abc", "abd", T.STRING, -1),
    ("10", "9", T.STRING, 1),
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00", T.STRING, 0),
    ("b", "a", T.STRING, 1),
    # instants (a state cursor moved back by threshold_days)
    ("2024-01-05", Instant(1704067200 * 1_000_000), T.DATE, 1),
])
def test_compare(a: Any, b: Any, cursor_type: CursorType, expected: int) -> None:
    assert compare(a, b, cursor_type) == expected
    assert compare(b, a, cursor_type) == -expected


@pytest.mark.parametrize(("a", "b", "cursor_type", "message"), [
    ("yesterday", "2024-01-01", T.DATE_TIME,
     "cannot compare cursor values 'yesterday' and '2024-01-01' as date-time: 'yesterday' is not a date or date-time"),
    ("2024-13-01", "2024-01-01", T.DATE, "'2024-13-01' is not a date or date-time"),
    ("2023-02-29", "2024-01-01", T.DATE, "'2023-02-29' is not a date or date-time"),
    ("abc", 5, T.INTEGER, "as integer: 'abc' is not a number"),
    (True, 1, T.INTEGER, "as integer: True is not a number"),
    ({"x": 1}, "a", T.STRING, "as string: {'x': 1} is not a string"),
    (None, "2024-01-01", T.DATE, "a cursor value is missing or null"),
    (MISSING, 1, T.INTEGER, "a cursor value is missing or null"),
])
def test_compare_refuses_what_it_cannot_parse(a: Any, b: Any, cursor_type: CursorType, message: str) -> None:
    with pytest.raises(CursorError) as raised:
        compare(a, b, cursor_type)
    assert message in str(raised.value)
    assert raised.value.value in (a, b)


def test_parses_as() -> None:
    assert parses_as("2024-01-01", T.DATE)
    assert not parses_as("soon", T.DATE)
    assert parses_as("soon", T.STRING)
    assert not parses_as(None, T.STRING)


def test_days_before_shifts_dates_only() -> None:
    shifted = days_before("2024-01-10T12:00:00Z", 3, T.DATE_TIME)
    assert isinstance(shifted, Instant)
    assert compare(shifted, "2024-01-07T12:00:00Z", T.DATE_TIME) == 0
    assert repr(shifted) == "'2024-01-07T12:00:00Z'"
    assert days_before("2024-01-10", 0, T.DATE) == "2024-01-10"
    assert days_before(100, 3, T.INTEGER) == 100  # numbers of a numeric cursor are not shifted
    assert days_before("100", 3, T.STRING) == "100"
    assert compare(days_before("2024-01-10", 1, T.STRING), "2024-01-09", T.STRING) == 0
    assert days_before("not a date", 3, T.STRING) == "not a date"
    assert compare(days_before(1704844800000, 1, T.DATE_TIME), "2024-01-09", T.DATE_TIME) == 0


def test_days_before_parse_returns_an_instant_for_zero_days() -> None:
    parsed = days_before("2024-01-01T00:00:00+01:00", 0, T.DATE_TIME, parse=True)
    assert parsed == Instant(1704063600 * 1_000_000)
    assert days_before("not a date", 0, T.DATE_TIME, parse=True) == "not a date"
