"""check_connection_status: what `check` returned versus what the test config expects."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance.checks.connection import CONNECTION_STATUSES, check_connection_status, trace_error_summary


def status(value: str, message: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": value}
    if message is not None:
        body["message"] = message
    return {"type": "CONNECTION_STATUS", "connectionStatus": body}


def trace_error(message: str | None = "boom", internal: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"failure_type": "config_error"}
    if message is not None:
        error["message"] = message
    if internal is not None:
        error["internal_message"] = internal
    return {"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1.0, "error": error}}


LOG = {"type": "LOG", "log": {"level": "INFO", "message": "MemoryMonitor instantiated"}}


def test_statuses_exported() -> None:
    assert CONNECTION_STATUSES == ("succeed", "failed", "exception")


def test_succeed_passes_with_log_lines_before_the_status() -> None:
    assert check_connection_status([LOG, LOG, status("SUCCEEDED")], "succeed") == []


def test_succeed_expected_but_failed_shows_the_connector_message() -> None:
    [finding] = check_connection_status([LOG, status("FAILED", "Config validation error: 'x' is not an integer")],
                                        "succeed")
    assert finding.check == "connection_status"
    assert finding.path == "/connectionStatus/status"
    assert finding.message == ("expected the check to succeed, but the connector reported FAILED: "
                               "Config validation error: 'x' is not an integer")


def test_failed_passes_on_failed_status() -> None:
    assert check_connection_status([status("FAILED", "Unable to connect")], "failed") == []


def test_failed_expected_but_succeeded() -> None:
    [finding] = check_connection_status([status("SUCCEEDED")], "failed")
    assert finding.message == "expected the check to fail, but the connector reported SUCCEEDED (no message)"


def test_missing_status_mentions_the_trace_error() -> None:
    messages = [LOG, trace_error("Could not read config", internal="Could not read json file /data/config.json")]
    [finding] = check_connection_status(messages, "succeed")
    assert finding.path == ""
    assert finding.message == (
        "expected exactly one CONNECTION_STATUS message, got 0 (a TRACE error was emitted: Could not read config "
        "[internal: Could not read json file /data/config.json])"
    )


def test_missing_status_without_trace() -> None:
    [finding] = check_connection_status([LOG], "failed")
    assert finding.message == "expected exactly one CONNECTION_STATUS message, got 0"


def test_two_statuses_fail() -> None:
    [finding] = check_connection_status([status("SUCCEEDED"), status("SUCCEEDED")], "succeed")
    assert "expected exactly one CONNECTION_STATUS message, got 2" in finding.message


def test_status_object_without_a_status() -> None:
    [finding] = check_connection_status([{"type": "CONNECTION_STATUS", "connectionStatus": {}}], "succeed")
    assert "reported no valid status (None)" in finding.message


def test_exception_passes_with_one_trace_error() -> None:
    assert check_connection_status([LOG, trace_error("Config validation error")], "exception") == []


def test_exception_ignores_non_error_traces() -> None:
    stream_status = {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "stream_status": {}}}
    assert check_connection_status([stream_status, trace_error()], "exception") == []


def test_exception_with_trace_but_missing_message_fails() -> None:
    [finding] = check_connection_status([trace_error(message=None)], "exception")
    assert finding.path == "/trace/error/message"
    assert "non-empty error.message" in finding.message


def test_exception_with_blank_message_fails() -> None:
    [finding] = check_connection_status([trace_error(message="  ")], "exception")
    assert finding.path == "/trace/error/message"


def test_exception_with_trace_without_error_object_fails() -> None:
    [finding] = check_connection_status([{"type": "TRACE", "trace": {"type": "ERROR"}}], "exception")
    assert finding.path == "/trace/error"
    assert "`error` object" in finding.message


def test_exception_expected_but_status_came_back() -> None:
    [finding] = check_connection_status([status("FAILED", "bad key")], "exception")
    assert finding.message == ("expected the check to raise an exception (exactly one TRACE ERROR message), got 0 "
                               "(the connector reported CONNECTION_STATUS FAILED: bad key)")


def test_exception_with_two_trace_errors_fails() -> None:
    [finding] = check_connection_status([trace_error(), trace_error()], "exception")
    assert "got 2" in finding.message


def test_unknown_expectation_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="succeed, failed, exception"):
        check_connection_status([], "ok")


def test_trace_error_summary() -> None:
    assert trace_error_summary([LOG]) == ""
    assert trace_error_summary([trace_error("a"), trace_error("b")]) == "a TRACE error was emitted: a (and 1 more)"
    assert trace_error_summary([trace_error(None)]) == "a TRACE error was emitted: (no message)"


def test_non_dict_lines_are_ignored() -> None:
    assert check_connection_status(["garbage", None, status("SUCCEEDED")], "succeed") == []  # type: ignore[list-item]
