"""The client (setup/teardown) container of a suite entry's `client_container_config` (reference §1.8).

Some connectors need the world prepared before a test: a service seeded, a config or catalog generated. Upstream
runs commands in a "client container" built from a Dockerfile the connector ships, around each test:

- the image is built from `client_container_dockerfile_path` (build context: that file's folder) and tagged
  `connector-acceptance-client:<hash of that folder>`, so it is built once per content and reused after;
- each command runs in a fresh container of that image, as the container's command: an image `ENTRYPOINT` is kept
  and the command becomes its arguments, as upstream's newer (dagger) runner does. A Dockerfile with
  `ENTRYPOINT ["python", "/client.py"]` takes `setup_command: ["setup"]`; one without an entrypoint takes the full
  argv (`["python", "/client.py", "setup"]`);
- the connector folder is copied to `/connector` (without `EXCLUDED`), the JSON at `secrets_path` (when set) to
  `/tmp/config.json`, `CACHEBUSTER` is set to a fresh uuid, and the network is on (the bridge network: setup
  usually talks to a service);
- after the setup command, the container's `/connector/integration_tests` is copied back to the connector's
  `integration_tests/` (files are added or overwritten, never deleted): that is how setup generates configs and
  catalogs. The other commands change nothing on the host, as upstream.

The files go in and out as archives (`docker cp`), not through a bind mount: the host folder is never writable by
the container, files it creates come back owned by the user running the tests (not by the container's root), and
it works the same with a remote engine (`DOCKER_HOST`). A command that exits non-zero, or does not finish in time,
raises `ClientContainerError` naming the command, its exit code and its last output lines (masked). Every container
carries the runner's labels (plus `CLIENT_ROLE_LABEL`) and is removed however the command ends.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import logging
import os
import tarfile
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from acceptance.config.models import ClientContainerConfig
from acceptance.errors import InputFileError, UserError
from acceptance.runner.base import display_command
from acceptance.secrets import Masker, secret_values

if TYPE_CHECKING:  # the Docker SDK is only imported when a client container is configured
    import docker
    from docker.models.containers import Container

IMAGE_REPOSITORY = "connector-acceptance-client"
CONNECTOR_DIR = "/connector"
INTEGRATION_TESTS = "integration_tests"
SECRETS_IN_CONTAINER = "/tmp/config.json"
# Left out of the copy of the connector folder, at any depth (upstream's list).
EXCLUDED = (".git", "build", ".venv", "__pycache__", "*.egg-info", ".vscode", ".pytest_cache", ".eggs",
            ".mypy_cache", ".DS_Store", ".gradle")
CLIENT_ROLE_LABEL = "io.airbyte.connector-acceptance.role"
CLIENT_ROLE = "client-container"
OUTPUT_TAIL_LINES = 25
MAX_OUTPUT_LINE_CHARS = 500
MAX_PENDING_BYTES = 64 * 1024
COMMANDS = ("setup_command", "teardown_command", "between_syncs_command", "final_teardown_command")

log = logging.getLogger(__name__)

__all__ = ["CLIENT_ROLE_LABEL", "ClientContainer", "ClientContainerError", "ClientContainers", "EXCLUDED",
           "context_digest"]


class ClientContainerError(UserError):
    """A client container command failed (non-zero exit, timeout), or its image could not be built."""


class ClientContainer:
    """Builds the client image of one `client_container_config` (once) and runs its commands."""

    def __init__(self, config: ClientContainerConfig, base_path: Path, masker: Masker,
                 client: docker.DockerClient | None = None, *, where: str = "client_container_config") -> None:
        self.config = config
        self.base_path = Path(base_path)
        self.masker = masker
        self.where = where  # the config key, for messages (e.g. acceptance_tests.basic_read.tests[0]....)
        self._client = client
        self._image: str | None = None
        self._secrets: bytes | None = None

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            from acceptance.runner.docker import docker_client

            self._client = docker_client()
        return self._client

    # -- the commands -------------------------------------------------------------------------------------------

    def setup(self, timeout: float | None = None) -> None:
        """`setup_command`, then copy the container's integration_tests back to the host (no-op when unset)."""
        if self.config.setup_command:
            self.run(self.config.setup_command, "setup_command", timeout=timeout, copy_back=True)

    def teardown(self, timeout: float | None = None) -> None:
        if self.config.teardown_command:
            self.run(self.config.teardown_command, "teardown_command", timeout=timeout)

    def between_syncs(self, timeout: float | None = None) -> None:
        if self.config.between_syncs_command:
            self.run(self.config.between_syncs_command, "between_syncs_command", timeout=timeout)

    def final_teardown(self, timeout: float | None = None) -> None:
        if self.config.final_teardown_command:
            self.run(self.config.final_teardown_command, "final_teardown_command", timeout=timeout)

    def run(self, command: list[str], what: str, *, timeout: float | None = None, copy_back: bool = False) -> None:
        """Run `command` in a fresh container of the client image; raise ClientContainerError unless it exits 0.

        `what` names the command in messages (e.g. "setup_command"). With `copy_back`, the container's
        `/connector/integration_tests` is copied to the host's `integration_tests/` after a successful run."""
        import docker.errors

        from acceptance.runner.docker import container_labels

        image = self.image()
        shown = self._display(command)
        log.info("client container: running %s `%s` (image %s)", what, shown, image)
        started = time.monotonic()
        client = self.client
        container: Container | None = None
        output: _OutputTail | None = None
        try:
            with tempfile.TemporaryFile() as archive:
                self._write_inputs(archive)
                archive.seek(0)
                container = client.containers.create(
                    image,
                    command=list(command),
                    environment={"CACHEBUSTER": str(uuid.uuid4())},
                    labels={**container_labels(), CLIENT_ROLE_LABEL: CLIENT_ROLE},
                    network_mode="bridge",
                    init=True,  # a real PID 1: the command's children are reaped, a stop reaches it
                    log_config={"type": "none"},  # output is streamed to us, not also stored by the engine
                    stdin_open=False,
                    tty=False,
                )
                if not container.put_archive("/", archive):
                    raise self._error(what, shown, "could not copy the connector folder into the container")
            output = _OutputTail(client.api.attach(container.id, stdout=True, stderr=True, stream=True, logs=False),
                                 self.masker)
            container.start()
            exit_code, timed_out = self._wait(container, timeout)
            lines = output.lines()
            if timed_out:
                raise self._error(what, shown, f"did not finish within {timeout:.0f}s", lines)
            if exit_code != 0:
                raise self._error(what, shown, f"failed with exit code {exit_code}", lines)
            if copy_back:
                self._copy_back(container)
            log.info("client container: %s `%s` finished (exit 0, %.1fs)%s", what, shown, time.monotonic() - started,
                     "".join(f"\n  {line}" for line in lines))
        except docker.errors.ImageNotFound as error:
            raise self._error(what, shown, f"image {image} is gone from the engine ({_reason(error)})") from None
        except docker.errors.APIError as error:
            raise self._error(what, shown, f"the Docker engine refused it ({_reason(error)})") from None
        except _daemon_errors() as error:
            raise self._error(what, shown, f"lost the Docker engine ({_reason(error)})") from None
        finally:
            if output is not None:
                output.close()
            if container is not None:
                _remove(container)

    # -- the image ----------------------------------------------------------------------------------------------

    def dockerfile(self) -> Path:
        key = f"{self.where}.client_container_dockerfile_path"
        if not self.config.client_container_dockerfile_path:
            raise ClientContainerError(f"{key} is not set: it names the Dockerfile of the client container that "
                                       "runs the configured commands")
        path = Path(self.config.client_container_dockerfile_path)
        path = path if path.is_absolute() else self.base_path / path
        if not path.is_file():
            raise InputFileError(path, "file not found" if not path.exists() else "not a file", key)
        return path

    def image(self) -> str:
        """The client image's tag, built from the Dockerfile unless an image of the same folder content exists."""
        if self._image is not None:
            return self._image
        import docker.errors

        dockerfile = self.dockerfile()
        context = dockerfile.parent
        tag = f"{IMAGE_REPOSITORY}:{context_digest(context, dockerfile.name)}"
        client = self.client
        try:
            client.images.get(tag)
        except docker.errors.ImageNotFound:
            log.info("client container: building %s from %s", tag, dockerfile)
            started = time.monotonic()
            try:
                client.images.build(path=str(context), dockerfile=dockerfile.name, tag=tag, rm=True, forcerm=True,
                                    labels={CLIENT_ROLE_LABEL: CLIENT_ROLE})
            except docker.errors.BuildError as error:
                lines = [str(chunk.get("stream") or chunk.get("error") or "").rstrip() for chunk in error.build_log]
                tail = [line for line in "\n".join(lines).splitlines() if line.strip()][-OUTPUT_TAIL_LINES:]
                raise ClientContainerError(self.masker.mask(
                    f"building the client container image from {dockerfile} ({self.where}) failed: {error.msg}"
                    + "".join(f"\n  {line}" for line in tail))) from None
            except docker.errors.APIError as error:
                raise ClientContainerError(self.masker.mask(
                    f"building the client container image from {dockerfile} ({self.where}) failed: "
                    f"{_reason(error)}")) from None
            log.info("client container: built %s in %.1fs", tag, time.monotonic() - started)
        except _daemon_errors() as error:
            raise ClientContainerError(f"lost the Docker engine while looking for {tag} ({_reason(error)})") from None
        self._image = tag
        return tag

    # -- files in and out ---------------------------------------------------------------------------------------

    def secrets(self) -> bytes | None:
        """The JSON at `secrets_path` (None when unset); its obviously secret values are masked from here on."""
        if not self.config.secrets_path:
            return None
        if self._secrets is None:
            key = f"{self.where}.secrets_path"
            path = Path(self.config.secrets_path)
            path = path if path.is_absolute() else self.base_path / path
            try:
                data = path.read_bytes()
                document = json.loads(data)
            except FileNotFoundError:
                raise InputFileError(path, "file not found", key) from None
            except OSError as error:
                raise InputFileError(path, f"cannot be read ({error.strerror})", key) from None
            except ValueError as error:
                raise InputFileError(path, f"not valid JSON ({error})", key) from None
            self.masker.add(secret_values({}, document))
            self._secrets = data
        return self._secrets

    def _write_inputs(self, archive: IO[bytes]) -> None:
        """A tar, extracted at `/`: the connector folder as `connector/…`, the secrets as `tmp/config.json`."""
        secrets = self.secrets()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            tar.add(self.base_path, arcname=CONNECTOR_DIR.lstrip("/"), filter=_included)
            if secrets is not None:
                info = tarfile.TarInfo(SECRETS_IN_CONTAINER.lstrip("/"))
                info.size, info.mode, info.mtime = len(secrets), 0o644, int(time.time())
                tar.addfile(info, io.BytesIO(secrets))

    def _copy_back(self, container: Container) -> None:
        import docker.errors

        try:
            stream, _ = container.get_archive(f"{CONNECTOR_DIR}/{INTEGRATION_TESTS}")
        except docker.errors.NotFound:
            return  # the setup removed it (or the connector has none): nothing to bring back
        with tempfile.TemporaryFile() as archive:
            for chunk in stream:
                archive.write(chunk)
            archive.seek(0)
            with tarfile.open(fileobj=archive, mode="r") as tar:
                members = [m for m in tar.getmembers()
                           if m.name == INTEGRATION_TESTS or m.name.startswith(INTEGRATION_TESTS + "/")]
                tar.extractall(self.base_path, members=members, filter=_as_host_user)

    # -- helpers ------------------------------------------------------------------------------------------------

    @staticmethod
    def _wait(container: Container, timeout: float | None) -> tuple[int, bool]:
        """The exit code, and whether the container was killed for running past `timeout`."""
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            try:
                container.kill()
            except Exception:  # it ended meanwhile
                pass

        timer = threading.Timer(timeout, kill) if timeout is not None else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            exit_code = int(container.wait().get("StatusCode", -1))
        finally:
            if timer is not None:
                timer.cancel()
        return exit_code, fired.is_set()

    def _display(self, command: list[str]) -> str:
        return self.masker.mask(display_command([self.masker.mask(arg) for arg in command]))

    def _error(self, what: str, shown: str, problem: str, output: list[str] | None = None) -> ClientContainerError:
        message = f"client container {what} `{shown}` ({self.where}) {problem}"
        if output is not None:
            message += (f"; its last {len(output)} output lines:" + "".join(f"\n  {line}" for line in output)
                        if output else "; it printed nothing")
        return ClientContainerError(self.masker.mask(message))


