"""`full_refresh`: two sequential full-refresh reads agree (reference §2.5 and the published contract).

The published contract: "RECORD messages output from both were identical or the former is a strict subset of the
latter". Current upstream only checks `emitted_at`; this restores the record comparison (historic upstream
compared by primary key alone; here the whole record VALUES count, with `ignored_fields` removed first).

Both reads are given as callables returning a fresh iterator over the read's spooled messages, so the comparison
keeps only per-record digests in memory and re-reads the spool to show the few records it reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from acceptance.findings import Finding
from acceptance.protocol.records import (
    canonical_digest,
    describe_primary_key,
    diff_paths,
    primary_key_digest,
    primary_key_value,
    remove_fields,
    render_value,
    stream_records,
)

Messages = Callable[[], Iterable[Mapping[str, Any]]]
KeyPaths = list[list[str]]

MAX_FINDINGS_PER_STREAM = 10
_DIFF_LINES = 10
_RECORD_CHARS = 200


@dataclass(eq=False)
class _Sample:
    position: int  # 1-based, among the stream's records in the first read
    data: Any  # ignored fields removed
    pk: tuple[Any, ...] | None = None
    pk_digest: bytes = b""
    second: Any = None  # the second read's record with the same primary key, once found
    found: bool = False


@dataclass(eq=False)
class _Unmatched:
    """Records of the first read that the second read does not contain, for one stream."""

    count: int = 0
    samples: list[_Sample] = field(default_factory=list)
    pk_digests: Counter[bytes] = field(default_factory=Counter)  # keyed streams: every unmatched record's key
    pk_present: set[bytes] = field(default_factory=set)  # ... of which the second read has the key


class SequentialReadsFeed:
    """Both reads, fed message by message (the first read whole, then the second), as the connector writes them or
    from their spools: the first read's record digests are kept per stream as a multiset (ignored fields removed),
    the second read's records take theirs out of it, so what is left is in the first read only. Also the record
    counts and the emitted_at range of each read. Memory: one digest per record of the first read."""

    def __init__(self, ignored_fields: Mapping[str, Sequence[str]] | None = None) -> None:
        self.ignored = {stream: list(paths) for stream, paths in (ignored_fields or {}).items() if paths}
        self.pools: dict[str, Counter[bytes]] = {}
        self.first_counts: Counter[str] = Counter()
        self.second_counts: Counter[str] = Counter()
        self.first_emitted, self.second_emitted = _EmittedAt(), _EmittedAt()

    def clean(self, stream: str, data: Any) -> Any:
        paths = self.ignored.get(stream)
        return remove_fields(data, paths) if paths and isinstance(data, dict) else data

    def digest(self, stream: str, data: Any) -> bytes:
        return canonical_digest(self.clean(stream, data))

    def feed_first(self, message: Mapping[str, Any]) -> None:
        self.first_emitted.feed(message)
        for stream, data in stream_records((message,)):
            self.first_counts[stream] += 1
            pool = self.pools.get(stream)
            if pool is None:
                pool = self.pools[stream] = Counter()
            pool[self.digest(stream, data)] += 1

    def feed_second(self, message: Mapping[str, Any]) -> None:
        self.second_emitted.feed(message)
        for stream, data in stream_records((message,)):
            self.second_counts[stream] += 1
            pool = self.pools.get(stream)
            if pool:
                digest = self.digest(stream, data)
                if pool[digest] > 0:
                    pool[digest] -= 1

    @classmethod
    def of(cls, first: Messages, second: Messages,
           ignored_fields: Mapping[str, Sequence[str]] | None = None) -> SequentialReadsFeed:
        """One pass over each read's messages."""
        fed = cls(ignored_fields)
        for message in first():
            fed.feed_first(message)
        for message in second():
            fed.feed_second(message)
        return fed


def compare_sequential_reads(first: Messages, second: Messages, primary_keys: Mapping[str, KeyPaths],
                             ignored_fields: Mapping[str, Sequence[str]] | None = None,
                             fed: SequentialReadsFeed | None = None) -> list[Finding]:
    """The second full-refresh read contains every record of the first: identical reads, or the first a subset.

    `fed`: both reads already fed (with the same ignored fields); the messages are then only re-read to show the
    records that differ."""
    if fed is None:
        fed = SequentialReadsFeed.of(first, second, ignored_fields)
    # Per stream the second read has, the digests of the first read's records it did not take.
    left = {stream: remaining for stream, pool in fed.pools.items()
            if fed.second_counts[stream] and (remaining := +pool)}

    # Only when something differs: the first read again, for the records left over (with duplicates, the first
    # occurrences are the ones reported).
    unmatched: dict[str, _Unmatched] = {}
    if left:
        positions: Counter[str] = Counter()
        for stream, data in stream_records(first()):
            positions[stream] += 1
            pool = left.get(stream)
            if not pool:
                continue
            record = fed.clean(stream, data)
            digest = canonical_digest(record)
            if pool[digest] <= 0:
                continue
            pool[digest] -= 1
            missing = unmatched.setdefault(stream, _Unmatched())
            missing.count += 1
            key_paths = primary_keys.get(stream) or []
            sample = _Sample(positions[stream], record)
            if key_paths:
                sample.pk = primary_key_value(data if isinstance(data, dict) else {}, key_paths)
                sample.pk_digest = primary_key_digest(sample.pk)
                missing.pk_digests[sample.pk_digest] += 1
            if len(missing.samples) < MAX_FINDINGS_PER_STREAM:
                missing.samples.append(sample)

    # The second read again, only for keyed streams with differences: which keys it has, and the records to show
    # beside the reported samples.
    keyed = {stream: u for stream, u in unmatched.items() if u.pk_digests}
    if keyed:
        _pair_by_key(second(), keyed, primary_keys, fed.clean)

    findings: list[Finding] = []
    for stream, count in fed.first_counts.items():
        if not fed.second_counts[stream]:
            findings.append(Finding("sequential_reads", f"stream {stream!r}: the first read produced {count} "
                                                        "record(s), the second read none"))
    for stream, missing in unmatched.items():
        findings += _stream_findings(stream, missing, primary_keys.get(stream) or [])
    return findings


