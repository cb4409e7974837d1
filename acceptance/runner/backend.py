"""Which backend runs the connector: its Docker image, or a local process. Chosen once per run, said to the user."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from acceptance.config.connector import Connector
from acceptance.config.metadata import Metadata
from acceptance.errors import UserError
from acceptance.runner.command import ConnectorCommand, resolve_command
from acceptance.runner.identity import connector_identity

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


def image_name(connector: Connector, override: str | None = None) -> str | None:
    """--image, else the config's connector_image, else `<dockerRepository>:dev`."""
    if override:
        return override
    if connector.loaded.config.connector_image:
        return connector.loaded.config.connector_image
    if connector.metadata and connector.metadata.data.dockerRepository:
        return connector.dev_image()
    return None


def network_allowed(metadata: Metadata | None) -> bool:
    hosts = metadata.data.allowedHosts.hosts if metadata and metadata.data.allowedHosts else None
    return hosts != []


def choose_backend(connector: Connector, requested: str = "auto", *, connector_command: str | None = None,
                   image: str | None = None) -> Backend:
    """`local` and `docker` force a backend; `auto` takes the image when Docker answers and the image exists
    locally (and no --connector-command was given), else the local process."""
    if requested not in BACKENDS:
        raise UserError(f"--backend {requested!r}: expected one of {', '.join(BACKENDS)}")
    if requested == "local" or (requested == "auto" and connector_command):
        why = "--backend local" if requested == "local" else "--connector-command given"
        return Backend("local", why, command=resolve_command(connector, connector_command))
    name = image_name(connector, image)
    client = docker_client()
    found = _local_image(client, name) if client and name else None
    if found is not None:
        return Backend("docker", f"image {name} found in the Docker engine", image=name, image_id=found.id,
                       network=network_allowed(connector.metadata))
    if requested == "docker":
        problem = ("no Docker engine answers" if client is None else
                   "no image name: set connector_image or metadata dockerRepository" if not name else
                   f"image {name} is not in the Docker engine: build it with `nox -s build -- {connector.name}`")
        raise UserError(f"--backend docker: {problem}")
    why = "no Docker engine answers" if client is None else f"image {name} not built" if name else "no image name"
    return Backend("local", f"{why}; running locally", command=resolve_command(connector, connector_command))


def _local_image(client: Any, name: str) -> Any | None:
    try:
        return client.images.get(name)
    except Exception:  # docker.errors.ImageNotFound, or a malformed name
        return None
