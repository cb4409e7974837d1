"""test_secret_never_in_the_output's check: where a secret shows up, in any common encoding; never the value."""

from __future__ import annotations

import base64
import urllib.parse

from acceptance.checks.secret_leaks import SecretLeakFinder
from acceptance.secrets import MASK, Masker

SECRET = "s3cr3t/token+value"


def finder() -> SecretLeakFinder:
    return SecretLeakFinder(Masker({SECRET, "eu"}).secrets)  # "eu": too short to mean anything


def record(stream: str, data: dict) -> dict:
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1}}


def test_clean_output_has_no_findings() -> None:
    leaks = finder()
    leaks.feed(record("users", {"id": 1, "region": "eu", "note": "hello"}))
    leaks.feed({"type": "LOG", "log": {"level": "INFO", "message": "reading users in eu"}})
    leaks.feed_stderr(["starting", "done"])
    assert leaks.findings() == []


def test_each_place_and_encoding_is_named_and_counted_without_the_value() -> None:
    leaks = finder()
    encoded = base64.b64encode(SECRET.encode()).decode().rstrip("=")
    leaks.feed(record("users", {"id": 1, "auth": {"header": f"Bearer {encoded}"}}))
    leaks.feed(record("users", {"id": 2, "auth": {"header": f"Bearer {encoded}"}}))
    leaks.feed(record("events", {"url": "https://x.test/?t=" + urllib.parse.quote(SECRET, safe="")}))
    leaks.feed({"type": "TRACE", "trace": {"type": "ERROR", "error": {"message": f"401 for {SECRET}"}}})
    leaks.feed({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_state": {SECRET: 1}}}})
    leaks.feed_stderr([f"token={MASK}", "fine"])
    messages = [f.message for f in leaks.findings()]
    assert messages == [  # sorted by place; a key that is a secret is masked in the path
        f"a secret from the config appears in STATE messages at /state/stream/stream_state/{MASK} (1 time)",
        "a secret from the config appears in TRACE messages at /trace/error/message (1 time)",
        "a secret from the config appears in records of stream 'events' at /url (1 time)",
        "a secret from the config appears in records of stream 'users' at /auth/header (2 times)",
        "a secret from the config appears in stderr (1 time)",
    ]
    assert not any(SECRET in m or encoded in m or "s3cr3t%2F" in m for m in messages)


def test_a_config_update_is_allowed_to_carry_secrets() -> None:
    leaks = finder()
    leaks.feed({"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG",
                                               "connectorConfig": {"config": {"token": SECRET}}}})
    assert leaks.findings() == []


def test_without_secrets_nothing_is_searched() -> None:
    leaks = SecretLeakFinder(set())
    leaks.feed(record("users", {"id": 1}))
    assert leaks.findings() == []
