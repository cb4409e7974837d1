"""A native first filter for record validation: jsonschema-rs, compiled once per stream schema.

It answers "valid" only for records the detailed path (strict Draft 7 + `acceptance.formats`) also accepts; anything
else goes to the detailed path, which decides and explains. To keep that promise:

- formats are replaced by patterns that accept a subset of what `acceptance.formats` accepts (dates exactly,
  leap days included; a quoted e-mail local part or an address literal falls through to the detailed check);
  host names and IP addresses have no such pattern, so a schema using them gets no native filter;
- a float where the schema allows only integers (`1.0`, which Draft 7 counts as an integer and we do not) is
  looked for separately, only at the schema's integer locations;
- schemas whose meaning could differ between the two engines (user `pattern`s, regex dialects; `multipleOf`,
  float arithmetic; non-local `$ref`s, which jsonschema-rs might fetch) get no native filter.

Per record, the filter is one call: `compile_native_record_check` embeds the stream's schema in the RECORD
envelope's (`RECORD_ENVELOPE_SCHEMA`), so jsonschema-rs checks the envelope and the data in one conversion.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from acceptance.jsonschema_helpers import types_of

NativeCheck = Callable[[Any], bool]

# What the protocol (airbyte_protocol's AirbyteRecordMessage) requires of a RECORD message's `record` object; other
# keys (`meta`...) are allowed. The detailed path explains a refused envelope with this same schema.
RECORD_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["stream", "data", "emitted_at"],
    "properties": {
        "stream": {"type": "string"},
        "data": {"type": "object"},
        "emitted_at": {"type": "number"},
        "namespace": {"type": ["string", "null"]},
    },
}


def record_envelope_valid(record: Any) -> bool:
    """RECORD_ENVELOPE_SCHEMA in plain Python, for records no native filter looks at."""
    if type(record) is not dict:
        return False
    try:
        stream, data, emitted_at = record["stream"], record["data"], record["emitted_at"]
    except KeyError:
        return False
    namespace = record.get("namespace")
    return (type(stream) is str and type(data) is dict and type(emitted_at) in (int, float)
            and (namespace is None or type(namespace) is str))

_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
# Leap years 0004-9996: divisible by 4 but not by 100, or by 400.
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
# Real calendar dates: month/day pairs, February 29th only in leap years.
_DATE_LOOSE = (rf"(?:{_YEAR}-(?:(?:0?[13578]|1[02])-(?:0?[1-9]|[12][0-9]|3[01])|(?:0?[469]|11)-(?:0?[1-9]|[12][0-9]|30)"
               rf"|0?2-(?:0?[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-0?2-29)")
_DATE = (rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
         rf"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)")
_ZONE = r"(?: ?(?:[Zz]|UTC|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?))?"
_FRACTION = r"(?:\.[0-9]{1,12})?"
_EMAIL_LOCAL = r"[^@\s\"\[\]\x00-\x1f\x7f]+"
_EMAIL_LABEL = r"[^@\s.\[\]\x00-\x1f\x7f]+"

# Each pattern accepts a subset of the matching acceptance.formats validator (tested property-based).
FORMAT_PATTERNS: dict[str, str] = {
    "date-time": (rf"^{_DATE_LOOSE}"
                  rf"(?:[ Tt](?:[01]?[0-9]|2[0-3]):[0-5]?[0-9](?::[0-5]?[0-9]{_FRACTION})?)?{_ZONE}$"),
    "date": rf"^{_DATE}$",
    "time": rf"^(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]{_FRACTION}{_ZONE}$",
    "email": rf"^{_EMAIL_LOCAL}@{_EMAIL_LABEL}(?:\.{_EMAIL_LABEL})*$",
}
# Formats the detailed path checks but no pattern here stands in for.
UNTRANSLATED_FORMATS = frozenset({"hostname", "idn-hostname", "ipv4", "ipv6"})
# Keywords whose results could differ between jsonschema-rs and the detailed validator.
_UNSAFE_KEYWORDS = frozenset({"pattern", "patternProperties", "multipleOf"})
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("not", "if", "then", "else", "additionalItems", "contains", "propertyNames")


def compile_native_check(schema: Any, *, forbid_undeclared: bool = False) -> NativeCheck | None:
    """True only for data the detailed path accepts; None when this schema gets no native filter.

    `forbid_undeclared` also refuses top-level keys the schema's `properties` do not declare (the "undeclared
    column" rule), for a schema without top-level oneOf/anyOf/allOf, where that is exactly
    `additionalProperties: false`."""
    native_schema = _native_schema(schema, forbid_undeclared=forbid_undeclared)
    is_valid = _compile(native_schema) if native_schema is not None else None
    if is_valid is None:
        return None
    float_found = compile_float_in_integer_check(schema)
    if float_found is None:
        def check(data: Any) -> bool:
            try:
                return is_valid(data)
            except Exception:  # values it cannot convert (integers beyond 64 bits, NaN): the detailed path decides
                return False
    else:
        def check(data: Any) -> bool:
            try:
                return is_valid(data) and not float_found(data)
            except Exception:
                return False

    return check


def compile_native_record_check(schema: Any, *, declared_columns: frozenset[str] | None = None) -> NativeCheck | None:
    """check(record), for a RECORD message's `record` object: True only when its envelope is valid and the detailed
    path accepts its data (and, with `declared_columns`, the data has no other top-level key). None when this
    schema gets no native filter. It may raise on values jsonschema-rs cannot convert (integers beyond 64 bits,
    NaN): callers take that as "maybe invalid", as they take False.

    Made for the per-record loop: without integer locations or a separate column rule it is jsonschema-rs's own
    `is_valid`, otherwise one generated function around it."""
    forbid = declared_columns is not None and not any(key in schema for key in _SCHEMA_LISTS)
    native_schema = _native_schema(schema, forbid_undeclared=forbid) if isinstance(schema, dict) else None
    if native_schema is None:
        return None
    embedded = not _has_references(schema)
    if embedded:
        is_valid = _compile(_in_envelope(native_schema))
        envelope_valid = None
    else:  # a `$ref` resolves against the root: the data schema must stay one
        is_valid, envelope_valid = _compile(native_schema), _compile(RECORD_ENVELOPE_SCHEMA)
    if is_valid is None:
        return None
    float_lines = _float_lines(schema, "value", 1, [0], found="return False")
    extra_columns = declared_columns is not None and not forbid
    if embedded and not float_lines and not extra_columns:
        return is_valid
    source = ["def check(record):"]
    if embedded:
        source += ["    if not is_valid(record): return False", "    value = record['data']"]
    else:
        source += ["    if not envelope_valid(record): return False", "    value = record['data']",
                   "    if not is_valid(value): return False"]
    if extra_columns:
        source.append("    if not declared.issuperset(value): return False")
    source += [*float_lines, "    return True"]
    namespace: dict[str, Any] = {"is_valid": is_valid, "envelope_valid": envelope_valid,
                                 "declared": declared_columns, "any_float": _any_float}
    exec(compile("\n".join(source) + "\n", "<native record check>", "exec"), namespace)
    return namespace["check"]  # type: ignore[no-any-return]


def _native_schema(schema: Any, *, forbid_undeclared: bool) -> dict[str, Any] | None:
    """The schema jsonschema-rs runs in place of `schema`, or None when this schema gets no native filter."""
    if not isinstance(schema, dict) or not _supported(schema):
        return None
    native_schema = _with_format_patterns(schema)
    if forbid_undeclared:
        if any(key in schema for key in _SCHEMA_LISTS):
            raise ValueError("forbid_undeclared needs a schema without top-level oneOf/anyOf/allOf")
        # Undeclared keys fail anyway, so an additionalProperties schema never applies to an accepted record.
        native_schema["additionalProperties"] = False
    return native_schema


def _compile(native_schema: dict[str, Any]) -> NativeCheck | None:
    try:
        import jsonschema_rs
    except ImportError:  # an optional speed-up: without it the Python fast path does the work
        return None
    try:
        # offline: a `$ref` is never fetched (only local ones get here anyway)
        return jsonschema_rs.Draft7Validator(native_schema, offline=True).is_valid  # type: ignore[no-any-return]
    except Exception:  # a schema jsonschema-rs refuses: the detailed path will say what is wrong with it
        return None


def _in_envelope(data_schema: dict[str, Any]) -> dict[str, Any]:
    """RECORD_ENVELOPE_SCHEMA with `data_schema` as the data's schema (data must still be an object)."""
    data_schema = {key: value for key, value in data_schema.items() if key != "$schema"}
    if data_schema.get("type", "object") != "object":
        data_schema = {"allOf": [{"type": "object"}, data_schema]}
    else:
        data_schema["type"] = "object"
    envelope = copy.deepcopy(RECORD_ENVELOPE_SCHEMA)
    envelope["properties"]["data"] = data_schema
    return envelope


