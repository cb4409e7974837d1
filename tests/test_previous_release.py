"""The previous release: named as upstream does, taken from the local engine, else really pulled from a registry.

The pull is real: a `docker-registry` process on loopback receives a pushed `:latest` image, every local tag of it
is removed, and `resolve_previous_image` pulls it back. Tests that need Docker or the registry skip with the reason
when either is missing; the naming and version rules run everywhere.
"""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acceptance.compat.previous_image import (
    REGISTRY_ENV,
    PreviousImage,
    Unavailable,
    previous_image_name,
    pull_reference,
    resolve_previous_image,
    should_skip_for_version,
    split_reference,
)
from tests.registry import LocalRegistry, RegistryUnavailable, free_port

TEST_LABEL = "io.connector-acceptance.test"  # every image built here carries it, so leftovers can be found


# --- naming (no Docker) ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("connector_image", "docker_repository", "version", "registry", "expected"),
    [
        ("airbyte/source-x:dev", None, "latest", None, "airbyte/source-x:latest"),
        ("localhost:5000/airbyte/x:dev", None, "latest", None, "localhost:5000/airbyte/x:latest"),
        ("localhost:5000/airbyte/x", None, "latest", None, "localhost:5000/airbyte/x:latest"),
        ("airbyte/source-x:dev", None, "0.4.1", None, "airbyte/source-x:0.4.1"),
        ("airbyte/source-x@sha256:" + "a" * 64, None, "latest", None, "airbyte/source-x:latest"),
        (None, "airbyte/source-y", "latest", None, "airbyte/source-y:latest"),
        (None, "airbyte/source-y", "1.0.0", "localhost:5000", "localhost:5000/airbyte/source-y:1.0.0"),
        ("airbyte/source-x:dev", "ignored/other", "latest", "registry.example.com/mirror/",
         "registry.example.com/mirror/airbyte/source-x:latest"),
        # a repository that already names its registry is pulled from there, not through the prefix
        ("ghcr.io/acme/source-x:dev", None, "latest", "localhost:5000", "ghcr.io/acme/source-x:latest"),
    ],
)
def test_previous_image_name(connector_image: str | None, docker_repository: str | None, version: str,
                             registry: str | None, expected: str) -> None:
    assert previous_image_name(connector_image, docker_repository, version, registry) == expected


def test_previous_image_name_needs_an_image_or_a_repository() -> None:
    with pytest.raises(ValueError, match="dockerRepository"):
        previous_image_name(None, None)


def test_split_reference_never_takes_a_port_for_a_tag() -> None:
    assert split_reference("localhost:5000/airbyte/x:dev") == ("localhost:5000/airbyte/x", "dev", None)
    assert split_reference("localhost:5000/airbyte/x") == ("localhost:5000/airbyte/x", None, None)
    assert pull_reference("airbyte/x:latest", "localhost:5000") == "localhost:5000/airbyte/x:latest"
    assert pull_reference("localhost:5000/airbyte/x:latest", "localhost:5000") == "localhost:5000/airbyte/x:latest"
    assert pull_reference("airbyte/x:latest", "") == "airbyte/x:latest"


@pytest.mark.parametrize(
    ("previous_version", "disable_for_version", "skips"),
    [
        ("1.2.3", "1.2.3", True),
        ("1.2.3", "1.2.4", False),
        ("1.2.3", " 1.2.3 ", True),
        ("1.2.3+build.7", "1.2.3", True),  # semver equality ignores build metadata
        ("dev", "dev", True),  # not semver: plain string equality
        ("dev", "1.2.3", False),
        ("1.2.3", None, False),
        (None, "1.2.3", False),  # no io.airbyte.version label: nothing to compare
    ],
)
def test_should_skip_for_version(previous_version: str | None, disable_for_version: str | None, skips: bool) -> None:
    previous = PreviousImage(name="airbyte/source-demo:latest", image_id="sha256:0", version=previous_version)
    reason = should_skip_for_version(previous, disable_for_version)
    if skips:
        assert reason is not None
        assert "airbyte/source-demo:latest" in reason and str(disable_for_version).strip() in reason
    else:
        assert reason is None


def test_docker_unreachable_is_unavailable_not_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import docker

    socket_path = tmp_path / "no-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    result = resolve_previous_image("airbyte/source-demo:latest", registry="")
    assert isinstance(result, Unavailable)
    assert "airbyte/source-demo:latest" in result.reason and "Docker is not reachable" in result.reason

    client = docker.DockerClient(base_url=f"unix://{socket_path}", version="1.41")
    result = resolve_previous_image("airbyte/source-demo:latest", registry="", client=client)
    assert isinstance(result, Unavailable) and "Docker is not reachable" in result.reason


