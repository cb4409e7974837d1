"""The Docker runner on the real engine, driven by a tiny stdlib connector image built FROM the local base image.

The base image is made by `build_base_image` when missing (about two minutes, once per machine); the test image
takes a few seconds and is reused while the connector script is unchanged.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator

import docker
import docker.errors
import pytest

from acceptance.errors import UserError
from acceptance.protocol.messages import is_non_protocol
from acceptance.runner import docker as docker_runner
from acceptance.runner.base import MAX_STDERR_LINE_CHARS, STDERR_TAIL_LINES, RunResult
from acceptance.runner.docker import CONTAINER_LABEL, DockerRunner, remove_leftover_containers
from acceptance.secrets import MASK, Masker

BASE_IMAGE = "airbyte/python-connector-base:local"
TEST_REPOSITORY = "connector-acceptance-test/docker-runner"

# The connector: its behaviour is chosen by the MODE environment variable; the protocol args come as argv.
CONNECTOR = r'''
import errno, json, os, socket, sys, time

mode, args = os.environ.get("MODE", "messages"), sys.argv[1:]


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def record(data):
    emit({"type": "RECORD", "record": {"stream": "s", "data": data, "emitted_at": 0}})


if mode == "messages":
    emit({"type": "SPEC", "spec": {"connectionSpecification": {}}})
    sys.stdout.write("\n   \nplain text, not JSON\n")
    sys.stdout.write('{"type": "RECORD", broken\n')
    record({"id": 1, "name": "caf\u00e9"})
    emit({"type": "STATE", "state": {"data": {"cursor": 1}}})
    sys.stdout.write(json.dumps({"type": "RECORD", "record": {"stream": "s", "data": {"id": 2}, "emitted_at": 0}}))
    sys.exit(3)
elif mode == "echo":
    files = {}
    for flag, path in zip(args, args[1:]):
        if flag in ("--config", "--catalog", "--state"):
            with open(path) as handle:
                files[flag] = {"path": path, "content": json.load(handle)}
    try:
        with open("/data/config.json", "w") as handle:
            handle.write("{}")
        write = "written"
    except OSError as error:
        write = errno.errorcode.get(error.errno, str(error.errno))
    record({"args": args, "files": files, "write": write, "env": os.environ.get("MY_VAR"),
            "uid": os.getuid(), "listing": sorted(os.listdir("/data"))})
elif mode == "stderr":
    for i in range(200):
        sys.stderr.write(f"line {i}\n")
    sys.stderr.write("token is " + os.environ["THE_SECRET"] + "\n")
    sys.stderr.write("a" * 1995 + os.environ["THE_SECRET"] + "\n")
    sys.stderr.write("x" * 5000 + "\n")
    sys.stderr.flush()
    sys.exit(1)
elif mode == "sleep":
    record({"started": True})
    time.sleep(3600)
elif mode == "network":
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=3).close()
        outcome = "connected"
    except OSError as error:
        outcome = errno.errorcode.get(error.errno, str(error)) if error.errno else type(error).__name__
    record({"outcome": outcome})
elif mode == "longline":
    record({"id": "before"})
    sys.stdout.write("y" * 5000 + "\n")
    record({"id": "after"})
    sys.stdout.write("z" * 3000)
elif mode == "many":
    for i in range(int(args[0])):
        record({"id": i, "padding": "p" * 100})
'''

DOCKERFILE = f"FROM {BASE_IMAGE}\nCOPY main.py /airbyte/integration_code/main.py\n"


@pytest.fixture(scope="module")
def client(docker_engine: docker.DockerClient) -> docker.DockerClient:
    return docker_engine


@pytest.fixture(scope="module")
def image(client: docker.DockerClient) -> str:
    from tasks.builder.base_image import DEFAULT_TAGS, build_base_image

    try:
        base_id = build_base_image(DEFAULT_TAGS, say=lambda _: None)  # reused when present
    except UserError as error:
        pytest.skip(f"no base image and it cannot be built here: {error}")
    digest = hashlib.sha256((base_id + DOCKERFILE + CONNECTOR).encode()).hexdigest()[:12]
    tag = f"{TEST_REPOSITORY}:{digest}"
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            for name, text in (("Dockerfile", DOCKERFILE), ("main.py", CONNECTOR)):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        context.seek(0)
        client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True,
                            network_mode="none")
        for stale in client.images.list(name=TEST_REPOSITORY):  # built from an older script or base image
            if tag not in stale.tags:
                try:
                    client.images.remove(stale.id, force=True)
                except docker.errors.APIError:
                    pass
    return tag


def ours(client: docker.DockerClient, image: str) -> list[object]:
    """Containers of this module's image that carry our label, running or not."""
    return client.containers.list(all=True, filters={"label": CONTAINER_LABEL, "ancestor": image})


@pytest.fixture
def no_leftovers(client: docker.DockerClient, image: str) -> Iterator[None]:
    yield
    assert ours(client, image) == [], "a container was left behind"


