"""Cursors: where an incremental stream's cursor is, in its records and in its state, and how two values compare.

Comparison follows the stream's JSON schema (`cursor_type_of`) but parses leniently, because real connectors
store cursors in many shapes: ISO dates and date-times with or without a zone (zone-less ones are taken as UTC),
`Z`/`+00:00`/`+0000` offsets, any number of fractional digits, RFC 2822 dates, epoch numbers (seconds,
milliseconds, microseconds or nanoseconds, told apart by magnitude), and numbers stored as strings (database
sources keep every cursor as a string). Date-times are compared as exact integer microseconds since the epoch,
computed without `datetime`, so years beyond 9999 (abnormally large future states) compare too.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from acceptance.protocol.jsonschema_helpers import find_property, types_of

MICROS_PER_DAY = 86_400 * 1_000_000
# How deep `state_cursor_value` looks for a key named like the cursor (root = depth 0).
STATE_SEARCH_DEPTH = 3


class CursorError(ValueError):
    """Two cursor values cannot be compared as the stream's cursor type (the message says which and why)."""

    def __init__(self, message: str, value: Any = None, expected: str = "") -> None:
        super().__init__(message)
        self.value = value  # the value that could not be interpreted
        self.expected = expected  # what it should have been ("a date or date-time", "a number", ...)


class _Missing:
    """A cursor absent from a record (as opposed to present with value null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class CursorType(StrEnum):
    DATE = "date"
    DATE_TIME = "date-time"
    INTEGER = "integer"
    NUMBER = "number"
    STRING = "string"


DATE_TYPES = frozenset({CursorType.DATE, CursorType.DATE_TIME})


@dataclass(frozen=True)
class Instant:
    """A point in time as exact microseconds since 1970-01-01T00:00:00 UTC (any year, no datetime limits)."""

    micros: int

    def __repr__(self) -> str:
        try:
            moment = datetime(1970, 1, 1) + timedelta(microseconds=self.micros)
        except OverflowError:
            return f"Instant({self.micros}µs)"
        return repr(moment.isoformat() + "Z")


# ---------------------------------------------------------------------------------------------- where cursors are


def cursor_field_of(configured_stream: dict[str, Any]) -> list[str]:
    """The cursor path of a configured stream: its `cursor_field`, else the stream's `default_cursor_field`."""
    stream = configured_stream.get("stream") if isinstance(configured_stream.get("stream"), dict) else configured_stream
    for candidate in (configured_stream.get("cursor_field"), (stream or {}).get("default_cursor_field")):
        if isinstance(candidate, list) and candidate and all(isinstance(part, str) for part in candidate):
            return list(candidate)
        if isinstance(candidate, str) and candidate:
            return [candidate]
    return []


def record_cursor_value(data: Any, cursor_path: Sequence[str]) -> Any:
    """The (nested) cursor value of a record's `data`; `MISSING` when the path is absent, None when null."""
    if not cursor_path:
        return MISSING
    value = data
    for part in cursor_path:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def state_cursor_value(
    stream_state: Any, cursor_path: Sequence[str], cursor_paths_override: Sequence[str | int] | None = None
) -> Any:
    """The cursor value inside one stream's state blob, or None when it cannot be found.

    Looked up, in order: the override path (the historic `cursor_paths` config; when given, nothing else is tried);
    the cursor's nested path; its last element as a top-level key; then, breadth-first down to
    `STATE_SEARCH_DEPTH` levels of nested objects, a key equal to the cursor name or a database-source
    `{"cursor_field": [...], "cursor": v}` object naming the same cursor. Lists are not entered, and a
    per-partition state (a `states` list) is not searched: each partition has its own cursor, and a record
    cannot be matched to its partition. A null value counts as not found.
    """
    if not isinstance(stream_state, dict):
        return None
    if cursor_paths_override:
        return _walk(stream_state, cursor_paths_override)
    if not cursor_path:
        return None
    for path in (cursor_path, cursor_path[-1:]):
        value = _walk(stream_state, path)
        if value is not None:
            return value
    if isinstance(stream_state.get("states"), list):
        return None
    name = cursor_path[-1]
    queue: deque[tuple[dict[str, Any], int]] = deque([(stream_state, 0)])
    while queue:
        node, depth = queue.popleft()
        if node.get(name) is not None and not isinstance(node.get(name), dict | list):
            return node[name]
        if _is_db_cursor(node, cursor_path) and node.get("cursor") is not None:
            return node["cursor"]
        if depth < STATE_SEARCH_DEPTH:
            queue.extend((child, depth + 1) for child in node.values() if isinstance(child, dict))
    return None


