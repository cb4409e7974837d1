"""Backward compatibility: classified differences between two specs or two catalogs.

Every difference names the rule that produced it, a JSON pointer to where it is, whether it breaks users of
the previous version, and what changed (before → after). Spec paths are pointers inside
`connectionSpecification` (`/properties/api_key/type`); catalog paths start at the stream
(`/streams/users/json_schema/properties/id/type`).

Cosmetic keywords (description, title, order, examples…) are never compared. `$ref`s are not resolved.

The command for scripts (`python -m acceptance.compat`) is acceptance.compat.cli.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tabulate import tabulate

from acceptance.protocol.jsonschema_helpers import JsonPath, pointer, types_of

# Keywords that change nothing a user or a destination relies on: never compared, stripped for rename detection.
COSMETIC = {"description", "title", "order", "examples", "group", "display_type", "airbyte_hidden", "$comment"}


class CompatInputError(ValueError):
    """The document is not a spec / catalog of a shape this module understands."""


@dataclass(frozen=True)
class Difference:
    """One difference between the previous and the current document."""

    rule: str
    path: str
    breaking: bool
    message: str


@dataclass
class _Mode:
    """What a schema walk compares: specs check values (enum, const, default, required), catalogs only shape."""

    spec: bool
    added_rule: str
    removed_rule: str
    out: list[Difference] = field(default_factory=list)

    def add(self, rule: str, path: JsonPath, breaking: bool, message: str) -> None:
        self.out.append(Difference(rule=rule, path=pointer(path), breaking=breaking, message=message))


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _show_types(schema: dict[str, Any]) -> str:
    """The declared type as written (`"string"`, `["string", "null"]`), or `any type` when undeclared."""
    return _show(schema["type"]) if "type" in schema else "any type"


def _shape(schema: Any) -> Any:
    """A schema without its cosmetic keywords, for comparing two schemas' shapes."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k not in COSMETIC}
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    return schema


def _same_shape(a: Any, b: Any) -> bool:
    return _show(_shape(a)) == _show(_shape(b))


# --------------------------------------------------------------------------------------------------- schemas


def _diff_types(prev: dict[str, Any], cur: dict[str, Any], path: JsonPath, mode: _Mode) -> None:
    if "type" not in prev and "type" not in cur:
        return
    before, after = types_of(prev), types_of(cur)
    if before == after:
        return
    at = (*path, "type")
    change = f"{_show_types(prev)} → {_show_types(cur)}"
    if not after and "type" not in cur:  # the type constraint was dropped: anything is accepted now
        mode.add("type widened", at, False, f"type constraint removed: {change}")
    elif not before and "type" not in prev:
        mode.add("type narrowed", at, True, f"type constraint added: {change}")
    elif after > before:
        mode.add("type widened", at, False, f"type widened: {change}")
    elif after < before:
        if before - after == {"null"}:
            mode.add("nullable removed", at, True, f"no longer nullable: {change}")
        else:
            mode.add("type narrowed", at, True, f"type narrowed: {change}")
    else:
        mode.add("type changed", at, True, f"type changed: {change}")


def _diff_values(prev: dict[str, Any], cur: dict[str, Any], path: JsonPath, mode: _Mode) -> None:
    """enum, const and default: compared for specs only."""
    if "enum" in prev and "enum" in cur and isinstance(prev["enum"], list) and isinstance(cur["enum"], list):
        before = {_show(v): v for v in prev["enum"]}
        after = {_show(v): v for v in cur["enum"]}
        for key in before.keys() - after.keys():
            mode.add("enum value removed", (*path, "enum"), True, f"enum value {key} removed")
        for key in after.keys() - before.keys():
            mode.add("enum value added", (*path, "enum"), False, f"enum value {key} added")
    elif "enum" in cur and "enum" not in prev:
        mode.add("enum added", (*path, "enum"), True, f"enum added to an existing property: any → {_show(cur['enum'])}")
    elif "enum" in prev and "enum" not in cur:
        mode.add("enum removed", (*path, "enum"), False, f"enum removed: {_show(prev['enum'])} → any")

    if "const" in prev or "const" in cur:
        before = _show(prev["const"]) if "const" in prev else "absent"
        after = _show(cur["const"]) if "const" in cur else "absent"
        if "const" not in cur:
            mode.add("const removed", (*path, "const"), False, f"const removed: {before} → any")
        elif before != after:
            mode.add("const changed", (*path, "const"), True, f"const changed: {before} → {after}")

    if "default" in prev or "default" in cur:
        before = _show(prev["default"]) if "default" in prev else "absent"
        after = _show(cur["default"]) if "default" in cur else "absent"
        if "default" not in prev:
            mode.add("default added", (*path, "default"), False, f"default added: none → {after}")
        elif before != after:
            mode.add("default changed", (*path, "default"), True, f"default changed: {before} → {after}")


def _required(schema: dict[str, Any]) -> list[str]:
    required = schema.get("required")
    return [r for r in required if isinstance(r, str)] if isinstance(required, list) else []


