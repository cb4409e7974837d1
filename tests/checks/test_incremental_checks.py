"""The incremental checks: records at or after the state's cursor, sequential slices, the future state."""

from __future__ import annotations

from typing import Any

from acceptance.checks.future_state import (
    check_cursor_format_consistency,
    check_future_state_covers_streams,
    check_future_state_read,
)
from acceptance.checks.incremental import (
    MAX_EXAMPLES,
    Checkpoint,
    CursorNotBeforeState,
    check_first_read_has_records_and_states,
    check_incremental_streams_have_cursor,
    check_slice_checkpoints_found,
    check_slice_read,
    incremental_streams,
    records_per_stream,
    sample_checkpoints,
    slice_checkpoints,
)
from acceptance.config.models import FutureStateCursorFormatConfig
from acceptance.findings import Finding, errors, warnings_of

DATE_TIME = {"type": "string", "format": "date-time"}


def configured(name: str, cursor: dict[str, Any] | None = None, *, cursor_field: list[str] | None = None,
               default_cursor: list[str] | None = None, sync_mode: str = "incremental",
               namespace: str | None = None, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    props = properties if properties is not None else {"id": {"type": "integer"}, "updated_at": cursor or DATE_TIME}
    stream: dict[str, Any] = {"name": name, "json_schema": {"type": "object", "properties": props},
                              "supported_sync_modes": ["full_refresh", "incremental"]}
    if default_cursor is not None:
        stream["default_cursor_field"] = default_cursor
    if namespace is not None:
        stream["namespace"] = namespace
    result: dict[str, Any] = {"stream": stream, "sync_mode": sync_mode, "destination_sync_mode": "append"}
    if cursor_field is not None:
        result["cursor_field"] = cursor_field
    return result


def items(cursor: dict[str, Any] | None = None) -> dict[str, Any]:
    return configured("items", cursor, default_cursor=["updated_at"])


def record(stream: str, data: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"stream": stream, "data": data, "emitted_at": 1}
    if namespace is not None:
        body["namespace"] = namespace
    return {"type": "RECORD", "record": body}


def state(stream: str, blob: Any, count: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob}}
    if count is not None:
        body["sourceStats"] = {"recordCount": count}
    return {"type": "STATE", "state": body}


def state_input(stream: str, blob: Any) -> list[dict[str, Any]]:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob}}]


def run(check: CursorNotBeforeState, messages: list[dict[str, Any]]) -> list[Finding]:
    for message in messages:
        check.feed(message)
    return check.findings()


ITEMS_STATE = state_input("items", {"updated_at": "2024-09-01T00:00:00Z"})


# ------------------------------------------------------------------------------------------------------- catalog


def test_incremental_streams_have_cursor() -> None:
    streams = [items(), configured("by_config", cursor_field=["updated_at"]),
               configured("no_cursor"), configured("full", sync_mode="full_refresh")]
    assert [s["stream"]["name"] for s in incremental_streams(streams)] == ["items", "by_config", "no_cursor"]
    [finding] = check_incremental_streams_have_cursor(streams)
    assert finding.message == ("stream 'no_cursor' is read incrementally but has neither `cursor_field` in the "
                               "configured catalog nor `default_cursor_field` in the discovered stream; "
                               "expected one of them")
    assert finding.path == "/streams/no_cursor/cursor_field"
    assert check_incremental_streams_have_cursor(streams[:2]) == []


def test_first_read_has_records_and_states() -> None:
    assert check_first_read_has_records_and_states(10, 1) == []
    [no_records, no_states] = check_first_read_has_records_and_states(0, 0)
    assert "emitted no RECORD message; expected at least one" in no_records.message
    assert "emitted 0 records but no STATE message; expected at least one" in no_states.message
    [only] = check_first_read_has_records_and_states(5, 0)
    assert "emitted 5 records but no STATE message" in only.message