def find_cursor_values(stream_state: Any, cursor_name: str, max_depth: int = 10) -> list[Any]:
    """Every value anywhere in a state blob stored under the cursor's name, or as `cursor` beside a `cursor_field`.

    Unlike `state_cursor_value` this enters lists (partitioned states), for checks that look at each value.
    """
    found: list[Any] = []

    def walk(node: Any, depth: int) -> None:
        if depth > max_depth:
            return
        if isinstance(node, dict):
            for key, value in node.items():
                if key == cursor_name and not isinstance(value, dict | list):
                    found.append(value)
                elif key == "cursor" and "cursor_field" in node and not isinstance(value, dict | list):
                    found.append(value)
                else:
                    walk(value, depth + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, depth + 1)

    walk(stream_state, 0)
    return found


def _walk(document: Any, path: Sequence[str | int]) -> Any:
    value = document
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and -len(value) <= part < len(value):
            value = value[part]
        else:
            return None
    return value


def _is_db_cursor(node: dict[str, Any], cursor_path: Sequence[str]) -> bool:
    field = node.get("cursor_field")
    if isinstance(field, str):
        field = [field]
    return isinstance(field, list) and bool(field) and (field == list(cursor_path) or field[-1] == cursor_path[-1])


# ----------------------------------------------------------------------------------------------------- cursor types


def cursor_schema(schema: Any, cursor_path: Sequence[str]) -> dict[str, Any] | None:
    """The sub-schema of the cursor property, None when the schema does not declare it."""
    if not isinstance(schema, dict) or not cursor_path:
        return None
    return find_property(schema, list(cursor_path))


