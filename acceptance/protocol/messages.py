"""Airbyte protocol messages as the connector prints them: one JSON object per stdout line.

Messages stay plain dicts (parsing them into pydantic objects is ~50x slower, see the `bench` session); the
ecosystem's models (`airbyte_protocol.models`) validate the documents that matter whole: SPEC and CATALOG.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import orjson
from pydantic import ValidationError

# Marks a line that was not an Airbyte message (plain text, a Python traceback, malformed JSON): it is kept
# as a LOG message so nothing the connector said is lost, and checks can still tell it apart.
NON_PROTOCOL = "_non_protocol_line"

MESSAGE_TYPES = frozenset(
    {"RECORD", "STATE", "LOG", "SPEC", "CONNECTION_STATUS", "CATALOG", "TRACE", "CONTROL", "DESTINATION_CATALOG"}
)

Message = dict[str, Any]

# msgspec's untyped decoder: as fast as orjson here, and exact for integers beyond 64 bits (which orjson silently
# turns into floats). What it refuses (NaN, Infinity, lone surrogates...) the standard library may still take.
_decode = msgspec.json.Decoder().decode


def as_log_line(text: str, level: str = "INFO") -> Message:
    return {"type": "LOG", "log": {"level": level, "message": text}, NON_PROTOCOL: True}


def parse_line(line: bytes | str) -> Message | None:
    """Parse one stdout line. Blank lines give None; anything that is not a protocol message becomes a LOG."""
    if type(line) is bytes:  # the common case, first: one decode, no copy (JSON allows the surrounding whitespace)
        try:
            # msgspec makes only exact dicts and strs; anything else raises or is not a type name (it runs per line)
            if (parsed := _decode(line))["type"] in MESSAGE_TYPES:
                return parsed  # type: ignore[no-any-return]
        except (msgspec.DecodeError, RecursionError, KeyError, TypeError):  # TypeError: not an object, unhashable
            pass
    return _parse_unusual_line(line)


def _parse_unusual_line(line: bytes | str) -> Message | None:
    stripped = line.strip()
    if not stripped:
        return None
    # surrogatepass: a str with a lone surrogate still encodes; the invalid UTF-8 then fails to parse, as it should.
    raw = stripped.encode("utf-8", "surrogatepass") if isinstance(stripped, str) else stripped
    try:
        parsed = loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        kind = parsed.get("type")
        if isinstance(kind, str) and kind in MESSAGE_TYPES:  # a list or dict "type" is unhashable
            return parsed
    text = stripped.decode("utf-8", "replace") if isinstance(stripped, bytes) else stripped
    return as_log_line(text)


def loads(raw: bytes) -> Any:
    """Parse JSON fast (msgspec), exactly: big integers stay integers, and NaN/Infinity (which Python's json
    module writes) are accepted. Raises ValueError on invalid JSON."""
    try:
        try:
            return _decode(raw)
        except msgspec.DecodeError:
            return json.loads(raw)
    except RecursionError:  # msgspec stops at a depth limit; the json module then runs out of stack
        raise ValueError("nested too deeply") from None


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """JSON bytes for a message or document; exact for integers beyond 64 bits (which orjson refuses)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys).encode()


def record_of(message: Message) -> dict[str, Any]:
    """A RECORD message's `record` object, or {} when it is missing or not an object (basic_read reports those)."""
    record = message.get("record")
    return record if type(record) is dict else {}


def record_stream(message: Message) -> str | None:
    """The stream a RECORD message names, or None when it names none (or not as a string)."""
    stream = record_of(message).get("stream")
    return stream if type(stream) is str else None


def of_type(messages: Iterable[Message], message_type: str) -> Iterator[Message]:
    return (m for m in messages if m.get("type") == message_type)


def is_non_protocol(message: Message) -> bool:
    return bool(message.get(NON_PROTOCOL))


def trace_errors(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """The `error` objects of every TRACE ERROR message."""
    found = []
    for message in of_type(messages, "TRACE"):
        trace = message.get("trace") or {}
        if trace.get("type") == "ERROR" and isinstance(trace.get("error"), dict):
            found.append(trace["error"])
    return found


# The protocol models take ~40 ms to import: they are imported by the few checks that use them, not by every session.


def connector_specification_problems(spec: Any) -> list[str]:
    """Why a SPEC payload is not a valid ConnectorSpecification, per the official protocol models ([] if valid)."""
    from airbyte_protocol.models import ConnectorSpecification

    return _model_problems(ConnectorSpecification, spec)


def catalog_problems(catalog: Any) -> list[str]:
    """Why a CATALOG payload is not a valid AirbyteCatalog, per the official protocol models ([] if valid)."""
    from airbyte_protocol.models import AirbyteCatalog

    return _model_problems(AirbyteCatalog, catalog)


def _model_problems(model: Any, payload: Any) -> list[str]:
    try:
        model.model_validate(payload)
    except ValidationError as error:
        return [
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors(include_url=False)
        ]
    return []