# ------------------------------------------------------------------------------------------ cursor not before state


def test_records_at_or_after_the_state_pass_equal_included() -> None:
    check = CursorNotBeforeState([items()], ITEMS_STATE)
    findings = run(check, [record("items", {"id": 1, "updated_at": "2024-09-01T00:00:00Z"}),  # equal: >= passes
                           record("items", {"id": 2, "updated_at": "2024-09-01T00:00:00+00:00"}),
                           record("items", {"id": 3, "updated_at": "2024-10-01T00:00:00Z"})])
    assert findings == []
    assert check.stats == {"items": {"records": 3, "compared": 3, "skipped_null": 0, "problems": 0}}


def test_no_records_at_all_passes() -> None:
    assert run(CursorNotBeforeState([items()], ITEMS_STATE), []) == []


def test_record_older_than_the_state_fails_naming_both_values() -> None:
    # The declarative connector without client-side filtering re-emits everything (real-connectors.md).
    check = CursorNotBeforeState([items()], ITEMS_STATE)
    [finding] = run(check, [record("items", {"id": 1, "updated_at": "2024-03-01T00:00:00Z"}),
                            record("items", {"id": 2, "updated_at": "2024-09-02T00:00:00Z"})])
    assert finding.check == "cursor_not_before_state"
    assert finding.severity == "error"
    assert finding.message == ("stream 'items': a record's cursor updated_at='2024-03-01T00:00:00Z' is before the "
                               "cursor of the state the read started from, '2024-09-01T00:00:00Z' (compared as "
                               "date-time); expected every record at or after the state's cursor")
    assert finding.path == "/record/data/updated_at"


def test_zoneless_record_against_zoned_state() -> None:
    check = CursorNotBeforeState([items()], state_input("items", {"updated_at": "2024-09-01T02:00:00+02:00"}))
    assert run(check, [record("items", {"updated_at": "2024-09-01T00:00:00"})]) == []
    [finding] = run(CursorNotBeforeState([items()], state_input("items", {"updated_at": "2024-09-01T02:00:00+01:00"})),
                    [record("items", {"updated_at": "2024-09-01T00:59:59"})])
    assert "'2024-09-01T00:59:59' is before" in finding.message


def test_threshold_days_allows_a_lookback_window() -> None:
    messages = [record("items", {"updated_at": "2024-08-29T00:00:00Z"})]
    assert run(CursorNotBeforeState([items()], ITEMS_STATE, threshold_days=3), messages) == []
    [finding] = run(CursorNotBeforeState([items()], ITEMS_STATE, threshold_days=2), messages)
    assert "(compared as date-time, allowing 2 days before it)" in finding.message
    assert "'2024-09-01T00:00:00Z'" in finding.message  # the state's own value, not the shifted one


def test_findings_are_bounded_with_a_total_count() -> None:
    old = [record("items", {"updated_at": f"2024-01-{day:02d}"}) for day in range(1, 21)]
    findings = run(CursorNotBeforeState([items()], ITEMS_STATE), [*old, record("items", {"updated_at": "2025-01-01"})])
    assert len(findings) == MAX_EXAMPLES + 1
    assert findings[-1].message == ("stream 'items': 20 of 21 records failed in total (5 shown), state cursor "
                                    "'2024-09-01T00:00:00Z'")


def test_opaque_state_gives_a_warning_not_an_error() -> None:
    check = CursorNotBeforeState([items()], state_input("items", {"__ab_no_cursor_state_message": True}))
    [finding] = run(check, [record("items", {"updated_at": "2000-01-01"})])
    assert finding.severity == "warning"
    assert finding.message == ("cannot find cursor 'updated_at' in the state of stream 'items' "
                               "({'__ab_no_cursor_state_message': True}); records not compared")
    assert errors([finding]) == []


