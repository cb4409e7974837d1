"""The `read` command, basic_read suite: records exist, carry usable keys and data, and the stream lifecycle is sound.

Two kinds of check live here. Plain functions take counts or small lists (record counts, STATE messages).
Streaming checks are classes fed every message of one read, in order (`feed(message)`, ignoring types they do
not care about), that report with `findings()` at the end: record data is never held whole in memory, and
per-record work is kept small (bounded bookkeeping). Whether records match their schemas is
acceptance.checks.record_schema.

Findings about record data never quote a value (it may be a secret): they name the stream and the JSON pointer into
the record's `data`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import Any

from acceptance.checks.stream_problems import Problems, records_text
from acceptance.findings import Finding
from acceptance.protocol.jsonschema_helpers import json_type, pointer, types_of

Message = dict[str, Any]
StreamKey = tuple[str | None, str]  # (namespace, name)
# A field path in record data; None stands for "any element of the array" (rendered `[]`).
FieldPath = tuple[str | None, ...]

_MAX_SHOWN_STATUS_RUNS = 12


# --- records exist -----------------------------------------------------------------------------------------------


def check_records_exist(record_counts: Mapping[str, int]) -> list[Finding]:
    """At least one record is read using the configured catalog."""
    if sum(record_counts.values()) > 0:
        return []
    return [Finding("records_exist", "expected at least one RECORD from the read with the configured catalog, "
                                     "got 0")]


def check_streams_have_records(configured_streams: Sequence[str], record_counts: Mapping[str, int],
                               empty_streams: Collection[str]) -> list[Finding]:
    """Every configured stream returns at least one record, unless it is listed in `empty_streams`."""
    empty = [name for name in configured_streams if name not in empty_streams and record_counts.get(name, 0) <= 0]
    if not empty:
        return []
    return [Finding(
        "streams_have_records",
        f"no records for configured stream{'s' if len(empty) > 1 else ''} {', '.join(map(repr, empty))}; "
        "expected each stream to return at least one record. If a stream can legitimately be empty, list it under "
        "`empty_streams` with a `bypass_reason` in acceptance-test-config.yml",
    )]


# --- primary keys ------------------------------------------------------------------------------------------------


class PrimaryKeyValueChecker:
    """Primary key values of records are scalars, and not every part of a key is null.

    `primary_keys` maps stream name to its key paths (`[["id"]]`, `[["org", "id"], ["user"]]`). A value that is an
    object or an array is an error; one null (or missing) part of a composite key is fine, all of them is an error.
    """

    def __init__(self, primary_keys: Mapping[str, Sequence[Sequence[str]]], *,
                 max_errors_per_stream: int = 10) -> None:
        self._keys: dict[str, list[tuple[str, ...]]] = {}
        for name, parts in primary_keys.items():
            paths = [tuple(part) for part in parts
                     if isinstance(part, Sequence) and not isinstance(part, str) and part
                     and all(isinstance(field, str) for field in part)]
            if paths:
                self._keys[name] = paths
        self._problems = {name: Problems(max_errors_per_stream) for name in self._keys}
        self._records: Counter[str] = Counter()

    def feed(self, message: Message) -> None:
        record = _record_of(message)
        if record is None:
            return
        name = _stream_name(record)
        paths = self._keys.get(name)
        if paths is None:
            return
        self._records[name] += 1
        data = record.get("data")
        some_value = False
        for path in paths:  # the common case first: scalar parts, at least one of them not null
            value = _value_at(data, path)
            if isinstance(value, dict | list):
                break
            some_value = some_value or value is not None
        else:
            if some_value:
                return
        values = [_value_at(data, path) for path in paths]
        problems: list[tuple[Hashable, Callable[[], str]]] = []
        for path, value in zip(paths, values, strict=True):
            if isinstance(value, dict | list):
                kind = json_type(value)
                problems.append(((path, kind), lambda path=path, kind=kind: (
                    f"primary key {pointer(path)} has a value of type {kind}; primary key values cannot be objects "
                    "or arrays")))
        if all(value is None for value in values):
            problems.append((("all-null",), lambda: (
                f"every part of the primary key ({', '.join(pointer(path) for path in paths)}) is null or missing; "
                "expected at least one non-null part")))
        if problems:
            self._problems[name].add_record(self._records[name], problems)

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for name, problems in self._problems.items():
            found += problems.findings("primary_key_values", name, self._records[name])
        return found


def _value_at(data: Any, path: Sequence[str]) -> Any:
    for field in path:
        if not isinstance(data, dict):
            return None
        data = data.get(field)
    return data


# --- data points -------------------------------------------------------------------------------------------------


class DataPointsTracker:
    """Every field declared in a stream's schema has a non-null value in at least one record of that stream.

    Paths: nested objects as `/a/b`, array elements as `/a/[]` (an array only counts once it holds a non-null
    element); an object without declared properties is a field of its own. A oneOf/anyOf is one field whose
    alternatives are the paths of all its branches: any of them with a value satisfies it. Streams without any
    record are left to check_streams_have_records.
    """

    # Decision: a data point is a NON-NULL value. Upstream counted a key that is present with a null value as a data
    # point, so a field that is always null passed; the published reference asks that every field "contained at
    # least one data point", and a column that is null in every record carries none.

    def __init__(self, schemas: Mapping[str, Any], *, max_paths_listed: int = 20) -> None:
        self._remaining: dict[str, list[tuple[FieldPath, ...]]] = {
            name: _requirements(schema) for name, schema in schemas.items()}
        self._records: Counter[str] = Counter()
        self._max_paths_listed = max_paths_listed

    def feed(self, message: Message) -> None:
        record = _record_of(message)
        if record is None:
            return
        name = _stream_name(record)
        remaining = self._remaining.get(name)
        if remaining is None:
            return
        self._records[name] += 1
        if not remaining:
            return
        data = record.get("data")
        still = [alternatives for alternatives in remaining
                 if not any(_has_data_point(data, path) for path in alternatives)]
        if len(still) != len(remaining):
            self._remaining[name] = still

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for name, remaining in self._remaining.items():
            if not remaining or not self._records[name]:
                continue
            listed = [_render_requirement(alternatives) for alternatives in remaining[: self._max_paths_listed]]
            more = len(remaining) - len(listed)
            tail = f" … and {more} more" if more else ""
            found.append(Finding(
                "data_points",
                f"stream {name!r}: no record has a non-null value for {len(remaining)} declared "
                f"field{'s' if len(remaining) > 1 else ''}: {', '.join(listed)}{tail}; expected every field "
                f"to hold a value in at least one of the {records_text(self._records[name])}",
            ))
        return found


def _requirements(node: Any, path: FieldPath = ()) -> list[tuple[FieldPath, ...]]:
    """The fields a schema declares, each as a tuple of alternative paths (more than one for oneOf/anyOf)."""
    if not isinstance(node, dict):
        return [(path,)] if path else []
    for keyword in ("oneOf", "anyOf"):
        branches = node.get(keyword)
        if isinstance(branches, list) and branches:
            alternatives = [alternative
                            for branch in branches if isinstance(branch, dict)
                            for requirement in _requirements({"type": "object", **branch}, path)
                            for alternative in requirement]
            unique = tuple(dict.fromkeys(alternatives))
            return [unique] if unique else []
    declared = types_of(node) or {"object"}  # no type: an object, as upstream
    if "object" in declared:
        properties = node.get("properties")
        if isinstance(properties, dict) and properties:
            return [requirement for field, sub in properties.items()
                    for requirement in _requirements(sub, (*path, field))]
        return [(path,)] if path else []
    if "array" in declared:
        items = node.get("items")
        return _requirements(items if isinstance(items, dict) else {}, (*path, None))
    return [(path,)] if path else []


def _has_data_point(value: Any, path: FieldPath, start: int = 0) -> bool:
    for index in range(start, len(path)):
        if value is None:
            return False
        field = path[index]
        if field is None:
            return isinstance(value, list) and any(_has_data_point(item, path, index + 1) for item in value)
        if not isinstance(value, dict):
            return False
        value = value.get(field)
    return value is not None


def _render_path(path: FieldPath) -> str:
    return pointer(["[]" if field is None else field for field in path])


def _render_requirement(alternatives: tuple[FieldPath, ...]) -> str:
    if len(alternatives) == 1:
        return _render_path(alternatives[0])
    return f"one of ({', '.join(_render_path(path) for path in alternatives)})"


# --- stream statuses ---------------------------------------------------------------------------------------------


class StreamStatusTracker:
    """Each configured stream reports STREAM_STATUS STARTED, then RUNNING, then COMPLETE (never INCOMPLETE).

    `configured_streams` are (namespace, name) pairs. Between the first and last status only RUNNING may appear;
    statuses of different streams may interleave. A stream that emitted no record may go straight from STARTED to
    COMPLETE. Statuses for streams outside the catalog, and catalog streams without statuses, are findings.
    """

    def __init__(self, configured_streams: Sequence[StreamKey]) -> None:
        self._configured = list(dict.fromkeys(configured_streams))
        self._sequences: dict[StreamKey, _StatusSequence] = {}
        self._records: Counter[StreamKey] = Counter()
        self._malformed = 0

    def feed(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "RECORD":
            record = message.get("record")
            if isinstance(record, dict):
                self._records[(record.get("namespace"), _stream_name(record))] += 1
            return
        if kind != "TRACE":
            return
        trace = message.get("trace")
        if not isinstance(trace, dict) or trace.get("type") != "STREAM_STATUS":
            return
        body = trace.get("stream_status")
        body = body if isinstance(body, dict) else {}
        descriptor = body.get("stream_descriptor")
        descriptor = descriptor if isinstance(descriptor, dict) else {}
        name = descriptor.get("name")
        if not isinstance(name, str):
            self._malformed += 1
            return
        key = (descriptor.get("namespace"), name)
        sequence = self._sequences.get(key)
        if sequence is None:
            sequence = self._sequences[key] = _StatusSequence()
        status = body.get("status")
        sequence.add(status if isinstance(status, str) else repr(status))

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        configured = set(self._configured)
        for key in self._configured:
            sequence = self._sequences.get(key)
            if sequence is None:
                found.append(Finding("stream_statuses", f"{_stream_label(key)}: no STREAM_STATUS trace message; "
                                                        "expected STARTED, RUNNING…, COMPLETE"))
                continue
            records = self._records[key] + (self._records[(None, key[1])] if key[0] is not None else 0)
            problems = sequence.problems(records)  # records without a namespace count for the stream of that name
            if problems:
                found.append(Finding("stream_statuses",
                                     f"{_stream_label(key)}: {'; '.join(problems)} (got {sequence.render()})"))
        for key, sequence in self._sequences.items():
            if key not in configured:
                found.append(Finding("stream_statuses",
                                     f"STREAM_STATUS for {_stream_label(key)}, which is not in the configured "
                                     f"catalog (got {sequence.render()})"))
        if self._malformed:
            found.append(Finding("stream_statuses", f"{self._malformed} STREAM_STATUS trace message(s) without "
                                                    "stream_status.stream_descriptor.name"))
        return found


class _StatusSequence:
    """One stream's statuses, summarized as it goes: first, last, count, what sat in between."""

    __slots__ = ("first", "last", "count", "running", "incomplete", "misplaced", "runs", "truncated")

    def __init__(self) -> None:
        self.first = self.last = ""
        self.count = self.running = 0
        self.incomplete = False
        self.misplaced: dict[str, int] = {}  # non-RUNNING statuses between the first and the last
        self.runs: list[list[Any]] = []  # run-length encoded, for display
        self.truncated = False

    def add(self, status: str) -> None:
        if self.count == 0:
            self.first = status
        elif self.count >= 2 and self.last != "RUNNING":  # the previous last is now in the middle
            self.misplaced[self.last] = self.misplaced.get(self.last, 0) + 1
        self.last = status
        self.count += 1
        self.running += status == "RUNNING"
        self.incomplete |= status == "INCOMPLETE"
        if self.runs and self.runs[-1][0] == status:
            self.runs[-1][1] += 1
        elif len(self.runs) < _MAX_SHOWN_STATUS_RUNS:
            self.runs.append([status, 1])
        else:
            self.truncated = True

    def problems(self, records: int) -> list[str]:
        if self.incomplete:
            return ["the connector reported status INCOMPLETE: the stream did not sync successfully"]
        found = []
        if self.first != "STARTED":
            found.append(f"the first status is {self.first}, expected STARTED")
        if self.last != "COMPLETE":
            found.append(f"the last status is {self.last}, expected COMPLETE")
        if self.misplaced:
            found.append(f"only RUNNING may come between the first and last status, got "
                         f"{', '.join(sorted(self.misplaced))}")
        if records and not self.running:
            found.append(f"no RUNNING status although the stream emitted {records_text(records)}")
        return found

    def render(self) -> str:
        text = " → ".join(status if count == 1 else f"{status}×{count}" for status, count in self.runs)
        return text + (" → …" if self.truncated else "")


