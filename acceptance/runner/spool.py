"""Connector output kept on disk, not in memory: stdout lines are spooled as they arrive and re-read on demand."""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from acceptance.protocol.messages import Message, dumps, parse_line

# Small outputs (spec, check, discover) stay in memory; a read of millions of records spills to a temp file.
IN_MEMORY_BYTES = 8 * 1024 * 1024
PROGRESS_EVERY_RECORDS = 10_000
READ_BYTES = 1024 * 1024  # iteration reads the spool in pieces this big and splits them into lines
WRITE_BYTES = 256 * 1024  # appended lines are written to the file in batches of about this size
# Who wants to hear, while a read runs, how many records it has spooled so far (set around a command by the
# reporter; a spool takes the listener of the context it is made in).
RECORDS_LISTENER: ContextVar[Callable[[int], None] | None] = ContextVar("records_listener", default=None)


class SpoolWatcher:
    """Sees every message of one spool as it is appended, e.g. the checks of a read fed while the connector is still
    writing (they then cost no time after the read). The first spool made inside `watching(...)` takes it; the
    caller compares `spool` with the run's messages to know whether everything was seen.

    `seconds` is the time spent in `feed`: the tool's work inside a command's duration, which timings take out of
    the connector's time (as if none of it overlapped with the connector's own work)."""

    def __init__(self, feed: Callable[[Message], None]) -> None:
        self.feed = feed
        self.spool: MessageSpool | None = None
        self.seconds = 0.0


SPOOL_WATCHER: ContextVar[SpoolWatcher | None] = ContextVar("spool_watcher", default=None)


@contextmanager
def watching(feed: Callable[[Message], None]) -> Iterator[SpoolWatcher]:
    """Feed each message of the spool the next command makes to `feed`, as it arrives."""
    watcher = SpoolWatcher(feed)
    token = SPOOL_WATCHER.set(watcher)
    try:
        yield watcher
    finally:
        SPOOL_WATCHER.reset(token)


class MessageSpool:
    """An append-only sequence of messages that can be iterated any number of times, in arrival order."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, mode="w+b")
        self.counts: Counter[str] = Counter()
        self.error_traces = 0  # TRACE messages of type ERROR: counted as they come, to judge a run without a re-read
        self._listener = RECORDS_LISTENER.get()
        self._watcher = SPOOL_WATCHER.get()
        if self._watcher is not None:
            if self._watcher.spool is None:
                self._watcher.spool = self
            else:
                self._watcher = None
        self._at_end = True  # the file position is at its end: no read since the last write
        self._unwritten: list[bytes] = []  # appended lines not yet in the file (each ends with a newline)
        self._unwritten_bytes = 0

    @classmethod
    def of(cls, messages: Iterable[Message]) -> MessageSpool:
        spool = cls()
        for message in messages:
            spool.append(message)
        return spool

    def append(self, message: Message, raw: bytes | None = None) -> None:
        """Add a message; `raw` is the line it was parsed from, stored as is (re-parsing gives the same message)."""
        kind = str(message.get("type"))
        self.counts[kind] += 1
        if self._listener is not None and kind == "RECORD" and self.counts[kind] % PROGRESS_EVERY_RECORDS == 0:
            self._listener(self.counts[kind])
        if kind == "TRACE" and _is_error_trace(message):
            self.error_traces += 1
        if self._watcher is not None:
            started = time.perf_counter()
            self._watcher.feed(message)
            self._watcher.seconds += time.perf_counter() - started
        line = (raw.rstrip(b"\r\n") if raw is not None else dumps(message)) + b"\n"
        self._unwritten.append(line)
        self._unwritten_bytes += len(line)
        if self._unwritten_bytes >= WRITE_BYTES:
            self._write_unwritten()

    def _write_unwritten(self) -> None:
        if not self._unwritten:
            return
        if not self._at_end:
            self._file.seek(0, 2)
            self._at_end = True
        self._file.write(b"".join(self._unwritten))
        self._unwritten.clear()
        self._unwritten_bytes = 0

    def __iter__(self) -> Iterator[Message]:
        position = 0
        partial: list[bytes] = []  # the start of a line longer than what has been read of it so far
        while True:
            # Re-seek before each read: a caller may iterate twice at once (nested loops over the same output),
            # or append between two steps.
            self._write_unwritten()
            self._at_end = False
            self._file.seek(position)
            piece = self._file.read(READ_BYTES)
            if not piece:
                break
            position += len(piece)
            if b"\n" not in piece:
                partial.append(piece)
                continue
            if partial:
                partial.append(piece)
                piece = b"".join(partial)
                partial.clear()
            lines = piece.split(b"\n")
            last = lines.pop()
            if last:
                partial.append(last)
            for line in lines:
                message = parse_line(line)
                if message is not None:
                    yield message
        if partial:  # every append ends its line, so only a file written otherwise gets here
            message = parse_line(b"".join(partial))
            if message is not None:
                yield message

    def __len__(self) -> int:
        return sum(self.counts.values())

    def of_type(self, message_type: str) -> list[Message]:
        """Messages of one type, as a list: meant for the few-message kinds (SPEC, CATALOG, TRACE...)."""
        if not self.counts.get(message_type):
            return []
        return [m for m in self if m.get("type") == message_type]

    def close(self) -> None:
        self._file.close()


def _is_error_trace(message: Message) -> bool:
    trace = message.get("trace")
    return isinstance(trace, dict) and trace.get("type") == "ERROR"
