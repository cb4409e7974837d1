"""The `incremental` suite: a read resumed from a state emits only what lies at or after that state.

The promise checked is the published one: a read started from a STATE "produces either no records, or records
whose cursor value is greater than or equal to the cursor value from the STATE message". It is checked here for the
second of two sequential reads, and for reads resumed from sampled checkpoints of a full read (which must also
return at least the records the full read emitted after that checkpoint). The read from an abnormally large state
is acceptance.checks.future_state.

Configured streams are ConfiguredAirbyteStream dicts (`{"stream": {...}, "sync_mode": ..., "cursor_field": ...}`);
messages are protocol dicts. Record checks stream (`feed`), so memory stays flat however many records come back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from acceptance.findings import Finding
from acceptance.protocol.cursors import (
    DATE_TYPES,
    MISSING,
    CursorError,
    CursorType,
    compare,
    cursor_allows_null,
    cursor_field_of,
    cursor_type_of,
    days_before,
    parses_as,
    record_cursor_value,
    state_cursor_value,
)
from acceptance.protocol.jsonschema_helpers import pointer
from acceptance.protocol.messages import record_of, record_stream
from acceptance.protocol.state import (
    StateInput,
    StreamKey,
    descriptor_key,
    matches,
    state_input_of,
    state_kind,
    state_object,
    stream_state_of,
    streams_in_state,
)

MAX_EXAMPLES = 5  # findings shown per stream before a count stands for the rest
_MAX_VALUE = 80  # characters of a value or state quoted in a message


# ------------------------------------------------------------------------------------------------------- catalog


def incremental_streams(configured_streams: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The configured streams read with `sync_mode: incremental`."""
    return [s for s in configured_streams if isinstance(s, dict) and s.get("sync_mode") == "incremental"]


def stream_key(configured_stream: dict[str, Any]) -> StreamKey:
    """(namespace, name) of a configured stream."""
    stream = configured_stream.get("stream") or {}
    namespace = stream.get("namespace")
    return (namespace if isinstance(namespace, str) else None, str(stream.get("name")))


def check_incremental_streams_have_cursor(configured_streams: list[dict[str, Any]]) -> list[Finding]:
    """Every incremental stream has a `cursor_field` in the configured catalog or a `default_cursor_field`."""
    return [
        Finding("incremental_streams_have_cursor",
                f"stream '{stream_key(stream)[1]}' is read incrementally but has neither `cursor_field` in the "
                "configured catalog nor `default_cursor_field` in the discovered stream; expected one of them",
                pointer(("streams", stream_key(stream)[1], "cursor_field")))
        for stream in incremental_streams(configured_streams) if not cursor_field_of(stream)
    ]


# ------------------------------------------------------------------------------------------- two sequential reads


def check_first_read_has_records_and_states(record_count: int, state_count: int) -> list[Finding]:
    """The first incremental read emits at least one RECORD and at least one STATE message."""
    findings = []
    if record_count == 0:
        findings.append(Finding("first_read_has_records_and_states",
                                "the first incremental read emitted no RECORD message; expected at least one, "
                                "so that the second read has something to resume after"))
    if state_count == 0:
        findings.append(Finding("first_read_has_records_and_states",
                                f"the first incremental read emitted {record_count} records but no STATE message; "
                                "expected at least one, so that a second read can resume from it"))
    return findings


@dataclass
class _Plan:
    """How the records of one stream are compared, and what was found so far."""

    name: str
    cursor_path: list[str]
    cursor_type: CursorType
    allows_null: bool
    state_value: Any = None
    lower_bound: Any = None  # what records are compared with: the state's cursor, maybe moved back (threshold)
    shifted: bool = False
    skip_reason: str = ""
    records: int = 0
    compared: int = 0
    skipped_null: int = 0
    problems: int = 0
    examples: list[Finding] = field(default_factory=list)

    @property
    def cursor_label(self) -> str:
        return ".".join(self.cursor_path)


