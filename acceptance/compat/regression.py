"""Record-level regression between two releases: the same config read with the previous and the current release.

Records are paired per stream by primary key (configured, else source-defined); a stream without one is compared
as a multiset of whole-record digests, where "changed" has no meaning. Equality follows `acceptance.protocol.records`
(list order ignored, `1 == 1.0`), while the JSON *types* seen per field are reported apart (`1.0` -> `1` is a type
change from number to integer, not a value change).

Memory stays at a few small digests per record, never the records: the previous read is remembered per key as
(its sorted field names, shared between records with the same fields; an 8-byte digest per top-level field value),
or per unkeyed stream as a multiset of 16-byte record digests. The current read is matched against that as it
streams, keeping per key only which fields changed. Each read is iterated once, the previous one first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tabulate import tabulate

from acceptance.protocol import catalog as catalogs
from acceptance.protocol.records import canonical_digest, primary_key_digest, primary_key_value, stream_records

KeyPaths = list[list[str]]
Fingerprint = tuple[tuple[str, ...], bytes]  # (sorted top-level field names, their value digests concatenated)
Match = tuple[str, ...] | bool | None  # current side, per key: None added, False unchanged, names of changed fields

PREVIOUS, CURRENT = "previous", "current"
FIELD_DIGEST_SIZE = 8  # per field value; a record differs when any of its fields does
MAX_NAMES_SHOWN = 10  # per list in the table's details section

_JSON_TYPES = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
               dict: "object"}


# --- results -------------------------------------------------------------------------------------------------------


@dataclass
class StreamRegression:
    """How one stream's records differ between the previous and the current release's reads."""

    name: str
    previous_count: int = 0
    current_count: int = 0
    added: int = 0
    removed: int = 0
    changed: int | None = 0  # None: the stream has no primary key, so records cannot be paired
    changed_fields: dict[str, int] = field(default_factory=dict)  # field -> changed records having it changed
    fields_appeared: list[str] = field(default_factory=list)
    fields_disappeared: list[str] = field(default_factory=list)
    type_changes: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # field -> previous/current types
    duplicate_keys: tuple[int, int] | None = (0, 0)  # (previous, current) records repeating a key; None: no key
    primary_key: KeyPaths | None = None
    only_in: str | None = None  # PREVIOUS or CURRENT when only that read has records of the stream

    def has_differences(self) -> bool:
        """Anything a reviewer should look at; duplicate keys alone are not a change between the releases."""
        return bool(self.previous_count != self.current_count or self.added or self.removed or self.changed
                    or self.fields_appeared or self.fields_disappeared or self.type_changes or self.only_in)

    def to_json(self) -> dict[str, Any]:
        duplicates = self.duplicate_keys
        return {
            "name": self.name,
            "has_differences": self.has_differences(),
            "only_in": self.only_in,
            "primary_key": self.primary_key,
            "previous_count": self.previous_count,
            "current_count": self.current_count,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "changed_fields": dict(sorted(self.changed_fields.items())),
            "fields_appeared": sorted(self.fields_appeared),
            "fields_disappeared": sorted(self.fields_disappeared),
            "type_changes": {name: {PREVIOUS: sorted(kinds[PREVIOUS]), CURRENT: sorted(kinds[CURRENT])}
                             for name, kinds in sorted(self.type_changes.items())},
            "duplicate_keys": None if duplicates is None else {PREVIOUS: duplicates[0], CURRENT: duplicates[1]},
        }


@dataclass
class RegressionReport:
    """Every stream either read produced or the catalog configures, sorted by name."""

    streams: list[StreamRegression]

    def has_differences(self) -> bool:
        return any(stream.has_differences() for stream in self.streams)

    def to_json(self) -> dict[str, Any]:
        """Stable, JSON-serialisable: the same reads give the same document, byte for byte once dumped."""
        streams = sorted(self.streams, key=lambda stream: stream.name)
        return {
            "has_differences": self.has_differences(),
            "streams_with_differences": [stream.name for stream in streams if stream.has_differences()],
            "streams": [stream.to_json() for stream in streams],
        }

    def table(self) -> str:
        """The counts per stream, then one line per noteworthy detail (changed fields, field and type changes)."""
        if not self.streams:
            return "No streams."
        streams = sorted(self.streams, key=lambda stream: stream.name)
        headers = ["stream", PREVIOUS, CURRENT, "added", "removed", "changed", "fields +/-"]
        text = tabulate([_row(stream) for stream in streams], headers=headers, tablefmt="github",
                        colalign=("left", "right", "right", "right", "right", "right", "left"), disable_numparse=True)
        details = [line for stream in streams for line in _details(stream)]
        return "\n".join([text, "", *details]) if details else text


# --- comparison ----------------------------------------------------------------------------------------------------


def compare_reads(previous: Iterable[Mapping[str, Any]], current: Iterable[Mapping[str, Any]],
                  catalog: dict[str, Any]) -> RegressionReport:
    """Compare two reads of the same configured catalog (message iterables, e.g. two MessageSpools)."""
    key_paths = catalogs.primary_keys(catalog)
    streams: dict[str, _Stream] = {name: _new_stream(name, paths) for name, paths in key_paths.items()}
    for name, data in stream_records(previous):
        _stream(streams, name).add_previous(data)
    for name, data in stream_records(current):
        _stream(streams, name).add_current(data)
    return RegressionReport([streams[name].result() for name in sorted(streams)])


def json_type(value: Any) -> str:
    """The JSON type of a parsed value as its text had it: ints are "integer", floats "number" (even `1.0`)."""
    kind = _JSON_TYPES.get(type(value))
    if kind is not None:
        return kind
    for python_type, name in _JSON_TYPES.items():  # subclasses (bool is checked before int by dict order)
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _stream(streams: dict[str, _Stream], name: str) -> _Stream:
    """The stream's state; a stream the catalog does not configure has no known key, so it is compared unkeyed."""
    stream = streams.get(name)
    if stream is None:
        stream = streams[name] = _UnkeyedStream(name)
    return stream


