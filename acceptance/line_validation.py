"""The first filter for record validation: a RECORD line decoded and validated in one pass, without building dicts.

msgspec decodes the raw line into types generated from the streams' JSON schemas (a tagged union: `type` RECORD,
then one record type per `stream`), so the envelope, the schema and the formats are checked in C while parsing.
It answers with the stream name only for a line the detailed path (strict Draft 7 + `acceptance.formats`, undeclared
columns refused) accepts; anything else (another message type, a stream it has no type for, a record it refuses,
bytes it cannot read) gets None and goes to the detailed path, which parses, decides and explains. To keep that
promise the translation is conservative: a stream whose schema uses any validation keyword other than type,
properties, required, additionalProperties (true or false), items (one schema) and format gets no type, and

- date-time, date and time become msgspec's datetime, date and time, whose parsers accept a subset of what
  `acceptance.formats` accepts, except fractions of more than 12 digits: a line holding a dot followed by 13 digits
  anywhere is left to the detailed path;
- email gets the subset pattern of `native_validation` (anchored with `\\Z`: `$` would let a final newline through);
  host names and IP addresses have no stand-in, so a schema using them gets no type;
- integers are msgspec's strict int (1.0 and true are refused, as the detailed path does); numbers are floats
  (which take integers, not booleans); integers beyond 64 bits are decoded exactly.

Duplicate keys are safe: msgspec checks every occurrence, so the last one (the one the parsed dict keeps) is checked.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import operator
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import msgspec
from jsonschema import Draft7Validator

from acceptance.native_validation import FORMAT_PATTERNS, UNTRANSLATED_FORMATS

# The keywords translated into types; any other Draft-7 validation keyword leaves the stream to the detailed path.
_TRANSLATED = frozenset({"type", "properties", "required", "additionalProperties", "items", "format"})
_UNTRANSLATED = frozenset(Draft7Validator.VALIDATORS) - _TRANSLATED
_JSON_TYPES = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})
_DATE_TYPES: dict[str, Any] = {"date-time": datetime.datetime, "date": datetime.date, "time": datetime.time}
_EMAIL = Annotated[str, msgspec.Meta(pattern=FORMAT_PATTERNS["email"].removesuffix("$") + r"\Z")]
# msgspec's date-time and time parsers take any number of fraction digits; acceptance.formats at most 12.
_LONG_FRACTION = re.compile(rb"\.[0-9]{13}")


class _Untranslatable(Exception):
    """The schema uses something the line filter does not translate."""


class RecordLineFilter:
    """`filter(raw_line)` is the stream name of a RECORD line surely valid against its stream's schema, else None.

    `schemas` maps stream names to JSON schemas; streams whose schema cannot be translated are not covered (their
    lines get None). With `forbid_undeclared`, top-level keys the schema does not declare are refused (the
    undeclared-column rule)."""

    def __init__(self, schemas: Mapping[str, Any], *, forbid_undeclared: bool) -> None:
        names = (f"T{number}" for number in itertools.count())
        records: list[Any] = []
        self.has_date_types = False
        # Streams with a pattern (e-mail), which msgspec checks through Python's re: ~0.5 µs a value, where the
        # native filter on an already parsed record checks it in Rust.
        self.patterned: set[str] = set()
        for stream, schema in schemas.items():
            try:
                data = _object_type(schema, names, forbid_unknown=forbid_undeclared, top=True)
            except (_Untranslatable, TypeError, ValueError):  # TypeError: a union msgspec cannot take
                continue
            self.has_date_types |= _uses_formats(schema, ("date-time", "time"))
            if _uses_formats(schema, ("email",)):
                self.patterned.add(stream)
            records.append(msgspec.defstruct(
                next(names), [("data", data), ("emitted_at", float),
                              ("namespace", str | None | msgspec.UnsetType, msgspec.UNSET)],
                tag_field="stream", tag=stream, gc=False))
        self.streams: dict[type, str] = {record: record.__struct_config__.tag for record in records}
        self._decode = None
        if records:
            try:
                message = msgspec.defstruct("RecordMessage", [("record", _union(records))],
                                            tag_field="type", tag="RECORD", gc=False)
                self._decode = msgspec.json.Decoder(message).decode
            except (TypeError, ValueError):  # two streams msgspec cannot tell apart: no filter at all
                self.streams = {}

    def __bool__(self) -> bool:
        return self._decode is not None

    def __call__(self, raw: bytes) -> str | None:
        if self._decode is None or (self.has_date_types and _LONG_FRACTION.search(raw)):
            return None
        try:
            message = self._decode(raw)
        except Exception:  # invalid, or unreadable: the detailed path decides and explains
            return None
        return self.streams[type(message.record)]


def _translate(node: Any, names: Iterator[str]) -> Any:
    """The msgspec type accepting exactly the values `node` accepts, or a subset of them."""
    if node is True:
        return Any
    if not isinstance(node, dict) or not _UNTRANSLATED.isdisjoint(node):
        raise _Untranslatable
    if "type" not in node:
        if not _TRANSLATED.isdisjoint(node):  # keywords that apply to some types only: not worth translating
            raise _Untranslatable
        return Any
    declared = node["type"]
    kinds = [declared] if isinstance(declared, str) else declared
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k in _JSON_TYPES for k in kinds):
        raise _Untranslatable
    members: list[Any] = []
    for kind in dict.fromkeys(kinds):
        if kind == "null":
            members.append(None)
        elif kind == "boolean":
            members.append(bool)
        elif kind == "integer":
            if "number" not in kinds:
                members.append(int)
        elif kind == "number":
            members.append(float)
        elif kind == "string":
            members.append(_string_type(node.get("format")))
        elif kind == "array":
            members.append(_array_type(node, names))
        else:
            members.append(_object_type(node, names, forbid_unknown=False, top=False))
    return _union(members)


def _union(members: list[Any]) -> Any:
    return functools.reduce(operator.or_, [type(None) if member is None else member for member in members])


def _string_type(fmt: Any) -> Any:
    if fmt in UNTRANSLATED_FORMATS:
        raise _Untranslatable
    if fmt == "email":
        return _EMAIL
    return _DATE_TYPES.get(fmt, str) if isinstance(fmt, str) else str


def _array_type(node: dict[str, Any], names: Iterator[str]) -> Any:
    items = node.get("items", True)
    if isinstance(items, list):  # tuple validation
        raise _Untranslatable
    return list[_translate(items, names)]


def _object_type(node: Any, names: Iterator[str], *, forbid_unknown: bool, top: bool) -> Any:
    if top:  # a record's data: an object whatever the schema says, so only an object schema is translated
        if not isinstance(node, dict) or not _UNTRANSLATED.isdisjoint(node) or node.get("type") != "object":
            raise _Untranslatable
    properties = node.get("properties", {})
    required = node.get("required", [])
    additional = node.get("additionalProperties", True)
    if (not isinstance(properties, dict) or not isinstance(required, list)
            or not all(isinstance(name, str) for name in required) or additional not in (True, False)):
        raise _Untranslatable
    forbid_unknown = forbid_unknown or additional is False
    if not properties and not required and not forbid_unknown:
        return dict[str, Any]
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    for key in dict.fromkeys([*required, *properties]):
        field_name = f"f{len(fields)}"
        rename[field_name] = key
        kind = _translate(properties[key], names) if key in properties else Any
        if key in required:
            fields.append((field_name, kind))
        else:
            fields.append((field_name, _union([kind, msgspec.UnsetType]), msgspec.UNSET))
    fields.sort(key=len)  # fields without a default first, as a struct requires
    return msgspec.defstruct(next(names), fields, rename=rename, forbid_unknown_fields=forbid_unknown, gc=False)


def _uses_formats(schema: Any, formats: tuple[str, ...]) -> bool:
    if isinstance(schema, dict):
        if schema.get("format") in formats:
            return True
        return any(_uses_formats(value, formats) for value in schema.values())
    if isinstance(schema, list):
        return any(_uses_formats(value, formats) for value in schema)
    return False