def test_stream_absent_from_the_state_gives_a_warning() -> None:
    [finding] = run(CursorNotBeforeState([items()], state_input("other", {"updated_at": "2024-01-01"})),
                    [record("items", {"updated_at": "2000-01-01"})])
    assert warnings_of([finding]) == [finding]
    assert finding.message == "the input state holds no state for stream 'items'; its records are not compared"


def test_unparseable_state_cursor_gives_a_warning() -> None:
    [finding] = run(CursorNotBeforeState([items()], state_input("items", {"updated_at": "last tuesday"})),
                    [record("items", {"updated_at": "2024-01-01"})])
    assert finding.severity == "warning"
    assert finding.message == ("the cursor 'last tuesday' in the state of stream 'items' is not a date-time; "
                               "records not compared")


def test_unparseable_record_cursor_is_an_error() -> None:
    [finding] = run(CursorNotBeforeState([items()], ITEMS_STATE), [record("items", {"updated_at": "soon"})])
    assert finding.severity == "error"
    assert finding.message == ("stream 'items': a record's cursor updated_at='soon' is not a date or date-time, so "
                               "it cannot be compared with the state's cursor '2024-09-01T00:00:00Z' (compared as "
                               "date-time)")


def test_null_or_missing_cursor_fails_unless_the_schema_allows_null() -> None:
    messages = [record("items", {"id": 1, "updated_at": None}), record("items", {"id": 2})]
    [null, missing] = run(CursorNotBeforeState([items()], ITEMS_STATE), messages)
    assert null.message == ("stream 'items': a record's cursor 'updated_at' is null, and the schema does not allow "
                            "null; expected every record to carry its cursor")
    assert "cursor 'updated_at' is missing" in missing.message
    nullable = CursorNotBeforeState([items({"type": ["null", "string"], "format": "date-time"})], ITEMS_STATE)
    assert run(nullable, messages) == []
    assert nullable.stats["items"]["skipped_null"] == 2


def test_nested_cursor_and_integer_state_stored_as_string() -> None:
    stream = configured("orders", cursor_field=["meta", "seq"],
                        properties={"meta": {"type": "object", "properties": {"seq": {"type": "integer"}}}})
    db_state = state_input("orders", {"cursor_field": ["meta", "seq"], "cursor": "100", "state_type": "cursor_based"})
    check = CursorNotBeforeState([stream], db_state)
    [finding] = run(check, [record("orders", {"meta": {"seq": 100}}), record("orders", {"meta": {"seq": 99}}),
                            record("orders", {"meta": {"seq": 1000}})])
    assert finding.message.startswith("stream 'orders': a record's cursor meta.seq=99 is before the cursor of the "
                                      "state the read started from, '100' (compared as integer)")
    assert finding.path == "/record/data/meta/seq"


def test_epoch_records_against_date_state() -> None:
    stream = items({"type": "integer"})
    check = CursorNotBeforeState([stream], state_input("items", {"updated_at": "2024-01-01T00:00:00Z"}))
    [finding] = run(check, [record("items", {"updated_at": 1704067200000}),
                            record("items", {"updated_at": 1704067199})])
    assert "updated_at=1704067199 is before" in finding.message


def test_cursor_paths_override() -> None:
    check = CursorNotBeforeState([items()], state_input("items", {"window": {"end": "2024-05-01"}}),
                                 cursor_paths={"items": ["window", "end"]})
    [finding] = run(check, [record("items", {"updated_at": "2024-04-30T23:59:59Z"})])
    assert "'2024-04-30T23:59:59Z' is before the cursor of the state the read started from, '2024-05-01'" \
        in finding.message
    [warning] = CursorNotBeforeState([items()], ITEMS_STATE, cursor_paths={"items": ["nowhere"]}).findings()
    assert warning.message.startswith("cannot find cursor 'updated_at' at ['nowhere'] in the state of stream 'items'")


