"""A real Docker distribution registry on loopback, for tests that push and pull images.

Debian's `docker-registry` package is the upstream distribution registry (v2 API). It is installed with apt-get when
missing (as root; serialised by a file lock, since test workers may ask at the same time), then run as a background
process of this test session with its own config file: storage in a temporary folder, listening on
`127.0.0.1:<free port>`. Docker allows plain HTTP to loopback registries (127.0.0.0/8 is an insecure registry by
default), so `127.0.0.1:<port>/…` and `localhost:<port>/…` can be pushed and pulled without daemon configuration.

    with LocalRegistry(tmp_dir) as registry:
        registry.host          # "127.0.0.1:40123", the prefix for image names

Anything that prevents it (not root, no apt, no network for apt) raises `RegistryUnavailable` with a reason for
`pytest.skip`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from filelock import FileLock

PACKAGE = "docker-registry"
BINARY = "docker-registry"
INSTALL_TIMEOUT_SECONDS = 600
START_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 5

CONFIG_TEMPLATE = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


class RegistryUnavailable(Exception):
    """The registry cannot be installed or started here; the message says why."""


def registry_binary() -> Path | None:
    found = shutil.which(BINARY) or (f"/usr/bin/{BINARY}" if os.access(f"/usr/bin/{BINARY}", os.X_OK) else None)
    return Path(found) if found else None


def ensure_registry_installed() -> Path:
    """The `docker-registry` binary, installed from Debian's package when missing."""
    binary = registry_binary()
    if binary:
        return binary
    if os.geteuid() != 0:
        raise RegistryUnavailable(f"the {PACKAGE} package is not installed and installing it needs root "
                                  f"(apt-get install -y {PACKAGE})")
    if not shutil.which("apt-get"):
        raise RegistryUnavailable(f"the {PACKAGE} package is not installed and there is no apt-get to install it")
    with FileLock(Path(tempfile.gettempdir()) / "connector-acceptance-docker-registry-install.lock"):
        binary = registry_binary()  # another worker may have installed it while this one waited
        if binary:
            return binary
        # The package's postinst would start a system service on :5000 where init scripts are allowed to run;
        # policy-rc.d (present in Debian container images) forbids it, and our own process is started below anyway.
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        outputs = []
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", PACKAGE]):
            try:
                done = subprocess.run(command, env=env, capture_output=True, text=True,
                                      timeout=INSTALL_TIMEOUT_SECONDS, check=False)
            except subprocess.TimeoutExpired:
                what = " ".join(command)
                raise RegistryUnavailable(f"`{what}` did not finish in {INSTALL_TIMEOUT_SECONDS}s") from None
            outputs.append(done.stdout + done.stderr)
            if done.returncode != 0 and command[1] == "install":
                break
        binary = registry_binary()  # dpkg may fail to configure the service and still have unpacked the binary
        if not binary:
            tail = "\n".join("\n".join(outputs).strip().splitlines()[-8:])
            raise RegistryUnavailable(f"could not install the {PACKAGE} package with apt-get:\n{tail}")
        return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalRegistry:
    """One `docker-registry serve` process of this session, on 127.0.0.1; `stop()` kills it (also at exit)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def host(self) -> str:
        """The image-name prefix: `127.0.0.1:<port>`."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}/v2/"

    @property
    def log_file(self) -> Path:
        return self.workdir / "registry.log"

    def start(self) -> LocalRegistry:
        binary = ensure_registry_installed()
        started = time.monotonic()
        storage = self.workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        last_problem = ""
        for _attempt in range(3):  # a free port can be taken between free_port() and the registry's bind
            self.port = free_port()
            config = self.workdir / "config.yml"
            config.write_text(CONFIG_TEMPLATE.format(storage=storage, port=self.port))
            with self.log_file.open("ab") as log:
                self.process = subprocess.Popen([str(binary), "serve", str(config)], stdout=log,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True)
            atexit.register(self.stop)
            last_problem = self._wait_until_ready()
            if not last_problem:
                self.startup_seconds = time.monotonic() - started
                return self
            self.stop()
        raise RegistryUnavailable(f"the registry did not start: {last_problem}")

    def _wait_until_ready(self) -> str:
        """'' once `GET /v2/` answers, else what went wrong."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"it exited with code {self.process.returncode}: {self._log_tail()}"
            try:
                with urllib.request.urlopen(self.url, timeout=1) as response:
                    if response.status == 200:
                        return ""
            except urllib.error.HTTPError as error:
                return f"GET {self.url} answered {error.code}"
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        return f"GET {self.url} did not answer within {START_TIMEOUT_SECONDS}s: {self._log_tail()}"

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log_file.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the process (its whole session), kill it if it lingers, and reap it. Idempotent."""
        process, self.process = self.process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=STOP_TIMEOUT_SECONDS)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