class CursorNotBeforeState:
    """Every record of an incremental read has a cursor at or after the cursor of the state the read started from.

    Streaming: `feed()` each message of the read that was started with `state_input`, then `findings()`.
    A stream whose state holds no findable cursor (an opaque state), or no state at all, is not compared and gets
    one "warning" finding saying so. Null or missing record cursors are errors unless the schema allows null.
    `cursor_paths` (historic config) gives the path of the cursor inside a stream's state; `threshold_days` lets
    date cursors be up to that many days before the state's cursor (lookback windows).
    """

    check = "cursor_not_before_state"

    def __init__(self, configured_streams: list[dict[str, Any]], state_input: StateInput | None, *,
                 cursor_paths: dict[str, list[Any]] | None = None, threshold_days: int = 0) -> None:
        self.threshold_days = threshold_days
        self._plans: dict[StreamKey, _Plan] = {}
        self._by_name: dict[str, list[StreamKey]] = {}
        for configured in incremental_streams(configured_streams):
            key = stream_key(configured)
            self._plans[key] = self._plan(configured, key, state_input, (cursor_paths or {}).get(key[1]))
            self._by_name.setdefault(key[1], []).append(key)

    def _plan(self, configured: dict[str, Any], key: StreamKey, state_input: StateInput | None,
              override: list[Any] | None) -> _Plan:
        schema = (configured.get("stream") or {}).get("json_schema") or {}
        path = cursor_field_of(configured)
        plan = _Plan(key[1], path, cursor_type_of(schema, path), cursor_allows_null(schema, path))
        if not path:
            plan.skip_reason = f"stream '{plan.name}' has no cursor field; its records are not compared"
            return plan
        blob = stream_state_of(state_input, key)
        if blob is None:
            plan.skip_reason = (f"the input state holds no state for stream '{plan.name}'; "
                                "its records are not compared")
            return plan
        plan.state_value = state_cursor_value(blob, path, override)
        where = f" at {override}" if override else ""
        if plan.state_value is None:
            plan.skip_reason = (f"cannot find cursor '{plan.cursor_label}'{where} in the state of stream "
                                f"'{plan.name}' ({short(blob)}); records not compared")
        elif not parses_as(plan.state_value, plan.cursor_type):
            plan.skip_reason = (f"the cursor {short(plan.state_value)} in the state of stream '{plan.name}' "
                                f"is not a {plan.cursor_type.value}; records not compared")
        else:
            plan.lower_bound = days_before(plan.state_value, self.threshold_days, plan.cursor_type)
            plan.shifted = plan.lower_bound is not plan.state_value
            if plan.cursor_type in DATE_TYPES and not plan.shifted:
                plan.lower_bound = days_before(plan.state_value, 0, plan.cursor_type, parse=True)  # parse once
        return plan

    def feed(self, message: dict[str, Any]) -> None:
        if not isinstance(message, dict) or message.get("type") != "RECORD":
            return
        record = record_of(message)
        plan = self._plan_for(record.get("namespace"), record_stream(message))
        if plan is None:
            return
        plan.records += 1
        if plan.skip_reason:
            return
        value = record_cursor_value(record.get("data"), plan.cursor_path)
        where = pointer(("record", "data", *plan.cursor_path))
        if value is None or value is MISSING:
            if plan.allows_null:
                plan.skipped_null += 1
                return
            what = "is missing" if value is MISSING else "is null"
            self._problem(plan, f"stream '{plan.name}': a record's cursor '{plan.cursor_label}' {what}, and the "
                                "schema does not allow null; expected every record to carry its cursor", where)
            return
        try:
            order = compare(value, plan.lower_bound, plan.cursor_type)
        except CursorError as error:  # the state's cursor was checked up front: the record's is the bad one
            self._problem(plan, f"stream '{plan.name}': a record's cursor {plan.cursor_label}={short(value)} is "
                                f"not {error.expected or 'comparable'}, so it cannot be compared with the state's "
                                f"cursor {short(plan.state_value)} ({self._how(plan)})", where)
            return
        plan.compared += 1
        if order < 0:
            self._problem(plan, f"stream '{plan.name}': a record's cursor {plan.cursor_label}={short(value)} is "
                                f"before the cursor of the state the read started from, {short(plan.state_value)} "
                                f"({self._how(plan)}); expected every record at or after the state's cursor", where)

    def _plan_for(self, namespace: Any, name: Any) -> _Plan | None:
        plan = self._plans.get((namespace if isinstance(namespace, str) else None, name))
        if plan is None and isinstance(name, str) and len(self._by_name.get(name, [])) == 1:
            plan = self._plans[self._by_name[name][0]]
        return plan

    def _how(self, plan: _Plan) -> str:
        return f"compared as {plan.cursor_type.value}" + (
            f", allowing {self.threshold_days} days before it" if plan.shifted else "")

    def _problem(self, plan: _Plan, message: str, where: str) -> None:
        plan.problems += 1
        if len(plan.examples) < MAX_EXAMPLES:
            plan.examples.append(Finding(self.check, message, where))

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for plan in self._plans.values():
            if plan.skip_reason:
                found.append(Finding(self.check, plan.skip_reason, severity="warning"))
                continue
            found.extend(plan.examples)
            if plan.problems > len(plan.examples):
                found.append(Finding(self.check, f"stream '{plan.name}': {plan.problems} of {plan.records} records "
                                                 f"failed in total ({len(plan.examples)} shown), state cursor "
                                                 f"{short(plan.state_value)}"))
        return found

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """Per stream: records seen, compared, skipped for a null cursor, and problems found."""
        return {plan.name: {"records": plan.records, "compared": plan.compared,
                            "skipped_null": plan.skipped_null, "problems": plan.problems}
                for plan in self._plans.values()}


# ------------------------------------------------------------------------------------------- sequential slices


