"""The Docker backend: the connector runs in a container of its image, through the Docker SDK.

It behaves as the local backend does, from the suites' point of view: the same inputs (written to a private temp
folder, mounted read-only at `/data`), stdout streamed line by line into the same message spool, the same bounded
and masked stderr tail, the same timeout semantics and the same `RunResult`. Every container carries
`CONTAINER_LABEL` and is removed however the run ends (success, failure, timeout, exception, Ctrl-C);
`remove_leftover_containers` cleans up after a process that was killed outright.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container

from acceptance.errors import UserError
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
from acceptance.runner.local import KILL_GRACE_SECONDS, MAX_LINE_BYTES
from acceptance.runner.spool import MessageSpool
from acceptance.secrets import Masker

CONTAINER_LABEL = "io.airbyte.connector-acceptance"
# Who started a container: a leftover is one whose owner process is gone (or that is no longer running).
OWNER_PID_LABEL = f"{CONTAINER_LABEL}.owner-pid"
OWNER_HOST_LABEL = f"{CONTAINER_LABEL}.owner-host"
DATA_DIR = "/data"
DAEMON_ERRORS = (requests.exceptions.ConnectionError, ConnectionError)

__all__ = [
    "CONTAINER_LABEL", "DATA_DIR", "DockerRunner", "ImageNotFoundError", "container_labels", "docker_client",
    "remove_leftover_containers",
]


class ImageNotFoundError(UserError):
    """The connector's image is not in the local Docker engine."""


def docker_client() -> docker.DockerClient:
    """A client for the Docker engine of this machine (`DOCKER_HOST` etc. honoured), or a UserError saying why not."""
    try:
        client = docker.from_env()
        client.ping()
    except (docker.errors.DockerException, *DAEMON_ERRORS) as error:
        raise UserError(
            f"the Docker engine does not answer ({_reason(error)}): start it (e.g. `sudo systemctl start docker`), "
            "check DOCKER_HOST and that you may use its socket, or use the local backend"
        ) from None
    return client


def container_labels() -> dict[str, str]:
    return {CONTAINER_LABEL: "1", OWNER_PID_LABEL: str(os.getpid()), OWNER_HOST_LABEL: socket.gethostname()}