def _stream_label(key: StreamKey) -> str:
    namespace, name = key
    return f"stream {name!r}" + (f" (namespace {namespace!r})" if namespace is not None else "")


# --- state messages ----------------------------------------------------------------------------------------------


def check_state_messages(states: Sequence[Any], configured_stream_count: int) -> list[Finding]:
    """STATE messages: at least one per configured stream, none LEGACY, each with sourceStats.recordCount.

    `states` are the `state` objects of the read's STATE messages (whole STATE messages are unwrapped). A GLOBAL
    state counts once per entry of its `stream_states`. Duplicates and states after a stream's COMPLETE are fine.
    """
    states = [_unwrap_state(state) for state in states]
    count = 0
    legacy: list[int] = []
    without_stats: list[int] = []
    malformed: list[int] = []
    for number, state in enumerate(states, 1):
        if not isinstance(state, dict):
            malformed.append(number)
            continue
        kind = state.get("type")
        if kind == "GLOBAL":
            body = state.get("global")
            stream_states = body.get("stream_states") if isinstance(body, dict) else None
            count += len(stream_states) if isinstance(stream_states, list) else 0
        else:
            count += 1
        if kind == "LEGACY" or (kind is None and "data" in state):
            legacy.append(number)
        stats = state.get("sourceStats")
        record_count = stats.get("recordCount") if isinstance(stats, dict) else None
        if not isinstance(record_count, int | float) or isinstance(record_count, bool):
            without_stats.append(number)

    found: list[Finding] = []
    if count < configured_stream_count:
        found.append(Finding("state_messages", f"expected at least {configured_stream_count} STATE messages (one per "
                                               f"configured stream), got {count}"))
    if malformed:
        found.append(Finding("state_messages", f"{_of(malformed, states)} STATE messages have no `state` object"))
    if legacy:
        found.append(Finding("state_messages", f"{_of(legacy, states)} STATE messages are LEGACY states; expected "
                                               "per-stream (STREAM) or GLOBAL states"))
    if without_stats:
        found.append(Finding("state_messages", f"{_of(without_stats, states)} STATE messages have no "
                                               "sourceStats.recordCount; expected every state to carry sourceStats "
                                               "with the number of records emitted since the previous state"))
    return found


