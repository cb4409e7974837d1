"""The `incremental` suite's future state: a read started from a state with abnormally large cursors emits no
record, the future-state file covers every incremental stream, and its cursors are stored with the type and format
the connector itself uses.

Configured streams are ConfiguredAirbyteStream dicts; messages and states are protocol dicts.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from acceptance.checks.incremental import MAX_EXAMPLES, incremental_streams, short, stream_key
from acceptance.findings import Finding
from acceptance.protocol.cursors import cursor_field_of, cursor_json_types, find_cursor_values
from acceptance.protocol.jsonschema_helpers import json_type, pointer
from acceptance.protocol.state import stream_state_of, streams_in_state


def check_future_state_read(record_count: int, state_count: int,
                            records_per_stream: Mapping[str, int] | None = None) -> list[Finding]:
    """A read started from a state with abnormally large cursor values emits no record and at least one STATE."""
    findings = []
    if record_count:
        streams = ", ".join(f"{name}: {count}" for name, count in sorted((records_per_stream or {}).items()) if count)
        detail = f" ({streams})" if streams else ""
        findings.append(Finding("future_state_read",
                                f"the read with the abnormally large (future) state emitted {record_count} "
                                f"records{detail}; expected none, since every cursor in that state is later than "
                                "all the data"))
    if state_count == 0:
        findings.append(Finding("future_state_read", "the read with the abnormally large (future) state emitted "
                                                     "no STATE message; expected at least one"))
    return findings


def check_future_state_covers_streams(future_state: list[Any] | dict[str, Any], incremental_streams: list[str],
                                      missing_streams: Collection[str]) -> list[Finding]:
    """The future-state file holds a state for every incremental stream not declared in `missing_streams`."""
    if not isinstance(future_state, list | dict):
        return [Finding("future_state_covers_streams",
                        f"the future state must be a list of state objects, got {type(future_state).__name__}")]
    present = {name for _, name in streams_in_state(future_state)}
    return [
        Finding("future_state_covers_streams",
                f"stream '{name}' supports incremental sync but the future-state file has no state for it; "
                "add one, or list it under future_state.missing_streams with a bypass_reason",
                pointer(("streams", name)))
        for name in dict.fromkeys(incremental_streams) if name not in present and name not in missing_streams
    ]


def check_cursor_format_consistency(emitted_states: Iterable[dict[str, Any]], future_state: Any,
                                    configured_streams: list[dict[str, Any]], cursor_format: Any = None
                                    ) -> list[Finding]:
    """Cursors in the future state have the type and format of the cursors the connector itself emits.

    Per incremental stream that has both emitted states and a future state: every cursor value (found under the
    cursor's name anywhere in the state, or as `cursor` beside a `cursor_field`) has a type the schema declares
    (any of them; numeric strings pass for numeric types, as database sources store them); future values have a
    type the emitted ones have; strings match `cursor_format` (stream regex, else the default, `re.match`) or,
    with no regex, have the same length and character classes (letter, digit, same punctuation) as the emitted.
    """
    emitted = list(emitted_states)
    findings: list[Finding] = []
    for configured in incremental_streams(configured_streams):
        findings.extend(_format_findings(configured, emitted, future_state, cursor_format)[:MAX_EXAMPLES])
    return findings


def _format_findings(configured: dict[str, Any], emitted: list[dict[str, Any]], future_state: Any,
                     cursor_format: Any) -> list[Finding]:
    check = "cursor_format_consistency"
    key = stream_key(configured)
    name, path = key[1], cursor_field_of(configured)
    future_blob = stream_state_of(future_state, key)
    if not path or future_blob is None:
        return []
    cursor = path[-1]
    futures = [v for v in find_cursor_values(future_blob, cursor) if v is not None]
    if not futures:
        return [Finding(check, f"stream '{name}': the future state has no value for cursor '{cursor}' "
                               f"({short(future_blob)}); expected it to set the stream's cursor")]
    actuals = [v for message in emitted
               for v in find_cursor_values(stream_state_of(message, key), cursor) if v is not None]
    if not actuals:
        return []
    findings = []
    declared = cursor_json_types((configured.get("stream") or {}).get("json_schema"), path)
    for origin, values in (("a state the connector emitted", actuals), ("the future state", futures)):
        for value in _distinct(values):
            if declared and not _has_declared_type(value, declared):
                findings.append(Finding(check, f"stream '{name}': cursor '{cursor}' is {short(value)} "
                                               f"({json_type(value)}) in {origin}, but the schema declares "
                                               f"{' or '.join(sorted(declared))}"))
    emitted_kinds = {_kind(v) for v in actuals}
    emitted_types = " or ".join(sorted({json_type(v) for v in actuals}))
    for value in _distinct(futures):
        if _kind(value) not in emitted_kinds:
            findings.append(Finding(check, f"stream '{name}': the future state stores cursor '{cursor}' as "
                                           f"{json_type(value)} ({short(value)}), but the connector's states "
                                           f"store it as {emitted_types}"))
    regex = _cursor_regex(cursor_format, name)
    actual_strings = [v for v in _distinct(actuals) if isinstance(v, str)]
    future_strings = [v for v in _distinct(futures) if isinstance(v, str)]
    if regex is not None:
        for origin, values in (("a state the connector emitted", actual_strings), ("the future state", future_strings)):
            findings.extend(Finding(check, f"stream '{name}': cursor {value!r} in {origin} does not match the "
                                           f"cursor_format regex {regex!r}")
                            for value in values if re.match(regex, value) is None)
        return findings
    for actual in {_shape(v): v for v in actual_strings}.values():
        for future in {_shape(v): v for v in future_strings}.values():
            difference = _shape_difference(actual, future)
            if difference:
                findings.append(Finding(check, f"stream '{name}': the future state's cursor {future!r} does not "
                                               f"have the format of the connector's cursor {actual!r} ({difference}); "
                                               "set future_state.cursor_format to a regex if formats may differ"))
    return findings


def _cursor_regex(cursor_format: Any, stream_name: str) -> str | None:
    """The regex for a stream: `cursor_format.streams[name].format`, else `cursor_format.format` (dict or model)."""
    def get(obj: Any, key: str) -> Any:
        return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)

    if cursor_format is None:
        return None
    for stream in get(cursor_format, "streams") or []:
        if get(stream, "name") == stream_name and get(stream, "format"):
            return str(get(stream, "format"))
    default = get(cursor_format, "format")
    return str(default) if default else None


def _shape(value: str) -> str:
    return "".join("a" if c.isalpha() else "9" if c.isdigit() else c for c in value)


def _shape_difference(actual: str, future: str) -> str:
    if len(actual) != len(future):
        return f"length {len(future)} instead of {len(actual)}"
    for index, (a, f) in enumerate(zip(_shape(actual), _shape(future), strict=True)):
        if a != f:
            return f"character {index + 1} is {future[index]!r} where the connector has {actual[index]!r}"
    return ""


def _distinct(values: Iterable[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(f"{type(value).__name__}:{value!r}", value)
    return list(seen.values())


def _kind(value: Any) -> str:
    kind = json_type(value)
    return "number" if kind == "integer" else kind


def _has_declared_type(value: Any, declared: set[str]) -> bool:
    kind = json_type(value)
    if kind in declared or (kind == "integer" and "number" in declared):
        return True
    if kind == "number" and "integer" in declared and float(value).is_integer():
        return True
    numeric_text = kind == "string" and _NUMERIC_TEXT.fullmatch(value) is not None
    return numeric_text and bool({"integer", "number"} & declared)


_NUMERIC_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