def _properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {name: sub for name, sub in properties.items() if isinstance(sub, dict)}


def _diff_properties(prev: dict[str, Any], cur: dict[str, Any], path: JsonPath, mode: _Mode) -> None:
    before, after = _properties(prev), _properties(cur)
    removed = [name for name in before if name not in after]
    added = [name for name in after if name not in before]
    required_now = _required(cur)
    required_before = _required(prev)
    for name in removed:
        twins = [new for new in added if _same_shape(before[name], after[new])]
        hint = f" (renamed to '{twins[0]}'?)" if twins else ""
        mode.add(mode.removed_rule, (*path, "properties", name), True, f"'{name}' removed{hint}")
    for name in added:
        if mode.spec and name in required_now:
            continue  # reported once, as a new required field
        mode.add(mode.added_rule, (*path, "properties", name), False, f"optional '{name}' added")
    for name in before:
        if name in after:
            _diff_schema(before[name], after[name], (*path, "properties", name), mode)
    if not mode.spec:
        return
    for name in required_now:
        if name in required_before:
            continue
        sub = after.get(name, {})
        default = f", default {_show(sub['default'])}" if "default" in sub else ", no default"
        status = "new property" if name not in before else "existing optional property"
        mode.add("new required field", (*path, "required"), True, f"'{name}' is now required ({status}{default})")
    for name in required_before:
        if name not in required_now and name in after:
            mode.add("required field relaxed", (*path, "required"), False, f"'{name}' is no longer required")


def _discriminator(branches: Sequence[dict[str, Any]]) -> str | None:
    """A property carrying a `const` (or one-value enum) in every branch: `auth_type` in auth oneOfs."""
    if not branches:
        return None
    names = set(_properties(branches[0]))
    for branch in branches:
        names &= {n for n, sub in _properties(branch).items() if _const(sub) is not None}
    return sorted(names)[0] if names else None


def _const(schema: dict[str, Any]) -> str | None:
    if "const" in schema:
        return _show(schema["const"])
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return _show(enum[0])
    return None


def _branches(schema: dict[str, Any], keyword: str) -> list[dict[str, Any]]:
    branches = schema.get(keyword)
    return [b for b in branches if isinstance(b, dict)] if isinstance(branches, list) else []


def _diff_branches(prev: dict[str, Any], cur: dict[str, Any], path: JsonPath, mode: _Mode) -> None:
    for keyword in ("oneOf", "anyOf"):
        before, after = _branches(prev, keyword), _branches(cur, keyword)
        if not before and not after:
            continue
        pairs: list[tuple[int, int]] = []
        key_before, key_after = _discriminator(before), _discriminator(after)
        if key_before and key_before == key_after:
            by_const = {_const(_properties(b)[key_after]): j for j, b in enumerate(after)}
            unmatched_after = [j for j in range(len(after))]
            unmatched_before: list[int] = []
            for i, branch in enumerate(before):
                j = by_const.get(_const(_properties(branch)[key_before]))
                if j is not None and j in unmatched_after:
                    pairs.append((i, j))
                    unmatched_after.remove(j)
                else:
                    unmatched_before.append(i)
            # A variant whose discriminator changed: pair the leftovers in order, so the walk reports `const changed`.
            for i, j in zip(unmatched_before, unmatched_after, strict=False):
                pairs.append((i, j))
            gone = unmatched_before[len(unmatched_after):]
            new = unmatched_after[len(unmatched_before):]
        else:
            pairs = [(i, i) for i in range(min(len(before), len(after)))]
            gone = list(range(len(after), len(before)))
            new = list(range(len(before), len(after)))
        for i in gone:
            label = _variant_label(before[i], key_before, i)
            mode.add(f"{keyword} variant removed", (*path, keyword, i), True, f"{keyword} variant {label} removed")
        for j in new:
            label = _variant_label(after[j], key_after, j)
            mode.add(f"{keyword} variant added", (*path, keyword, j), False, f"{keyword} variant {label} added")
        for i, j in pairs:
            _diff_schema(before[i], after[j], (*path, keyword, j), mode)


def _variant_label(branch: dict[str, Any], key: str | None, index: int) -> str:
    if key and key in _properties(branch):
        return f"{key}={_const(_properties(branch)[key])}"
    title = branch.get("title")
    return f"'{title}'" if isinstance(title, str) else f"#{index}"


def _diff_schema(prev: Any, cur: Any, path: JsonPath, mode: _Mode) -> None:
    if not isinstance(prev, dict) or not isinstance(cur, dict):
        return
    _diff_types(prev, cur, path, mode)
    if mode.spec:
        _diff_values(prev, cur, path, mode)
    _diff_properties(prev, cur, path, mode)
    if isinstance(prev.get("items"), dict) and isinstance(cur.get("items"), dict):
        _diff_schema(prev["items"], cur["items"], (*path, "items"), mode)
    _diff_branches(prev, cur, path, mode)


# --------------------------------------------------------------------------------------------------- specs


