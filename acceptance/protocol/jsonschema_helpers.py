"""Walking JSON schemas: every node with its path, property lookups by path."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

JsonPath = tuple[str | int, ...]

# Keywords whose value is a schema, a list of schemas or a mapping of schemas. Walking only these keeps a
# property *named* like a keyword (e.g. a field called "allOf" under "properties") from being mistaken for one.
SCHEMA_VALUED = {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
                 "additionalItems", "unevaluatedItems", "unevaluatedProperties"}
SCHEMA_LISTS = {"oneOf", "anyOf", "allOf", "prefixItems"}
SCHEMA_MAPS = {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"}


def pointer(path: Sequence[str | int]) -> str:
    """Render a path as a JSON pointer (`/properties/a/oneOf/0`); the root is `/`."""
    if not path:
        return "/"
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def iter_schema_nodes(schema: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """Yield (path, node) for the schema and every sub-schema reachable through schema keywords."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for key, value in schema.items():
        if key in SCHEMA_VALUED:
            if isinstance(value, list):  # draft-4 style tuple `items`
                for i, item in enumerate(value):
                    yield from iter_schema_nodes(item, (*path, key, i))
            else:
                yield from iter_schema_nodes(value, (*path, key))
        elif key in SCHEMA_LISTS and isinstance(value, list):
            for i, item in enumerate(value):
                yield from iter_schema_nodes(item, (*path, key, i))
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from iter_schema_nodes(sub, (*path, key, name))


def iter_keys(document: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str, Any]]:
    """Yield (path of the containing object, key, value) for every key anywhere in a JSON document."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield path, key, value
            yield from iter_keys(value, (*path, key))
    elif isinstance(document, list):
        for i, item in enumerate(document):
            yield from iter_keys(item, (*path, i))


# Keys of these mappings are names (properties, definitions…), not keywords; draft-7 `dependencies` too.
NAME_MAPS = SCHEMA_MAPS | {"dependencies"}
# Values of these keywords are data, not schemas: a `$ref` or `not` inside a default value is not a keyword.
DATA_KEYWORDS = {"enum", "const", "default", "examples"}


def iter_keywords(node: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str, Any]]:
    """(path of the containing schema, key, value) for every key used as a keyword anywhere in a schema.

    Like iter_keys, but names inside `properties`-like maps are not keywords (a field may be called `allOf`),
    and data values (enum, const, default, examples) are not searched. Unknown keys are still walked.
    """
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from iter_keywords(item, (*path, index))
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        yield path, key, value
        if key in DATA_KEYWORDS:
            continue
        if key in NAME_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from iter_keywords(sub, (*path, key, name))
        else:
            yield from iter_keywords(value, (*path, key))


def json_type(value: Any) -> str:
    """The JSON type name of a Python value (`integer`, `object`…): what a message may say about a value that
    could be a secret, instead of the value itself."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def types_of(node: dict[str, Any]) -> set[str]:
    """The declared `type` of a schema node as a set (a plain string is one type, not its characters)."""
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    return set()


def find_property(schema: dict[str, Any], field_path: Sequence[str]) -> dict[str, Any] | None:
    """The sub-schema of a (nested) property path such as ["address", "city"], or None when absent.

    Looks through `properties`, and through the branches of oneOf/anyOf/allOf at each level.
    """
    if not field_path:
        return schema
    head, rest = field_path[0], field_path[1:]
    candidates = [schema]
    for keyword in ("oneOf", "anyOf", "allOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list):
            candidates.extend(b for b in branches if isinstance(b, dict))
    for candidate in candidates:
        properties = candidate.get("properties")
        if isinstance(properties, dict) and isinstance(properties.get(head), dict):
            found = find_property(properties[head], rest)
            if found is not None:
                return found
    return None
