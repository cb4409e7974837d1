"""What every spec check reads and writes: the Spec (a ConnectorSpecification as the connector emits it), the
connectionSpecification inside it and its properties, JSON equality as schemas mean it, and the short JSON quoted in
findings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from acceptance.protocol.jsonschema_helpers import JsonPath, iter_schema_nodes

Spec = dict[str, Any]

_MAX_TEXT = 120


def connection_specification(spec: Any) -> dict[str, Any]:
    schema = spec.get("connectionSpecification") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else {}


def iter_properties(schema: dict[str, Any]) -> Iterator[tuple[JsonPath, str, dict[str, Any]]]:
    """(path, name, schema) of every property declared in a `properties` map anywhere in the schema."""
    for path, node in iter_schema_nodes(schema):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, prop in properties.items():
                if isinstance(prop, dict):
                    yield (*path, "properties", name), name, prop


def canonical(value: Any) -> str:
    """A JSON-equality key: `true` differs from `1`, but `1` equals `1.0` (as in JSON schema)."""
    def normalise(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, dict):
            return {str(k): normalise(v) for k, v in item.items()}
        if isinstance(item, list):
            return [normalise(v) for v in item]
        return item
    return json.dumps(normalise(value), sort_keys=True, default=str)


def json_equal(left: Any, right: Any) -> bool:
    return canonical(left) == canonical(right)


def json_text(value: Any) -> str:
    return shorten(json.dumps(value, default=str))


def shorten(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def type_words(node: dict[str, Any]) -> str:
    declared = node.get("type")
    return "no type" if declared is None else f"type {json_text(declared) if isinstance(declared, list) else declared}"