def _has_references(node: Any) -> bool:
    """Whether a `$ref` or a base URI (`$id`, `id`) appears anywhere in the schema."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "$ref" in node or "$id" in node or isinstance(node.get("id"), str):
                return True
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return False


def _subschemas(node: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for key in ("properties", "definitions", "dependencies"):
        if isinstance(node.get(key), dict):
            found += node[key].values()
    if isinstance(node.get("items"), (dict, list)):
        found += node["items"] if isinstance(node["items"], list) else [node["items"]]
    for key in _SCHEMA_LISTS:
        if isinstance(node.get(key), list):
            found += node[key]
    for key in (*_SCHEMA_VALUES, "additionalProperties"):
        if key in node:
            found.append(node[key])
    return found


def _supported(node: Any) -> bool:
    if isinstance(node, bool):
        return True
    if not isinstance(node, dict):
        return False
    if not _UNSAFE_KEYWORDS.isdisjoint(node) or node.get("format") in UNTRANSLATED_FORMATS:
        return False
    ref = node.get("$ref")
    if ref is not None and not (isinstance(ref, str) and ref.startswith("#")):
        return False
    return all(_supported(sub) for sub in _subschemas(node) if isinstance(sub, (dict, bool)))


def _with_format_patterns(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy where every `format` is gone, replaced by its subset pattern where it has one."""
    native = copy.deepcopy(schema)
    stack: list[Any] = [native]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        fmt = node.pop("format", None)
        if isinstance(fmt, str) and fmt in FORMAT_PATTERNS:
            node["pattern"] = FORMAT_PATTERNS[fmt]  # _supported() guarantees there was no pattern to merge with
        stack += [sub for sub in _subschemas(node) if isinstance(sub, dict)]
    return native