def _unwrap_state(state: Any) -> Any:
    if isinstance(state, dict) and state.get("type") == "STATE" and "state" in state:
        return state["state"]
    return state


def _of(numbers: list[int], states: Sequence[Any]) -> str:
    return f"{len(numbers)} of {len(states)} (first: #{numbers[0]})"


# --- error trace on failure --------------------------------------------------------------------------------------


def check_error_trace_emitted(messages: Iterable[Message]) -> list[Finding]:
    """A failing read emits at least one TRACE message of type ERROR (a LOG at level ERROR is not enough)."""
    error_logs = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        kind = message.get("type")
        trace, log = message.get("trace"), message.get("log")
        if kind == "TRACE" and isinstance(trace, dict) and trace.get("type") == "ERROR":
            return []
        if kind == "LOG" and isinstance(log, dict) and log.get("level") in ("ERROR", "FATAL"):
            error_logs += 1
    note = (f"; the connector logged {error_logs} ERROR/FATAL LOG message{'s' if error_logs > 1 else ''}, "
            "which do not replace a TRACE ERROR" if error_logs else "")
    return [Finding("error_trace_on_failure",
                    f"expected at least one TRACE message of type ERROR when the read fails, got none{note}")]


# --- shared helpers ----------------------------------------------------------------------------------------------


def _record_of(message: Message) -> dict[str, Any] | None:
    if message.get("type") != "RECORD":
        return None
    record = message.get("record")
    return record if isinstance(record, dict) else None


def _stream_name(record: dict[str, Any]) -> str:
    name = record.get("stream")
    return name if isinstance(name, str) else repr(name)
