"""Record comparison helpers: order-insensitive digests, ignored-field removal, primary keys and readable diffs.

Equality follows the reference's record-hashing rules (§5.4): dict key order and LIST ORDER do not matter
(`{"d": [1, 2]}` equals `{"d": [2, 1]}`), and numbers compare like JSON values (`1 == 1.0`) while booleans stay
booleans (`true != 1`). Nothing here mutates its input.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

import orjson

DIGEST_SIZE = 16  # bytes per record digest: what streaming checks keep per record instead of the record

_SORT_KEYS = orjson.OPT_SORT_KEYS
_GLOB_CHARS = frozenset("*?[")
_NON_FINITE_TAG = "\x00non-finite-float"
_MAX_VALUE_CHARS = 80


# --- messages ------------------------------------------------------------------------------------------------------


def stream_records(messages: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, Any]]:
    """(stream name, data) of every RECORD message: comparisons look at nothing else (not even `emitted_at`)."""
    for message in messages:
        if message.get("type") != "RECORD":
            continue
        record = message.get("record")
        if isinstance(record, dict):
            yield str(record.get("stream")), record.get("data")


# --- digests -----------------------------------------------------------------------------------------------------


def canonical_digest(value: Any) -> bytes:
    """A 16-byte digest of a JSON value where dict key order and list order do not matter; `1 == 1.0`, `true != 1`."""
    return hashlib.blake2b(_serialize(_canonical(value)), digest_size=DIGEST_SIZE).digest()


def _serialize(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits (or non-string keys): the standard library is exact
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def _canonical(value: Any) -> Any:
    """`value` with lists sorted by their elements' serialization and floats normalized; shared where unchanged."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, dict):
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is str or item_kind is int or item_kind is bool or item is None:
                continue
            normal = _canonical(item)
            if normal is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = normal
        return value if changed is None else changed
    if isinstance(value, list | tuple):
        items = [_canonical(item) for item in value]
        if len(items) > 1:
            items.sort(key=_serialize)
        return items
    if isinstance(value, float):
        if value.is_integer():
            return int(value)  # 1.0 and 1 are the same JSON number
        if not math.isfinite(value):
            return {_NON_FINITE_TAG: repr(value)}  # orjson would write NaN as null
        return value
    return value


# --- ignored fields -------------------------------------------------------------------------------------------------


