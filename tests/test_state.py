"""StateTracker, next_read_state, stream_state_of: the three state formats, latest-wins, the next read's input."""

from __future__ import annotations

from typing import Any

from acceptance.protocol.state import (
    StateTracker,
    next_read_state,
    state_input_of,
    stream_state_of,
    streams_in_state,
)


def stream_state(name: str, blob: dict[str, Any] | None, namespace: str | None = None,
                 count: float | None = None) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": name}
    if namespace is not None:
        descriptor["namespace"] = namespace
    state: dict[str, Any] = {"type": "STREAM", "stream": {"stream_descriptor": descriptor, "stream_state": blob}}
    if count is not None:
        state["sourceStats"] = {"recordCount": count}
    return {"type": "STATE", "state": state}


def global_state(shared: dict[str, Any], streams: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "STATE", "state": {"type": "GLOBAL", "global": {
        "shared_state": shared,
        "stream_states": [{"stream_descriptor": {"name": n}, "stream_state": s} for n, s in streams.items()],
    }}}


def legacy_state(data: dict[str, Any], typed: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {"data": data}
    if typed:
        state["type"] = "LEGACY"
    return {"type": "STATE", "state": state}


def status(name: str, value: str) -> dict[str, Any]:
    return {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "stream_status": {
        "stream_descriptor": {"name": name}, "status": value}}}


def record(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": name, "data": data, "emitted_at": 1}}


FAKER = stream_state("purchases", {"seed": 42, "updated_at": "2026-11-25T14:16:23+00:00", "loop_offset": 1000},
                     count=1000.0)


def test_empty_tracker_has_no_kind_and_no_next_state() -> None:
    tracker = StateTracker().feed_all([record("a", {}), status("a", "COMPLETE")])
    assert tracker.kind is None
    assert tracker.count == 0
    assert next_read_state(tracker) is None


def test_per_stream_latest_wins_with_duplicates_and_state_after_complete() -> None:
    # The concurrent CDK: final states after COMPLETE, and duplicated.
    messages = [
        status("items", "STARTED"), record("items", {"id": 1}),
        stream_state("items", {"updated_at": "2024-01-01T00:00:00Z"}),
        record("items", {"id": 2}), status("items", "COMPLETE"),
        stream_state("items", {"updated_at": "2024-09-01T00:00:00Z"}),
        stream_state("categories", {"__ab_no_cursor_state_message": True}),
        stream_state("items", {"updated_at": "2024-09-01T00:00:00Z"}),
    ]
    tracker = StateTracker().feed_all(messages)
    assert tracker.kind == "STREAM"
    assert tracker.count == 4
    assert tracker.counts_per_stream[(None, "items")] == 3
    assert tracker.stream_states == {
        (None, "items"): {"updated_at": "2024-09-01T00:00:00Z"},
        (None, "categories"): {"__ab_no_cursor_state_message": True},
    }
    assert next_read_state(tracker) == [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"},
                                      "stream_state": {"updated_at": "2024-09-01T00:00:00Z"}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "categories"},
                                      "stream_state": {"__ab_no_cursor_state_message": True}}},
    ]


def test_next_state_has_namespace_only_when_the_stream_has_one() -> None:
    tracker = StateTracker().feed_all([
        stream_state("users", {"id": 5}, namespace="public"),
        stream_state("users", {"id": 7}),  # same name, no namespace: a different stream
        stream_state("orders", None),  # a null stream_state becomes {}
    ])
    assert next_read_state(tracker) == [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users", "namespace": "public"},
                                      "stream_state": {"id": 5}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"id": 7}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "orders"}, "stream_state": {}}},
    ]


def test_faker_state_with_source_stats() -> None:
    tracker = StateTracker().feed_all([FAKER])
    assert tracker.stream_state("purchases") == {"seed": 42, "updated_at": "2026-11-25T14:16:23+00:00",
                                                 "loop_offset": 1000}
    assert tracker.stream_state("users") is None


def test_next_state_is_a_copy() -> None:
    tracker = StateTracker().feed_all([stream_state("a", {"cursor": {"nested": 1}})])
    produced = next_read_state(tracker)
    assert isinstance(produced, list)
    produced[0]["stream"]["stream_state"]["cursor"]["nested"] = 99
    assert tracker.stream_states[(None, "a")] == {"cursor": {"nested": 1}}


