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

from acceptance.protocol import as_log_line, parse_line
from acceptance.runner.base import (
    INPUT_FILES,
    STDERR_TAIL_LINES,
    RunResult,
    Watchdog,
    append_stderr_line,
    masked_command,
    write_inputs,
)
from acceptance.runner.spool import MessageSpool
from acceptance.secrets import Masker

# One stdout line may legitimately be a large record; beyond this it is dropped (noted as a LOG) so a
# connector printing an endless line cannot exhaust memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
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
            _stream_stdout(process.stdout, spool)
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
        )


def _stream_stdout(stdout: IO[bytes], spool: MessageSpool) -> None:
    while True:
        line = stdout.readline(MAX_LINE_BYTES)
        if not line:
            return
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            skipped = len(line) + _skip_rest_of_line(stdout)
            spool.append(as_log_line(f"connector printed a line of {skipped} bytes; dropped (limit {MAX_LINE_BYTES})",
                                     "WARN"))
            continue
        message = parse_line(line)
        if message is not None:
            spool.append(message, line)


def _skip_rest_of_line(stdout: IO[bytes]) -> int:
    skipped = 0
    while True:
        chunk = stdout.readline(MAX_LINE_BYTES)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _drain_stderr(stderr: IO[bytes], tail: deque[str], masker: Masker) -> None:
    for raw in iter(lambda: stderr.readline(MAX_LINE_BYTES), b""):
        append_stderr_line(tail, raw.decode("utf-8", "replace"), masker)


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