@dataclass(frozen=True)
class Checkpoint:
    """A state a full read emitted for one stream, and how many of that stream's records came after it.

    Counts come from the RECORD messages actually read, not from `sourceStats.recordCount` (kept as
    `declared_count`, for information): records are the ground truth of what a resumed read must return again,
    they exist for every connector (older ones emit no sourceStats), and they are not skewed by duplicated
    final states or by concurrent connectors counting per partition.
    """

    state_message: dict[str, Any]
    records_after: int  # records of the stream after this state, to the end of the read: the expected minimum
    records_following: int = 0  # records between this state and the next distinct one
    position: int = 0  # index among the stream's state messages (before de-duplication)
    declared_count: float | None = None  # sourceStats.recordCount of the message, when present

    @property
    def state_input(self) -> StateInput | None:
        """The `--state` input that resumes from this checkpoint."""
        return state_input_of(self.state_message)


_NOT_THIS_STREAM = object()


def _payload(state: dict[str, Any] | None, stream_name: str) -> Any:
    """What of a state concerns one stream (used to spot repeats), or _NOT_THIS_STREAM."""
    kind = state_kind(state)
    if state is None or kind is None:
        return _NOT_THIS_STREAM
    if kind == "STREAM":
        stream = state.get("stream") or {}
        key = descriptor_key(stream.get("stream_descriptor"))
        return stream.get("stream_state") if key and matches(key, stream_name) else _NOT_THIS_STREAM
    if kind == "GLOBAL":
        if not any(matches(key, stream_name) for key in streams_in_state(state)):
            return _NOT_THIS_STREAM
        return ((state.get("global") or {}).get("shared_state"), stream_state_of(state, stream_name))
    data = state.get("data")
    return data.get(stream_name, data) if isinstance(data, dict) else data


def slice_checkpoints(stream_messages: Iterable[dict[str, Any]], stream_name: str) -> list[Checkpoint]:
    """The state checkpoints of one stream in a full read, each with the number of that stream's records after it.

    A run of consecutive states with identical payloads collapses into its first message (resuming from any of
    them must give back everything after the first). Checkpoints followed by no record before the next distinct
    state, or before the end, are dropped: resuming from them tests nothing the next one does not.
    GLOBAL states count when they list the stream; legacy states always count.
    """
    raw: list[tuple[dict[str, Any], Any, int, int, float | None]] = []
    records = 0
    position = 0
    for message in stream_messages:
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "RECORD" and record_stream(message) == stream_name:
            records += 1
        elif kind == "STATE":
            payload = _payload(state_object(message), stream_name)
            if payload is _NOT_THIS_STREAM:
                continue
            stats = (state_object(message) or {}).get("sourceStats") or message.get("sourceStats") or {}
            declared = stats.get("recordCount") if isinstance(stats, dict) else None
            if not raw or raw[-1][1] != payload:
                raw.append((message, payload, records, position, declared))
            position += 1
    checkpoints = []
    for index, (message, _, before, at, declared) in enumerate(raw):
        following = (raw[index + 1][2] if index + 1 < len(raw) else records) - before
        if following > 0:
            checkpoints.append(Checkpoint(message, records - before, following, at,
                                          declared if isinstance(declared, int | float) else None))
    return checkpoints


def sample_checkpoints(checkpoints: list[Checkpoint], max_batches: int = 5) -> list[Checkpoint]:
    """The checkpoints worth re-reading from, as upstream samples them (about `max_batches` reads per stream).

    Fewer than 3 checkpoints: only the last. Otherwise every `max(1, n // max_batches)`-th index, without the
    first (a re-read from it is nearly a full read) and the last.
    """
    if not checkpoints:
        return []
    if len(checkpoints) < 3:
        return [checkpoints[-1]]
    rate = max(1, len(checkpoints) // max_batches)
    return [c for i, c in enumerate(checkpoints) if i % rate == 0 and 0 < i < len(checkpoints) - 1]


def check_slice_checkpoints_found(checkpoints: list[Checkpoint], stream_name: str, state_count: int) -> list[Finding]:
    """The full read of a stream checkpointed at least once before its last record (else slices are not tested).

    A warning, not an error: a connector may legitimately checkpoint only at the end of a stream.
    """
    if checkpoints:
        return []
    return [Finding("slice_checkpoints_found",
                    f"stream '{stream_name}' emitted {state_count} states but none before its last record; "
                    "there is no state checkpoint to resume from, so sequential slices were not tested",
                    severity="warning")]


def check_slice_read(records_after_expected: int, record_count: int, *, stream_name: str = "",
                     position: int | None = None) -> list[Finding]:
    """A read resumed from a checkpoint returns at least the records the full read emitted after that checkpoint."""
    if record_count >= records_after_expected:
        return []
    which = f"state #{position + 1}" if position is not None else "a state checkpoint"
    stream = f"stream '{stream_name}': " if stream_name else ""
    return [Finding("slice_read",
                    f"{stream}the read resumed from {which} returned {record_count} records; expected at least "
                    f"{records_after_expected}, the records the full read emitted after that state")]


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE else text[:_MAX_VALUE - 1] + "…"


def records_per_stream(messages: Iterable[dict[str, Any]]) -> Counter[str]:
    """How many RECORD messages each stream emitted (for check_future_state_read's message)."""
    return Counter(record_stream(m) for m in messages
                   if isinstance(m, dict) and m.get("type") == "RECORD")
