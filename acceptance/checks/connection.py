"""The `check` command: did the connector answer with the status the test config expects?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from acceptance.findings import Finding

CONNECTION_STATUSES = ("succeed", "failed", "exception")

_EXPECTED_STATUS = {"succeed": "SUCCEEDED", "failed": "FAILED"}
_EXPECTED_WORDS = {"succeed": "succeed", "failed": "fail"}
_CHECK = "connection_status"


def check_connection_status(messages: list[dict[str, Any]], expected: str) -> list[Finding]:
    """Findings when the `check` output does not match `expected` (one of CONNECTION_STATUSES).

    succeed/failed: exactly one CONNECTION_STATUS message, with status SUCCEEDED/FAILED.
    exception: exactly one TRACE message of type ERROR, carrying a non-empty `error.message`.
    Connector messages are quoted whole (never truncated) so that the caller's secret masking still matches.
    """
    if expected not in CONNECTION_STATUSES:
        raise ValueError(f"expected must be one of {', '.join(CONNECTION_STATUSES)}, not {expected!r}")
    statuses = [_status_of(m) for m in _of_type(messages, "CONNECTION_STATUS")]
    errors = _trace_errors(messages)
    if expected == "exception":
        return _check_exception(statuses, errors)

    if len(statuses) != 1:
        summary = trace_error_summary(messages)
        context = f" ({summary})" if summary and not statuses else ""
        return [Finding(_CHECK, f"expected exactly one CONNECTION_STATUS message, got {len(statuses)}{context}")]
    status = statuses[0]
    actual = status.get("status")
    if actual == _EXPECTED_STATUS[expected]:
        return []
    reported = f"{actual}" if isinstance(actual, str) else f"no valid status ({actual!r})"
    detail = _text(status.get("message"))
    detail = f": {detail}" if detail else " (no message)"
    return [Finding(
        _CHECK,
        f"expected the check to {_EXPECTED_WORDS[expected]}, but the connector reported {reported}{detail}",
        "/connectionStatus/status",
    )]


def _check_exception(statuses: list[dict[str, Any]], errors: list[Any]) -> list[Finding]:
    if len(errors) != 1:
        context = ""
        if not errors and statuses:
            status = statuses[0]
            detail = _text(status.get("message"))
            context = f" (the connector reported CONNECTION_STATUS {status.get('status')}" + (
                f": {detail})" if detail else ")")
        return [Finding(
            _CHECK,
            f"expected the check to raise an exception (exactly one TRACE ERROR message), got {len(errors)}{context}",
        )]
    error = errors[0]
    if not isinstance(error, dict):
        return [Finding(_CHECK, "expected the TRACE ERROR message to carry an `error` object, got none",
                        "/trace/error")]
    if not _text(error.get("message")):
        return [Finding(_CHECK, "expected the TRACE ERROR message to have a non-empty error.message, got "
                        f"{error.get('message')!r}", "/trace/error/message")]
    return []


def trace_error_summary(messages: list[dict[str, Any]]) -> str:
    """What the connector's TRACE errors said, for a finding about missing output; "" when there were none.

    e.g. "a TRACE error was emitted: Config validation error: … [internal: …] (and 1 more)".
    """
    errors = _trace_errors(messages)
    if not errors:
        return ""
    first = errors[0] if isinstance(errors[0], dict) else {}
    text = _text(first.get("message")) or "(no message)"
    internal = _text(first.get("internal_message"))
    if internal and internal != text:
        text += f" [internal: {internal}]"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"a TRACE error was emitted: {text}{more}"


def _trace_errors(messages: Iterable[Any]) -> list[Any]:
    """The `error` object of every TRACE message of type ERROR (whatever it holds)."""
    return [m["trace"].get("error") for m in _of_type(messages, "TRACE") if _trace_type(m) == "ERROR"]


def _of_type(messages: Iterable[Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in messages if isinstance(m, dict) and m.get("type") == kind]


def _status_of(message: dict[str, Any]) -> dict[str, Any]:
    status = message.get("connectionStatus")
    return status if isinstance(status, dict) else {}


def _trace_type(message: dict[str, Any]) -> Any:
    trace = message.get("trace")
    return trace.get("type") if isinstance(trace, dict) else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