def _new_stream(name: str, paths: Any) -> _Stream:
    normal = _normal_key_paths(paths)
    return _KeyedStream(name, normal) if normal else _UnkeyedStream(name)


def _normal_key_paths(paths: Any) -> KeyPaths:
    """Protocol key paths (list of lists of field names); a bare field name stands for a one-part path."""
    if isinstance(paths, str):
        return [[paths]]
    if not isinstance(paths, list):
        return []
    return [[path] if isinstance(path, str) else [str(part) for part in path] for path in paths
            if isinstance(path, str | list) and path]


@dataclass(eq=False)
class _Observed:
    """One read's view of a stream: how many records, which top-level fields with which JSON types."""

    count: int = 0
    duplicates: int = 0
    types: dict[str, set[str]] = field(default_factory=dict)

    def see(self, data: Any) -> None:
        self.count += 1
        if not isinstance(data, dict):
            return
        for name, value in data.items():
            kinds = self.types.get(name)
            if kinds is None:
                self.types[name] = {json_type(value)}
            else:
                kinds.add(json_type(value))


class _Stream:
    """Comparison state of one stream; subclasses pair records by key or as a multiset."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.previous = _Observed()
        self.current = _Observed()

    def add_previous(self, data: Any) -> None:
        self.previous.see(data)
        self._remember(data)

    def add_current(self, data: Any) -> None:
        self.current.see(data)
        self._match(data)

    def _remember(self, data: Any) -> None:
        raise NotImplementedError

    def _match(self, data: Any) -> None:
        raise NotImplementedError

    def result(self) -> StreamRegression:
        before, after = self.previous, self.current
        result = StreamRegression(self.name, before.count, after.count, only_in=_only_in(before.count, after.count))
        if before.count and after.count:
            result.fields_appeared = sorted(set(after.types) - set(before.types))
            result.fields_disappeared = sorted(set(before.types) - set(after.types))
            result.type_changes = _type_changes(before.types, after.types)
        self._fill(result)
        return result

    def _fill(self, result: StreamRegression) -> None:
        raise NotImplementedError


class _KeyedStream(_Stream):
    """Records paired by primary key; the last record of a repeated key is the one compared."""

    def __init__(self, name: str, key_paths: KeyPaths) -> None:
        super().__init__(name)
        self.key_paths = key_paths
        self.remembered: dict[bytes, Fingerprint] = {}  # previous read: key digest -> fingerprint
        self.matched: dict[bytes, Match] = {}  # current read: key digest -> how its record compares
        self._shared: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per distinct field-name set

    def _key(self, data: Any) -> bytes:
        return primary_key_digest(primary_key_value(data if isinstance(data, dict) else {}, self.key_paths))

    def _fingerprint(self, data: Any) -> Fingerprint:
        if not isinstance(data, dict):
            return (), b"\x00" + canonical_digest(data)  # not an object: compared whole
        names = tuple(sorted(data))
        names = self._shared.setdefault(names, names)
        return names, b"".join(canonical_digest(data[name])[:FIELD_DIGEST_SIZE] for name in names)

    def _remember(self, data: Any) -> None:
        key = self._key(data)
        if key in self.remembered:
            self.previous.duplicates += 1
        self.remembered[key] = self._fingerprint(data)

    def _match(self, data: Any) -> None:
        key = self._key(data)
        if key in self.matched:
            self.current.duplicates += 1
        before = self.remembered.get(key)
        if before is None:
            self.matched[key] = None
            return
        after = self._fingerprint(data)
        changes = False if after == before else _changed_fields(before, after)
        self.matched[key] = self._shared.setdefault(changes, changes) if isinstance(changes, tuple) else changes

    def _fill(self, result: StreamRegression) -> None:
        changed_fields: Counter[str] = Counter()
        added = changed = 0
        for match in self.matched.values():
            if match is None:
                added += 1
            elif match is not False:
                changed += 1
                changed_fields.update(match)
        result.added, result.changed = added, changed
        result.removed = sum(1 for key in self.remembered if key not in self.matched)
        result.changed_fields = dict(sorted(changed_fields.items()))
        result.duplicate_keys = (self.previous.duplicates, self.current.duplicates)
        result.primary_key = self.key_paths


class _UnkeyedStream(_Stream):
    """Records compared as multisets of whole-record digests: a repeated record counts each time."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.pool: Counter[bytes] = Counter()  # previous read's record digests not matched yet
        self.added = 0

    def _remember(self, data: Any) -> None:
        self.pool[canonical_digest(data)] += 1

    def _match(self, data: Any) -> None:
        digest = canonical_digest(data)
        left = self.pool.get(digest, 0)
        if left:
            self.pool[digest] = left - 1
        else:
            self.added += 1

    def _fill(self, result: StreamRegression) -> None:
        result.added = self.added
        result.removed = sum(self.pool.values())
        result.changed = None
        result.duplicate_keys = None