def remove_fields(data: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """A copy of `data` without the `/`-separated glob paths (dpath style: one segment per key or list index).

    Each segment is matched with fnmatch against dict keys and list indices (`*` is exactly one segment,
    `hs_time_*` matches key names), so `steps/*/started_at` removes `started_at` from every element of `steps`.
    Missing paths are ignored. The input is never mutated: containers on a removed path are copied, untouched
    sub-values are shared with the input. Removed list elements are deleted (dpath leaves `None` in their place
    unless they are at the end; either way both compared sides get the same treatment).
    """
    result: Any = data
    for path in paths:
        segments = str(path).strip("/").split("/")
        if segments == [""]:
            continue
        result = _remove(result, segments)
    return dict(result) if result is data else result


def _matching(node: Any, segment: str) -> list[Any]:
    glob = not _GLOB_CHARS.isdisjoint(segment)
    if isinstance(node, dict):
        if not glob:
            return [segment] if segment in node else []
        return [key for key in node if key == segment or fnmatchcase(str(key), segment)]
    if isinstance(node, list):
        if not glob:
            return [int(segment)] if segment.isdigit() and int(segment) < len(node) else []
        return [index for index in range(len(node)) if fnmatchcase(str(index), segment)]
    return []


def _remove(node: Any, segments: list[str]) -> Any:
    keys = _matching(node, segments[0])
    if not keys:
        return node
    if len(segments) == 1:
        drop = set(keys)
        if isinstance(node, dict):
            return {key: value for key, value in node.items() if key not in drop}
        return [item for index, item in enumerate(node) if index not in drop]
    copy: Any = None
    for key in keys:
        child = node[key]
        new_child = _remove(child, segments[1:])
        if new_child is not child:
            if copy is None:
                copy = dict(node) if isinstance(node, dict) else list(node)
            copy[key] = new_child
    return node if copy is None else copy


# --- primary keys ---------------------------------------------------------------------------------------------------


def primary_key_value(data: dict[str, Any], key_paths: list[list[str]]) -> tuple[Any, ...]:
    """The primary-key values of a record, one per key path (nested paths descend objects); missing parts are None."""
    values = []
    for path in key_paths:
        node: Any = data
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                node = None
                break
        values.append(node)
    return tuple(values)


def primary_key_digest(values: tuple[Any, ...]) -> bytes:
    """A digest identifying a primary-key tuple (part order matters; `1 == 1.0`, `true != 1`)."""
    return canonical_digest({str(index): value for index, value in enumerate(values)})


def describe_primary_key(key_paths: list[list[str]], values: tuple[Any, ...]) -> str:
    """`id=42` or `org/id=1, user=2`: a primary key as a person reads it."""
    return ", ".join(f"{'/'.join(path)}={render_value(value)}" for path, value in zip(key_paths, values, strict=False))


# --- projection (extra_fields) ---------------------------------------------------------------------------------------


def shape_of(value: Any) -> Any:
    """The key structure of a JSON value: a dict of child shapes for objects, a 1-tuple of the merged element shape
    for lists, None for scalars. Projecting a record onto a shape keeps only the keys the shape has."""
    if isinstance(value, dict):
        return {key: shape_of(item) for key, item in value.items()}
    if isinstance(value, list):
        merged: Any = None
        for item in value:
            merged = _merge_shapes(merged, shape_of(item))
        return (merged,)
    return None


def _merge_shapes(left: Any, right: Any) -> Any:
    if isinstance(left, dict) and isinstance(right, dict):
        merged = dict(left)
        for key, shape in right.items():
            merged[key] = _merge_shapes(merged.get(key), shape)
        return merged
    if isinstance(left, tuple) and isinstance(right, tuple):
        return (_merge_shapes(left[0], right[0]),)
    return left if right is None else right


def project(value: Any, shape: Any) -> Any:
    """`value` restricted to the keys of `shape` (recursively, through lists); other values are kept whole."""
    if isinstance(shape, dict) and isinstance(value, dict):
        return {key: project(value[key], child) for key, child in shape.items() if key in value}
    if isinstance(shape, tuple) and isinstance(value, list) and shape[0] is not None:
        return [project(item, shape[0]) for item in value]
    return value


def shape_key(shape: Any) -> bytes:
    """A hashable identity for a shape (shapes with the same keys give the same key)."""
    return _serialize(_shape_json(shape))


def _shape_json(shape: Any) -> Any:
    if isinstance(shape, dict):
        return {key: _shape_json(child) for key, child in shape.items()}
    if isinstance(shape, tuple):
        return [_shape_json(shape[0])]
    return 0


# --- diffs -----------------------------------------------------------------------------------------------------------


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality with the digest's rules: list order ignored, `1 == 1.0`, `true != 1`."""
    return canonical_digest(left) == canonical_digest(right)


def render_value(value: Any, limit: int = _MAX_VALUE_CHARS) -> str:
    """A JSON rendering of `value` (keys in their own order), shortened to about `limit` characters."""
    try:
        raw = orjson.dumps(value)
    except TypeError:
        raw = json.dumps(value, separators=(",", ":"), default=str).encode()
    text = raw.decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff_paths(expected: Any, actual: Any, limit: int = 20) -> list[str]:
    """Differences between two JSON values by JSON pointer: `/a/b: expected 1, got 2`, `/c: missing (expected 1)`,
    `/d: unexpected (got 2)`. List order is ignored (as in the digests): elements present on both sides are paired
    off first, the leftovers are compared by position. At most `limit` lines, then a final `…` line."""
    lines: list[str] = []
    _diff(expected, actual, "", lines, limit + 1)
    if len(lines) > limit:
        lines = lines[:limit] + ["… (more differences not shown)"]
    return lines


def _pointer(base: str, key: Any) -> str:
    return f"{base}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _diff(expected: Any, actual: Any, path: str, lines: list[str], limit: int) -> None:
    if len(lines) >= limit:
        return
    where = path or "(root)"
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            if len(lines) >= limit:
                return
            if key not in actual:
                lines.append(f"{_pointer(path, key)}: missing (expected {render_value(value)})")
            else:
                _diff(value, actual[key], _pointer(path, key), lines, limit)
        for key, value in actual.items():
            if len(lines) >= limit:
                return
            if key not in expected:
                lines.append(f"{_pointer(path, key)}: unexpected (got {render_value(value)})")
        return
    if isinstance(expected, list) and isinstance(actual, list):
        _diff_lists(expected, actual, path, lines, limit)
        return
    if not json_equal(expected, actual):
        lines.append(f"{where}: expected {render_value(expected)}, got {render_value(actual)}")


def _diff_lists(expected: list[Any], actual: list[Any], path: str, lines: list[str], limit: int) -> None:
    pending: dict[bytes, list[int]] = {}
    for index, item in enumerate(actual):
        pending.setdefault(canonical_digest(item), []).append(index)
    unmatched_expected = []
    for index, item in enumerate(expected):
        candidates = pending.get(canonical_digest(item))
        if candidates:
            candidates.pop(0)
        else:
            unmatched_expected.append(index)
    unmatched_actual = sorted(index for indexes in pending.values() for index in indexes)
    for expected_index, actual_index in zip(unmatched_expected, unmatched_actual, strict=False):
        _diff(expected[expected_index], actual[actual_index], _pointer(path, expected_index), lines, limit)
    for expected_index in unmatched_expected[len(unmatched_actual):]:
        if len(lines) >= limit:
            return
        lines.append(f"{_pointer(path, expected_index)}: missing (expected {render_value(expected[expected_index])})")
    for actual_index in unmatched_actual[len(unmatched_expected):]:
        if len(lines) >= limit:
            return
        lines.append(f"{_pointer(path, actual_index)}: unexpected (got {render_value(actual[actual_index])})")