def runner_for(client: docker.DockerClient, image: str, mode: str, **kwargs: object) -> DockerRunner:
    environment = {"MODE": mode, **kwargs.pop("environment", {})}  # type: ignore[dict-item]
    return DockerRunner(image, environment=environment, client=client, **kwargs)  # type: ignore[arg-type]


def records(result: RunResult) -> list[dict]:
    return [m["record"]["data"] for m in result.of_type("RECORD")]


# -- streaming, inputs, environment, exit codes ---------------------------------------------------------------------


def test_messages_are_parsed_in_order_and_other_lines_kept_as_logs(
    client: docker.DockerClient, image: str, no_leftovers: None
) -> None:
    result = runner_for(client, image, "messages").run(["spec"])
    assert result.backend == "docker"
    assert result.exit_code == 3 and not result.succeeded and not result.timed_out
    kinds = [(m["type"], is_non_protocol(m)) for m in result.messages]
    assert kinds == [("SPEC", False), ("LOG", True), ("LOG", True), ("RECORD", False), ("STATE", False),
                     ("RECORD", False)]
    logs = [m["log"]["message"] for m in result.of_type("LOG")]
    assert logs == ["plain text, not JSON", '{"type": "RECORD", broken']
    assert records(result) == [{"id": 1, "name": "café"}, {"id": 2}]  # the last line had no newline
    assert result.command == f"docker run {image} spec"
    assert "exited with code 3" in result.describe_failure()
    assert result.duration > 0


def test_inputs_are_mounted_read_only_at_data_and_env_is_passed(
    client: docker.DockerClient, image: str, no_leftovers: None
) -> None:
    config, catalog = {"api_key": "k", "n": 12345678901234567890123}, {"streams": []}
    runner = runner_for(client, image, "echo", environment={"MY_VAR": "hello"})
    result = runner.run(["read", "--config", "{config}", "--catalog", "{catalog}"], config=config, catalog=catalog)
    assert result.succeeded, result.describe_failure()
    (data,) = records(result)
    assert data["args"] == ["read", "--config", "/data/config.json", "--catalog", "/data/catalog.json"]
    assert data["files"]["--config"] == {"path": "/data/config.json", "content": config}
    assert data["files"]["--catalog"]["content"] == catalog
    assert data["listing"] == ["catalog.json", "config.json"]  # only the inputs this command uses
    assert data["write"] == "EROFS"
    assert data["env"] == "hello"
    assert result.command == f"docker run {image} read --config /data/config.json --catalog /data/catalog.json"


def test_stderr_tail_is_bounded_truncated_and_masked(
    client: docker.DockerClient, image: str, no_leftovers: None
) -> None:
    secret = "s3cr3t-value"
    runner = runner_for(client, image, "stderr", environment={"THE_SECRET": secret}, masker=Masker({secret}))
    result = runner.run(["check", "--config", "{config}"], config={"token": secret})
    assert result.exit_code == 1
    assert len(result.stderr_tail) == STDERR_TAIL_LINES
    assert result.stderr_tail[-1] == "x" * MAX_STDERR_LINE_CHARS + "…"
    assert f"token is {MASK}" in result.stderr_tail
    assert all(secret not in line and "s3cr3t" not in line for line in result.stderr_tail)
    assert secret not in result.describe_failure()
    assert "line 199" in result.stderr_tail


def test_displayed_command_and_description_are_masked(
    client: docker.DockerClient, image: str, no_leftovers: None
) -> None:
    runner = runner_for(client, image, "echo", masker=Masker({"check"}))
    result = runner.run(["check", "--config", "{config}"], config={})
    assert "check" not in result.command and MASK in result.command
    assert image in runner.describe()


def test_network_false_leaves_the_connector_without_network(
    client: docker.DockerClient, image: str, no_leftovers: None
) -> None:
    result = runner_for(client, image, "network", network=False).run(["check"], timeout=30)
    assert result.succeeded, result.describe_failure()
    assert records(result) == [{"outcome": "ENETUNREACH"}]
    assert "no network" in runner_for(client, image, "network", network=False).describe()


def test_over_long_lines_are_dropped_with_a_warning(
    client: docker.DockerClient, image: str, monkeypatch: pytest.MonkeyPatch, no_leftovers: None
) -> None:
    monkeypatch.setattr(docker_runner, "MAX_LINE_BYTES", 1000)
    result = runner_for(client, image, "longline").run(["read"])
    assert result.succeeded
    assert records(result) == [{"id": "before"}, {"id": "after"}]
    warnings = [m["log"]["message"] for m in result.of_type("LOG") if m["log"]["level"] == "WARN"]
    assert warnings == ["connector printed a line of 5001 bytes; dropped (limit 1000)",
                        "connector printed a line of 3000 bytes; dropped (limit 1000)"]