def _changed_fields(before: Fingerprint, after: Fingerprint) -> tuple[str, ...]:
    """Top-level fields whose value differs, or that only one record has (a record that is not an object: none)."""
    old, new = _field_digests(before), _field_digests(after)
    return tuple(sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name)))


def _field_digests(fingerprint: Fingerprint) -> dict[str, bytes]:
    names, digests = fingerprint
    return {name: digests[i * FIELD_DIGEST_SIZE:(i + 1) * FIELD_DIGEST_SIZE] for i, name in enumerate(names)}


def _type_changes(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
    return {name: {PREVIOUS: sorted(before[name]), CURRENT: sorted(after[name])}
            for name in sorted(before.keys() & after.keys()) if before[name] != after[name]}


def _only_in(previous_count: int, current_count: int) -> str | None:
    if previous_count and not current_count:
        return PREVIOUS
    if current_count and not previous_count:
        return CURRENT
    return None


# --- table ---------------------------------------------------------------------------------------------------------


def _row(stream: StreamRegression) -> list[str]:
    changed = "n/a (no key)" if stream.changed is None else str(stream.changed)
    fields = f"+{len(stream.fields_appeared)}/-{len(stream.fields_disappeared)}"
    if stream.type_changes:
        fields += f", {len(stream.type_changes)} type change(s)"
    counts = (stream.previous_count, stream.current_count, stream.added, stream.removed)
    return [stream.name, *(str(count) for count in counts), changed, fields]


def _details(stream: StreamRegression) -> list[str]:
    """One `- stream: ...` line per kind of detail the table's counts do not tell."""
    lines = []
    if stream.only_in:
        lines.append(f"only in the {stream.only_in} read")
    if stream.changed_fields:
        counted = [f"{name} ({count})" for name, count in stream.changed_fields.items()]
        lines.append("changed fields: " + _names(counted))
    if stream.fields_appeared:
        lines.append("fields appeared: " + _names(stream.fields_appeared))
    if stream.fields_disappeared:
        lines.append("fields disappeared: " + _names(stream.fields_disappeared))
    changes = [f"{name} {'|'.join(kinds[PREVIOUS])} -> {'|'.join(kinds[CURRENT])}"
               for name, kinds in stream.type_changes.items()]
    if changes:
        lines.append("type changes: " + _names(changes))
    if stream.duplicate_keys and any(stream.duplicate_keys):
        previous, current = stream.duplicate_keys
        lines.append(f"duplicate primary keys (last record compared): {previous} previous, {current} current")
    return [f"- {stream.name}: {line}" for line in lines]


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES_SHOWN])
    hidden = len(names) - MAX_NAMES_SHOWN
    return f"{shown}, … {hidden} more" if hidden > 0 else shown
