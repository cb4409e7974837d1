"""The `read` command, basic_read suite: records exist, match their schemas, and the stream lifecycle is sound.

Two kinds of check live here. Plain functions take counts or small lists (record counts, STATE messages).
Streaming checks are classes fed every message of one read, in order (`feed(message)`, ignoring types they do
not care about), that report with `findings()` at the end: record data is never held whole in memory, and
per-record work is kept small (validators built once per stream, bounded bookkeeping).

Findings about record data never quote a value (it may be a secret): they name the stream, the JSON pointer into
the record's `data`, the JSON type of the value and the schema rule it breaks.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import Any

from jsonschema import Draft7Validator, TypeChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError

from acceptance.findings import Finding
from acceptance.protocol.formats import FORMAT_CHECKER, FORMAT_VALIDATORS
from acceptance.protocol.jsonschema_helpers import json_type, pointer, types_of
from acceptance.protocol.native_validation import (
    RECORD_ENVELOPE_SCHEMA,
    compile_native_record_check,
    record_envelope_valid,
)

Message = dict[str, Any]
StreamKey = tuple[str | None, str]  # (namespace, name)
# A field path in record data; None stands for "any element of the array" (rendered `[]`).
FieldPath = tuple[str | None, ...]

_MAX_TRACKED_PROBLEMS = 1000  # distinct problems counted per stream; beyond that they are only counted as records
_MAX_SHOWN_STATUS_RUNS = 12
_MAX_RULE_TEXT = 120


# --- record schemas ----------------------------------------------------------------------------------------------


def _is_strict_integer(_checker: TypeChecker, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


# Draft 7 with strict integers: 1.0 is a number but not an integer (jsonschema accepts it by default); booleans are
# neither integers nor numbers (jsonschema's number check already excludes them).
StrictDraft7Validator = validators.extend(
    Draft7Validator, type_checker=Draft7Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer)
)


class RecordSchemaValidator:
    """Records have a valid envelope and match their stream's json_schema (Draft 7, strict integers, formats, no
    undeclared columns).

    The envelope is what the protocol requires of a RECORD's `record` (RECORD_ENVELOPE_SCHEMA: a string `stream`,
    an object `data`, a numeric `emitted_at`, a string or null `namespace`). `schemas` maps stream name to
    json_schema. With `fail_on_extra_columns`, a top-level key of `data` that the schema does not declare in
    `properties` (top level, or in a top-level oneOf/anyOf/allOf branch) is an error ("undeclared column"); nested
    objects are left to the schema's own `additionalProperties`. Records of streams not in `schemas`, and RECORD
    messages whose `record` is not an object or names no stream, are reported once per kind. Each stream reports
    at most `max_errors_per_stream` distinct problems (one per schema path, with how many records hit it), then one
    summary with the totals.
    """

    def __init__(self, schemas: Mapping[str, Any], *, fail_on_extra_columns: bool = True,
                 max_errors_per_stream: int = 10) -> None:
        self._streams: dict[str, _StreamValidation] = {}
        self._schema_findings: list[Finding] = []
        self._unknown_streams: Counter[str] = Counter()
        self._unrouted: Counter[str] = Counter()  # RECORD messages without a usable `record` or `stream`
        for name, schema in schemas.items():
            problem = _schema_problem(schema)
            if problem:
                self._schema_findings.append(Finding(
                    "record_schema", f"stream {name!r}: {problem}; its records' envelopes were checked, not "
                                     "their data"))
            validator = None if problem else StrictDraft7Validator(schema, format_checker=FORMAT_CHECKER)
            declared = _declared_columns(schema) if fail_on_extra_columns and not problem else None
            fast = None if problem else compile_fast_check(schema)
            native = None if problem else compile_native_record_check(schema, declared_columns=declared)
            self._streams[name] = _StreamValidation(validator, native, fast, declared,
                                                    _Problems(max_errors_per_stream))

    def feed(self, message: Message) -> None:
        # This runs once per message, at parsing speed: the common case is one dict lookup and one native call.
        if message.get("type") != "RECORD":
            return
        record = message.get("record")
        try:
            stream = self._streams[record["stream"]]  # type: ignore[index]
        except (KeyError, TypeError):  # not an object, no stream, a stream of another type or not in the catalog
            self._unrouted_record(record)
            return
        stream.records += 1
        native = stream.native
        if native is not None:
            try:
                if native(record):
                    return  # the common case, decided natively
            except Exception:  # values jsonschema-rs cannot convert (integers beyond 64 bits): the detailed path
                pass
        stream.explain(record)

    def _unrouted_record(self, record: Any) -> None:
        if not isinstance(record, dict):
            self._unrouted[f"whose `record` is {json_type(record)}, not an object"] += 1
        elif "stream" not in record:
            self._unrouted["whose `record` has no `stream`"] += 1
        elif not isinstance(record["stream"], str):
            self._unrouted[f"whose `record.stream` is {json_type(record['stream'])}, not a string"] += 1
        else:
            self._unknown_streams[record["stream"]] += 1

    @property
    def invalid_records(self) -> int:
        """Records found invalid so far (records of streams not in the catalog, or of no stream, included)."""
        return (sum(stream.problems.invalid_records for stream in self._streams.values())
                + sum(self._unknown_streams.values()) + sum(self._unrouted.values()))

    def findings(self) -> list[Finding]:
        found = list(self._schema_findings)
        for name, stream in self._streams.items():
            found += stream.problems.findings("record_schema", name, stream.records)
        for name, count in self._unknown_streams.items():
            found.append(Finding("record_schema", f"{_records(count)} for stream {name!r}, which is not in the "
                                                  "configured catalog"))
        for what, count in self._unrouted.items():
            found.append(Finding("record_schema", f"{count} RECORD message{'' if count == 1 else 's'} {what} (an "
                                                  "AirbyteRecordMessage needs stream, data and emitted_at)"))
        return found


# Explains a refused envelope, rule by rule (strict Draft 7: `emitted_at: 1.0` is a number, as the protocol allows).
_ENVELOPE_VALIDATOR = StrictDraft7Validator(RECORD_ENVELOPE_SCHEMA)


class _StreamValidation:
    __slots__ = ("validator", "native", "fast", "declared", "problems", "records")

    def __init__(self, validator: Any, native: FastCheck | None, fast: FastCheck | None,
                 declared: frozenset[str] | None, problems: _Problems) -> None:
        self.validator = validator
        self.native = native  # jsonschema-rs on the whole `record`: the first, fastest "surely valid"
        self.fast = fast  # the compiled Python check on `data`: the second
        self.declared = declared
        self.problems = problems
        self.records = 0

    def explain(self, record: dict[str, Any]) -> None:
        """A record the native filter did not accept (or there is none): find its problems, if any, and count them."""
        problems: list[tuple[Hashable, Callable[[], str]]] = []
        if not record_envelope_valid(record):
            problems += [(("envelope", tuple(error.absolute_schema_path)), _envelope_describer(error))
                         for error in _ENVELOPE_VALIDATOR.iter_errors(record)]
        data = record.get("data")
        if self.validator is not None and isinstance(data, dict):
            try:
                # jsonschema only for records that may be invalid, to find and explain the problems
                if self.fast is None or not self.fast(data):
                    for error in self.validator.iter_errors(data):
                        problems.append((("schema", tuple(error.absolute_schema_path)), _error_describer(error)))
            except Exception as error:  # a schema that breaks jsonschema (bad pattern…) must not stop the read
                text = f"record could not be validated ({type(error).__name__})"
                problems.append((("crash", type(error).__name__), lambda: text))
            if self.declared is not None and not self.declared.issuperset(data):
                for key in data:
                    if key not in self.declared:
                        problems.append((("undeclared", key), _undeclared_describer(key, data[key])))
        if problems:
            self.problems.add_record(self.records, problems)


# --- a compiled fast path for the common schema shapes -----------------------------------------------------------

FastCheck = Callable[[Any], bool]

# Keywords the fast path implements; a schema using any other Draft-7 validation keyword has no fast path.
_FAST_KEYWORDS = frozenset({"type", "properties", "items", "required", "format", "additionalProperties"})
_SLOW_KEYWORDS = frozenset(StrictDraft7Validator.VALIDATORS) - _FAST_KEYWORDS
# Python types of parsed JSON per JSON type, as the strict validator sees them (bool is not an integer).
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "null": (type(None),), "boolean": (bool,), "integer": (int,), "number": (int, float), "string": (str,),
    "array": (list,), "object": (dict,),
}


def compile_fast_check(schema: Any) -> FastCheck | None:
    """A function that returns True only for values the strict Draft-7 validator accepts, ~10x faster.

    False means "maybe invalid": run the validator for the details. None when the schema uses a keyword the fast
    path does not implement (then every record goes through jsonschema). Exact Python types are compared, so any
    unusual value (a dict subclass, a Decimal) simply takes the slow path.
    """
    if schema is True:
        return _always_valid
    if not isinstance(schema, dict) or not _SLOW_KEYWORDS.isdisjoint(schema):
        return None
    if schema.get("additionalProperties", True) is not True:
        return None
    allowed: frozenset[type] | None = None
    if "type" in schema:
        declared = schema["type"]
        names = [declared] if isinstance(declared, str) else declared
        if not isinstance(names, list) or not all(name in _PYTHON_TYPES for name in names):
            return None
        allowed = frozenset(python for name in names for python in _PYTHON_TYPES[name])
    fmt = schema.get("format")
    format_check = FORMAT_VALIDATORS.get(fmt) if isinstance(fmt, str) else None
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        return None
    properties: list[tuple[str, FastCheck]] = []
    for name, sub in (schema.get("properties") or {}).items():
        check = compile_fast_check(sub)
        if check is None:
            return None
        if check is not _always_valid:
            properties.append((name, check))
    items = compile_fast_check(schema["items"]) if "items" in schema else _always_valid
    if items is None:
        return None
    return _fast_node(allowed, format_check, tuple(required), tuple(properties), items)


def _fast_node(allowed: frozenset[type] | None, format_check: Callable[[str], bool] | None,
               required: tuple[str, ...], properties: tuple[tuple[str, FastCheck], ...],
               items: FastCheck) -> FastCheck:
    check_items = items is not _always_valid

    def check(value: Any) -> bool:
        kind = type(value)
        if allowed is not None and kind not in allowed:
            return False
        if kind is str:
            return format_check is None or format_check(value)
        if kind is dict:
            for name in required:
                if name not in value:
                    return False
            for name, check_property in properties:
                if name in value and not check_property(value[name]):
                    return False
        elif kind is list and check_items:
            for item in value:
                if not items(item):
                    return False
        return True

    return check


def _always_valid(_value: Any) -> bool:
    return True


def _schema_problem(schema: Any) -> str:
    if not isinstance(schema, dict):
        return f"json_schema is {json_type(schema)}, expected an object"
    try:
        StrictDraft7Validator.check_schema(schema)
    except SchemaError as error:
        return f"json_schema is not a valid Draft-7 schema ({_shorten(error.message)})"
    return ""


def _declared_columns(schema: dict[str, Any]) -> frozenset[str]:
    """Top-level property names, including those declared in a top-level oneOf/anyOf/allOf branch."""
    nodes = [schema]
    for keyword in ("oneOf", "anyOf", "allOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list):
            nodes.extend(branch for branch in branches if isinstance(branch, dict))
    names: set[str] = set()
    for node in nodes:
        properties = node.get("properties")
        if isinstance(properties, dict):
            names.update(properties)
    return frozenset(names)


def _error_describer(error: ValidationError) -> Callable[[], str]:
    def describe() -> str:
        where = pointer(list(error.absolute_path))
        return f"value at {where} ({json_type(error.instance)}) violates {_rule(error)}"

    return describe


def _envelope_describer(error: ValidationError) -> Callable[[], str]:
    def describe() -> str:
        where = "/".join(str(part) for part in error.absolute_path)
        if error.validator == "required":
            return f"envelope: {_rule(error)} (an AirbyteRecordMessage needs stream, data and emitted_at)"
        return f"envelope: `{where}` ({json_type(error.instance)}) violates {_rule(error)}"

    return describe


def _undeclared_describer(key: str, value: Any) -> Callable[[], str]:
    return lambda: (f"value at {pointer([key])} ({json_type(value)}) violates undeclared column: {key!r} is not "
                    "declared in the schema's properties (fail_on_extra_columns is on)")


def _rule(error: ValidationError) -> str:
    """The broken rule in words taken from the schema, never from the value (which may be a secret)."""
    keyword, wanted, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        return f"type: expected {' or '.join([wanted] if isinstance(wanted, str) else map(str, wanted))}"
    if keyword == "format":
        return f"format: {wanted}"
    if keyword == "required" and isinstance(instance, dict) and isinstance(wanted, list):
        missing = [name for name in wanted if name not in instance]
        return f"required: missing {', '.join(map(repr, missing))}"
    if keyword == "additionalProperties" and wanted is False and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        declared = schema.get("properties") or {}
        patterns = list(schema.get("patternProperties") or {})
        extra = [key for key in instance if key not in declared and not _matches_any(patterns, key)]
        return f"additionalProperties: false (unexpected {', '.join(map(repr, extra[:5]))})"
    if keyword in ("oneOf", "anyOf") and isinstance(wanted, list):
        if keyword == "oneOf" and not error.context:
            return f"oneOf: matches more than one of the {len(wanted)} alternatives"
        return f"{keyword}: matches none of the {len(wanted)} alternatives"
    if keyword == "enum":
        return f"enum: expected one of {_short_json(wanted)}"
    if keyword == "const":
        return f"const: expected {_short_json(wanted)}"
    if keyword == "not":
        return "not: must not match the `not` schema"
    return f"{keyword}: {_short_json(wanted)}"


def _matches_any(patterns: list[str], key: str) -> bool:
    return any(re.search(pattern, key) for pattern in patterns)


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
        self._problems = {name: _Problems(max_errors_per_stream) for name in self._keys}
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
                f"to hold a value in at least one of the {_records(self._records[name])}",
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
            found.append(f"no RUNNING status although the stream emitted {_records(records)}")
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


class _Problems:
    """One stream's distinct problems, each counted once per record; details kept for the first `limit` only."""

    __slots__ = ("limit", "counts", "details", "invalid_records", "shown_records", "untracked")

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self.counts: dict[Hashable, int] = {}
        self.details: dict[Hashable, tuple[str, int]] = {}  # key -> (description, first record number)
        self.invalid_records = 0
        self.shown_records = 0  # invalid records with at least one problem that has its own finding
        self.untracked = False

    def add_record(self, number: int, problems: Iterable[tuple[Hashable, Callable[[], str]]]) -> None:
        self.invalid_records += 1
        seen: set[Hashable] = set()
        shown = False
        for key, describe in problems:
            if key in seen:
                continue
            seen.add(key)
            count = self.counts.get(key)
            if count is not None:
                self.counts[key] = count + 1
            elif len(self.counts) >= _MAX_TRACKED_PROBLEMS:
                self.untracked = True
            else:
                self.counts[key] = 1
                if len(self.details) < self.limit:
                    self.details[key] = (describe(), number)
            shown = shown or key in self.details
        self.shown_records += shown

    def findings(self, check: str, stream: str, records: int) -> list[Finding]:
        found = [Finding(check, f"stream {stream!r}: {text}; in {_records(self.counts[key])}, first record "
                                f"#{first} of the stream")
                 for key, (text, first) in self.details.items()]
        hidden = len(self.counts) - len(self.details)
        if not hidden and not self.untracked:
            return found  # every problem has its finding, with its own count
        more_records = self.invalid_records - self.shown_records
        hidden_text = f"{hidden}{'+' if self.untracked else ''} more distinct problem{'' if hidden == 1 else 's'}"
        totals = f"{self.invalid_records} of {_records(records)} invalid in total"
        if more_records:
            found.append(Finding(check, f"… {more_records} more invalid record{'' if more_records == 1 else 's'} "
                                        f"in stream {stream!r} ({totals}; "
                                        f"{hidden_text} not shown)"))
        else:
            found.append(Finding(check, f"… {hidden_text} in stream {stream!r} ({totals})"))
        return found


def _record_of(message: Message) -> dict[str, Any] | None:
    if message.get("type") != "RECORD":
        return None
    record = message.get("record")
    return record if isinstance(record, dict) else None


def _stream_name(record: dict[str, Any]) -> str:
    name = record.get("stream")
    return name if isinstance(name, str) else repr(name)


def _records(count: int) -> str:
    return f"{count} record{'' if count == 1 else 's'}"


def _short_json(value: Any) -> str:
    return _shorten(json.dumps(value, default=repr))


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_RULE_TEXT else text[: _MAX_RULE_TEXT - 1] + "…"
