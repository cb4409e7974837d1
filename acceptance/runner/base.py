"""The runner interface shared by every backend, and the result they all return."""

from __future__ import annotations

import math
import shlex
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from acceptance.protocol.messages import Message, as_log_line, dumps, is_non_protocol, trace_errors
from acceptance.runner.spool import MessageSpool
from acceptance.secrets import Masker

STDERR_TAIL_LINES = 50
MAX_STDERR_LINE_CHARS = 2000
# Only the start of a stderr line is ever shown: a longer one is not read into memory beyond this.
STDERR_LINE_LIMIT = 64 * 1024
# How much of a dropped (over-long) line is kept: masked, then cut for the report.
DROPPED_HEAD_BYTES = 4096
DROPPED_HEAD_CHARS = 200
# A stdout line that is not a protocol message is kept as a LOG of at most this many characters.
MAX_NON_PROTOCOL_CHARS = 64 * 1024
MAX_OUTPUT_NOTES = 5


@dataclass(frozen=True)
class DroppedLine:
    """A line of the runner's limit or more, not kept: its size in bytes and its first bytes."""

    size: int
    head: bytes


def append_stderr_line(tail: deque[str], line: str, masker: Masker, *, cut: bool = False) -> None:
    """Keep one stderr line in the bounded tail, masked first: cutting through a secret would leave its start.
    `cut`: the line is only the start of a longer one."""
    text = masker.mask(line.rstrip("\r\n"))
    tail.append(text if len(text) <= MAX_STDERR_LINE_CHARS and not cut else text[:MAX_STDERR_LINE_CHARS] + "…")


def append_dropped_stderr_line(tail: deque[str], dropped: DroppedLine, masker: Masker) -> None:
    append_stderr_line(tail, dropped.head.decode("utf-8", "replace"), masker, cut=True)


class StdoutCollector:
    """Puts connector stdout lines into a spool with bounded cost: a non-protocol line is kept as a LOG of at most
    MAX_NON_PROTOCOL_CHARS characters, and a line over the runner's limit is dropped, with a WARN LOG in the spool
    and a note for the failure report (a protocol message in it is lost, which the report must explain)."""

    def __init__(self, spool: MessageSpool, masker: Masker, limit: int) -> None:
        self.spool = spool
        self.masker = masker
        self.limit = limit
        self.notes: list[str] = []

    def add(self, message: Message, line: bytes) -> None:
        """Spool a message parsed from `line` (the runners append short lines to the spool themselves)."""
        if len(line) > MAX_NON_PROTOCOL_CHARS and is_non_protocol(message):
            text = message["log"]["message"]
            if len(text) > MAX_NON_PROTOCOL_CHARS:  # masked before the cut, which could leave a secret's start
                kept = self.masker.mask(text)[:MAX_NON_PROTOCOL_CHARS]
                cut = f"{kept}… [line truncated: {len(line)} bytes, not JSON]"
                self.spool.append(as_log_line(cut))
                return
        self.spool.append(message, line)

    def drop(self, dropped: DroppedLine) -> None:
        self.spool.append(as_log_line(
            f"connector printed a line of {dropped.size} bytes; dropped (limit {self.limit})", "WARN"))
        if len(self.notes) < MAX_OUTPUT_NOTES:
            head = self.masker.mask(dropped.head.decode("utf-8", "replace"))[:DROPPED_HEAD_CHARS]
            self.notes.append(f"a stdout line of {dropped.size} bytes was over the limit of {self.limit} bytes and "
                              f"dropped, with any message in it; it began: {head}…")


class Watchdog:
    """Calls `stop` once `timeout` seconds have passed (never without a timeout); `fired` tells it happened."""

    def __init__(self, timeout: float | None, stop: Callable[[], None]) -> None:
        self.fired = threading.Event()
        self._stop = stop
        self._timer = threading.Timer(timeout, self._fire) if timeout is not None else None
        if self._timer:
            self._timer.daemon = True

    def start(self) -> None:
        if self._timer:
            self._timer.start()

    def cancel(self) -> None:
        if self._timer:
            self._timer.cancel()

    def _fire(self) -> None:
        self.fired.set()
        self._stop()


