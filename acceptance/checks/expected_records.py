"""`basic_read.expect_records`: the records of a read match the expected-records file (reference §5).

This implements the PUBLISHED contract of the flags (`extra_fields`, `exact_order`, `extra_records`), comparing
record VALUES, not the weakened current upstream algorithm (primary keys only, or a mere count without one):

- a stream with a source-defined primary key matches expected and actual records by key: a key never produced is
  a missing record, a key produced with other values is reported with the differing fields;
- a stream without one matches records as a multiset of order-insensitive digests (two identical expected
  records need two identical actual ones);
- `ignored_fields` paths are removed from both sides first; `extra_fields` compares the projection of the actual
  record onto the expected record's keys; `extra_records: false` reports actual records nobody expected;
  `exact_order` requires the expected records to appear in the same relative order (with `extra_records: false`
  that is exactly the expected sequence, trailing extra or missing records included: upstream's `zip` missed them).

The matcher streams: memory is bounded by the expected side plus a few samples, never by the actual records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from acceptance.findings import Finding
from acceptance.protocol.messages import loads
from acceptance.protocol.records import (
    canonical_digest,
    describe_primary_key,
    diff_paths,
    primary_key_digest,
    primary_key_value,
    project,
    remove_fields,
    render_value,
    shape_key,
    shape_of,
)

CHECK = "expected_records"
MAX_FINDINGS_PER_STREAM = 10
_DIFF_LINES = 10
_RECORD_CHARS = 200

KeyPaths = list[list[str]]


# --- loading -------------------------------------------------------------------------------------------------------


def load_expected_records(lines: Iterable[str | bytes], source: str) -> list[dict[str, Any]]:
    """Parse an expected-records JSONL file strictly: every non-blank line a record with `stream` and `data`.

    A line is either an AirbyteRecordMessage (`{"stream", "data", "emitted_at"}`) or a whole AirbyteMessage
    (`{"type": "RECORD", "record": {...}}`). Raises ValueError naming `source:line` and what is wrong.
    """
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        raw = line.encode() if isinstance(line, str) else line
        raw = raw.strip()
        if not raw:
            continue
        where = f"{source}:{number}"
        try:
            parsed = loads(raw)
        except ValueError as error:
            raise ValueError(f"{where}: not valid JSON ({error})") from None
        if not isinstance(parsed, dict):
            raise ValueError(f"{where}: expected a JSON object (a record), got {_json_type(parsed)}")
        if "type" in parsed:
            if parsed["type"] != "RECORD":
                raise ValueError(f"{where}: expected a record, got a message of type {render_value(parsed['type'])}")
            parsed = parsed.get("record")
            if not isinstance(parsed, dict):
                raise ValueError(f"{where}: a RECORD message must have a `record` object, got {_json_type(parsed)}")
        stream = parsed.get("stream")
        if not isinstance(stream, str) or not stream:
            got = "nothing" if stream is None else _json_type(stream)
            raise ValueError(f"{where}: expected `stream` to be a non-empty string (the stream name), got {got}")
        data = parsed.get("data")
        if not isinstance(data, dict):
            got = "nothing" if data is None else _json_type(data)
            raise ValueError(f"{where}: expected `data` to be an object (the record's fields), got {got}")
        records.append({"stream": stream, "data": data, "emitted_at": parsed.get("emitted_at")})
    return records


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --- coverage (high strictness) --------------------------------------------------------------------------------------


def expected_streams_coverage(expected: Iterable[Mapping[str, Any]], configured_streams: Iterable[str],
                              empty_streams: Collection[str]) -> list[Finding]:
    """Every configured stream that is not declared empty has at least one expected record."""
    covered = {record.get("stream") for record in expected}
    uncovered = sorted(set(configured_streams) - covered - set(empty_streams))
    if not uncovered:
        return []
    return [Finding("expected_streams_coverage",
                    "streams are declared in the catalog but do not have expected records: "
                    f"{', '.join(uncovered)} (add records for them to the expected-records file, or declare them "
                    "in empty_streams with a bypass_reason)")]


# --- matching -------------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Expected:
    """One expected record, prepared for matching, and what the read showed about it."""

    index: int  # 1-based position in the expected file's records
    data: Any  # ignored fields removed
    digest: bytes
    shape: Any = None  # key structure (extra_fields)
    shape_id: bytes = b""
    pk: tuple[Any, ...] | None = None
    pk_digest: bytes = b""
    matched: bool = False
    diff: list[str] | None = None  # first difference seen for its primary key
    first_position: int | None = None  # position (1-based, in the stream) of the actual record it was paired with


@dataclass(eq=False)
class _Stream:
    name: str
    key_paths: KeyPaths
    records: list[_Expected] = field(default_factory=list)
    by_pk: dict[bytes, list[_Expected]] = field(default_factory=dict)
    pk_occurrences: Counter[bytes] = field(default_factory=Counter)
    shapes: dict[bytes, Any] = field(default_factory=dict)  # shape id -> shape, most specific first
    pending: dict[tuple[bytes, bytes], list[_Expected]] = field(default_factory=dict)  # unmatched, no-PK streams
    position: int = 0
    unexpected: list[str] = field(default_factory=list)  # a few samples
    unexpected_count: int = 0
    order_pointer: int = 0  # greedy subsequence match of the expected sequence (exact_order)


class ExpectedRecordsMatcher:
    """Records of the read match the expected records (values, per the extra_fields/exact_order/extra_records flags).

    Call `feed` with every message of the read in order, then `findings`. Only streams present in the expected
    records are compared; their namespace and `emitted_at` are ignored.
    """

    def __init__(self, expected: Sequence[Mapping[str, Any]], primary_keys: Mapping[str, KeyPaths], *,
                 exact_order: bool = False, extra_fields: bool = False, extra_records: bool = True,
                 ignored_fields: Mapping[str, Sequence[str]] | None = None,
                 configured_streams: Collection[str] | None = None) -> None:
        self.exact_order = exact_order
        self.extra_fields = extra_fields
        self.extra_records = extra_records
        self._ignored = {stream: list(paths) for stream, paths in (ignored_fields or {}).items() if paths}
        self._streams: dict[str, _Stream] = {}
        self._not_configured: dict[str, int] = {}
        configured = None if configured_streams is None else set(configured_streams)
        for index, record in enumerate(expected, start=1):
            name = str(record.get("stream"))
            if configured is not None and name not in configured:
                self._not_configured[name] = self._not_configured.get(name, 0) + 1
                continue
            stream = self._streams.get(name)
            if stream is None:
                stream = self._streams[name] = _Stream(name, _key_paths(primary_keys.get(name)))
            self._add_expected(stream, index, record.get("data"))
        for stream in self._streams.values():
            # Most specific shape first: an actual record that projects onto several expected shapes pairs with the
            # expected record that says the most about it.
            stream.shapes = dict(sorted(stream.shapes.items(), key=lambda item: -_shape_size(item[1])))

    def _add_expected(self, stream: _Stream, index: int, data: Any) -> None:
        clean = self._clean(stream.name, data)
        entry = _Expected(index, clean, canonical_digest(clean))
        if self.extra_fields:
            entry.shape = shape_of(clean)
            entry.shape_id = shape_key(entry.shape)
            stream.shapes.setdefault(entry.shape_id, entry.shape)
        stream.records.append(entry)
        if stream.key_paths:
            entry.pk = primary_key_value(data if isinstance(data, dict) else {}, stream.key_paths)
            entry.pk_digest = primary_key_digest(entry.pk)
            stream.by_pk.setdefault(entry.pk_digest, []).append(entry)
        else:
            stream.pending.setdefault((entry.shape_id, entry.digest), []).append(entry)

    def _clean(self, stream: str, data: Any) -> Any:
        paths = self._ignored.get(stream)
        return remove_fields(data, paths) if paths and isinstance(data, dict) else data

    # -- streaming --

    def feed(self, message: Mapping[str, Any]) -> None:
        """Take one message of the read; anything but a RECORD of an expected stream is ignored."""
        if message.get("type") != "RECORD":
            return
        record = message.get("record")
        if not isinstance(record, dict):
            return
        stream = self._streams.get(str(record.get("stream")))
        if stream is None:
            return
        stream.position += 1
        data = record.get("data")
        clean = self._clean(stream.name, data)
        views = _Views(clean, stream.shapes if self.extra_fields else None)
        if stream.key_paths:
            self._feed_keyed(stream, data, views)
        else:
            self._feed_unkeyed(stream, views)

    def _feed_keyed(self, stream: _Stream, data: Any, views: _Views) -> None:
        pk = primary_key_value(data if isinstance(data, dict) else {}, stream.key_paths)
        pk_digest = primary_key_digest(pk)
        candidates = stream.by_pk.get(pk_digest)
        if not candidates:
            self._unexpected(stream, lambda: f"record #{stream.position} (primary key "
                                             f"{describe_primary_key(stream.key_paths, pk)}) is not in the expected "
                                             "records")
            return
        stream.pk_occurrences[pk_digest] += 1
        for entry in candidates:
            if entry.first_position is None:
                entry.first_position = stream.position
        if self.exact_order:
            self._advance_order(stream, lambda entry: entry.pk_digest == pk_digest)
        for entry in sorted(candidates, key=lambda e: e.matched):  # unmatched candidates first
            if views.digest(entry) == entry.digest:
                entry.matched = True
                return
        for entry in candidates:
            if not entry.matched and entry.diff is None:
                entry.diff = diff_paths(entry.data, views.view(entry), limit=_DIFF_LINES)

    def _feed_unkeyed(self, stream: _Stream, views: _Views) -> None:
        if self.exact_order:
            self._advance_order(stream, lambda entry: views.digest(entry) == entry.digest)
        for shape_id in stream.shapes if self.extra_fields else (b"",):
            waiting = stream.pending.get((shape_id, views.digest_for(shape_id)))
            if waiting:
                entry = waiting.pop(0)
                entry.matched = True
                entry.first_position = stream.position
                return
        self._unexpected(stream, lambda: f"record #{stream.position} is not among the expected records: "
                                         f"{render_value(views.clean, _RECORD_CHARS)}")

    def _advance_order(self, stream: _Stream, matches: Callable[[_Expected], bool]) -> None:
        if stream.order_pointer < len(stream.records) and matches(stream.records[stream.order_pointer]):
            stream.order_pointer += 1

    def _unexpected(self, stream: _Stream, describe: Callable[[], str]) -> None:
        """Count an actual record nobody expected; describe the first few (only then is the text built)."""
        if self.extra_records:
            return
        stream.unexpected_count += 1
        if len(stream.unexpected) < MAX_FINDINGS_PER_STREAM:
            stream.unexpected.append(describe())

    # -- verdict --

    def findings(self) -> list[Finding]:
        """What did not match, at most MAX_FINDINGS_PER_STREAM per stream plus a count of the rest."""
        found = [
            Finding(CHECK, f"stream {name!r} has {count} expected record(s) but is not in the configured catalog "
                           "(remove its records from the expected-records file, or configure the stream)")
            for name, count in sorted(self._not_configured.items())
        ]
        for stream in self._streams.values():
            problems = list(self._stream_problems(stream))
            total = len(problems) + max(0, stream.unexpected_count - len(stream.unexpected))
            found += [Finding(CHECK, f"stream {stream.name!r}: {text}") for text in problems[:MAX_FINDINGS_PER_STREAM]]
            if total > MAX_FINDINGS_PER_STREAM:
                found.append(Finding(CHECK, f"stream {stream.name!r}: … and {total - MAX_FINDINGS_PER_STREAM} more "
                                            f"problem(s) ({total} in total)"))
        return found

    def _stream_problems(self, stream: _Stream) -> Iterator[str]:
        for entry in stream.records:
            if entry.matched:
                continue
            if stream.key_paths and entry.first_position is not None:
                yield (f"record with primary key {self._describe_pk(stream, entry)} does not match expected record "
                       f"#{entry.index}: {'; '.join(entry.diff or ['values differ'])}")
            elif stream.key_paths:
                yield f"expected record {self._label(stream, entry)} was not produced"
            else:
                yield (f"expected record #{entry.index} was not produced (no record has these values"
                       f"{' and fields' if self.extra_fields else ''}): {render_value(entry.data, _RECORD_CHARS)}")
        if not self.extra_records:
            yield from (f"{text} (extra_records is off)" for text in stream.unexpected)
            for digest, seen in stream.pk_occurrences.items():
                wanted = len(stream.by_pk[digest])
                if seen > wanted:
                    entry = stream.by_pk[digest][0]
                    yield (f"primary key {self._describe_pk(stream, entry)} was produced {seen} times, expected "
                           f"{wanted} (extra_records is off)")
        if self.exact_order:
            problem = self._order_problem(stream)
            if problem:
                yield problem

    def _order_problem(self, stream: _Stream) -> str | None:
        records = stream.records
        if stream.order_pointer >= len(records):
            return None
        present = [e for e in records if (e.first_position is not None if stream.key_paths else e.matched)]
        if len(present) == len(records) and stream.order_pointer > 0:
            # The greedy subsequence match is exact: record `order_pointer` never came after its predecessor's match.
            stuck, previous = records[stream.order_pointer], records[stream.order_pointer - 1]
            return (f"records are not in the expected order (exact_order): expected record {self._label(stream, stuck)}"
                    f" was not produced after expected record {self._label(stream, previous)}")
        # Some records are missing (reported above): compare the positions of the ones that were produced.
        for earlier, later in zip(present, present[1:], strict=False):
            if (later.first_position or 0) < (earlier.first_position or 0):
                return (f"records are not in the expected order (exact_order): expected record "
                        f"{self._label(stream, later)} was produced before expected record "
                        f"{self._label(stream, earlier)}")
        return None

    def _label(self, stream: _Stream, entry: _Expected) -> str:
        if stream.key_paths:
            return f"#{entry.index} (primary key {self._describe_pk(stream, entry)})"
        return f"#{entry.index}"

    @staticmethod
    def _describe_pk(stream: _Stream, entry: _Expected) -> str:
        return describe_primary_key(stream.key_paths, entry.pk or ())


class _Views:
    """An actual record's comparable forms: whole (ignored fields removed), or projected onto each expected shape;
    each computed once, on demand, and digested once."""

    def __init__(self, clean: Any, shapes: Mapping[bytes, Any] | None) -> None:
        self.clean = clean
        self._shapes = shapes
        self._views: dict[bytes, Any] = {}
        self._digests: dict[bytes, bytes] = {}

    def view_for(self, shape_id: bytes) -> Any:
        if self._shapes is None:
            return self.clean
        if shape_id not in self._views:
            self._views[shape_id] = project(self.clean, self._shapes[shape_id])
        return self._views[shape_id]

    def digest_for(self, shape_id: bytes) -> bytes:
        if shape_id not in self._digests:
            self._digests[shape_id] = canonical_digest(self.view_for(shape_id))
        return self._digests[shape_id]

    def view(self, entry: _Expected) -> Any:
        return self.view_for(entry.shape_id)

    def digest(self, entry: _Expected) -> bytes:
        return self.digest_for(entry.shape_id)


def _key_paths(value: Any) -> KeyPaths:
    """Primary-key paths as a list of paths; a bare string part becomes a one-element path; empty means no key."""
    if not value:
        return []
    return [[part] if isinstance(part, str) else [str(p) for p in part] for part in value]


def _shape_size(shape: Any) -> int:
    if isinstance(shape, dict):
        return len(shape) + sum(_shape_size(child) for child in shape.values())
    if isinstance(shape, tuple):
        return 1 + _shape_size(shape[0])
    return 0