class _OutputTail:
    """The last lines a container prints (stdout and stderr, as they come), read from its attached stream by a
    thread; memory stays bounded whatever it prints."""

    def __init__(self, stream: Any, masker: Masker) -> None:
        self._stream = stream
        self._masker = masker
        self._tail: deque[str] = deque(maxlen=OUTPUT_TAIL_LINES)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        pending = bytearray()
        skipping = False  # inside a line longer than MAX_PENDING_BYTES: its start is kept, the rest dropped
        try:
            for chunk in self._stream:
                pending += chunk
                while (cut := pending.find(b"\n")) != -1:
                    if not skipping:
                        self._keep(bytes(pending[:cut]))
                    skipping = False
                    del pending[:cut + 1]
                if len(pending) > MAX_PENDING_BYTES:
                    if not skipping:
                        self._keep(bytes(pending[:MAX_PENDING_BYTES]))
                    skipping = True
                    pending.clear()
        except Exception:  # the stream ends with the container; a broken one only shortens the tail
            pass
        if pending and not skipping:
            self._keep(bytes(pending))

    def _keep(self, raw: bytes) -> None:
        self._tail.append(raw.decode("utf-8", "replace").rstrip("\r"))

    def lines(self, wait: float = 10.0) -> list[str]:
        """The tail, once the stream has ended (the container has exited): masked, then shortened."""
        self._thread.join(wait)
        masked = (self._masker.mask(line.rstrip()) for line in list(self._tail))
        return [text if len(text) <= MAX_OUTPUT_LINE_CHARS else text[:MAX_OUTPUT_LINE_CHARS] + "…" for text in masked]

    def close(self) -> None:
        try:
            self._stream.close()
        except Exception:  # already closed by the engine
            pass