def connection_specification(document: Any) -> dict[str, Any]:
    """The connectionSpecification of a ConnectorSpecification, a SPEC message, or a bare schema."""
    if not isinstance(document, dict):
        raise CompatInputError(f"expected a JSON object, got {type(document).__name__}")
    if document.get("type") == "SPEC":
        document = document.get("spec")
        if not isinstance(document, dict):
            raise CompatInputError("SPEC message without a 'spec' object")
    if "connectionSpecification" in document:
        schema = document["connectionSpecification"]
        if not isinstance(schema, dict):
            raise CompatInputError("'connectionSpecification' is not an object")
        return schema
    if not {"type", "properties", "oneOf", "anyOf", "$schema"} & document.keys():
        raise CompatInputError("neither a ConnectorSpecification nor a JSON schema (no connectionSpecification, "
                               "type or properties)")
    return document


def diff_specs(previous: dict[str, Any], current: dict[str, Any]) -> list[Difference]:
    """Classified differences between two connection specifications (paths inside connectionSpecification)."""
    mode = _Mode(spec=True, added_rule="property added", removed_rule="property removed")
    _diff_schema(connection_specification(previous), connection_specification(current), (), mode)
    return mode.out


# --------------------------------------------------------------------------------------------------- catalogs


def catalog_streams(document: Any) -> dict[str, dict[str, Any]]:
    """Streams by name, from a catalog or a CATALOG message."""
    if not isinstance(document, dict):
        raise CompatInputError(f"expected a JSON object, got {type(document).__name__}")
    if document.get("type") == "CATALOG":
        document = document.get("catalog")
        if not isinstance(document, dict):
            raise CompatInputError("CATALOG message without a 'catalog' object")
    streams = document.get("streams")
    if not isinstance(streams, list):
        raise CompatInputError("not a catalog: no 'streams' list")
    by_name: dict[str, dict[str, Any]] = {}
    for index, stream in enumerate(streams):
        if not isinstance(stream, dict) or not isinstance(stream.get("name"), str):
            raise CompatInputError(f"stream #{index} has no name")
        by_name[stream["name"]] = stream
    return by_name


STREAM_KEYS = {"default_cursor_field": "cursor changed", "source_defined_primary_key": "primary key changed"}


def _diff_stream(prev: dict[str, Any], cur: dict[str, Any], name: str, mode: _Mode) -> None:
    base: JsonPath = ("streams", name)
    _diff_schema(prev.get("json_schema") or {}, cur.get("json_schema") or {}, (*base, "json_schema"), mode)
    for key, rule in STREAM_KEYS.items():
        before, after = prev.get(key) or [], cur.get(key) or []
        if before != after:
            mode.add(rule, (*base, key), True, f"{key} changed: {_show(before)} → {_show(after)}")
    modes_before = [m for m in prev.get("supported_sync_modes") or [] if isinstance(m, str)]
    modes_after = [m for m in cur.get("supported_sync_modes") or [] if isinstance(m, str)]
    for sync_mode in modes_before:
        if sync_mode not in modes_after:
            mode.add("sync mode removed", (*base, "supported_sync_modes"), True,
                     f"sync mode '{sync_mode}' removed: {_show(modes_before)} → {_show(modes_after)}")
    for sync_mode in modes_after:
        if sync_mode not in modes_before:
            mode.add("sync mode added", (*base, "supported_sync_modes"), False,
                     f"sync mode '{sync_mode}' added: {_show(modes_before)} → {_show(modes_after)}")


def diff_catalogs(previous: dict[str, Any], current: dict[str, Any]) -> list[Difference]:
    """Classified differences between two catalogs (or CATALOG messages), stream by stream."""
    before, after = catalog_streams(previous), catalog_streams(current)
    mode = _Mode(spec=False, added_rule="field added", removed_rule="field removed")
    added = [name for name in after if name not in before]
    for name, stream in before.items():
        if name in after:
            _diff_stream(stream, after[name], name, mode)
            continue
        twins = [new for new in added if _same_shape(stream.get("json_schema"), after[new].get("json_schema"))]
        hint = f" (renamed to '{twins[0]}'?)" if twins else ""
        mode.add("stream removed", ("streams", name), True, f"stream '{name}' removed{hint}")
    for name in added:
        mode.add("stream added", ("streams", name), False, f"stream '{name}' added")
    return mode.out


# --------------------------------------------------------------------------------------------------- reports


def breaking(differences: Iterable[Difference]) -> list[Difference]:
    return [d for d in differences if d.breaking]


def render_table(differences: Iterable[Difference]) -> str:
    rows = [("breaking" if d.breaking else "compatible", d.rule, d.path, d.message) for d in differences]
    if not rows:
        return "No differences."
    return tabulate(rows, headers=["verdict", "rule", "path", "change"], tablefmt="github")


def to_json(differences: Sequence[Difference]) -> dict[str, Any]:
    return {"differences": [asdict(d) for d in differences], "breaking": len(breaking(differences))}