def test_global_and_legacy_state_inputs() -> None:
    global_input = [{"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": [
        {"stream_descriptor": {"name": "items"}, "stream_state": {"updated_at": "2024-09-01"}}]}}]
    legacy_input = {"items": {"updated_at": "2024-09-01"}}
    for given in (global_input, legacy_input):
        [finding] = run(CursorNotBeforeState([items()], given), [record("items", {"updated_at": "2024-08-31"})])
        assert "'2024-08-31' is before the cursor of the state the read started from, '2024-09-01'" in finding.message


def test_full_refresh_and_unknown_streams_are_ignored() -> None:
    streams = [items(), configured("full", sync_mode="full_refresh", default_cursor=["updated_at"])]
    state_in = [*ITEMS_STATE, *state_input("full", {"updated_at": "2030-01-01"})]
    assert run(CursorNotBeforeState(streams, state_in), [record("full", {"updated_at": "2000-01-01"}),
                                                         record("ghost", {"updated_at": "2000-01-01"})]) == []


def test_streams_with_the_same_name_in_different_namespaces() -> None:
    streams = [configured("users", namespace="a", default_cursor=["updated_at"]),
               configured("users", namespace="b", default_cursor=["updated_at"])]
    state_in = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "users", "namespace": ns},
                                              "stream_state": {"updated_at": value}}}
                for ns, value in (("a", "2024-01-01"), ("b", "2025-01-01"))]
    [finding] = run(CursorNotBeforeState(streams, state_in),
                    [record("users", {"updated_at": "2024-06-01"}, namespace="a"),
                     record("users", {"updated_at": "2024-06-01"}, namespace="b")])
    assert "'2024-06-01' is before the cursor of the state the read started from, '2025-01-01'" in finding.message


# ------------------------------------------------------------------------------------------- sequential slices


def faker_like_read() -> list[dict[str, Any]]:
    """users: 3 records, state, 2 records, state, the same state again, 1 record, final state twice."""
    return [
        state("users", {"updated_at": "2024-01-01"}),  # before any record: resuming from it = a full read
        record("users", {"n": 1}), record("users", {"n": 2}), record("products", {"n": 0}), record("users", {"n": 3}),
        state("users", {"updated_at": "2024-02-01"}, count=3.0),
        record("users", {"n": 4}), record("users", {"n": 5}),
        state("users", {"updated_at": "2024-03-01"}, count=2.0),
        state("products", {"updated_at": "2024-03-01"}),
        record("users", {"n": 6}),
        state("users", {"updated_at": "2024-03-01"}, count=1.0),  # same payload: collapses into the previous
        state("users", {"updated_at": "2024-04-01"}, count=0.0),
        state("users", {"updated_at": "2024-04-01"}, count=0.0),  # duplicate final state (concurrent CDK)
    ]


def test_slice_checkpoints_dedupe_and_counts_from_records() -> None:
    checkpoints = slice_checkpoints(faker_like_read(), "users")
    summary = [(c.state_message["state"]["stream"]["stream_state"]["updated_at"], c.records_after,
                c.records_following, c.position, c.declared_count) for c in checkpoints]
    assert summary == [
        ("2024-01-01", 6, 3, 0, None),
        ("2024-02-01", 3, 2, 1, 3.0),
        ("2024-03-01", 1, 1, 2, 2.0),  # the repeated 2024-03-01 state is folded in; its record counts here
    ]  # the final 2024-04-01 state has no record after it: dropped
    assert checkpoints[1].state_input == [{"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": "2024-02-01"}}}]


def test_slice_checkpoints_of_another_stream_and_without_states() -> None:
    # products: its only state comes after its only record.
    assert slice_checkpoints(faker_like_read(), "products") == []
    assert slice_checkpoints([record("a", {}), record("a", {})], "a") == []
    # One final state only (the declarative connector): nothing to resume from before the last record.
    assert slice_checkpoints([record("a", {}), state("a", {"c": 1})], "a") == []


