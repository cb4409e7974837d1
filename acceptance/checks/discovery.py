"""The `discover` command: one catalog, with well-formed streams whose schemas the platform can use.

Every check takes the catalog (the dict under a CATALOG message's "catalog") and returns findings; an empty
list means the check passed. Paths name streams by name: `/streams/users/json_schema/properties/id`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from jsonschema import Draft7Validator

from acceptance.checks.connection import trace_error_summary
from acceptance.findings import Finding
from acceptance.protocol.jsonschema_helpers import find_property, iter_keywords, pointer, types_of

Catalog = dict[str, Any]

SYNC_MODES = ("full_refresh", "incremental")
FORBIDDEN_PRIMARY_KEY_TYPES = frozenset({"object", "array"})

_MAX_SCHEMA_ERROR = 300


def check_single_catalog(messages: list[dict[str, Any]]) -> list[Finding]:
    """Exactly one CATALOG message came back, and it carries a catalog object."""
    catalogs = [m for m in messages if isinstance(m, dict) and m.get("type") == "CATALOG"]
    if len(catalogs) != 1:
        summary = "" if catalogs else trace_error_summary(messages)
        context = f" ({summary})" if summary else ""
        return [Finding("single_catalog", f"expected exactly one CATALOG message, got {len(catalogs)}{context}")]
    if not isinstance(catalogs[0].get("catalog"), dict):
        return [Finding("single_catalog", "the CATALOG message has no `catalog` object", "/catalog")]
    return []


def check_catalog_has_streams(catalog: Catalog) -> list[Finding]:
    """The catalog declares at least one stream."""
    streams = catalog.get("streams") if isinstance(catalog, dict) else None
    if not isinstance(streams, list):
        got = "none" if streams is None else type(streams).__name__
        return [Finding("catalog_has_streams", f"expected `streams` to be a list of streams, got {got}", "/streams")]
    if not streams:
        return [Finding("catalog_has_streams", "expected at least one stream in the catalog, got 0", "/streams")]
    return []


def check_unique_stream_names(catalog: Catalog) -> list[Finding]:
    """No two streams share a (namespace, name) pair; an absent namespace equals `null`."""
    counts = Counter((stream.get("namespace"), key) for key, stream in _streams(catalog))
    return [
        Finding("unique_stream_names",
                f"stream name {name!r} ({_namespace_words(namespace)}) is used by {count} streams; "
                "expected each (namespace, name) pair once",
                pointer(("streams", name)))
        for (namespace, name), count in counts.items() if count > 1
    ]


def check_streams_have_valid_json_schemas(catalog: Catalog) -> list[Finding]:
    """Each stream's `json_schema` is an object and a valid Draft-7 JSON schema."""
    findings: list[Finding] = []
    meta = Draft7Validator(Draft7Validator.META_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    for key, stream in _streams(catalog):
        schema = stream.get("json_schema")
        where = ("streams", key, "json_schema")
        if not isinstance(schema, dict):
            got = "none" if schema is None else type(schema).__name__
            findings.append(Finding("streams_have_valid_json_schemas",
                                    f"{_label(key, stream)}: expected json_schema to be an object, got {got}",
                                    pointer(where)))
            continue
        for error in sorted(meta.iter_errors(schema), key=lambda e: [str(p) for p in e.absolute_path]):
            findings.append(Finding("streams_have_valid_json_schemas",
                                    f"{_label(key, stream)}: json_schema is not a valid Draft-7 schema: "
                                    f"{_shorten(error.message)}",
                                    pointer((*where, *error.absolute_path))))
    return findings


def check_cursors_exist_in_schema(catalog: Catalog) -> list[Finding]:
    """A stream's `default_cursor_field` (possibly nested) is a property declared in its schema."""
    findings: list[Finding] = []
    for key, stream in _streams(catalog):
        cursor = stream.get("default_cursor_field")
        if not cursor:
            continue
        schema = stream.get("json_schema")
        if not _is_field_path(cursor):
            findings.append(Finding("cursors_exist_in_schema",
                                    f"{_label(key, stream)}: default_cursor_field must be a list of field names, "
                                    f"got {cursor!r}", pointer(("streams", key, "default_cursor_field"))))
        elif not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            findings.append(Finding("cursors_exist_in_schema",
                                    f"{_label(key, stream)}: default cursor {cursor} is set but json_schema has no "
                                    "`properties` to define it", pointer(("streams", key, "json_schema"))))
        elif find_property(schema, cursor) is None:
            findings.append(Finding("cursors_exist_in_schema",
                                    f"{_label(key, stream)}: default cursor {cursor} is not defined in the schema",
                                    _property_pointer(key, cursor)))
    return findings


def check_no_refs_in_schemas(catalog: Catalog) -> list[Finding]:
    """No `$ref` anywhere in a stream schema: the platform does not resolve references."""
    return [
        Finding("no_refs_in_schemas",
                f"{_label(key, stream)}: json_schema uses $ref ({value!r}); expected schemas with no references, "
                "inline the referenced definition", _schema_pointer(key, (*path, "$ref")))
        for key, stream, schema in _schemas(catalog)
        for path, keyword, value in iter_keywords(schema) if keyword == "$ref"
    ]


def check_keyword_absent(catalog: Catalog, keyword: str) -> list[Finding]:
    """`keyword` is not used as a schema keyword; a property merely *named* like it is fine."""
    return [
        Finding("keyword_absent",
                f"{_label(key, stream)}: json_schema uses the {keyword!r} keyword, which is not allowed "
                "in stream schemas", _schema_pointer(key, (*path, keyword)))
        for key, stream, schema in _schemas(catalog)
        for path, found, _value in iter_keywords(schema) if found == keyword
    ]


def check_no_all_of(catalog: Catalog) -> list[Finding]:
    """`allOf` is not used in stream schemas (check_keyword_absent for a tuple of one-argument checks)."""
    return check_keyword_absent(catalog, "allOf")


def check_no_not(catalog: Catalog) -> list[Finding]:
    """`not` is not used in stream schemas (check_keyword_absent for a tuple of one-argument checks)."""
    return check_keyword_absent(catalog, "not")


def check_primary_keys_exist_in_schema(catalog: Catalog) -> list[Finding]:
    """Every `source_defined_primary_key` part (a list of field names, possibly nested) is declared in the schema."""
    findings: list[Finding] = []
    for key, stream in _streams(catalog):
        primary_key = stream.get("source_defined_primary_key")
        if not primary_key:
            continue
        where = pointer(("streams", key, "source_defined_primary_key"))
        if not isinstance(primary_key, list):
            findings.append(Finding("primary_keys_exist_in_schema",
                                    f"{_label(key, stream)}: source_defined_primary_key must be a list of field "
                                    f"paths (e.g. [[\"id\"]]), got {primary_key!r}", where))
            continue
        schema = stream.get("json_schema")
        for part in primary_key:
            if not _is_field_path(part):
                findings.append(Finding("primary_keys_exist_in_schema",
                                        f"{_label(key, stream)}: primary key part {part!r} must be a non-empty list "
                                        "of field names", where))
            elif not isinstance(schema, dict) or find_property(schema, part) is None:
                findings.append(Finding("primary_keys_exist_in_schema",
                                        f"{_label(key, stream)}: primary key {part} is not defined in the schema",
                                        _property_pointer(key, part)))
    return findings


def check_streams_have_sync_modes(catalog: Catalog) -> list[Finding]:
    """`supported_sync_modes` is a non-empty list whose values are full_refresh and/or incremental."""
    findings: list[Finding] = []
    for key, stream in _streams(catalog):
        modes = stream.get("supported_sync_modes")
        where = pointer(("streams", key, "supported_sync_modes"))
        if not isinstance(modes, list) or not modes:
            got = "nothing" if modes is None else repr(modes)
            findings.append(Finding("streams_have_sync_modes",
                                    f"{_label(key, stream)}: expected a non-empty supported_sync_modes, got {got}",
                                    where))
            continue
        unknown = [mode for mode in modes if mode not in SYNC_MODES]
        if unknown:
            findings.append(Finding("streams_have_sync_modes",
                                    f"{_label(key, stream)}: unknown sync mode(s) {unknown}; expected values among "
                                    f"{list(SYNC_MODES)}", where))
    return findings


def check_additional_properties_true(catalog: Catalog) -> list[Finding]:
    """Every `additionalProperties` in a stream schema is literally `true` (records may gain fields)."""
    return [
        Finding("additional_properties_true",
                f"{_label(key, stream)}: additionalProperties is {_json(value)}; expected true or absent",
                _schema_pointer(key, (*path, "additionalProperties")))
        for key, stream, schema in _schemas(catalog)
        for path, keyword, value in iter_keywords(schema)
        if keyword == "additionalProperties" and value is not True
    ]


def check_primary_keys_data_type(catalog: Catalog) -> list[Finding]:
    """Each primary key field is declared in the schema, and its type is not object or array.

    Unlike upstream, a plain `"type": "object"` is caught (upstream turned the string into a set of characters).
    Malformed primary keys are left to check_primary_keys_exist_in_schema.
    """
    findings: list[Finding] = []
    for key, stream in _streams(catalog):
        primary_key = stream.get("source_defined_primary_key")
        if not isinstance(primary_key, list):
            continue
        schema = stream.get("json_schema")
        for part in filter(_is_field_path, primary_key):
            node = find_property(schema, part) if isinstance(schema, dict) else None
            if node is None:
                findings.append(Finding("primary_keys_data_type",
                                        f"{_label(key, stream)}: primary key {part} is not defined in the schema",
                                        _property_pointer(key, part)))
                continue
            forbidden = types_of(node) & FORBIDDEN_PRIMARY_KEY_TYPES
            if forbidden:
                findings.append(Finding("primary_keys_data_type",
                                        f"{_label(key, stream)}: primary key {part} has the forbidden type "
                                        f"{' / '.join(sorted(forbidden))} (declared {_json(node.get('type'))}); "
                                        "primary key fields cannot be objects or arrays",
                                        _property_pointer(key, part, "type")))
    return findings


DISCOVERY_CHECKS: tuple[Callable[[Catalog], list[Finding]], ...] = (
    check_catalog_has_streams,
    check_unique_stream_names,
    check_streams_have_sync_modes,
    check_streams_have_valid_json_schemas,
    check_no_refs_in_schemas,
    check_no_all_of,
    check_no_not,
    check_additional_properties_true,
    check_cursors_exist_in_schema,
    check_primary_keys_exist_in_schema,
    check_primary_keys_data_type,
)


# --- private helpers -------------------------------------------------------------------------------------------


def _streams(catalog: Catalog) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, stream) for every stream object; the key is the stream's name, or its index if it has none."""
    streams = catalog.get("streams") if isinstance(catalog, dict) else None
    if not isinstance(streams, list):
        return
    for index, stream in enumerate(streams):
        if isinstance(stream, dict):
            name = stream.get("name")
            yield (name if isinstance(name, str) and name else str(index)), stream


def _schemas(catalog: Catalog) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for key, stream in _streams(catalog):
        schema = stream.get("json_schema")
        if isinstance(schema, dict):
            yield key, stream, schema


def _is_field_path(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(part, str) for part in value)


def _schema_pointer(key: str, path: Sequence[str | int]) -> str:
    return pointer(("streams", key, "json_schema", *path))


def _property_pointer(key: str, field_path: Sequence[str], *tail: str) -> str:
    """Where a (nested) field is expected: /streams/k/json_schema/properties/a/properties/b."""
    nested: list[str] = []
    for field in field_path:
        nested += ["properties", field]
    return _schema_pointer(key, (*nested, *tail))


def _label(key: str, stream: dict[str, Any]) -> str:
    namespace = stream.get("namespace")
    return f"stream {key!r}" + (f" (namespace {namespace!r})" if namespace is not None else "")


def _namespace_words(namespace: Any) -> str:
    return "no namespace" if namespace is None else f"namespace {namespace!r}"


def _json(value: Any) -> str:
    return json.dumps(value, default=repr)


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_SCHEMA_ERROR else text[: _MAX_SCHEMA_ERROR - 1] + "…"