class DockerRunner:
    """Runs `<image entrypoint> + args` in a fresh container, inputs at `/data`, streaming stdout as messages."""

    backend = "docker"

    def __init__(
        self,
        image: str,
        *,
        environment: Mapping[str, str] | None = None,
        masker: Masker | None = None,
        network: bool = True,
        client: docker.DockerClient | None = None,
    ) -> None:
        self.image = image
        self.environment = dict(environment or {})
        self.masker = masker or Masker()
        self.network = network
        self._client = client

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def describe(self) -> str:
        return f"Docker image `{self.masker.mask(self.image)}`" + ("" if self.network else " (no network)")

    def _display(self, argv: Sequence[str]) -> str:
        return masked_command(argv, self.masker)

    # -- what the image declares --------------------------------------------------------------------------------

    def image_config(self) -> dict[str, Any]:
        """The image's `Config` (labels, env, entrypoint...) as the engine reports it."""
        try:
            return self.client.images.get(self.image).attrs.get("Config") or {}
        except docker.errors.ImageNotFound:
            raise ImageNotFoundError(f"Docker image {self.image} not found in the local engine") from None
        except DAEMON_ERRORS as error:
            raise _daemon_error(error) from None

    def image_labels(self) -> dict[str, str]:
        return dict(self.image_config().get("Labels") or {})

    def image_env(self) -> dict[str, str]:
        pairs = (entry.partition("=") for entry in self.image_config().get("Env") or [])
        return {name: value for name, _, value in pairs}

    def image_entrypoint(self) -> list[str] | None:
        entrypoint = self.image_config().get("Entrypoint")
        return [entrypoint] if isinstance(entrypoint, str) else entrypoint

    # -- running ------------------------------------------------------------------------------------------------

    def run(
        self,
        args: Sequence[str],
        *,
        config: Any = None,
        catalog: Any = None,
        state: Any = None,
        timeout: float | None = None,
    ) -> RunResult:
        # The mounted folder sits in a private (0700) one: readable by any user inside the container, by no other
        # user of the host.
        with tempfile.TemporaryDirectory(prefix="connector-acceptance-") as private:
            data = Path(private) / "data"
            data.mkdir(mode=0o755)
            data.chmod(0o755)
            write_inputs(data, args, {"config": config, "catalog": catalog, "state": state}, 0o644)
            paths = {name: f"{DATA_DIR}/{file}" for name, file in INPUT_FILES.items()}
            command = [arg.format(**paths) for arg in args]
            shown = self._display(["docker", "run", self.image, *command])
            return self._execute(command, data, shown, timeout)

    def _execute(self, command: list[str], data: Path, shown: str, timeout: float | None) -> RunResult:
        spool = MessageSpool()
        stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        started = time.monotonic()
        client = self.client
        try:
            container = client.containers.create(
                self.image,
                command=command,
                environment=self.environment,
                labels=container_labels(),
                volumes={str(data): {"bind": DATA_DIR, "mode": "ro"}},
                network_mode="bridge" if self.network else "none",
                init=True,  # a real PID 1: SIGTERM reaches the connector, and its children are reaped
                log_config={"type": "none"},  # output is streamed to us, not also stored by the engine
                stdin_open=False,
                tty=False,
            )
        except docker.errors.ImageNotFound:
            return self._not_started(shown, spool, f"image {self.image} not found in the local Docker engine")
        except docker.errors.APIError as error:
            return self._not_started(shown, spool, _reason(error))
        except DAEMON_ERRORS as error:
            raise _daemon_error(error) from None
        watchdog = Watchdog(timeout, lambda: _stop_container(container))
        collector = StdoutCollector(spool, self.masker, MAX_LINE_BYTES)
        streams: list[Any] = []
        try:
            stdout = client.api.attach(container.id, stdout=True, stderr=False, stream=True, logs=False)
            streams.append(stdout)
            stderr = client.api.attach(container.id, stdout=False, stderr=True, stream=True, logs=False)
            streams.append(stderr)
            stderr_reader = threading.Thread(target=_drain_stderr, args=(stderr, stderr_tail, self.masker),
                                             daemon=True)
            stderr_reader.start()
            try:
                container.start()
            except docker.errors.APIError as error:  # e.g. the entrypoint does not exist in the image
                return self._not_started(shown, spool, _reason(error))
            watchdog.start()
            _stream_stdout(stdout, collector)
            exit_code = int(client.api.wait(container.id, timeout=None).get("StatusCode", -1))
            stderr_reader.join(timeout=5)
        except DAEMON_ERRORS as error:
            raise _daemon_error(error) from None
        finally:
            watchdog.cancel()
            _remove(container)
            for stream in streams:
                _close(stream)
        return RunResult(
            command=shown,
            exit_code=None if watchdog.fired.is_set() else exit_code,
            duration=time.monotonic() - started,
            messages=spool,
            stderr_tail=list(stderr_tail),
            timed_out=watchdog.fired.is_set(),
            timeout=timeout,
            backend=self.backend,
            notes=collector.notes,
        )

    def _not_started(self, shown: str, spool: MessageSpool, reason: str) -> RunResult:
        reason = self.masker.mask(reason)
        spool.append(as_log_line(f"could not start {shown}: {reason}", "FATAL"))
        return RunResult(shown, 127, 0.0, spool, [reason], backend=self.backend)


# -- streams --------------------------------------------------------------------------------------------------------