def test_slice_checkpoints_global_and_legacy() -> None:
    def global_msg(lsn: int, users: int) -> dict[str, Any]:
        return {"type": "STATE", "state": {"type": "GLOBAL", "global": {"shared_state": {"lsn": lsn}, "stream_states": [
            {"stream_descriptor": {"name": "users"}, "stream_state": {"id": users}}]}}}

    messages = [global_msg(1, 1), record("users", {}), global_msg(1, 1), record("users", {}),
                global_msg(2, 2), record("users", {}), global_msg(3, 3)]
    checkpoints = slice_checkpoints(messages, "users")
    assert [(c.records_after, c.records_following) for c in checkpoints] == [(3, 2), (1, 1)]
    assert checkpoints[1].state_input == [{"type": "GLOBAL", "global": messages[4]["state"]["global"]}]
    assert slice_checkpoints(messages, "orders") == []  # not listed in the global state
    legacy = [{"type": "STATE", "state": {"data": {"users": {"id": 1}}}}, record("users", {}),
              {"type": "STATE", "state": {"data": {"users": {"id": 2}}}}]
    [only] = slice_checkpoints(legacy, "users")
    assert only.state_input == {"users": {"id": 1}}


def make_checkpoints(count: int) -> list[Checkpoint]:
    return [Checkpoint(state("s", {"i": i}), records_after=count - i, records_following=1, position=i)
            for i in range(count)]


def test_sample_checkpoints() -> None:
    def positions(count: int, max_batches: int = 5) -> list[int]:
        return [c.position for c in sample_checkpoints(make_checkpoints(count), max_batches)]

    assert positions(0) == []
    assert positions(1) == [0]
    assert positions(2) == [1]  # fewer than 3: the last one only
    assert positions(3) == [1]
    assert positions(5) == [1, 2, 3]
    assert positions(10) == [2, 4, 6, 8]
    assert positions(12) == [2, 4, 6, 8, 10]  # rate 12 // 5 = 2, first and last excluded
    assert positions(12, max_batches=3) == [4, 8]


def test_check_slice_checkpoints_found() -> None:
    assert check_slice_checkpoints_found(make_checkpoints(1), "users", 1) == []
    [finding] = check_slice_checkpoints_found([], "items", 2)
    assert finding.severity == "warning"
    assert finding.message == ("stream 'items' emitted 2 states but none before its last record; there is no state "
                               "checkpoint to resume from, so sequential slices were not tested")


def test_check_slice_read() -> None:
    assert check_slice_read(3, 3) == []
    assert check_slice_read(3, 10) == []
    [finding] = check_slice_read(500, 120, stream_name="users", position=3)
    assert finding.message == ("stream 'users': the read resumed from state #4 returned 120 records; expected at "
                               "least 500, the records the full read emitted after that state")
    [anonymous] = check_slice_read(2, 0)
    assert anonymous.message.startswith("the read resumed from a state checkpoint returned 0 records")


def test_slice_reread_reuses_the_cursor_check() -> None:
    checkpoint = slice_checkpoints(faker_like_read(), "users")[1]
    stream = configured("users", default_cursor=["updated_at"], properties={"updated_at": {"type": "string",
                                                                                            "format": "date"}})
    check = CursorNotBeforeState([stream], checkpoint.state_input)
    [finding] = run(check, [record("users", {"updated_at": "2024-01-15"}),
                            record("users", {"updated_at": "2024-02-01"})])
    assert "'2024-01-15' is before the cursor of the state the read started from, '2024-02-01'" in finding.message


# ---------------------------------------------------------------------------------------------------- future state


def test_future_state_read() -> None:
    assert check_future_state_read(0, 3) == []
    counts = records_per_stream([record("users", {}), record("users", {}), record("items", {}), state("x", {})])
    assert counts == {"users": 2, "items": 1}
    [with_records] = check_future_state_read(3, 2, counts)
    assert with_records.message == ("the read with the abnormally large (future) state emitted 3 records (items: 1, "
                                    "users: 2); expected none, since every cursor in that state is later than all "
                                    "the data")
    [no_state] = check_future_state_read(0, 0)
    assert no_state.message == "the read with the abnormally large (future) state emitted no STATE message; " \
                               "expected at least one"
    assert len(check_future_state_read(1, 0)) == 2