class ClientContainers:
    """One ClientContainer per distinct config in a session, so each image is looked up (or built) once."""

    def __init__(self, base_path: Path, masker: Masker, client: docker.DockerClient | None = None) -> None:
        self.base_path = base_path
        self.masker = masker
        self.client = client
        self._made: dict[str, ClientContainer] = {}

    def get(self, config: ClientContainerConfig, where: str = "client_container_config") -> ClientContainer:
        key = config.model_dump_json()
        if key not in self._made:
            self._made[key] = ClientContainer(config, self.base_path, self.masker, self.client, where=where)
        return self._made[key]


def context_digest(folder: Path, dockerfile: str) -> str:
    """A hash of the build context (names, executable bits and contents, minus EXCLUDED) and the Dockerfile name."""
    h = hashlib.sha256(dockerfile.encode() + b"\0")
    for path in sorted(_walk(folder)):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink():
            h.update(f"L{relative}\0{os.readlink(path)}\0".encode())
        elif path.is_file():
            h.update(f"F{relative}\0{os.access(path, os.X_OK)}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not _excluded(d)]
        for name in files:
            if not _excluded(name):
                yield Path(root) / name


def _excluded(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in EXCLUDED)


def _included(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if _excluded(info.name.rsplit("/", 1)[-1]):
        return None  # excluded folders are not descended into
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _as_host_user(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo | None:
    """The safe `data` extraction filter (no absolute paths, no links leaving the folder, no devices); files are
    created by and for the user running the tests, whoever owned them in the container."""
    member = tarfile.data_filter(member, destination)
    return member.replace(uid=None, gid=None, uname=None, gname=None, deep=False)


def _remove(container: Container) -> None:
    import docker.errors

    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as error:
        if "already in progress" not in str(error):
            log.warning("client container: could not remove %s: %s", container.short_id, _reason(error))
    except _daemon_errors() as error:
        log.warning("client container: could not remove %s: %s", container.short_id, _reason(error))


def _daemon_errors() -> tuple[type[BaseException], ...]:
    from acceptance.runner.docker import DAEMON_ERRORS

    return DAEMON_ERRORS


def _reason(error: BaseException) -> str:
    explanation = getattr(error, "explanation", None)
    return str(explanation) if explanation else str(error) or type(error).__name__