@dataclass
class RunResult:
    """What one connector command produced. Text fields are already secret-masked."""

    command: str  # for people: masked, e.g. "source-faker read --config config.json --catalog catalog.json"
    exit_code: int | None  # None when the process had to be killed
    duration: float
    messages: MessageSpool
    stderr_tail: list[str] = field(default_factory=list)
    timed_out: bool = False
    timeout: float | None = None
    backend: str = "local"
    notes: list[str] = field(default_factory=list)  # problems with the output itself (dropped lines), masked

    @property
    def succeeded(self) -> bool:
        """Exit code 0 in time, and no TRACE error: a connector that reports an error has failed, whatever its
        exit code says."""
        return self.exit_code == 0 and not self.timed_out and not self.messages.error_traces

    def of_type(self, message_type: str) -> list[Message]:
        return self.messages.of_type(message_type)

    def describe_failure(self) -> str:
        """A short account of how the run went wrong: exit code or timeout, TRACE errors, the last stderr lines."""
        if self.timed_out:
            limit = math.ceil(self.timeout or 0)
            lines = [f"`{self.command}` did not finish within its timeout of {limit}s and was killed"]
        else:
            lines = [f"`{self.command}` exited with code {self.exit_code} after {self.duration:.1f}s"]
            if self.exit_code == 0 and self.messages.error_traces:
                lines[0] += ", but reported an error"
        if not len(self.messages) and not self.stderr_tail:
            lines.append("  it printed nothing (no message on stdout, nothing on stderr)")
        for error in trace_errors(self.of_type("TRACE"))[:3]:
            failure_type = error.get("failure_type") or "error"
            lines.append(f"  TRACE {failure_type}: {error.get('message')}")
            if error.get("internal_message"):
                lines.append(f"    internal: {error['internal_message']}")
        lines += [f"  {note}" for note in self.notes]
        if self.stderr_tail:
            lines.append("  last stderr lines:")
            lines += [f"    {line}" for line in self.stderr_tail[-10:]]
        return "\n".join(lines)


class ConnectorRunner(Protocol):
    """Runs the four protocol commands of one connector. Inputs are dicts; files are the runner's business."""

    backend: str

    def run(
        self,
        args: Sequence[str],
        *,
        config: Any = None,
        catalog: Any = None,
        state: Any = None,
        timeout: float | None = None,
    ) -> RunResult: ...

    def describe(self) -> str: ...


def spec(runner: ConnectorRunner, timeout: float | None = None) -> RunResult:
    return runner.run(["spec"], timeout=timeout)


def check(runner: ConnectorRunner, config: Any, timeout: float | None = None) -> RunResult:
    return runner.run(["check", "--config", "{config}"], config=config, timeout=timeout)


def discover(runner: ConnectorRunner, config: Any, timeout: float | None = None) -> RunResult:
    return runner.run(["discover", "--config", "{config}"], config=config, timeout=timeout)


def read(
    runner: ConnectorRunner, config: Any, catalog: Any, state: Any = None, timeout: float | None = None
) -> RunResult:
    args = ["read", "--config", "{config}", "--catalog", "{catalog}"]
    if state is not None:
        args += ["--state", "{state}"]
    return runner.run(args, config=config, catalog=catalog, state=state, timeout=timeout)


def display_command(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def masked_command(argv: Sequence[str], masker: Masker) -> str:
    """A command for people, secrets masked: each argument before shell-quoting (quoting can split a secret,
    `it's` -> `'it'"'"'s'`), and the whole line after."""
    return masker.mask(display_command([masker.mask(arg) for arg in argv]))


INPUT_FILES = {"config": "config.json", "catalog": "catalog.json", "state": "state.json"}


def write_inputs(folder: Path, args: Sequence[str], inputs: dict[str, Any], mode: int) -> None:
    """Write each input the arguments name (`{config}`, `{catalog}`, `{state}`) as JSON into `folder`."""
    for name, value in inputs.items():
        if f"{{{name}}}" in args:
            path = folder / INPUT_FILES[name]
            path.write_bytes(dumps(value))
            path.chmod(mode)