def test_future_state_covers_streams() -> None:
    future = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"u": 1}}}]
    assert check_future_state_covers_streams(future, ["users"], []) == []
    [finding] = check_future_state_covers_streams(future, ["users", "orders", "items"], {"items"})
    assert finding.message == ("stream 'orders' supports incremental sync but the future-state file has no state for "
                               "it; add one, or list it under future_state.missing_streams with a bypass_reason")
    assert finding.path == "/streams/orders"
    global_future = [{"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": [
        {"stream_descriptor": {"name": "orders"}, "stream_state": {}}]}}]
    assert check_future_state_covers_streams(global_future, ["orders"], []) == []
    assert check_future_state_covers_streams({"orders": {"id": 1}}, ["orders"], []) == []  # legacy blob
    [bad] = check_future_state_covers_streams("nope", ["orders"], [])  # type: ignore[arg-type]
    assert bad.message == "the future state must be a list of state objects, got str"


def future_for(stream: str, blob: dict[str, Any]) -> list[dict[str, Any]]:
    return state_input(stream, blob)


def test_cursor_format_same_shape_passes_and_different_shape_fails() -> None:
    emitted = [state("items", {"updated_at": "2024-09-01T00:00:00Z"})]
    same = future_for("items", {"updated_at": "2999-12-31T23:59:59Z"})
    assert check_cursor_format_consistency(emitted, same, [items()], None) == []
    [shorter] = check_cursor_format_consistency(emitted, future_for("items", {"updated_at": "2999-12-31"}),
                                                [items()], None)
    assert shorter.message == ("stream 'items': the future state's cursor '2999-12-31' does not have the format of "
                               "the connector's cursor '2024-09-01T00:00:00Z' (length 10 instead of 20); set "
                               "future_state.cursor_format to a regex if formats may differ")
    [classes] = check_cursor_format_consistency(emitted, future_for("items", {"updated_at": "2999-12-31 23:59:59Z"}),
                                                [items()], None)
    assert "(character 11 is ' ' where the connector has 'T')" in classes.message


def test_cursor_format_regex_per_stream_then_default() -> None:
    emitted = [state("items", {"updated_at": "2024-09-01T00:00:00+00:00"})]
    future = future_for("items", {"updated_at": "2999-12-31"})
    assert check_cursor_format_consistency(emitted, future, [items()], {"format": r"^\d{4}-\d{2}-\d{2}"}) == []
    per_stream = {"format": r"^\d{4}", "streams": [{"name": "items", "format": r"^\d{4}-\d{2}-\d{2}T"}]}
    [finding] = check_cursor_format_consistency(emitted, future, [items()], per_stream)
    assert finding.message == ("stream 'items': cursor '2999-12-31' in the future state does not match the "
                               "cursor_format regex '^\\\\d{4}-\\\\d{2}-\\\\d{2}T'")
    model = FutureStateCursorFormatConfig(format=r"^\d{4}-\d{2}-\d{2}T")  # the config model works too
    [from_model] = check_cursor_format_consistency(emitted, future, [items()], model)
    assert "'2999-12-31' in the future state does not match" in from_model.message
    [emitted_bad] = check_cursor_format_consistency(emitted, future_for("items", {"updated_at": "2999-12-31T00"}),
                                                    [items()], {"format": r"^\d{4}-\d{2}-\d{2}T\d\d$"})
    assert "cursor '2024-09-01T00:00:00+00:00' in a state the connector emitted does not match" in emitted_bad.message