def _pair_by_key(messages: Iterable[Mapping[str, Any]], keyed: Mapping[str, _Unmatched],
                 primary_keys: Mapping[str, KeyPaths], clean: Callable[[str, Any], Any]) -> None:
    for stream, data in stream_records(messages):
        missing = keyed.get(stream)
        if missing is None:
            continue
        digest = primary_key_digest(primary_key_value(data if isinstance(data, dict) else {}, primary_keys[stream]))
        if digest not in missing.pk_digests:
            continue
        missing.pk_present.add(digest)
        for sample in missing.samples:
            if sample.pk_digest == digest and not sample.found:
                sample.found, sample.second = True, clean(stream, data)


def _stream_findings(stream: str, missing: _Unmatched, key_paths: KeyPaths) -> list[Finding]:
    label = f"stream {stream!r}"
    findings = []
    for sample in missing.samples:
        if not key_paths:
            text = (f"record #{sample.position} of the first read is not in the second read: "
                    f"{render_value(sample.data, _RECORD_CHARS)}")
        else:
            pk = describe_primary_key(key_paths, sample.pk or ())
            if not sample.found:
                text = f"record with primary key {pk} (record #{sample.position} of the first read) is missing " \
                       "in the second read"
            else:
                changes = diff_paths(sample.data, sample.second, limit=_DIFF_LINES)
                if changes:
                    text = (f"record with primary key {pk} changed between the reads (expected = first read, "
                            f"got = second read): {'; '.join(changes)}")
                else:
                    text = (f"record with primary key {pk} appears more times in the first read than in the second "
                            "(duplicates)")
        findings.append(Finding("sequential_reads", f"{label}: {text}"))
    if missing.count > len(missing.samples):
        detail = ""
        if key_paths:
            absent = sum(n for digest, n in missing.pk_digests.items() if digest not in missing.pk_present)
            detail = f": {missing.count - absent} changed, {absent} missing in the second read"
        findings.append(Finding("sequential_reads", f"{label}: … {missing.count} records of the first read are not "
                                                    f"in the second in total{detail} ({len(missing.samples)} shown)"))
    return findings


def check_emitted_at_increases(first: Messages, second: Messages, fed: SequentialReadsFeed | None = None
                               ) -> list[Finding]:
    """emitted_at increases on subsequent runs: every record of the second read is emitted after the first read's.
    `fed`: both reads already fed (their messages are then not read)."""
    if fed is None:
        earlier, later = _EmittedAt.of(first()), _EmittedAt.of(second())
    else:
        earlier, later = fed.first_emitted, fed.second_emitted
    findings = []
    for name, seen in (("first", earlier), ("second", later)):
        if not seen.count:
            findings.append(Finding("emitted_at_increases", f"the {name} read produced no records, so emitted_at "
                                                            "cannot be compared between the reads"))
        if seen.invalid:
            findings.append(Finding("emitted_at_increases", f"{seen.invalid} record(s) of the {name} read have no "
                                                            f"numeric emitted_at (e.g. {seen.invalid_example})"))
    if earlier.valid and later.valid and earlier.latest >= later.earliest:
        findings.append(Finding("emitted_at_increases",
                                f"emitted_at should increase on subsequent runs: the first read's latest emitted_at "
                                f"is {render_value(earlier.latest)}, the second read's earliest is "
                                f"{render_value(later.earliest)}"))
    return findings


@dataclass
class _EmittedAt:
    count: int = 0  # records
    valid: int = 0  # ... with a numeric emitted_at
    earliest: float = float("inf")
    latest: float = float("-inf")
    invalid: int = 0
    invalid_example: str = ""

    @classmethod
    def of(cls, messages: Iterable[Mapping[str, Any]]) -> _EmittedAt:
        seen = cls()
        for message in messages:
            seen.feed(message)
        return seen

    def feed(self, message: Mapping[str, Any]) -> None:
        if message.get("type") != "RECORD":
            return
        self.count += 1
        record = message.get("record")
        value = record.get("emitted_at") if isinstance(record, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.invalid += 1
            self.invalid_example = self.invalid_example or render_value(value)
            return
        self.valid += 1
        if value < self.earliest:
            self.earliest = value
        if value > self.latest:
            self.latest = value
