"""Checks on the shape of a command's output, shared by the suites."""

from __future__ import annotations

from acceptance.findings import Finding
from acceptance.protocol.messages import Message


def check_exactly_one(messages: list[Message], message_type: str) -> list[Finding]:
    """The output holds exactly one message of `message_type` (e.g. one SPEC from `spec`)."""
    count = sum(1 for m in messages if m.get("type") == message_type)
    if count == 1:
        return []
    return [Finding("exactly_one", f"expected exactly one {message_type} message, got {count}")]
