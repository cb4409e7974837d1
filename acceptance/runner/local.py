"""The local-process backend: the connector runs as a child process in its own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from acceptance.protocol.messages import as_log_line, parse_line
from acceptance.runner.base import (
    DROPPED_HEAD_BYTES,
    INPUT_FILES,
    MAX_NON_PROTOCOL_CHARS,
    STDERR_LINE_LIMIT,
    STDERR_TAIL_LINES,
    DroppedLine,
    RunResult,
    StdoutCollector,
    Watchdog,
    append_dropped_stderr_line,
    append_stderr_line,
    masked_command,
    write_inputs,
)
from acceptance.runner.spool import MessageSpool
from acceptance.secrets import Masker

# One stdout line may legitimately be a large record; beyond this it is dropped (noted as a LOG) so a
# connector printing an endless line cannot exhaust memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
# Lines are read in pieces of at most this size: an over-long one costs no more memory than the limit.
READ_CHUNK_BYTES = 1024 * 1024
KILL_GRACE_SECONDS = 3.0
EXIT_GRACE_SECONDS = 5.0


class LocalRunner:
    """Runs `command + args` with inputs written to a private temp folder, streaming stdout as messages."""

    backend = "local"

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None = None,
        environment: Mapping[str, str] | None = None,
        masker: Masker | None = None,
    ) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.environment = dict(environment or {})
        self.masker = masker or Masker()

    def describe(self) -> str:
        return f"local process `{self._display(self.command)}`" + (f" in {self.cwd}" if self.cwd else "")

    def _display(self, argv: Sequence[str]) -> str:
        return masked_command(argv, self.masker)

    def run(
        self,
        args: Sequence[str],
        *,
        config: Any = None,
        catalog: Any = None,
        state: Any = None,
        timeout: float | None = None,
    ) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="connector-acceptance-") as workdir:
            write_inputs(Path(workdir), args, {"config": config, "catalog": catalog, "state": state}, 0o600)
            paths = {name: str(Path(workdir) / file) for name, file in INPUT_FILES.items()}
            argv = self.command + [arg.format(**paths) for arg in args]
            shown = self._display(self.command + [a.format(**INPUT_FILES) for a in args])
            return self._execute(argv, shown, timeout)

    def _execute(self, argv: list[str], shown: str, timeout: float | None) -> RunResult:
        spool = MessageSpool()
        stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        started = time.monotonic()
        env = {**os.environ, **self.environment}
        try:
            process = subprocess.Popen(
                argv, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as error:
            spool.append(as_log_line(f"could not start {shown}: {error.strerror or error}", "FATAL"))
            return RunResult(shown, 127, 0.0, spool, [self.masker.mask(str(error))], backend=self.backend)
        collector = StdoutCollector(spool, self.masker, MAX_LINE_BYTES)
        stdout_done = threading.Event()
        watchdog = Watchdog(timeout, lambda: _stop_group(process))
        stderr_reader = threading.Thread(
            target=_drain_stderr, args=(process.stderr, stderr_tail, self.masker), daemon=True
        )
        reaper = threading.Thread(target=_reap_leftovers, args=(process, stdout_done), daemon=True)
        stderr_reader.start()
        reaper.start()
        watchdog.start()
        try:
            assert process.stdout is not None
            _stream_stdout(process.stdout, collector)
            stdout_done.set()
            process.wait()
        finally:
            stdout_done.set()
            watchdog.cancel()
            _kill_group(process)  # children the connector left behind die with it
            stderr_reader.join(timeout=5)
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
        return RunResult(
            command=shown,
            exit_code=None if watchdog.fired.is_set() else process.returncode,
            duration=time.monotonic() - started,
            messages=spool,
            stderr_tail=list(stderr_tail),  # masked line by line as read, before truncation
            timed_out=watchdog.fired.is_set(),
            timeout=timeout,
            backend=self.backend,
            notes=collector.notes,
        )


def _stream_stdout(stdout: IO[bytes], collector: StdoutCollector) -> None:
    """The hot loop of every read: a usual line costs one readline, one parse and one append; a long one (rare)
    is read to its end in pieces, and capped or dropped by the collector."""
    spool, careful = collector.spool, min(MAX_NON_PROTOCOL_CHARS, collector.limit)
    while line := stdout.readline(READ_CHUNK_BYTES):
        if len(line) < careful:
            if (message := parse_line(line)) is not None:
                spool.append(message, line)
            continue
        whole = _complete_line(stdout, line, collector.limit)
        if isinstance(whole, DroppedLine):
            collector.drop(whole)
        elif (message := parse_line(whole)) is not None:
            collector.add(message, whole)


def _complete_line(stream: IO[bytes], first: bytes, limit: int) -> bytes | DroppedLine:
    """The line `first` (a readline of READ_CHUNK_BYTES) starts, newline kept, or a DroppedLine for one of `limit`
    bytes or more (newline aside). The rest is read in pieces: an over-long line costs no more memory than the
    limit."""
    if first.endswith(b"\n") or len(first) < READ_CHUNK_BYTES:  # whole already, or the last line of the stream
        too_long = len(first) - first.endswith(b"\n") >= limit
        return DroppedLine(len(first), first[:DROPPED_HEAD_BYTES]) if too_long else first
    pieces: list[bytes] | None = [first] if len(first) < limit else None  # None: over the limit, only counted
    size, piece = len(first), first
    while not piece.endswith(b"\n"):
        piece = stream.readline(READ_CHUNK_BYTES)
        if not piece:
            break
        size += len(piece)
        if pieces is not None:
            pieces.append(piece)
            if size - piece.endswith(b"\n") >= limit:
                pieces = None
    return b"".join(pieces) if pieces is not None else DroppedLine(size, first[:DROPPED_HEAD_BYTES])


def _drain_stderr(stderr: IO[bytes], tail: deque[str], masker: Masker) -> None:
    while line := stderr.readline(READ_CHUNK_BYTES):
        whole = _complete_line(stderr, line, STDERR_LINE_LIMIT)
        if isinstance(whole, DroppedLine):
            append_dropped_stderr_line(tail, whole, masker)
        else:
            append_stderr_line(tail, whole.decode("utf-8", "replace"), masker)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the connector's whole process group, then SIGKILL after a grace period."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(process, signal.SIGKILL)


def _reap_leftovers(process: subprocess.Popen[bytes], stdout_done: threading.Event) -> None:
    """Once the connector has exited, its output is complete: a child it left holding stdout open gets a short
    grace period to finish writing, then the group is killed so the read ends instead of waiting forever."""
    process.wait()
    if not stdout_done.wait(EXIT_GRACE_SECONDS):
        _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    _signal_group(process, signal.SIGKILL)
    if process.poll() is None:
        process.wait()
