"""Record schemas: every RECORD has a valid envelope and its `data` matches its stream's json_schema.

RecordSchemaValidator is fed every message of one read. Per record it asks the native (jsonschema-rs) check first,
then a compiled Python check of the common schema shapes (compile_fast_check); only a record neither accepts goes
through the detailed path, StrictDraft7Validator (Draft 7 with strict integers and formats), whose errors are
explained rule by rule and counted per stream. Findings never quote a value (it may be a secret): they name the
stream, the JSON pointer into the record's `data`, the JSON type of the value and the schema rule it breaks.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from jsonschema import Draft7Validator, TypeChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError

from acceptance.checks.stream_problems import Problems, records_text
from acceptance.findings import Finding
from acceptance.protocol.formats import FORMAT_CHECKER, FORMAT_VALIDATORS
from acceptance.protocol.jsonschema_helpers import json_type, pointer
from acceptance.protocol.messages import Message
from acceptance.protocol.native_validation import (
    RECORD_ENVELOPE_SCHEMA,
    compile_native_record_check,
    record_envelope_valid,
)

_MAX_RULE_TEXT = 120


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
                                                    Problems(max_errors_per_stream))

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
            found.append(Finding("record_schema", f"{records_text(count)} for stream {name!r}, which is not in the "
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
                 declared: frozenset[str] | None, problems: Problems) -> None:
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


def _short_json(value: Any) -> str:
    return _shorten(json.dumps(value, default=repr))


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_RULE_TEXT else text[: _MAX_RULE_TEXT - 1] + "…"