def _branches(node: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [node]
    for keyword in ("anyOf", "oneOf", "allOf"):
        if isinstance(node.get(keyword), list):
            nodes.extend(branch for branch in node[keyword] if isinstance(branch, dict))
    return nodes


def cursor_json_types(schema: Any, cursor_path: Sequence[str]) -> set[str]:
    """The JSON types the schema declares for the cursor (`null` excluded; anyOf/oneOf branches included)."""
    node = cursor_schema(schema, cursor_path)
    if node is None:
        return set()
    return {t for branch in _branches(node) for t in types_of(branch)} - {"null"}


def cursor_allows_null(schema: Any, cursor_path: Sequence[str]) -> bool:
    """The schema lets the cursor be null (`"null"` among its types, directly or in an anyOf/oneOf branch)."""
    node = cursor_schema(schema, cursor_path)
    return node is not None and any("null" in types_of(branch) for branch in _branches(node))


def cursor_type_of(schema: Any, cursor_path: Sequence[str]) -> CursorType:
    """How the cursor compares, from its schema: date/date-time formats (or `airbyte_type: timestamp*`) first,
    then integer/number; anything else (string, mixed types, undeclared) is STRING, which still compares
    numbers numerically and date-like strings as dates."""
    node = cursor_schema(schema, cursor_path)
    if node is None:
        return CursorType.STRING
    branches = _branches(node)
    formats = {b.get("format") for b in branches}
    airbyte_types = {str(b.get("airbyte_type") or "") for b in branches}
    if "date-time" in formats or any(t.startswith("timestamp") for t in airbyte_types):
        return CursorType.DATE_TIME
    if "date" in formats or "date" in airbyte_types:
        return CursorType.DATE
    types = cursor_json_types(schema, cursor_path)
    numeric = bool(types) and types <= {"integer", "number"}
    if types == {"integer"} or (numeric and airbyte_types & {"integer", "big_integer"}):
        return CursorType.INTEGER
    if numeric:
        return CursorType.NUMBER
    return CursorType.STRING


# ------------------------------------------------------------------------------------------------------ comparison


def compare(a: Any, b: Any, cursor_type: CursorType) -> int:
    """-1, 0 or 1 as cursor value `a` is before, equal to or after `b`; CursorError when they cannot be compared.

    date / date-time: both parsed as instants (strings, `Instant`, datetime/date, or epoch numbers).
    integer / number: numerically (numbers or numeric strings), else as instants (an epoch against a date string).
    string: numerically if both are numbers, else as instants if both parse as dates, else as plain strings.
    """
    if a is None or a is MISSING or b is None or b is MISSING:
        raise CursorError(f"cannot compare cursor values {a!r} and {b!r}: a cursor value is missing or null",
                          a if a is None or a is MISSING else b, "a value")
    if cursor_type in (CursorType.INTEGER, CursorType.NUMBER, CursorType.STRING):
        numbers = _as_number(a), _as_number(b)
        if numbers[0] is not None and numbers[1] is not None:
            return _sign(numbers[0], numbers[1])
    instants = _as_instant(a), _as_instant(b)
    if instants[0] is not None and instants[1] is not None:
        return _sign(instants[0], instants[1])
    if cursor_type == CursorType.STRING and isinstance(a, str) and isinstance(b, str):
        return _sign(a, b)
    if cursor_type in DATE_TYPES:
        bad, expected = (a if instants[0] is None else b), "a date or date-time"
    elif cursor_type == CursorType.STRING:
        bad, expected = (b if isinstance(a, str) else a), "a string"
    else:
        bad, expected = (a if _as_number(a) is None else b), "a number"
    raise CursorError(f"cannot compare cursor values {a!r} and {b!r} as {cursor_type.value}: {bad!r} is not {expected}",
                      bad, expected)


def days_before(value: Any, days: int, cursor_type: CursorType, *, parse: bool = False) -> Any:
    """`value` moved `days` earlier, as an `Instant`, when it is a date (a date type, or a date-like string);
    unchanged otherwise (numbers of an integer/number cursor are not shifted). `parse=True` returns the
    `Instant` even for 0 days, so that a value compared many times is parsed once."""
    if (not days and not parse) or cursor_type in (CursorType.INTEGER, CursorType.NUMBER):
        return value
    if cursor_type == CursorType.STRING and _as_number(value) is not None:
        return value
    instant = _as_instant(value)
    return value if instant is None else Instant(instant - days * MICROS_PER_DAY)


def parses_as(value: Any, cursor_type: CursorType) -> bool:
    """The value can take part in a comparison of `cursor_type` (e.g. a state cursor checked once, up front)."""
    try:
        compare(value, value, cursor_type)
    except CursorError:
        return False
    return True


def _sign(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


_DATE_TIME = re.compile(
    r"""(?P<year>[+-]?\d{4,})(?P<sep>[-/])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})
        (?:(?:[Tt]|\s+)(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?)?
        \s*(?P<zone>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?""",
    re.VERBOSE,
)


def _as_instant(value: Any) -> int | None:
    """Microseconds since the epoch (UTC), or None when the value is not a point in time."""
    if isinstance(value, Instant):
        return value.micros
    if isinstance(value, datetime):
        offset = value.utcoffset() or timedelta(0)
        naive = value.replace(tzinfo=None) - offset
        return _micros(naive.year, naive.month, naive.day, naive.hour, naive.minute, naive.second, naive.microsecond)
    if isinstance(value, date):
        return _micros(value.year, value.month, value.day)
    number = _as_number(value)
    if number is not None:
        return _epoch_micros(number)
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return _rfc2822(text)
    return _from_match(match)


def _from_match(match: re.Match[str]) -> int | None:
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    if (year, month, day) == (0, 0, 0):  # MySQL's zero date, as upstream: 0001-01-01
        year, month, day = 1, 1, 1
    month, day = max(month, 1), max(day, 1)
    hour, minute, second = int(match["hour"] or 0), int(match["minute"] or 0), int(match["second"] or 0)
    if month > 12 or day > _days_in_month(year, month) or hour > 24 or minute > 59 or second > 60:
        return None
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    micros = _micros(year, month, day, hour, minute, second, int(fraction))
    zone = match["zone"]
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        micros -= (1 if zone[0] == "+" else -1) * offset * 60_000_000
    return micros


def _rfc2822(text: str) -> int | None:
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return _as_instant(parsed)


def _epoch_micros(number: Decimal) -> int:
    magnitude = abs(number)
    if magnitude >= Decimal("1e17"):
        scaled = number / 1000  # nanoseconds
    elif magnitude >= Decimal("1e14"):
        scaled = number  # microseconds
    elif magnitude >= Decimal("1e11"):
        scaled = number * 1000  # milliseconds
    else:
        scaled = number * 1_000_000  # seconds
    return math.floor(scaled)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar, for any year (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _micros(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> int:
    seconds = ((_days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second
    return seconds * 1_000_000 + micro
