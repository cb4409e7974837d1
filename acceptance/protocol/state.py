"""Connector state: what a read checkpointed, and the `--state` input that resumes from it.

Three formats exist in the Airbyte protocol and all three are handled:

- per-stream (`type: STREAM`): one `stream_state` blob per (namespace, name);
- GLOBAL (`type: GLOBAL`): one `shared_state` plus `stream_states`, always sent whole;
- legacy (`type: LEGACY`, or an untyped message with `data`): one blob for the whole connector, usually
  `{stream_name: stream_state}`.

A STATE message is accepted either wrapped (`{"type": "STATE", "state": {...}}`, as on stdout) or bare (`{"type":
"STREAM", "stream": {...}}`, as in a `--state` file). States may come in any order, after a stream's COMPLETE
status, or duplicated: the latest one always wins.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

StateKind = Literal["STREAM", "GLOBAL", "LEGACY"]
StreamKey = tuple[str | None, str]  # (namespace, name); namespace None when the stream has none
StreamRef = str | StreamKey  # a stream by name alone (any namespace), or by exact (namespace, name)
StateInput = list[dict[str, Any]] | dict[str, Any]

_STATE_TYPES = {"STREAM", "GLOBAL", "LEGACY"}


def state_object(message: Any) -> dict[str, Any] | None:
    """The state object of a message: the `state` of a STATE message, or a bare state object itself."""
    if not isinstance(message, dict):
        return None
    if message.get("type") == "STATE":
        state = message.get("state")
        return state if isinstance(state, dict) else None
    if state_kind(message) is not None:
        return message
    return None


def state_kind(state: Any) -> StateKind | None:
    """The format of a bare state object, from its `type`, else from which payload key it carries."""
    if not isinstance(state, dict):
        return None
    declared = state.get("type")
    if declared in _STATE_TYPES:
        return declared
    if declared is not None:
        return None
    if isinstance(state.get("stream"), dict):
        return "STREAM"
    if isinstance(state.get("global"), dict):
        return "GLOBAL"
    if "data" in state:
        return "LEGACY"
    return None


def descriptor_key(descriptor: Any) -> StreamKey | None:
    """(namespace, name) of a `stream_descriptor`, None when it has no name."""
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("name"), str):
        return None
    namespace = descriptor.get("namespace")
    return (namespace if isinstance(namespace, str) else None, descriptor["name"])


def matches(key: StreamKey, stream: StreamRef) -> bool:
    """A stream name matches any namespace; a (namespace, name) pair matches exactly."""
    if isinstance(stream, str):
        return key[1] == stream
    return key == stream


class StateTracker:
    """Follows the STATE messages of one read and keeps the latest state of each stream (streaming: `feed`)."""

    def __init__(self) -> None:
        self.count = 0  # every STATE message seen, duplicates included
        self.kind: StateKind | None = None  # format of the latest state message
        self.stream_states: dict[StreamKey, dict[str, Any]] = {}  # latest per-stream blob, in first-seen order
        self.counts_per_stream: Counter[StreamKey] = Counter()
        self.global_state: dict[str, Any] | None = None  # latest `global` object (shared_state + stream_states)
        self.legacy_data: dict[str, Any] | None = None  # latest legacy `data` blob
        self.last_state: dict[str, Any] | None = None  # the latest state object, whatever its format

    def feed(self, message: dict[str, Any]) -> None:
        if not isinstance(message, dict) or message.get("type") != "STATE":
            return
        self.count += 1
        state = state_object(message)
        kind = state_kind(state)
        if state is None or kind is None:
            return
        self.kind = kind
        self.last_state = state
        if kind == "STREAM":
            stream = state.get("stream") or {}
            key = descriptor_key(stream.get("stream_descriptor"))
            if key is None:
                return
            blob = stream.get("stream_state")
            self.stream_states[key] = blob if isinstance(blob, dict) else {}
            self.counts_per_stream[key] += 1
        elif kind == "GLOBAL":
            self.global_state = state.get("global") if isinstance(state.get("global"), dict) else {}
            for entry in self.global_state.get("stream_states") or []:
                key = descriptor_key(entry.get("stream_descriptor")) if isinstance(entry, dict) else None
                if key is not None:
                    self.counts_per_stream[key] += 1
        else:
            data = state.get("data")
            self.legacy_data = data if isinstance(data, dict) else {}

    def feed_all(self, messages: Iterable[dict[str, Any]]) -> StateTracker:
        for message in messages:
            self.feed(message)
        return self

    def stream_state(self, stream: StreamRef) -> dict[str, Any] | None:
        """The latest state blob of one stream, whatever the format the connector used."""
        return stream_state_of(next_read_state(self), stream)


def next_read_state(tracker: StateTracker) -> StateInput | None:
    """The `--state` input that resumes after everything the tracker saw, in the protocol's format.

    Per-stream: a list of `{"type": "STREAM", "stream": {"stream_descriptor": ..., "stream_state": ...}}`, one per
    stream seen (namespace only when the stream has one). GLOBAL: `[{"type": "GLOBAL", "global": <latest>}]`.
    Legacy: the latest `data` blob. None when no state was seen.
    """
    if tracker.kind == "STREAM":
        return [_stream_entry(key, blob) for key, blob in tracker.stream_states.items()]
    if tracker.kind == "GLOBAL" and tracker.global_state is not None:
        return [{"type": "GLOBAL", "global": copy.deepcopy(tracker.global_state)}]
    if tracker.kind == "LEGACY" and tracker.legacy_data is not None:
        return copy.deepcopy(tracker.legacy_data)
    return None


def state_input_of(message: dict[str, Any]) -> StateInput | None:
    """The `--state` input that resumes from exactly one STATE message (e.g. a checkpoint of a sequential read)."""
    tracker = StateTracker()
    state = state_object(message)
    tracker.feed({"type": "STATE", "state": state} if state is not None else message)
    return next_read_state(tracker)


def _stream_entry(key: StreamKey, blob: dict[str, Any]) -> dict[str, Any]:
    namespace, name = key
    descriptor: dict[str, Any] = {"name": name}
    if namespace is not None:
        descriptor["namespace"] = namespace
    return {"type": "STREAM", "stream": {"stream_descriptor": descriptor, "stream_state": copy.deepcopy(blob)}}


def stream_state_of(state: Any, stream: StreamRef) -> dict[str, Any] | None:
    """The state blob of one stream inside a state input or message, None when the stream has none.

    Accepts a `--state` input (a list of state objects, or a legacy blob), a STATE message or a bare state object.
    Per-stream: that stream's `stream_state` ({} when present but null); GLOBAL: its `stream_states` entry; legacy:
    `data[name]` when the blob has that key. In a list the last state naming the stream wins. A (namespace, name)
    pair that matches nothing exactly falls back to the name alone.
    """
    found = _stream_state_of(state, stream)
    if found is None and not isinstance(stream, str):
        found = _stream_state_of(state, stream[1])
    return found


def _stream_state_of(state: Any, stream: StreamRef) -> dict[str, Any] | None:
    if isinstance(state, list):
        found = None
        for item in state:
            blob = _stream_state_of(item, stream)
            if blob is not None:
                found = blob
        return found
    if not isinstance(state, dict):
        return None
    obj = state_object(state)
    if obj is None:  # a plain legacy blob: {stream_name: stream_state}
        return _legacy_entry(state, stream)
    kind = state_kind(obj)
    if kind == "STREAM":
        entry = obj.get("stream") or {}
        key = descriptor_key(entry.get("stream_descriptor"))
        if key is None or not matches(key, stream):
            return None
        blob = entry.get("stream_state")
        return blob if isinstance(blob, dict) else {}
    if kind == "GLOBAL":
        global_state = obj.get("global") or {}
        found = None
        for entry in global_state.get("stream_states") or []:
            key = descriptor_key(entry.get("stream_descriptor")) if isinstance(entry, dict) else None
            if key is not None and matches(key, stream):
                blob = entry.get("stream_state")
                found = blob if isinstance(blob, dict) else {}
        return found
    return _legacy_entry(obj.get("data"), stream)


def _legacy_entry(data: Any, stream: StreamRef) -> dict[str, Any] | None:
    name = stream if isinstance(stream, str) else stream[1]
    if isinstance(data, dict) and isinstance(data.get(name), dict):
        return data[name]
    return None


def streams_in_state(state: Any) -> list[StreamKey]:
    """Every stream a state input or message holds a state for (legacy blobs: their keys, namespace None)."""
    keys: list[StreamKey] = []
    items = state if isinstance(state, list) else [state]
    for item in items:
        if not isinstance(item, dict):
            continue
        obj = state_object(item)
        kind = state_kind(obj)
        if obj is None:
            keys.extend((None, name) for name, blob in item.items() if isinstance(blob, dict))
        elif kind == "STREAM":
            key = descriptor_key((obj.get("stream") or {}).get("stream_descriptor"))
            keys.extend([key] if key else [])
        elif kind == "GLOBAL":
            for entry in (obj.get("global") or {}).get("stream_states") or []:
                key = descriptor_key(entry.get("stream_descriptor")) if isinstance(entry, dict) else None
                keys.extend([key] if key else [])
        elif isinstance(obj.get("data"), dict):
            keys.extend((None, name) for name, blob in obj["data"].items() if isinstance(blob, dict))
    return list(dict.fromkeys(keys))
