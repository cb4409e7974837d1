"""Which backend runs the connector: its Docker image, or a local process. Chosen once per run, said to the user."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from acceptance.config.loading import LoadedConfig
from acceptance.config.metadata import Metadata, load_metadata
from acceptance.errors import UserError
from acceptance.runner.command import ConnectorCommand, connector_identity, resolve_command

BACKENDS = ("auto", "local", "docker")
Kind = Literal["local", "docker"]


@dataclass(frozen=True)
class Backend:
    kind: Kind
    reason: str  # why this one, in words for the report header
    command: ConnectorCommand | None = None  # local
    image: str | None = None  # docker
    image_id: str | None = None
    network: bool = True  # docker: False when metadata declares allowedHosts.hosts: []

    def identity(self) -> str:
        """What the cache keys on: the image id, or the local command's code and packages."""
        if self.kind == "docker":
            return hashlib.sha256(f"docker\0{self.image_id}".encode()).hexdigest()
        assert self.command is not None
        return connector_identity(self.command)


def docker_client() -> Any | None:
    """A client for a Docker engine that answers, or None (no socket, no daemon, no permission)."""
    from acceptance.runner.docker import docker_client as answering_client  # imports the SDK only when asked

    try:
        return answering_client()
    except UserError:
        return None


def image_name(loaded: LoadedConfig, metadata: Metadata | None, override: str | None = None) -> str | None:
    """--image, else the config's connector_image, else `<dockerRepository>:dev`."""
    if override:
        return override
    if loaded.config.connector_image:
        return loaded.config.connector_image
    if metadata and metadata.data.dockerRepository:
        return f"{metadata.data.dockerRepository}:dev"
    return None


def network_allowed(metadata: Metadata | None) -> bool:
    hosts = metadata.data.allowedHosts.hosts if metadata and metadata.data.allowedHosts else None
    return hosts != []


def choose_backend(loaded: LoadedConfig, requested: str = "auto", *, connector_command: str | None = None,
                   image: str | None = None) -> Backend:
    """`local` and `docker` force a backend; `auto` takes the image when Docker answers and the image exists
    locally (and no --connector-command was given), else the local process."""
    if requested not in BACKENDS:
        raise UserError(f"--backend {requested!r}: expected one of {', '.join(BACKENDS)}")
    metadata = load_metadata(loaded.base_path)
    if requested == "local" or (requested == "auto" and connector_command):
        why = "--backend local" if requested == "local" else "--connector-command given"
        return Backend("local", why, command=resolve_command(loaded.base_path, connector_command))
    name = image_name(loaded, metadata, image)
    client = docker_client()
    found = _local_image(client, name) if client and name else None
    if found is not None:
        return Backend("docker", f"image {name} found in the Docker engine", image=name, image_id=found.id,
                       network=network_allowed(metadata))
    if requested == "docker":
        problem = ("no Docker engine answers" if client is None else
                   "no image name: set connector_image or metadata dockerRepository" if not name else
                   f"image {name} is not in the Docker engine: build it with `nox -s build -- {loaded.base_path.name}`")
        raise UserError(f"--backend docker: {problem}")
    why = "no Docker engine answers" if client is None else f"image {name} not built" if name else "no image name"
    return Backend("local", f"{why}; running locally", command=resolve_command(loaded.base_path, connector_command))


def _local_image(client: Any, name: str) -> Any | None:
    try:
        return client.images.get(name)
    except Exception:  # docker.errors.ImageNotFound, or a malformed name
        return None
