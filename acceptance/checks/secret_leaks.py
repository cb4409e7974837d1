"""test_secret_never_in_the_output: the config's secrets must not appear in what the connector emits.

Records, logs, traces, states and stderr are scanned for every secret of the config (as is, JSON-escaped,
URL-encoded, base64). A finding names where a secret was found (message type, stream, JSON pointer) and how often,
never the value. A CONTROL message that updates the connector's config legitimately carries secrets: it is skipped.
Values shorter than MIN_SECRET_LENGTH are not looked for: "1" or "eu" found in output proves nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from acceptance.findings import Finding
from acceptance.protocol.jsonschema_helpers import pointer
from acceptance.protocol.messages import Message, dumps, record_stream
from acceptance.secrets import MASK

CHECK = "secret_never_in_the_output"
MIN_SECRET_LENGTH = 5


class SecretLeakFinder:
    """Fed every message of a read (and its stderr tail); remembers where secrets showed up."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._forms = tuple(forms)
        self._pattern = re.compile("|".join(re.escape(form) for form in forms)) if forms else None
        self._places: Counter[str] = Counter()

    def feed(self, message: Message) -> None:
        if self._pattern is None or message.get("type") == "CONTROL":
            return
        try:
            text = orjson.dumps(message).decode()
        except TypeError:  # integers beyond 64 bits
            text = dumps(message).decode()
        # The common case: no secret anywhere in the message. A substring test per form is several times faster
        # than the alternation regex, which is kept to find where a secret is.
        for form in self._forms:
            if form in text:
                break
        else:
            return
        for path in self._leaking_paths(message, ()):
            # a path may run through keys that are secrets themselves: those are masked too
            shown = tuple(self._pattern.sub(MASK, part) if isinstance(part, str) else part for part in path)
            self._places[_place(message, shown)] += 1

    def feed_stderr(self, lines: Iterable[str]) -> None:
        """The stderr tail is masked when it is captured: a masked secret shows as the mask."""
        found = sum(1 for line in lines if MASK in line)
        if found:
            self._places["stderr"] += found

    def findings(self) -> list[Finding]:
        return [Finding(CHECK, f"a secret from the config appears in {place} ({count} time{'s' if count > 1 else ''})")
                for place, count in sorted(self._places.items())]

    def _leaking_paths(self, node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
        assert self._pattern is not None
        if isinstance(node, dict):
            for key, value in node.items():
                if self._pattern.search(str(key)):
                    yield (*path, key)
                yield from self._leaking_paths(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from self._leaking_paths(value, (*path, index))
        elif isinstance(node, (str, int, float)) and not isinstance(node, bool) and self._pattern.search(str(node)):
            yield path


def _place(message: Message, path: tuple[str | int, ...]) -> str:
    kind = message.get("type")
    if kind == "RECORD" and len(path) >= 2 and path[:2] == ("record", "data"):
        stream = record_stream(message)
        return f"records of stream {stream!r} at {pointer(list(path[2:]))}"
    return f"{kind} messages at {pointer(list(path))}"
