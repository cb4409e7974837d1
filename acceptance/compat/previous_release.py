"""The previous release of a connector, whatever the backend: an image (Docker) or a published package (local).

Backward compatibility and regression runs compare the current connector with it. Where it comes from:

- `--previous-image IMAGE` or `--previous-command CMD` (explicit: a user or a test names it);
- Docker backend: `<repository>:<previous_connector_version>` (default `latest`), see
  `acceptance.compat.previous_image`;
- local backend: the previous published version of metadata.yaml's `remoteRegistries.pypi.packageName` (the highest
  one below `dockerImageTag`, or `previous_connector_version` when it names one), installed in its own virtualenv.

Nothing here raises because the previous release is missing: `find_previous_release` returns `Unavailable` with a
sentence for people.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from acceptance.compat.previous_image import (
    DEFAULT_PREVIOUS_VERSION,
    Unavailable,
    previous_image_name,
    resolve_previous_image,
)
from acceptance.compat.verdicts import disabled_for
from acceptance.config.connector import Connector
from acceptance.config.metadata import Metadata
from acceptance.runner import ConnectorRunner, LocalRunner
from acceptance.runner.backend import Backend, docker_client
from acceptance.runner.command import ConnectorCommand
from acceptance.runner.identity import connector_identity
from acceptance.secrets import Masker

__all__ = ["PreviousRelease", "Unavailable", "find_previous_release", "current_version"]


@dataclass(frozen=True)
class PreviousRelease:
    """A previous release that can be run: an image in the local engine, or a local command."""

    kind: Literal["docker", "local"]
    description: str  # for people: "image airbyte/source-x:latest (version 1.2.3)"
    version: str | None  # its version (image label, package version); None when unknown
    identity: str  # what the cache keys its spec / discover on
    image: str | None = None
    argv: list[str] = field(default_factory=list)
    cwd: Path | None = None

    def runner(self, environment: dict[str, str], masker: Masker, network: bool = True) -> ConnectorRunner:
        if self.kind == "docker":
            from acceptance.runner.docker import DockerRunner  # the Docker SDK is only imported when used

            assert self.image is not None
            return DockerRunner(self.image, environment=environment, masker=masker, network=network)
        return LocalRunner(self.argv, cwd=self.cwd or Path.cwd(), environment=environment, masker=masker)


def current_version(backend: Backend, metadata: Metadata | None) -> str | None:
    """The version being tested: the image's io.airbyte.version label, else metadata.yaml's dockerImageTag."""
    if backend.kind == "docker" and backend.image:
        client = docker_client()
        if client is not None:
            try:
                label = (client.images.get(backend.image).labels or {}).get("io.airbyte.version")
            except Exception:  # the image vanished: fall back to the metadata
                label = None
            if label:
                return str(label)
    return metadata.data.dockerImageTag if metadata and metadata.data.dockerImageTag else None


def find_previous_release(
    connector: Connector,
    backend: Backend,
    previous_connector_version: str = DEFAULT_PREVIOUS_VERSION,
    *,
    disable_for_version: str | None = None,
    previous_image: str | None = None,
    previous_command: str | None = None,
    previous_command_version: str | None = None,
    cache_root: Path | None = None,
    say: Callable[[str], None] = print,
) -> PreviousRelease | Unavailable:
    """The previous release to compare against (see the module docstring), or why there is none.

    `disable_for_version` is decided as soon as the version is known: before a package is installed or any
    previous release runs. `cache_root` is the run's cache folder (its Cache's root): a package release is listed
    and installed under it (default: `acceptance.cache.default_cache_dir()`)."""
    if previous_command:
        found = _from_command(previous_command, previous_command_version, connector.folder)
        if reason := disabled_for(found.version, disable_for_version):
            return Unavailable(found.description, reason)
        return found
    if previous_image or backend.kind == "docker":
        found = _from_image(connector, previous_connector_version, previous_image)
        if isinstance(found, PreviousRelease) and (reason := disabled_for(found.version, disable_for_version)):
            return Unavailable(found.description, reason)
        return found
    return _from_package(connector, previous_connector_version, disable_for_version, cache_root, say)


def _from_command(command: str, version: str | None, cwd: Path) -> PreviousRelease:
    argv = shlex.split(command)
    identity = connector_identity(ConnectorCommand(argv, "--previous-command", cwd))
    shown = f" (version {version})" if version else ""
    return PreviousRelease("local", f"`{command}`{shown}", version, identity, argv=argv, cwd=cwd)


def _from_image(connector: Connector, version: str, override: str | None) -> PreviousRelease | Unavailable:
    repository = connector.metadata.data.dockerRepository if connector.metadata else None
    try:
        name = override or previous_image_name(connector.loaded.config.connector_image, repository, version)
    except ValueError as error:
        return Unavailable("previous image", str(error))
    if docker_client() is None:
        return Unavailable(name, f"previous image {name}: no Docker engine answers")
    found = resolve_previous_image(name)
    if isinstance(found, Unavailable):
        return found
    shown = f" (version {found.version})" if found.version else " (no io.airbyte.version label)"
    identity = hashlib.sha256(f"docker\0{found.image_id}".encode()).hexdigest()
    return PreviousRelease("docker", f"image {found.name}{shown}", found.version, identity, image=found.name)


def _from_package(connector: Connector, version: str, disable_for_version: str | None, cache_root: Path | None,
                  say: Callable[[str], None]) -> PreviousRelease | Unavailable:
    package = connector.pypi_package
    if not package:
        return Unavailable("previous package", "the local backend finds the previous release on PyPI, but "
                           "metadata.yaml names no remoteRegistries.pypi.packageName (or use --previous-command)")
    current = connector.version
    if not current:
        return Unavailable(package, f"{package}: metadata.yaml has no dockerImageTag to find the release before")
    from acceptance.compat import previous_package
    versions = previous_package.published_versions(package, cache_root=cache_root)
    if isinstance(versions, str):
        return Unavailable(package, versions)
    explicit = None if version == DEFAULT_PREVIOUS_VERSION else version
    chosen = previous_package.previous_version(versions, current, explicit)
    if isinstance(chosen, str):
        return Unavailable(package, chosen)
    if reason := disabled_for(str(chosen), disable_for_version):
        return Unavailable(f"{package} {chosen}", reason)
    found = previous_package.install_previous(package, str(chosen), cache_root=cache_root, say=say)
    if isinstance(found, Unavailable):
        return found
    identity = hashlib.sha256(f"package\0{found.package}\0{found.version}\0{found.venv}".encode()).hexdigest()
    return PreviousRelease("local", f"{found.package} {found.version} from PyPI ({found.how})", found.version,
                           identity, argv=list(found.argv), cwd=found.venv)
