"""compare_sequential_reads and check_emitted_at_increases: two full-refresh reads agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from acceptance.checks.full_refresh import (
    MAX_FINDINGS_PER_STREAM,
    SequentialReadsFeed,
    check_emitted_at_increases,
    compare_sequential_reads,
)
from acceptance.findings import Finding

PK = {"users": [["id"]]}


def rec(stream: str, data: dict[str, Any], emitted_at: Any = 1000) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "namespace": None, "data": data, "emitted_at": emitted_at}}


class Read:
    """A read's spooled output: a callable giving a fresh iterator each time, counting how often it is re-read."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.passes = 0

    def __call__(self) -> Iterator[dict[str, Any]]:
        self.passes += 1
        return iter(list(self.messages))


def read(*messages: dict[str, Any]) -> Read:
    return Read(list(messages))


def texts(findings: list[Finding], check: str = "sequential_reads") -> list[str]:
    assert all(f.check == check for f in findings)
    return [f.message for f in findings]


USERS = [{"id": 1, "name": "Ann", "tags": ["a", "b"]}, {"id": 2, "name": "Bob"}]
STATE = {"type": "STATE", "state": {"type": "STREAM"}}


def fed_while_reading(first: Read, second: Read, ignored: Any = None) -> SequentialReadsFeed:
    """What the suite's fixture builds as the connector writes: both reads fed message by message."""
    fed = SequentialReadsFeed(ignored)
    for message in first.messages:
        fed.feed_first(message)
    for message in second.messages:
        fed.feed_second(message)
    return fed


def compare_both_ways(first: Read, second: Read, keys: Any, ignored: Any = None) -> list[Finding]:
    """The findings when the check reads both spools itself, asserted equal to those from reads fed as they ran."""
    fed = fed_while_reading(first, second, ignored)
    assert compare_sequential_reads(first, second, keys, ignored, fed) == (
        found := compare_sequential_reads(first, second, keys, ignored))
    return found


def emitted_at_both_ways(first: Read, second: Read) -> list[Finding]:
    fed = fed_while_reading(first, second)
    assert check_emitted_at_increases(first, second, fed) == (found := check_emitted_at_increases(first, second))
    return found


# --- compare_sequential_reads ----------------------------------------------------------------------------------------


def test_identical_reads_pass_reading_each_once() -> None:
    first = read(rec("users", USERS[0]), STATE, rec("users", USERS[1]), rec("events", {"n": 1}))
    second = read(rec("users", {"tags": ["b", "a"], "name": "Ann", "id": 1}), rec("events", {"n": 1}),
                  rec("users", USERS[1]))
    assert compare_sequential_reads(first, second, PK) == []
    assert (first.passes, second.passes) == (1, 1)


def test_reads_fed_as_they_ran_are_not_read_again_when_they_agree() -> None:
    first = read(rec("users", USERS[0]), STATE, rec("events", {"n": 1}))
    second = read(rec("events", {"n": 1}), rec("users", USERS[0]), rec("users", USERS[1]))
    fed = fed_while_reading(first, second)
    assert compare_sequential_reads(first, second, PK, fed=fed) == []
    assert texts(check_emitted_at_increases(first, second, fed), "emitted_at_increases") == [
        "emitted_at should increase on subsequent runs: the first read's latest emitted_at is 1000, "
        "the second read's earliest is 1000"]
    assert (first.passes, second.passes) == (0, 0)


def test_reads_fed_as_they_ran_are_read_again_only_to_show_differences() -> None:
    first = read(rec("users", USERS[0]), rec("users", USERS[1]))
    second = read(rec("users", {**USERS[0], "name": "Anna"}), rec("users", USERS[1]))
    assert texts(compare_sequential_reads(first, second, PK, fed=fed_while_reading(first, second))) == [
        "stream 'users': record with primary key id=1 changed between the reads (expected = first read, got = second "
        'read): /name: expected "Ann", got "Anna"'
    ]
    assert (first.passes, second.passes) == (1, 1)  # the first for the record that differs, the second for its pair


def test_subset_passes() -> None:
    first = read(rec("users", USERS[0]), rec("events", {"n": 1}))
    second = read(rec("users", USERS[1]), rec("users", USERS[0]), rec("events", {"n": 1}), rec("events", {"n": 2}),
                  rec("new_stream", {"x": 1}))
    assert compare_both_ways(first, second, PK) == []


def test_changed_field_names_the_key_and_the_field() -> None:
    first = read(rec("users", USERS[0]), rec("users", USERS[1]))
    second = read(rec("users", USERS[0]), rec("users", {"id": 2, "name": "Rob"}))
    assert texts(compare_both_ways(first, second, PK)) == [
        "stream 'users': record with primary key id=2 changed between the reads (expected = first read, "
        'got = second read): /name: expected "Bob", got "Rob"'
    ]


def test_record_missing_in_the_second_read() -> None:
    first = read(rec("users", USERS[0]), rec("users", USERS[1]))
    second = read(rec("users", USERS[0]))
    assert texts(compare_both_ways(first, second, PK)) == [
        "stream 'users': record with primary key id=2 (record #2 of the first read) is missing in the second read"
    ]


def test_duplicate_in_the_first_read_only() -> None:
    first = read(rec("users", USERS[1]), rec("users", USERS[1]))
    second = read(rec("users", USERS[1]))
    assert texts(compare_both_ways(first, second, PK)) == [
        "stream 'users': record with primary key id=2 appears more times in the first read than in the second "
        "(duplicates)"
    ]


