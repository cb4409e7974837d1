"""Setup and teardown around the acceptance suites (loaded automatically as a pytest plugin).

A real local HTTP service holds the data this connector reads: it starts before the first test, the connector
config pointing at it is written to secrets/config.json, and it stops when the session ends."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def notes_service() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(HERE / "data")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("the notes service did not start") from None
            time.sleep(0.05)
    secrets = HERE.parent / "secrets"
    secrets.mkdir(exist_ok=True)
    base_url = f"http://127.0.0.1:{port}"
    (secrets / "config.json").write_text(json.dumps({"base_url": base_url}))
    if os.environ.get("NOTES_SERVICE_PIDFILE"):  # lets this project's tests prove the teardown ran
        Path(os.environ["NOTES_SERVICE_PIDFILE"]).write_text(str(server.pid))
    yield base_url
    server.terminate()
    server.wait(timeout=10)