def test_many_records_stream_through(client: docker.DockerClient, image: str, no_leftovers: None) -> None:
    result = runner_for(client, image, "many").run(["20000"])
    assert result.succeeded
    assert result.messages.counts["RECORD"] == 20000
    assert [r["id"] for r in records(result)] == list(range(20000))


# -- failures: timeout, exceptions, missing image ---------------------------------------------------------------------


def test_timeout_kills_the_container_and_marks_the_result(
    client: docker.DockerClient, image: str, no_leftovers: None
) -> None:
    started = time.monotonic()
    result = runner_for(client, image, "sleep").run(["read", "--config", "{config}"], config={}, timeout=1.0)
    elapsed = time.monotonic() - started
    assert result.timed_out and result.exit_code is None and not result.succeeded
    assert result.timeout == 1.0
    assert elapsed < 1.0 + docker_runner.KILL_GRACE_SECONDS + 5
    assert records(result) == [{"started": True}]  # what came before the kill is kept
    text = result.describe_failure()
    assert result.command in text and "read" in text and "timeout of 1s" in text


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_container_is_removed_when_the_streaming_loop_raises(
    client: docker.DockerClient, image: str, monkeypatch: pytest.MonkeyPatch, no_leftovers: None,
    error: BaseException
) -> None:
    def explode(_line: bytes) -> None:
        raise error

    monkeypatch.setattr(docker_runner, "parse_line", explode)
    with pytest.raises(type(error)):
        runner_for(client, image, "sleep").run(["read"], timeout=60)


def test_ctrl_c_removes_the_container(client: docker.DockerClient, image: str, no_leftovers: None) -> None:
    """A real SIGINT to a process blocked reading the container's output: it stops and leaves nothing behind."""
    script = (
        "import sys\n"
        "from acceptance.runner.docker import DockerRunner\n"
        "try:\n"
        f"    DockerRunner({image!r}, environment={{'MODE': 'sleep'}}).run(['read'], timeout=120)\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen([sys.executable, "-c", script], cwd=root)
    try:
        deadline = time.monotonic() + 30
        mine = {"label": f"{docker_runner.OWNER_PID_LABEL}={child.pid}", "status": "running"}
        while not client.containers.list(filters=mine):
            assert child.poll() is None and time.monotonic() < deadline, "the connector container never ran"
            time.sleep(0.1)
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 130
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_missing_image_gives_a_fatal_result_not_an_exception(client: docker.DockerClient) -> None:
    missing = "connector-acceptance-test/no-such-image:never"
    result = DockerRunner(missing, client=client).run(["spec"])
    assert result.exit_code == 127 and not result.succeeded and not result.timed_out
    (fatal,) = list(result.messages)
    assert fatal["log"]["level"] == "FATAL" and is_non_protocol(fatal)
    assert missing in fatal["log"]["message"]
    assert "exited with code 127" in result.describe_failure()


def test_unreachable_engine_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(UserError, match="Docker engine does not answer"):
        DockerRunner("any").run(["spec"])


# -- image helpers and leftovers --------------------------------------------------------------------------------------


def test_image_helpers_read_the_image_config(client: docker.DockerClient, image: str) -> None:
    runner = DockerRunner(image, client=client)
    assert runner.image_entrypoint() == ["python", "/airbyte/integration_code/main.py"]
    assert runner.image_env()["AIRBYTE_ENTRYPOINT"] == "python /airbyte/integration_code/main.py"
    assert runner.image_labels()["io.airbyte.connector-acceptance.base"] == "1"
    with pytest.raises(UserError, match="not found"):
        DockerRunner("connector-acceptance-test/no-such-image:never", client=client).image_labels()


def test_leftovers_are_found_and_removed_but_live_sessions_are_spared(
    client: docker.DockerClient, image: str, no_leftovers: None
) -> None:
    labels = docker_runner.container_labels()  # owned by this (live) process
    orphaned = {**labels, docker_runner.OWNER_PID_LABEL: "999999999"}  # owner gone: a killed session
    mine_exited = client.containers.create(image, command=["spec"], labels=labels)
    orphan_exited = client.containers.create(image, command=["spec"], labels=orphaned)
    orphan_running = client.containers.run(image, command=["spec"], labels=orphaned, environment={"MODE": "sleep"},
                                           detach=True, init=True)
    mine_running = client.containers.run(image, command=["spec"], labels=labels, environment={"MODE": "sleep"},
                                         detach=True, init=True)
    for container in (mine_exited, orphan_exited):
        container.start()
        client.api.wait(container.id)
    everything = (mine_exited, orphan_exited, orphan_running, mine_running)
    try:
        assert {c.id for c in everything} <= {c.id for c in ours(client, image)}
        assert remove_leftover_containers(client) >= 2
        remaining = {c.id for c in ours(client, image)}
        assert orphan_exited.id not in remaining and orphan_running.id not in remaining
        assert mine_exited.id in remaining and mine_running.id in remaining
    finally:
        for container in everything:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