def test_stream_without_primary_key_compares_whole_records() -> None:
    first = read(rec("events", {"n": 1, "l": [1, 2]}), rec("events", {"n": 2}))
    assert compare_both_ways(first, read(rec("events", {"n": 2}), rec("events", {"l": [2, 1], "n": 1})),
                                    PK) == []
    findings = compare_both_ways(first, read(rec("events", {"n": 1, "l": [1, 3]}), rec("events", {"n": 2})), PK)
    assert texts(findings) == [
        "stream 'events': record #1 of the first read is not in the second read: {\"n\":1,\"l\":[1,2]}"
    ]


def test_ignored_fields_make_a_changing_field_pass() -> None:
    first = read(rec("users", {"id": 1, "synced_at": 5, "steps": [{"n": 1, "started_at": 1}]}))
    second = read(rec("users", {"id": 1, "synced_at": 6, "steps": [{"n": 1, "started_at": 2}]}))
    ignored = {"users": ["synced_at", "steps/*/started_at"]}
    assert compare_both_ways(first, second, PK, ignored) == []
    assert texts(compare_both_ways(first, second, PK)) == [
        "stream 'users': record with primary key id=1 changed between the reads (expected = first read, "
        "got = second read): /synced_at: expected 5, got 6; /steps/0/started_at: expected 1, got 2"
    ]
    assert first.messages[0]["record"]["data"]["synced_at"] == 5  # not mutated


def test_stream_with_records_only_in_the_first_read_fails() -> None:
    first = read(rec("users", USERS[0]), rec("users", USERS[1]), rec("events", {"n": 1}))
    second = read(rec("events", {"n": 1}))
    assert texts(compare_both_ways(first, second, PK)) == [
        "stream 'users': the first read produced 2 record(s), the second read none"
    ]


def test_empty_second_read_fails_without_crashing() -> None:
    assert texts(compare_both_ways(read(rec("users", USERS[0])), read(STATE), PK)) == [
        "stream 'users': the first read produced 1 record(s), the second read none"
    ]


def test_empty_first_read_passes_the_subset_rule() -> None:
    assert compare_both_ways(read(), read(rec("users", USERS[0])), PK) == []


def test_many_differences_are_bounded_and_summarised() -> None:
    first = read(*[rec("users", {"id": i, "v": 1}) for i in range(30)])
    second = read(*[rec("users", {"id": i, "v": 2}) for i in range(20)])
    found = texts(compare_sequential_reads(first, second, PK))
    assert len(found) == MAX_FINDINGS_PER_STREAM + 1
    assert found[0].startswith("stream 'users': record with primary key id=0 changed between the reads")
    assert found[-1] == ("stream 'users': … 30 records of the first read are not in the second in total: "
                         "20 changed, 10 missing in the second read (10 shown)")
    assert second.passes == 2  # re-read once to fetch the reported records
    assert texts(compare_both_ways(first, second, PK)) == found


def test_composite_key() -> None:
    keys = {"members": [["org", "id"], ["user"]]}
    first = read(rec("members", {"org": {"id": 1}, "user": "a", "role": "admin"}))
    second = read(rec("members", {"org": {"id": 1}, "user": "a", "role": "viewer"}))
    assert texts(compare_both_ways(first, second, keys)) == [
        "stream 'members': record with primary key org/id=1, user=\"a\" changed between the reads (expected = first "
        'read, got = second read): /role: expected "admin", got "viewer"'
    ]


# --- check_emitted_at_increases --------------------------------------------------------------------------------------


def test_emitted_at_increasing_passes() -> None:
    first = read(rec("users", USERS[0], 1000), rec("users", USERS[1], 1005))
    second = read(STATE, rec("users", USERS[0], 1006), rec("users", USERS[1], 1010))
    assert emitted_at_both_ways(first, second) == []


def test_emitted_at_not_increasing_fails_with_both_values() -> None:
    first = read(rec("users", USERS[0], 1000), rec("users", USERS[1], 1007))
    second = read(rec("users", USERS[0], 1009), rec("users", USERS[1], 1007))
    assert texts(emitted_at_both_ways(first, second), "emitted_at_increases") == [
        "emitted_at should increase on subsequent runs: the first read's latest emitted_at is 1007, "
        "the second read's earliest is 1007"
    ]


def test_emitted_at_empty_second_read_is_a_finding() -> None:
    assert texts(emitted_at_both_ways(read(rec("users", USERS[0])), read(STATE)), "emitted_at_increases") == [
        "the second read produced no records, so emitted_at cannot be compared between the reads"
    ]


def test_emitted_at_empty_first_read_is_a_finding() -> None:
    assert texts(emitted_at_both_ways(read(), read(rec("users", USERS[0]))), "emitted_at_increases") == [
        "the first read produced no records, so emitted_at cannot be compared between the reads"
    ]


def test_emitted_at_missing_values_are_reported() -> None:
    first = read(rec("users", USERS[0], 1000))
    second = read(rec("users", USERS[0], None), rec("users", USERS[1], 2000))
    assert texts(emitted_at_both_ways(first, second), "emitted_at_increases") == [
        "1 record(s) of the second read have no numeric emitted_at (e.g. null)"
    ]


def test_callables_returning_generators_work() -> None:
    def make(value: int) -> Callable[[], Iterator[dict[str, Any]]]:
        return lambda: (rec("users", {"id": i}, value + i) for i in range(3))

    assert check_emitted_at_increases(make(0), make(100)) == []
    assert compare_sequential_reads(make(0), make(100), PK) == []