def compile_float_in_integer_check(schema: Any) -> NativeCheck | None:
    """A function that is True when a float sits where `schema` allows integers but not numbers; None when the
    schema has no such place. Under combinators it is conservative: any float at all counts.

    The function is generated as Python source (one `type(...) is float` test per integer location), which is
    several times faster than walking the schema for every record."""
    lines = _float_lines(schema, "value", 1, [0], found="return True")
    if not lines:
        return None
    source = "def check(value):\n" + "\n".join(lines) + "\n    return False\n"
    namespace: dict[str, Any] = {"any_float": _any_float}
    exec(compile(source, "<float-in-integer check>", "exec"), namespace)
    return namespace["check"]  # type: ignore[no-any-return]


def _float_lines(schema: Any, var: str, depth: int, counter: list[int], found: str) -> list[str]:
    """Source lines (indented `depth` levels) that run `found` when `var` holds a float at an integer place."""
    if not isinstance(schema, dict):
        return []
    pad = "    " * depth
    if "$ref" in schema or any(_mentions_integer(schema.get(k)) for k in (*_SCHEMA_LISTS, *_SCHEMA_VALUES)):
        return [f"{pad}if any_float({var}): {found}"]
    lines: list[str] = []
    types = types_of(schema)
    if "integer" in types and "number" not in types:
        lines.append(f"{pad}if type({var}) is float: {found}")
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    object_lines: list[str] = []
    for name, sub in properties.items():
        counter[0] += 1
        child = f"v{counter[0]}"
        inner = _float_lines(sub, child, depth + 1, counter, found)
        if inner:
            object_lines += [f"{pad}    {child} = {var}.get({name!r})", *inner]
    additional = schema.get("additionalProperties")
    counter[0] += 1
    child = f"v{counter[0]}"
    inner = _float_lines(additional, child, depth + 2, counter, found) if isinstance(additional, dict) else []
    if inner:
        object_lines += [f"{pad}    for key{counter[0]}, {child} in {var}.items():",
                         f"{pad}        if key{counter[0]} in {frozenset(properties)!r}: continue", *inner]
    if object_lines:
        lines += [f"{pad}if type({var}) is dict:", *object_lines]
    items = schema.get("items")
    counter[0] += 1
    child = f"v{counter[0]}"
    if isinstance(items, dict):
        inner = _float_lines(items, child, depth + 2, counter, found)
    else:
        inner = [f"{pad}        if any_float({child}): {found}"] if _mentions_integer(items) else []
    if inner:
        lines += [f"{pad}if type({var}) is list:", f"{pad}    for {child} in {var}:", *inner]
    return lines


def _mentions_integer(node: Any) -> bool:
    if isinstance(node, dict):
        return "integer" in types_of(node) or any(_mentions_integer(v) for v in node.values())
    if isinstance(node, list):
        return any(_mentions_integer(v) for v in node)
    return False


def _any_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return True
    if kind is dict:
        return any(_any_float(v) for v in value.values())
    if kind is list:
        return any(_any_float(v) for v in value)
    return False
