"""compare_reads: record-level regression between the previous and the current release's reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from acceptance.compat.regression import RegressionReport, StreamRegression, compare_reads, json_type
from acceptance.protocol.messages import parse_line
from acceptance.runner.spool import MessageSpool


def rec(stream: str, data: Any, emitted_at: Any = 1000) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "namespace": None, "data": data, "emitted_at": emitted_at}}


def configured(*streams: tuple[str, Any], configured_key: dict[str, Any] | None = None) -> dict[str, Any]:
    """A configured catalog; each stream given as (name, source_defined_primary_key or None)."""
    entries = []
    for name, key in streams:
        stream: dict[str, Any] = {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}
        if key is not None:
            stream["source_defined_primary_key"] = key
        entry = {"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "append"}
        if configured_key and name in configured_key:
            entry["primary_key"] = configured_key[name]
        entries.append(entry)
    return {"streams": entries}


CATALOG = configured(("users", [["id"]]), ("logs", None))
STATE = {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}}}}
LOG = {"type": "LOG", "log": {"level": "INFO", "message": "hello"}}


def only(report: RegressionReport, name: str) -> StreamRegression:
    [stream] = [s for s in report.streams if s.name == name]
    return stream


def test_identical_reads_have_no_differences() -> None:
    previous = [rec("users", {"id": 1, "name": "Ann", "tags": ["a", "b"]}), rec("users", {"id": 2, "name": "Bob"}),
                rec("logs", {"m": "x"})]
    current = [rec("users", {"id": 2, "name": "Bob"}), rec("logs", {"m": "x"}),
               rec("users", {"tags": ["b", "a"], "name": "Ann", "id": 1})]
    report = compare_reads(previous, current, CATALOG)
    assert not report.has_differences()
    users = only(report, "users")
    assert (users.previous_count, users.current_count, users.added, users.removed, users.changed) == (2, 2, 0, 0, 0)
    assert users.primary_key == [["id"]] and users.duplicate_keys == (0, 0)
    assert report.to_json()["streams_with_differences"] == []


def test_added_removed_changed_by_primary_key_name_changed_fields() -> None:
    previous = [rec("users", {"id": 1, "name": "Ann", "age": 30}), rec("users", {"id": 2, "name": "Bob", "age": 40}),
                rec("users", {"id": 3, "name": "Cy", "age": 50}), rec("users", {"id": 4, "name": "Di"})]
    current = [rec("users", {"id": 1, "name": "Ann", "age": 31}), rec("users", {"id": 2, "name": "Robert", "age": 41}),
               rec("users", {"id": 4, "name": "Di", "nick": None}), rec("users", {"id": 5, "name": "Eve"}),
               rec("users", {"id": 6, "name": "Fay"})]
    users = only(compare_reads(previous, current, CATALOG), "users")
    assert (users.previous_count, users.current_count) == (4, 5)
    assert (users.added, users.removed, users.changed) == (2, 1, 3)
    assert users.changed_fields == {"age": 2, "name": 1, "nick": 1}  # a field only one record has counts as changed
    assert users.has_differences()


def test_values_compare_as_json_list_order_and_int_float_ignored() -> None:
    previous = [rec("users", {"id": 1, "tags": [1, 2], "score": 1.0, "flag": True})]
    current = [rec("users", {"id": 1.0, "tags": [2, 1], "score": 1, "flag": True})]
    users = only(compare_reads(previous, current, CATALOG), "users")
    assert (users.added, users.removed, users.changed) == (0, 0, 0)
    assert only(compare_reads([rec("users", {"id": 1, "flag": True})], [rec("users", {"id": 1, "flag": 1})],
                              CATALOG), "users").changed_fields == {"flag": 1}


def test_nested_composite_primary_key() -> None:
    catalog = configured(("members", [["org", "id"], ["user"]]))
    previous = [rec("members", {"org": {"id": 1}, "user": "a", "role": "admin"}),
                rec("members", {"org": {"id": 1}, "user": "b", "role": "dev"}),
                rec("members", {"org": {"id": 2}, "user": "a", "role": "dev"})]
    current = [rec("members", {"org": {"id": 2}, "user": "a", "role": "admin"}),
               rec("members", {"org": {"id": 1}, "user": "a", "role": "admin"}),
               rec("members", {"org": {"id": 3}, "user": "b", "role": "dev"})]
    members = only(compare_reads(previous, current, catalog), "members")
    assert members.primary_key == [["org", "id"], ["user"]]
    assert (members.added, members.removed, members.changed) == (1, 1, 1)
    assert members.changed_fields == {"role": 1}


def test_configured_primary_key_wins_over_source_defined() -> None:
    catalog = configured(("users", [["id"]]), configured_key={"users": [["email"]]})
    previous = [rec("users", {"id": 1, "email": "a@x"})]
    current = [rec("users", {"id": 2, "email": "a@x"})]
    users = only(compare_reads(previous, current, catalog), "users")
    assert users.primary_key == [["email"]]
    assert (users.added, users.removed, users.changed, users.changed_fields) == (0, 0, 1, {"id": 1})


def test_missing_primary_key_value_is_a_none_key_element() -> None:
    previous = [rec("users", {"name": "no id"}), rec("users", {"id": 1}), rec("users", ["not", "an", "object"])]
    current = [rec("users", {"name": "still no id"}), rec("users", {"id": 1})]
    users = only(compare_reads(previous, current, CATALOG), "users")
    # The keyless object and the non-object share the key (None,): the last one (the list) is compared.
    assert users.duplicate_keys == (1, 0)
    assert (users.added, users.removed, users.changed) == (0, 0, 1)
    assert users.changed_fields == {"name": 1}


def test_stream_without_primary_key_compares_multisets_duplicates_matter() -> None:
    previous = [rec("logs", {"m": "a"}), rec("logs", {"m": "a"}), rec("logs", {"m": "b"}), rec("logs", {"m": "c"})]
    current = [rec("logs", {"m": "a"}), rec("logs", {"m": "b"}), rec("logs", {"m": "b"}), rec("logs", {"m": "d"})]
    logs = only(compare_reads(previous, current, CATALOG), "logs")
    assert (logs.previous_count, logs.current_count, logs.added, logs.removed) == (4, 4, 2, 2)
    assert logs.changed is None and logs.primary_key is None and logs.duplicate_keys is None
    as_json = only(compare_reads(previous, current, CATALOG), "logs").to_json()
    assert as_json["changed"] is None and as_json["duplicate_keys"] is None
    assert logs.has_differences()


def test_stream_missing_from_the_catalog_is_compared_without_key() -> None:
    report = compare_reads([rec("extra", {"id": 1, "v": 1})], [rec("extra", {"id": 1, "v": 2})], CATALOG)
    extra = only(report, "extra")
    assert (extra.added, extra.removed, extra.changed, extra.primary_key) == (1, 1, None, None)


def test_fields_appeared_and_disappeared_null_counts_as_present() -> None:
    previous = [rec("users", {"id": 1, "legacy": None}), rec("users", {"id": 2, "both": 1})]
    current = [rec("users", {"id": 1, "both": 1}), rec("users", {"id": 2, "nickname": None, "extra": "x"})]
    users = only(compare_reads(previous, current, CATALOG), "users")
    assert users.fields_appeared == ["extra", "nickname"]
    assert users.fields_disappeared == ["legacy"]
    assert users.has_differences()


def test_type_change_number_to_integer_is_reported_though_values_are_equal() -> None:
    previous = [rec("users", {"id": 1, "amount": 5.0, "ok": True}), rec("users", {"id": 2, "amount": 2.5})]
    current = [rec("users", {"id": 1, "amount": 5, "ok": True}), rec("users", {"id": 2, "amount": 2.5})]
    users = only(compare_reads(previous, current, CATALOG), "users")
    assert users.changed == 0  # 5.0 == 5 as JSON values
    assert users.type_changes == {"amount": {"previous": ["number"], "current": ["integer", "number"]}}
    assert users.has_differences()
    assert only(compare_reads([rec("users", {"id": 1, "x": 1})], [rec("users", {"id": 1, "x": 1.5})], CATALOG),
                "users").type_changes == {"x": {"previous": ["integer"], "current": ["number"]}}


def test_json_types() -> None:
    values = [None, True, 1, 2**80, 1.0, float("nan"), "s", [1], {"a": 1}]
    assert [json_type(v) for v in values] == ["null", "boolean", "integer", "integer", "number", "number", "string",
                                             "array", "object"]


def test_streams_present_in_only_one_read() -> None:
    previous = [rec("users", {"id": 1}), rec("gone", {"a": 1}), rec("gone", {"a": 2})]
    current = [rec("users", {"id": 1}), rec("fresh", {"b": 1})]
    report = compare_reads(previous, current, CATALOG)
    gone, fresh = only(report, "gone"), only(report, "fresh")
    assert (gone.only_in, gone.previous_count, gone.current_count, gone.removed, gone.added) == ("previous", 2, 0, 2, 0)
    assert (fresh.only_in, fresh.previous_count, fresh.current_count, fresh.added) == ("current", 0, 1, 1)
    assert gone.fields_disappeared == [] and fresh.fields_appeared == []  # the whole stream is the news
    assert only(report, "users").only_in is None
    assert only(report, "logs").only_in is None  # configured, read by neither: listed, no difference
    assert not only(report, "logs").has_differences()


def test_keyed_stream_only_in_one_read() -> None:
    report = compare_reads([], [rec("users", {"id": 1}), rec("users", {"id": 2})], CATALOG)
    users = only(report, "users")
    assert (users.only_in, users.added, users.removed, users.changed) == ("current", 2, 0, 0)


def test_duplicate_keys_counted_and_last_occurrence_compared() -> None:
    previous = [rec("users", {"id": 1, "v": "old"}), rec("users", {"id": 1, "v": "new"}), rec("users", {"id": 2})]
    current = [rec("users", {"id": 1, "v": "new"}), rec("users", {"id": 2, "v": 1}), rec("users", {"id": 2}),
               rec("users", {"id": 2})]
    users = only(compare_reads(previous, current, CATALOG), "users")
    assert users.duplicate_keys == (1, 2)
    assert (users.added, users.removed, users.changed) == (0, 0, 0)
    assert users.to_json()["duplicate_keys"] == {"previous": 1, "current": 2}
    assert users.has_differences()  # 3 records before, 4 after


def test_non_record_messages_and_emitted_at_ignored() -> None:
    previous = [LOG, rec("users", {"id": 1, "v": 1}, emitted_at=1), STATE,
                {"type": "TRACE", "trace": {"type": "ERROR"}}, {"type": "RECORD"}, rec("logs", {"m": 1}, emitted_at=5)]
    current = [rec("users", {"id": 1, "v": 1}, emitted_at=99), STATE, STATE, rec("logs", {"m": 1}, emitted_at=None)]
    report = compare_reads(previous, current, CATALOG)
    assert not report.has_differences()
    assert only(report, "users").previous_count == 1


def test_reads_from_spools_with_big_ints_and_nan() -> None:
    lines = [b'{"type":"RECORD","record":{"stream":"users","data":{"id":123456789012345678901234,"x":NaN},'
             b'"emitted_at":1}}', b'{"type":"RECORD","record":{"stream":"logs","data":{"n":1e400},"emitted_at":1}}']
    previous = MessageSpool.of(message for message in map(parse_line, lines) if message)
    current = MessageSpool.of(message for message in map(parse_line, lines) if message)
    report = compare_reads(previous, current, CATALOG)
    assert not report.has_differences()
    changed = [rec("users", {"id": 123456789012345678901234, "x": 0.5})]
    users = only(compare_reads(previous, changed, CATALOG), "users")
    assert (users.changed, users.changed_fields) == (1, {"x": 1})


def test_reads_are_iterated_once_in_order() -> None:
    seen: list[str] = []

    def read(name: str, messages: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for message in messages:
            seen.append(name)
            yield message

    compare_reads(read("previous", [rec("users", {"id": 1})]), read("current", [rec("users", {"id": 1})]), CATALOG)
    assert seen == ["previous", "current"]


def sample_report() -> RegressionReport:
    previous = [rec("users", {"id": 1, "name": "Ann", "n": 1.5}), rec("users", {"id": 2, "name": "Bob"}),
                rec("logs", {"m": 1}), rec("logs", {"m": 1}), rec("gone", {"a": 1})]
    current = [rec("users", {"id": 1, "name": "Anne", "n": 2}), rec("users", {"id": 3, "name": "Cy", "new": 1}),
               rec("logs", {"m": 1}), rec("fresh", {"b": 1})]
    return compare_reads(previous, current, CATALOG)


def test_to_json_is_serialisable_sorted_and_stable() -> None:
    first, second = sample_report().to_json(), sample_report().to_json()
    assert json.dumps(first) == json.dumps(second)
    assert [s["name"] for s in first["streams"]] == ["fresh", "gone", "logs", "users"]
    assert first["has_differences"] is True
    assert first["streams_with_differences"] == ["fresh", "gone", "logs", "users"]
    users = first["streams"][3]
    assert users == {
        "name": "users", "has_differences": True, "only_in": None, "primary_key": [["id"]],
        "previous_count": 2, "current_count": 2, "added": 1, "removed": 1, "changed": 1,
        "changed_fields": {"n": 1, "name": 1}, "fields_appeared": ["new"], "fields_disappeared": [],
        "type_changes": {"n": {"previous": ["number"], "current": ["integer"]}},
        "duplicate_keys": {"previous": 0, "current": 0},
    }
    assert json.loads(json.dumps(first)) == first


def test_table_contains_the_numbers_and_details() -> None:
    table = sample_report().table()
    lines = table.splitlines()
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines if line.startswith("|")]
    assert rows[0] == ["stream", "previous", "current", "added", "removed", "changed", "fields +/-"]
    cells = {row[0]: row[1:] for row in rows[2:]}
    assert list(cells) == ["fresh", "gone", "logs", "users"]
    assert cells["users"] == ["2", "2", "1", "1", "1", "+1/-0, 1 type change(s)"]
    assert cells["logs"] == ["2", "1", "0", "1", "n/a (no key)", "+0/-0"]
    assert cells["gone"] == ["1", "0", "0", "1", "n/a (no key)", "+0/-0"]
    assert cells["fresh"] == ["0", "1", "1", "0", "n/a (no key)", "+0/-0"]
    assert "- users: changed fields: n (1), name (1)" in lines
    assert "- users: fields appeared: new" in lines
    assert "- users: type changes: n number -> integer" in lines
    assert "- gone: only in the previous read" in lines
    assert "- fresh: only in the current read" in lines


def test_table_without_details_or_streams() -> None:
    table = compare_reads([rec("users", {"id": 1})], [rec("users", {"id": 1})], CATALOG).table()
    assert "| users" in table and "\n- " not in table
    assert RegressionReport([]).table() == "No streams."
