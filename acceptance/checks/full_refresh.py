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
from acceptance.records import (
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


def compare_sequential_reads(first: Messages, second: Messages, primary_keys: Mapping[str, KeyPaths],
                             ignored_fields: Mapping[str, Sequence[str]] | None = None) -> list[Finding]:
    """The second full-refresh read contains every record of the first: identical reads, or the first a subset."""
    ignored = {stream: list(paths) for stream, paths in (ignored_fields or {}).items() if paths}

    def clean(stream: str, data: Any) -> Any:
        paths = ignored.get(stream)
        return remove_fields(data, paths) if paths and isinstance(data, dict) else data

    # Pass 1 (second read): a multiset of record digests per stream.
    available: dict[str, Counter[bytes]] = {}
    second_counts: Counter[str] = Counter()
    for stream, data in stream_records(second()):
        second_counts[stream] += 1
        available.setdefault(stream, Counter())[canonical_digest(clean(stream, data))] += 1

    # Pass 2 (first read): consume the multiset; what is left over is not in the second read.
    first_counts: Counter[str] = Counter()
    unmatched: dict[str, _Unmatched] = {}
    for stream, data in stream_records(first()):
        first_counts[stream] += 1
        if not second_counts[stream]:
            continue  # reported once for the whole stream
        record = clean(stream, data)
        pool = available[stream]
        digest = canonical_digest(record)
        if pool[digest] > 0:
            pool[digest] -= 1
            continue
        missing = unmatched.setdefault(stream, _Unmatched())
        missing.count += 1
        key_paths = primary_keys.get(stream) or []
        sample = _Sample(first_counts[stream], record)
        if key_paths:
            sample.pk = primary_key_value(data if isinstance(data, dict) else {}, key_paths)
            sample.pk_digest = primary_key_digest(sample.pk)
            missing.pk_digests[sample.pk_digest] += 1
        if len(missing.samples) < MAX_FINDINGS_PER_STREAM:
            missing.samples.append(sample)
    del available

    # Pass 3 (second read again, only for keyed streams with differences): which keys it has, and the records
    # to show beside the reported samples.
    keyed = {stream: u for stream, u in unmatched.items() if u.pk_digests}
    if keyed:
        _pair_by_key(second(), keyed, primary_keys, clean)

    findings: list[Finding] = []
    for stream, count in first_counts.items():
        if not second_counts[stream]:
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


def check_emitted_at_increases(first: Messages, second: Messages) -> list[Finding]:
    """emitted_at increases on subsequent runs: every record of the second read is emitted after the first read's."""
    earlier, later = _EmittedAt.of(first()), _EmittedAt.of(second())
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
            if message.get("type") != "RECORD":
                continue
            seen.count += 1
            record = message.get("record")
            value = record.get("emitted_at") if isinstance(record, dict) else None
            if isinstance(value, bool) or not isinstance(value, int | float):
                seen.invalid += 1
                seen.invalid_example = seen.invalid_example or render_value(value)
                continue
            seen.valid += 1
            seen.earliest, seen.latest = min(seen.earliest, value), max(seen.latest, value)
        return seen