def test_global_state_latest_wins_and_is_passed_whole() -> None:
    tracker = StateTracker().feed_all([
        global_state({"lsn": 1}, {"users": {"id": 1}}),
        global_state({"lsn": 9}, {"users": {"id": 3}, "orders": {"id": 2}}),
    ])
    assert tracker.kind == "GLOBAL"
    assert tracker.count == 2
    expected_global = {"shared_state": {"lsn": 9}, "stream_states": [
        {"stream_descriptor": {"name": "users"}, "stream_state": {"id": 3}},
        {"stream_descriptor": {"name": "orders"}, "stream_state": {"id": 2}},
    ]}
    # Not null (upstream's quirk): the second read really resumes.
    assert next_read_state(tracker) == [{"type": "GLOBAL", "global": expected_global}]
    assert tracker.stream_state("orders") == {"id": 2}
    assert tracker.counts_per_stream[(None, "users")] == 2


def test_legacy_state_typed_and_untyped() -> None:
    tracker = StateTracker().feed_all([legacy_state({"users": {"updated_at": "a"}}),
                                       legacy_state({"users": {"updated_at": "b"}}, typed=False)])
    assert tracker.kind == "LEGACY"
    assert next_read_state(tracker) == {"users": {"updated_at": "b"}}
    assert tracker.stream_state("users") == {"updated_at": "b"}
    assert tracker.stream_state("orders") is None


def test_kind_follows_the_latest_state() -> None:
    tracker = StateTracker().feed_all([legacy_state({"a": {}}), stream_state("a", {"x": 1})])
    assert tracker.kind == "STREAM"
    assert next_read_state(tracker) == [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"},
                                                                      "stream_state": {"x": 1}}}]


def test_unrecognised_state_is_counted_but_ignored() -> None:
    tracker = StateTracker().feed_all([{"type": "STATE", "state": {"type": "WEIRD"}}, {"type": "STATE"}])
    assert tracker.count == 2
    assert tracker.kind is None
    assert next_read_state(tracker) is None


def test_bare_state_objects_are_accepted_by_feed_only_when_wrapped() -> None:
    tracker = StateTracker()
    tracker.feed({"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {}}})
    assert tracker.count == 0  # only STATE messages are fed; bare objects are for stream_state_of


def test_stream_state_of_every_format() -> None:
    per_stream_input = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"c": 1}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "b", "namespace": "ns"}, "stream_state": {"c": 2}}},
    ]
    assert stream_state_of(per_stream_input, "a") == {"c": 1}
    assert stream_state_of(per_stream_input, ("ns", "b")) == {"c": 2}
    assert stream_state_of(per_stream_input, "b") == {"c": 2}  # a bare name matches any namespace
    assert stream_state_of(per_stream_input, (None, "b")) == {"c": 2}  # no exact match: falls back to the name
    assert stream_state_of(per_stream_input, "z") is None
    assert stream_state_of(FAKER, "purchases")["loop_offset"] == 1000  # a wrapped STATE message
    assert stream_state_of(global_state({}, {"u": {"id": 4}}), "u") == {"id": 4}
    assert stream_state_of(legacy_state({"u": {"id": 5}}), "u") == {"id": 5}
    assert stream_state_of({"u": {"id": 6}}, "u") == {"id": 6}  # a legacy `--state` blob
    assert stream_state_of({"u": {"id": 6}}, "v") is None
    assert stream_state_of(None, "u") is None
    assert stream_state_of([], "u") is None


def test_stream_state_of_a_list_takes_the_last_match() -> None:
    states = [stream_state("a", {"n": 1}), stream_state("a", {"n": 2})]
    assert stream_state_of(states, "a") == {"n": 2}


def test_state_input_of_one_message() -> None:
    assert state_input_of(FAKER) == [{"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "purchases"},
        "stream_state": {"seed": 42, "updated_at": "2026-11-25T14:16:23+00:00", "loop_offset": 1000}}}]
    assert state_input_of(legacy_state({"u": {"id": 1}})) == {"u": {"id": 1}}
    assert state_input_of(global_state({"lsn": 2}, {}))[0]["global"]["shared_state"] == {"lsn": 2}
    bare = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"x": 1}}}
    assert state_input_of(bare) == [bare]


def test_streams_in_state() -> None:
    future = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {}}},
        {"type": "GLOBAL", "global": {"stream_states": [{"stream_descriptor": {"name": "b", "namespace": "n"}}]}},
        {"type": "LEGACY", "data": {"c": {}}},
    ]
    assert streams_in_state(future) == [(None, "a"), ("n", "b"), (None, "c")]
    assert streams_in_state({"d": {"x": 1}, "meta": 3}) == [(None, "d")]