# --- the real engine and a real registry -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def docker_client() -> Iterator[Any]:
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as error:  # any failure means "no engine here"
        pytest.skip(f"no Docker engine answers: {error}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def local_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """A docker-registry process on 127.0.0.1 for the whole session; killed at the end."""
    registry = LocalRegistry(tmp_path_factory.mktemp("docker-registry"))
    try:
        registry.start()
    except RegistryUnavailable as error:
        pytest.skip(f"no local registry: {error}")
    try:
        yield registry
    finally:
        registry.stop()


class Published:
    """The demo image built here and pushed to the local registry."""

    def __init__(self, repository: str, image_id: str, registry: LocalRegistry) -> None:
        self.repository = repository  # "airbyte/source-demo-<run id>"
        self.name = f"{repository}:latest"
        self.image_id = image_id
        self.registry = registry


def _demo_context(token: str) -> io.BytesIO:
    files = {
        "Dockerfile": b"FROM scratch\nCOPY x /x\nLABEL io.airbyte.version=1.2.3\n"
                      + f"LABEL {TEST_LABEL}=previous-release\n".encode(),
        "x": f"previous release test {token}\n".encode(),  # unique content: a unique image id per run
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def _remove_every_tag(client: Any, image_id: str) -> None:
    import docker.errors

    try:
        tags = client.images.get(image_id).tags
    except docker.errors.ImageNotFound:
        return
    for tag in tags:
        try:
            client.images.remove(tag)
        except docker.errors.ImageNotFound:
            pass


def _local_tags(client: Any, image_id: str) -> list[str]:
    import docker.errors

    try:
        return list(client.images.get(image_id).tags)
    except docker.errors.ImageNotFound:
        return []


@pytest.fixture(scope="module")
def published(docker_client: Any, local_registry: LocalRegistry) -> Iterator[Published]:
    """airbyte/source-demo-<run>:latest (label io.airbyte.version=1.2.3) pushed to the registry, then every local
    tag of it removed. The repository name is unique per run so concurrent test sessions never share it."""
    repository = f"airbyte/source-demo-{uuid.uuid4().hex[:8]}"
    image, _ = docker_client.images.build(fileobj=_demo_context(repository), custom_context=True, rm=True,
                                          forcerm=True, labels={TEST_LABEL: "previous-release"})
    try:
        remote = f"{local_registry.host}/{repository}"
        image.tag(remote, "latest")
        for event in docker_client.api.push(remote, tag="latest", stream=True, decode=True):
            assert "error" not in event, f"push to the local registry failed: {event}"
        _remove_every_tag(docker_client, image.id)
        yield Published(repository, image.id, local_registry)
    finally:
        _remove_every_tag(docker_client, image.id)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_previous_release_is_pulled_from_the_registry_and_tagged_locally(
    docker_client: Any, published: Published, host: str
) -> None:
    import docker.errors

    _remove_every_tag(docker_client, published.image_id)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(published.name)
    registry = f"{host}:{published.registry.port}"  # Docker allows plain HTTP to loopback registries by default

    result = resolve_previous_image(published.name, registry=registry, client=docker_client)

    assert isinstance(result, PreviousImage), result
    assert result.version == "1.2.3"
    assert result.image_id == published.image_id  # the very image that was pushed
    assert result.pulled_from == f"{registry}/{published.name}"
    assert docker_client.images.get(published.name).id == published.image_id  # later runs find it locally
    assert published.name in _local_tags(docker_client, published.image_id)


def test_a_second_resolve_takes_the_local_image_without_pulling(
    docker_client: Any, published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = resolve_previous_image(published.name, registry=published.registry.host, client=docker_client)
    assert isinstance(first, PreviousImage), first

    pulls: list[tuple[Any, ...]] = []
    real_pull = docker_client.api.pull

    def spy(*args: Any, **kwargs: Any) -> Any:
        pulls.append(args)
        return real_pull(*args, **kwargs)

    monkeypatch.setattr(docker_client.api, "pull", spy)
    second = resolve_previous_image(published.name, registry=published.registry.host, client=docker_client)
    # Even with a registry where nothing listens (a port bound and released), the local image is enough.
    third = resolve_previous_image(published.name, registry=f"127.0.0.1:{free_port()}", client=docker_client)

    assert pulls == []
    for result in (second, third):
        assert isinstance(result, PreviousImage), result
        assert result.pulled_from is None and result.version == "1.2.3" and result.image_id == published.image_id


def test_a_missing_tag_is_unavailable_with_a_reason(docker_client: Any, published: Published) -> None:
    name = f"{published.repository}:9.9.9"
    result = resolve_previous_image(name, registry=published.registry.host, client=docker_client)
    assert isinstance(result, Unavailable)
    assert result.reason.startswith(
        f"previous image {name} is not in the local engine and could not be pulled from {published.registry.host}: "
    ), result.reason
    assert "9.9.9" in result.reason.split(": ", 1)[1]  # the docker error itself follows


def test_the_registry_defaults_to_the_environment_variable(
    docker_client: Any, published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REGISTRY_ENV, published.registry.host)
    name = f"{published.repository}:no-such-tag"
    result = resolve_previous_image(name, client=docker_client)
    assert isinstance(result, Unavailable)
    assert f"could not be pulled from {published.registry.host}:" in result.reason


def test_pull_disabled_only_looks_in_the_local_engine(docker_client: Any, published: Published) -> None:
    name = f"{published.repository}:not-here"
    result = resolve_previous_image(name, registry=published.registry.host, client=docker_client, pull=False)
    assert isinstance(result, Unavailable) and "pulling is disabled" in result.reason and name in result.reason


def test_the_registry_process_answers_and_stops(tmp_path: Path) -> None:
    """The helper itself: /v2/ answers while it runs, and after stop() the process is gone and the port closed."""
    import socket

    try:
        registry = LocalRegistry(tmp_path).start()
    except RegistryUnavailable as error:
        pytest.skip(f"no local registry: {error}")
    process = registry.process
    assert registry.running and process is not None
    registry.stop()
    assert process.poll() is not None and not registry.running
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(1)
        sock.connect(("127.0.0.1", registry.port))