def _lines(chunks: Iterable[bytes], limit: int) -> Iterator[bytes | DroppedLine]:
    """Cut a stream of chunks into lines (newline kept). A line of `limit` bytes or more (newline aside) is not
    kept: a DroppedLine (its length and first bytes) stands for it, so memory stays bounded by `limit` whatever
    the connector prints."""
    pending = bytearray()
    skipped = 0  # > 0 while inside an over-long line: its bytes so far
    head = b""  # the start of that line
    for chunk in chunks:
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            if end == -1:
                if skipped:
                    skipped += len(chunk) - start
                else:
                    pending += chunk[start:]
                    if len(pending) >= limit:
                        skipped, head, pending = len(pending), bytes(pending[:DROPPED_HEAD_BYTES]), bytearray()
                break
            piece = chunk[start:end + 1]
            start = end + 1
            if skipped:
                yield DroppedLine(skipped + len(piece), head)
                skipped = 0
            elif len(pending) + len(piece) - 1 >= limit:
                start_of_line = (bytes(pending[:DROPPED_HEAD_BYTES]) + piece[:DROPPED_HEAD_BYTES])[:DROPPED_HEAD_BYTES]
                yield DroppedLine(len(pending) + len(piece), start_of_line)
                pending = bytearray()
            else:
                yield bytes(pending) + piece if pending else piece
                pending = bytearray()
    if skipped:
        yield DroppedLine(skipped, head)
    elif pending:
        yield bytes(pending)


def _stream_stdout(chunks: Iterable[bytes], collector: StdoutCollector) -> None:
    spool = collector.spool
    for line in _lines(chunks, collector.limit):
        if isinstance(line, DroppedLine):
            collector.drop(line)
        elif (message := parse_line(line)) is not None:
            if len(line) < MAX_NON_PROTOCOL_CHARS:  # the usual line: straight to the spool
                spool.append(message, line)
            else:
                collector.add(message, line)


def _drain_stderr(chunks: Iterable[bytes], tail: deque[str], masker: Masker) -> None:
    try:
        for line in _lines(chunks, STDERR_LINE_LIMIT):
            if isinstance(line, DroppedLine):
                append_dropped_stderr_line(tail, line, masker)
            else:
                append_stderr_line(tail, line.decode("utf-8", "replace"), masker)
    except Exception:  # the stream ends with the container; a broken one only shortens the tail
        return


def _stop_container(container: Container) -> None:
    """SIGTERM, then SIGKILL after a grace period (as the local backend); a container already gone is fine."""
    try:
        container.stop(timeout=max(1, round(KILL_GRACE_SECONDS)))
    except Exception:  # already gone; the run's own cleanup removes it anyway
        try:
            container.kill()
        except Exception:
            pass


def _remove(container: Container) -> None:
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as error:
        if "already in progress" not in str(error):
            raise
    except DAEMON_ERRORS as error:
        raise _daemon_error(error) from None


def _close(stream: Any) -> None:
    try:
        stream.close()
    except Exception:  # closing a stream the engine already ended
        pass


# -- leftovers ------------------------------------------------------------------------------------------------------


def remove_leftover_containers(client: docker.DockerClient, *, include_active: bool = False) -> int:
    """Remove the containers this tool left behind; return how many.

    A leftover is one of ours whose owner process (on this host) is gone: a session killed before it could clean
    up. Containers of live sessions are theirs to remove, so they are spared unless `include_active`; those of
    another host (a shared engine) or without an owner are judged by their state (no longer running)."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": CONTAINER_LABEL}):
        if include_active or is_leftover(container):
            _remove(container)
            removed += 1
    return removed


def is_leftover(container: Container) -> bool:
    """One of ours whose owner process (on this host) is gone, or, without a live owner, no longer running."""
    labels = container.labels or {}
    if labels.get(OWNER_HOST_LABEL) == socket.gethostname() and labels.get(OWNER_PID_LABEL, "").isdigit():
        return not _process_alive(int(labels[OWNER_PID_LABEL]))
    return container.status not in ("running", "restarting", "created")


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _reason(error: BaseException) -> str:
    if isinstance(error, docker.errors.APIError) and error.explanation:
        return str(error.explanation)
    return str(error) or type(error).__name__


def _daemon_error(error: BaseException) -> UserError:
    return UserError(f"lost the Docker engine while running a connector ({_reason(error)})")
