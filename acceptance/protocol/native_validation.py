"""A native first filter for record validation: jsonschema-rs, compiled once per stream schema.

It answers "valid" only for records the detailed path (strict Draft 7 + `acceptance.protocol.formats`) also accepts;
anything else goes to the detailed path, which decides and explains. To keep that promise:

- formats are replaced by patterns that accept a subset of what `acceptance.protocol.formats` accepts (dates exactly,
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

from acceptance.protocol.jsonschema_helpers import types_of

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

# Each pattern accepts a subset of the matching acceptance.protocol.formats validator (tested property-based).
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


def compile_native_record_check(schema: Any, *, declared_columns: frozenset[str] | None = None) -> NativeCheck | None:
    """check(record), for a RECORD message's `record` object: True only when its envelope is valid and the detailed
    path accepts its data (and, with `declared_columns`, the data has no other top-level key). None when this
    schema gets no native filter. It may raise on values jsonschema-rs cannot convert: callers take that as
    "maybe invalid", as they take False.

    Made for the per-record loop: usually jsonschema-rs's own `is_valid`, otherwise one generated function around
    it (a separate column rule, a `$ref` that keeps the data schema apart, or a float check)."""
    forbid = declared_columns is not None and not any(key in schema for key in _SCHEMA_LISTS)
    native_schema = _native_schema(schema, forbid_undeclared=forbid) if isinstance(schema, dict) else None
    if native_schema is None:
        return None
    embedded = not _has_references(schema)
    target = _in_envelope(native_schema) if embedded else native_schema  # a `$ref` resolves against the root
    # Draft 4's "integer" refuses 1.0, as the detailed path does; elsewhere a float check is generated.
    strict_integers = _reads_alike_in_draft4(schema)
    is_valid = _compile(_for_draft4(target), draft4=True) if strict_integers else None
    if is_valid is None:
        strict_integers = False
        is_valid = _compile(target)
    if is_valid is None:
        return None
    float_lines = [] if strict_integers else _float_lines(schema, "value", 1, [0])
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
    namespace: dict[str, Any] = {"is_valid": is_valid, "envelope_valid": _ENVELOPE_VALID,
                                 "declared": declared_columns, "any_float": _any_float}
    exec(compile("\n".join(source) + "\n", "<native record check>", "exec"), namespace)
    return namespace["check"]  # type: ignore[no-any-return]


def _native_schema(schema: Any, *, forbid_undeclared: bool) -> dict[str, Any] | None:
    """The schema jsonschema-rs runs in place of `schema`, or None when this schema gets no native filter."""
    if not isinstance(schema, dict) or not _supported(schema):
        return None
    native_schema = _with_format_patterns(schema)
    if forbid_undeclared:
        # Undeclared keys fail anyway, so an additionalProperties schema never applies to an accepted record.
        native_schema["additionalProperties"] = False
    return native_schema


def _compile(native_schema: dict[str, Any], *, draft4: bool = False) -> NativeCheck | None:
    try:
        import jsonschema_rs
    except ImportError:  # an optional speed-up: without it the Python fast path does the work
        return None
    validator = jsonschema_rs.Draft4Validator if draft4 else jsonschema_rs.Draft7Validator
    try:
        # offline: a `$ref` is never fetched (only local ones get here anyway)
        return validator(native_schema, offline=True).is_valid  # type: ignore[no-any-return]
    except Exception:  # a schema jsonschema-rs refuses: the detailed path will say what is wrong with it
        return None


_ENVELOPE_VALID = _compile(RECORD_ENVELOPE_SCHEMA, draft4=True) or record_envelope_valid

# Draft-7 keywords Draft 4 ignores or reads otherwise (`exclusiveMinimum: 5` is a boolean there; `$id` is `id`).
_NOT_IN_DRAFT4 = frozenset({"const", "contains", "propertyNames", "if", "then", "else", "exclusiveMinimum",
                            "exclusiveMaximum", "$id", "id"})
# Where Draft 4 allows a boolean instead of a schema.
_BOOLEAN_IN_DRAFT4 = ("additionalProperties", "additionalItems")


def _reads_alike_in_draft4(schema: Any) -> bool:
    """Whether jsonschema-rs's Draft 4 gives every value the verdict its Draft 7 gives, except that Draft 4's
    "integer" refuses 1.0 (as the detailed path does): only keywords both drafts define alike, no boolean schema
    where Draft 4 wants an object. Property names are not keywords (a column may be called `id` or `const`)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not _NOT_IN_DRAFT4.isdisjoint(node) or isinstance(node.get("items"), bool):
            return False  # (_subschemas does not list a boolean `items`)
        # the keys where Draft 4 takes a boolean are left out when they hold one; any other boolean subschema fails
        checked = {key: value for key, value in node.items()
                   if key not in _BOOLEAN_IN_DRAFT4 or not isinstance(value, bool)}
        for sub in _subschemas(checked):
            if isinstance(sub, bool):
                return False
            stack.append(sub)
    return True


def _for_draft4(native_schema: dict[str, Any]) -> dict[str, Any]:
    """A copy Draft 4's metaschema takes: no `$schema` naming another draft, no empty `required` (a no-op)."""
    copied = copy.deepcopy(native_schema)
    stack: list[Any] = [copied]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            node.pop("$schema", None)
            if node.get("required") == []:
                del node["required"]
            stack += [sub for sub in _subschemas(node) if isinstance(sub, dict)]
    return copied


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


def _float_lines(schema: Any, var: str, depth: int, counter: list[int]) -> list[str]:
    """Source lines (indented `depth` levels) that `return False` when `var` holds a float where `schema` allows
    integers but not numbers. Under combinators it is conservative: any float at all counts. One `type(...) is
    float` test per integer location is several times faster than walking the schema for every record."""
    if not isinstance(schema, dict):
        return []
    pad = "    " * depth
    if "$ref" in schema or any(_mentions_integer(schema.get(k)) for k in (*_SCHEMA_LISTS, *_SCHEMA_VALUES)):
        return [f"{pad}if any_float({var}): return False"]
    lines: list[str] = []
    types = types_of(schema)
    if "integer" in types and "number" not in types:
        lines.append(f"{pad}if type({var}) is float: return False")
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    object_lines: list[str] = []
    for name, sub in properties.items():
        counter[0] += 1
        child = f"v{counter[0]}"
        inner = _float_lines(sub, child, depth + 1, counter)
        if inner:
            object_lines += [f"{pad}    {child} = {var}.get({name!r})", *inner]
    additional = schema.get("additionalProperties")
    counter[0] += 1
    child = f"v{counter[0]}"
    inner = _float_lines(additional, child, depth + 2, counter) if isinstance(additional, dict) else []
    if inner:
        object_lines += [f"{pad}    for key{counter[0]}, {child} in {var}.items():",
                         f"{pad}        if key{counter[0]} in {frozenset(properties)!r}: continue", *inner]
    if object_lines:
        lines += [f"{pad}if type({var}) is dict:", *object_lines]
    items = schema.get("items")
    counter[0] += 1
    child = f"v{counter[0]}"
    if isinstance(items, dict):
        inner = _float_lines(items, child, depth + 2, counter)
    else:
        inner = [f"{pad}        if any_float({child}): return False"] if _mentions_integer(items) else []
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