def test_cursor_types_follow_the_schema_multi_type_allowed() -> None:
    nullable = items({"type": ["null", "string"], "format": "date-time"})  # upstream's quirk failed this
    emitted = [state("items", {"updated_at": "2024-09-01T00:00:00Z"})]
    assert check_cursor_format_consistency(emitted, future_for("items", {"updated_at": "2999-12-31T00:00:00Z"}),
                                           [nullable], None) == []
    integer = items({"type": "integer"})
    found = check_cursor_format_consistency([state("items", {"updated_at": 5})],
                                            future_for("items", {"updated_at": "9999999999"}), [integer], None)
    assert [f.message for f in found] == [
        "stream 'items': the future state stores cursor 'updated_at' as string ('9999999999'), but the connector's "
        "states store it as integer"]
    [emitted_wrong, future_wrong] = check_cursor_format_consistency(
        [state("items", {"updated_at": 5})], future_for("items", {"updated_at": 9999999999}), [items()], None)
    assert emitted_wrong.message == ("stream 'items': cursor 'updated_at' is 5 (integer) in a state the connector "
                                     "emitted, but the schema declares string")
    assert future_wrong.message == ("stream 'items': cursor 'updated_at' is 9999999999 (integer) in the future "
                                    "state, but the schema declares string")


def test_cursor_format_db_strings_for_integer_cursors() -> None:
    db_stream = configured("orders", cursor_field=["id"], properties={"id": {"type": "integer"}})
    emitted = [state("orders", {"cursor_field": ["id"], "cursor": "42"})]
    future = future_for("orders", {"cursor_field": ["id"], "cursor": "99999"})
    # Numeric strings pass the integer schema; with no regex the lengths differ, which is reported.
    [finding] = check_cursor_format_consistency(emitted, future, [db_stream], None)
    assert "length 5 instead of 2" in finding.message
    assert check_cursor_format_consistency(emitted, future, [db_stream], {"format": r"^\d+$"}) == []


def test_cursor_format_future_without_the_cursor() -> None:
    emitted = [state("items", {"updated_at": "2024-09-01"})]
    [finding] = check_cursor_format_consistency(emitted, future_for("items", {"other": 1}), [items()], None)
    assert finding.message == ("stream 'items': the future state has no value for cursor 'updated_at' "
                               "({'other': 1}); expected it to set the stream's cursor")


def test_cursor_format_skips_streams_without_emitted_or_future_state() -> None:
    future = future_for("items", {"updated_at": "x"})
    assert check_cursor_format_consistency([], future, [items()], None) == []
    assert check_cursor_format_consistency([state("items", {"updated_at": "2024"})], [], [items()], None) == []
    full = configured("items", sync_mode="full_refresh", default_cursor=["updated_at"])
    assert check_cursor_format_consistency([state("items", {"updated_at": "2024"})], future, [full], None) == []


def test_cursor_format_handles_global_states() -> None:
    def global_msg(value: str) -> dict[str, Any]:
        return {"type": "STATE", "state": {"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": [
            {"stream_descriptor": {"name": "items"}, "stream_state": {"updated_at": value}}]}}}

    future = [global_msg("2999-01-01")["state"]]
    assert check_cursor_format_consistency([global_msg("2024-01-01")], future, [items()], None) == []
    [finding] = check_cursor_format_consistency([global_msg("2024-01-01T00:00")], future, [items()], None)
    assert "'2999-01-01' does not have the format of the connector's cursor '2024-01-01T00:00'" in finding.message


def test_cursor_format_findings_are_bounded_per_stream() -> None:
    emitted = [state("items", {"updated_at": f"2024-09-{d:02d}"}) for d in range(1, 10)] + [
        state("items", {"updated_at": f"x{'y' * n}"}) for n in range(10)]
    future = future_for("items", {"updated_at": "2999-12-31"})
    assert len(check_cursor_format_consistency(emitted, future, [items()], None)) == MAX_EXAMPLES
