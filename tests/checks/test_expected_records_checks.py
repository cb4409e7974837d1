"""ExpectedRecordsMatcher, load_expected_records, expected_streams_coverage: the expect_records contract."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from acceptance.checks.expected_records import (
    MAX_FINDINGS_PER_STREAM,
    ExpectedRecordsMatcher,
    expected_streams_coverage,
    load_expected_records,
)
from acceptance.findings import Finding

PK = {"users": [["id"]]}


def rec(stream: str, data: dict[str, Any], emitted_at: int = 1700000000000) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "namespace": None, "data": data, "emitted_at": emitted_at}}


def exp(stream: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"stream": stream, "data": data, "emitted_at": 1}


def run(expected: Sequence[dict[str, Any]], actual: Iterable[dict[str, Any]],
        primary_keys: Mapping[str, list[list[str]]] | None = None, **flags: Any) -> list[Finding]:
    matcher = ExpectedRecordsMatcher(expected, PK if primary_keys is None else primary_keys, **flags)
    for message in actual:
        matcher.feed(message)
    return matcher.findings()


def messages(findings: list[Finding]) -> list[str]:
    assert all(f.check == "expected_records" for f in findings)
    return [f.message for f in findings]


USERS = [{"id": 1, "name": "Ann", "tags": ["a", "b"]}, {"id": 2, "name": "Bob", "tags": []}]
EXPECTED_USERS = [exp("users", u) for u in USERS]


# --- streams with a primary key --------------------------------------------------------------------------------------


def test_pk_identical_records_pass_and_other_messages_are_ignored() -> None:
    actual = [{"type": "LOG", "log": {"level": "INFO", "message": "hi"}}, rec("users", USERS[1]),
              {"type": "STATE", "state": {}}, rec("users", {**USERS[0], "tags": ["b", "a"]}), rec("other", {"x": 1})]
    assert run(EXPECTED_USERS, actual) == []


def test_pk_value_difference_names_the_key_and_the_field() -> None:
    actual = [rec("users", USERS[0]), rec("users", {"id": 2, "name": "Rob", "tags": []})]
    assert messages(run(EXPECTED_USERS, actual)) == [
        "stream 'users': record with primary key id=2 does not match expected record #2: "
        '/name: expected "Bob", got "Rob"'
    ]


def test_pk_missing_record() -> None:
    assert messages(run(EXPECTED_USERS, [rec("users", USERS[0])])) == [
        "stream 'users': expected record #2 (primary key id=2) was not produced"
    ]


def test_pk_record_matches_if_any_occurrence_matches() -> None:
    actual = [rec("users", {"id": 2, "name": "old", "tags": []}), rec("users", USERS[1]), rec("users", USERS[0])]
    assert run(EXPECTED_USERS, actual) == []


def test_pk_extra_fields_are_a_difference_by_default() -> None:
    actual = [rec("users", {**USERS[0], "age": 30}), rec("users", USERS[1])]
    assert messages(run(EXPECTED_USERS, actual)) == [
        "stream 'users': record with primary key id=1 does not match expected record #1: /age: unexpected (got 30)"
    ]


def test_pk_extra_fields_allowed_compares_the_projection() -> None:
    expected = [exp("users", {"id": 1, "profile": {"name": "Ann"}})]
    actual = [rec("users", {"id": 1, "age": 30, "profile": {"name": "Ann", "city": "Oslo"}})]
    assert run(expected, actual, extra_fields=True) == []


def test_pk_extra_fields_still_reports_changed_and_absent_fields() -> None:
    expected = [exp("users", {"id": 1, "profile": {"name": "Ann"}, "email": "a@x"})]
    actual = [rec("users", {"id": 1, "age": 30, "profile": {"name": "Anna", "city": "Oslo"}})]
    assert messages(run(expected, actual, extra_fields=True)) == [
        "stream 'users': record with primary key id=1 does not match expected record #1: "
        '/profile/name: expected "Ann", got "Anna"; /email: missing (expected "a@x")'
    ]


def test_pk_composite_and_nested_keys() -> None:
    keys = {"members": [["org", "id"], ["user"]]}
    expected = [exp("members", {"org": {"id": 1}, "user": "a", "role": "admin"})]
    ok = [rec("members", {"org": {"id": 1}, "user": "a", "role": "admin"})]
    assert run(expected, ok, keys) == []
    bad = [rec("members", {"org": {"id": 1}, "user": "a", "role": "viewer"})]
    assert messages(run(expected, bad, keys)) == [
        "stream 'members': record with primary key org/id=1, user=\"a\" does not match expected record #1: "
        '/role: expected "admin", got "viewer"'
    ]


def test_pk_extra_records_allowed_by_default() -> None:
    assert run(EXPECTED_USERS, [rec("users", u) for u in USERS] + [rec("users", {"id": 3, "name": "C"})]) == []


def test_pk_extra_records_off_reports_unexpected_keys() -> None:
    actual = [rec("users", USERS[0]), rec("users", {"id": 3, "name": "C"}), rec("users", USERS[1])]
    assert messages(run(EXPECTED_USERS, actual, extra_records=False)) == [
        "stream 'users': record #2 (primary key id=3) is not in the expected records (extra_records is off)"
    ]


def test_pk_extra_records_off_reports_a_key_produced_too_often() -> None:
    actual = [rec("users", USERS[0]), rec("users", USERS[1]), rec("users", USERS[1])]
    assert messages(run(EXPECTED_USERS, actual, extra_records=False)) == [
        "stream 'users': primary key id=2 was produced 2 times, expected 1 (extra_records is off)"
    ]


def test_ignored_fields_are_removed_from_both_sides() -> None:
    expected = [exp("users", {"id": 1, "steps": [{"n": 1, "started_at": 5}], "properties": {"hs_time_a": 1, "k": 2}})]
    actual = [rec("users", {"id": 1, "steps": [{"n": 1, "started_at": 9}], "properties": {"hs_time_a": 7, "k": 2}})]
    ignored = {"users": ["steps/*/started_at", "properties/hs_time_*"]}
    assert run(expected, actual, ignored_fields=ignored) == []
    failing = messages(run(expected, actual))
    assert failing == ["stream 'users': record with primary key id=1 does not match expected record #1: "
                       "/steps/0/started_at: expected 5, got 9; /properties/hs_time_a: expected 1, got 7"]


def test_ignored_fields_do_not_mutate_records() -> None:
    data = {"id": 1, "updated": 5}
    expected = [exp("users", dict(data))]
    actual = rec("users", dict(data))
    matcher = ExpectedRecordsMatcher(expected, PK, ignored_fields={"users": ["updated"]})
    matcher.feed(actual)
    assert matcher.findings() == []
    assert expected[0]["data"] == data and actual["record"]["data"] == data


def test_ignored_fields_of_another_stream_do_not_apply() -> None:
    expected = [exp("users", {"id": 1, "updated": 5})]
    findings = run(expected, [rec("users", {"id": 1, "updated": 6})], ignored_fields={"other": ["updated"]})
    assert messages(findings) == ["stream 'users': record with primary key id=1 does not match expected record #1: "
                                  "/updated: expected 5, got 6"]


# --- exact_order -----------------------------------------------------------------------------------------------------

THREE = [exp("users", {"id": i}) for i in (1, 2, 3)]


def test_exact_order_passes_in_order_with_interleaved_extras() -> None:
    actual = [rec("users", {"id": i}) for i in (0, 1, 9, 2, 3, 4)]
    assert run(THREE, actual, exact_order=True) == []


def test_exact_order_out_of_order_names_both_records() -> None:
    actual = [rec("users", {"id": i}) for i in (1, 3, 2)]
    assert messages(run(THREE, actual, exact_order=True)) == [
        "stream 'users': records are not in the expected order (exact_order): expected record #3 (primary key id=3) "
        "was not produced after expected record #2 (primary key id=2)"
    ]
    assert run(THREE, actual) == []  # without exact_order the order does not matter


def test_exact_order_trailing_extra_record_detected_without_extra_records() -> None:
    actual = [rec("users", {"id": i}) for i in (1, 2, 3, 4)]
    assert run(THREE, actual[:3], exact_order=True, extra_records=False) == []
    assert messages(run(THREE, actual, exact_order=True, extra_records=False)) == [
        "stream 'users': record #4 (primary key id=4) is not in the expected records (extra_records is off)"
    ]


def test_exact_order_trailing_missing_record_detected() -> None:
    actual = [rec("users", {"id": i}) for i in (1, 2)]
    assert messages(run(THREE, actual, exact_order=True, extra_records=False)) == [
        "stream 'users': expected record #3 (primary key id=3) was not produced"
    ]


def test_exact_order_with_missing_records_still_checks_the_others() -> None:
    actual = [rec("users", {"id": i}) for i in (3, 1)]
    assert messages(run(THREE, actual, exact_order=True)) == [
        "stream 'users': expected record #2 (primary key id=2) was not produced",
        "stream 'users': records are not in the expected order (exact_order): expected record #3 (primary key id=3) "
        "was produced before expected record #1 (primary key id=1)",
    ]


def test_exact_order_with_extra_fields_no_pk() -> None:
    expected = [exp("events", {"n": 1}), exp("events", {"n": 2})]
    in_order = [rec("events", {"n": 1, "at": 1}), rec("events", {"n": 2, "at": 2})]
    assert run(expected, in_order, {}, exact_order=True, extra_fields=True, extra_records=False) == []
    reversed_ = list(reversed(in_order))
    assert messages(run(expected, reversed_, {}, exact_order=True, extra_fields=True, extra_records=False)) == [
        "stream 'events': records are not in the expected order (exact_order): expected record #2 was not produced "
        "after expected record #1"
    ]


def test_exact_order_subsequence_with_repeated_records() -> None:
    expected = [exp("events", {"n": "b"}), exp("events", {"n": "a"})]
    actual = [rec("events", {"n": n}) for n in ("a", "b", "a")]
    assert run(expected, actual, {}, exact_order=True) == []


# --- streams without a primary key -----------------------------------------------------------------------------------


def test_no_pk_multiset_match_passes_in_any_order() -> None:
    expected = [exp("events", {"n": 1, "l": [1, 2]}), exp("events", {"n": 2})]
    actual = [rec("events", {"n": 2}), rec("events", {"l": [2, 1], "n": 1.0})]
    assert run(expected, actual, {}) == []


def test_no_pk_duplicates_need_as_many_actual_records() -> None:
    expected = [exp("events", {"n": 1}), exp("events", {"n": 1})]
    assert run(expected, [rec("events", {"n": 1}), rec("events", {"n": 1})], {}) == []
    assert messages(run(expected, [rec("events", {"n": 1})], {})) == [
        "stream 'events': expected record #2 was not produced (no record has these values): {\"n\":1}"
    ]


def test_no_pk_changed_value_is_a_missing_record() -> None:
    expected = [exp("events", {"n": 1, "kind": "click"})]
    assert messages(run(expected, [rec("events", {"n": 1, "kind": "view"})], {})) == [
        "stream 'events': expected record #1 was not produced (no record has these values): "
        '{"n":1,"kind":"click"}'
    ]


def test_no_pk_extra_records_off_reports_unexpected_records() -> None:
    expected = [exp("events", {"n": 1})]
    actual = [rec("events", {"n": 1}), rec("events", {"n": 1})]
    assert run(expected, actual, {}) == []
    assert messages(run(expected, actual, {}, extra_records=False)) == [
        "stream 'events': record #2 is not among the expected records: {\"n\":1} (extra_records is off)"
    ]


def test_no_pk_extra_fields_projects_actual_onto_expected_keys() -> None:
    expected = [exp("events", {"n": 1, "meta": {"k": "a"}}), exp("events", {"n": 1, "meta": {"k": "a"}, "x": 2})]
    actual = [rec("events", {"n": 1, "meta": {"k": "a", "z": 0}, "x": 2, "y": 3}),
              rec("events", {"n": 1, "meta": {"k": "a"}, "y": 4})]
    assert run(expected, actual, {}, extra_fields=True) == []
    assert messages(run(expected, actual[1:], {}, extra_fields=True)) == [
        "stream 'events': expected record #2 was not produced (no record has these values and fields): "
        '{"n":1,"meta":{"k":"a"},"x":2}'
    ]


def test_no_pk_extra_fields_off_extra_field_fails() -> None:
    expected = [exp("events", {"n": 1})]
    assert len(run(expected, [rec("events", {"n": 1, "y": 2})], {})) == 1


def test_no_pk_ignored_fields() -> None:
    expected = [exp("events", {"n": 1, "at": 5})]
    assert run(expected, [rec("events", {"n": 1, "at": 6})], {}, ignored_fields={"events": ["at"]}) == []


# --- streams and bounds ----------------------------------------------------------------------------------------------


def test_expected_stream_not_configured() -> None:
    expected = EXPECTED_USERS + [exp("ghost", {"a": 1})]
    assert run(expected, [rec("users", u) for u in USERS], configured_streams=["users", "other"]) == [
        Finding("expected_records", "stream 'ghost' has 1 expected record(s) but is not in the configured catalog "
                                    "(remove its records from the expected-records file, or configure the stream)")
    ]
    assert run(EXPECTED_USERS, [rec("users", u) for u in USERS], configured_streams=["users"]) == []


def test_stream_with_no_records_reports_every_expected_record() -> None:
    assert messages(run(EXPECTED_USERS, [])) == [
        "stream 'users': expected record #1 (primary key id=1) was not produced",
        "stream 'users': expected record #2 (primary key id=2) was not produced",
    ]


def test_findings_are_bounded_per_stream() -> None:
    expected = [exp("users", {"id": i}) for i in range(30)]
    actual = [rec("users", {"id": i}) for i in range(100, 140)]
    found = messages(run(expected, actual, extra_records=False))
    assert len(found) == MAX_FINDINGS_PER_STREAM + 1
    assert found[-1] == "stream 'users': … and 60 more problem(s) (70 in total)"


def test_record_index_counts_across_streams() -> None:
    expected = [exp("a", {"n": 1}), exp("b", {"n": 2})]
    assert messages(run(expected, [rec("a", {"n": 1})], {})) == [
        "stream 'b': expected record #2 was not produced (no record has these values): {\"n\":2}"
    ]


# --- load_expected_records -------------------------------------------------------------------------------------------


def test_load_accepts_records_messages_blank_lines_and_bytes() -> None:
    lines = [
        json.dumps({"stream": "users", "data": {"id": 1}, "emitted_at": 1}) + "\n",
        "   \n",
        json.dumps({"type": "RECORD", "record": {"stream": "users", "data": {"id": 2}, "emitted_at": 2}}).encode(),
        json.dumps({"stream": "events", "data": {}}),
    ]
    assert load_expected_records(lines, "expected.jsonl") == [
        {"stream": "users", "data": {"id": 1}, "emitted_at": 1},
        {"stream": "users", "data": {"id": 2}, "emitted_at": 2},
        {"stream": "events", "data": {}, "emitted_at": None},
    ]


@pytest.mark.parametrize(("line", "problem"), [
    ('{"stream": "users", "data": {"id": 1}', "not valid JSON"),
    ('[1, 2]', "expected a JSON object (a record), got an array"),
    ('{"data": {"id": 1}}', "expected `stream` to be a non-empty string (the stream name), got nothing"),
    ('{"stream": 3, "data": {}}', "expected `stream` to be a non-empty string (the stream name), got a number"),
    ('{"stream": "users", "data": [1]}', "expected `data` to be an object (the record's fields), got an array"),
    ('{"stream": "users"}', "expected `data` to be an object (the record's fields), got nothing"),
    ('{"type": "STATE", "state": {}}', 'expected a record, got a message of type "STATE"'),
    ('{"type": "RECORD"}', "a RECORD message must have a `record` object, got null"),
])
def test_load_errors_name_the_file_and_line(line: str, problem: str) -> None:
    good = '{"stream": "users", "data": {"id": 1}, "emitted_at": 1}'
    with pytest.raises(ValueError) as error:
        load_expected_records([good, "", line], "integration_tests/expected_records.jsonl")
    assert str(error.value).startswith(f"integration_tests/expected_records.jsonl:3: {problem}")


# --- expected_streams_coverage ---------------------------------------------------------------------------------------


def test_coverage_passes_when_every_stream_has_records_or_is_empty() -> None:
    assert expected_streams_coverage(EXPECTED_USERS, ["users", "logs"], ["logs"]) == []


def test_coverage_names_streams_without_expected_records() -> None:
    [finding] = expected_streams_coverage(EXPECTED_USERS, ["users", "orders", "accounts", "logs"], ["logs"])
    assert finding.check == "expected_streams_coverage"
    assert finding.message.startswith(
        "streams are declared in the catalog but do not have expected records: accounts, orders (")
