"""The previous release of a connector: the image the backward-compatibility checks compare against.

Upstream CAT's rule (reference §3.1): the previous image is `<repository of the connector image>:<version>`, where the
version is `previous_connector_version` (default `latest`) taken literally: no tag listing, no semver ordering. Its
real version is the image's `io.airbyte.version` label, only ever compared for equality with `disable_for_version`.

Where the image comes from:

1. the local Docker engine, when an image of that name is there (nothing is pulled);
2. otherwise it is pulled: from `<registry>/<name>` when a registry prefix is configured (a private registry or a
   mirror, e.g. `localhost:5000` or `registry.example.com/mirror`), then tagged locally as `<name>` so later runs
   find it in step 1; without a prefix, from `<name>` as given (Docker Hub unless the name carries its own host).

The prefix is the `registry` argument, else the environment variable `CONNECTOR_ACCEPTANCE_REGISTRY`; an empty
string means "no prefix" even when the variable is set.

Nothing here raises because an image is missing or Docker is down: `resolve_previous_image` returns `Unavailable`
with a sentence for people, which the backward-compatibility tests hand to `pytest.skip`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import semver

REGISTRY_ENV = "CONNECTOR_ACCEPTANCE_REGISTRY"
"""Environment variable: the default registry prefix the previous release is pulled from (e.g. `localhost:5000`)."""

VERSION_LABEL = "io.airbyte.version"
DEFAULT_PREVIOUS_VERSION = "latest"
_ERROR_CHARS = 300  # docker errors are cut to this length in reasons


@dataclass(frozen=True)
class PreviousImage:
    """The previous release, present in the local engine under `name`."""

    name: str  # e.g. "airbyte/source-faker:latest"
    image_id: str  # "sha256:…"
    version: str | None  # its io.airbyte.version label; None when the image has none
    pulled_from: str | None = None  # the reference this call pulled, or None when it was already in the local engine


@dataclass(frozen=True)
class Unavailable:
    """The previous release could not be obtained; `reason` says why, for a skip message."""

    name: str
    reason: str


def default_registry() -> str | None:
    """The registry prefix from `CONNECTOR_ACCEPTANCE_REGISTRY`, or None."""
    return _clean_registry(os.environ.get(REGISTRY_ENV))


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """`localhost:5000/airbyte/x:dev` -> ("localhost:5000/airbyte/x", "dev", None); a digest comes third.

    The tag is what follows the last `:` after the last `/`, so a registry port is never taken for a tag.
    """
    digest = None
    if "@" in reference:
        reference, digest = reference.split("@", 1)
    last_slash = reference.rfind("/")
    last_colon = reference.rfind(":")
    if last_colon > last_slash:
        return reference[:last_colon], reference[last_colon + 1:], digest
    return reference, None, digest


def has_registry_host(repository: str) -> bool:
    """Whether the first part of a repository names a registry (Docker's rule: a `.`, a `:` or `localhost`)."""
    first, sep, _ = repository.partition("/")
    return bool(sep) and ("." in first or ":" in first or first == "localhost")


def pull_reference(name: str, registry: str | None) -> str:
    """The reference to pull `name` from: `<registry>/<name>`, or `name` itself when there is no prefix or when
    `name` already names its own registry host (or already starts with the prefix)."""
    registry = _clean_registry(registry)
    if not registry or has_registry_host(name) or name.startswith(registry + "/"):
        return name
    return f"{registry}/{name}"


def previous_image_name(
    connector_image: str | None,
    docker_repository: str | None,
    previous_connector_version: str = DEFAULT_PREVIOUS_VERSION,
    registry: str | None = None,
) -> str:
    """`<repository>:<previous_connector_version>`, the repository being `connector_image` without its tag (or
    digest), else metadata.yaml's `dockerRepository`. With `registry`, the name is prefixed with it (the reference
    to pull); the environment default is not applied here, `resolve_previous_image` does that.

    >>> previous_image_name("localhost:5000/airbyte/source-x:dev", None)
    'localhost:5000/airbyte/source-x:latest'
    """
    if connector_image:
        repository = split_reference(connector_image.strip())[0]
    elif docker_repository:
        repository = split_reference(docker_repository.strip())[0]
    else:
        raise ValueError(
            "cannot name the previous release: no connector_image in acceptance-test-config.yml"
            " and no dockerRepository in metadata.yaml"
        )
    version = (previous_connector_version or DEFAULT_PREVIOUS_VERSION).strip()
    return pull_reference(f"{repository}:{version}", registry)


def resolve_previous_image(
    name: str,
    *,
    registry: str | None = None,
    client: Any = None,
    pull: bool = True,
) -> PreviousImage | Unavailable:
    """The previous release `name` from the local engine, else pulled (see the module docstring).

    `registry` None means the `CONNECTOR_ACCEPTANCE_REGISTRY` default; `client` is a `docker.DockerClient` (one is
    made from the environment when None); `pull=False` only looks in the local engine.
    """
    import docker
    import docker.errors
    import requests

    prefix = default_registry() if registry is None else _clean_registry(registry)
    try:
        client = client or docker.from_env()
        try:
            return _found(client.images.get(name), name)
        except docker.errors.ImageNotFound:
            pass
        if not pull:
            return Unavailable(name, f"previous image {name} is not in the local engine (pulling is disabled)")
        source = pull_reference(name, prefix)
        where = prefix if source != name else _registry_of(name)
        error = _pull(client, source)
        if error:
            return Unavailable(
                name, f"previous image {name} is not in the local engine and could not be pulled from {where}: {error}"
            )
        try:
            image = client.images.get(source)
        except docker.errors.ImageNotFound:
            return Unavailable(name, f"previous image {name}: the pull of {source} from {where} reported success "
                                     "but the image is not in the local engine")
        if source != name:
            repository, tag, digest = split_reference(name)
            if digest is None:
                image.tag(repository, tag or DEFAULT_PREVIOUS_VERSION)
        return _found(image, name, pulled_from=source)
    except docker.errors.APIError as error:
        reason = _short(error.explanation or error)
        return Unavailable(name, f"previous image {name}: the Docker engine refused the request: {reason}")
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        return Unavailable(name, f"previous image {name}: Docker is not reachable: {_short(error)}")


def should_skip_for_version(previous: PreviousImage, disable_for_version: str | None) -> str | None:
    """A skip reason when the previous release's version is the one `disable_for_version` excludes, else None.

    Versions are compared as semver when both parse (so `1.2.3+build` equals `1.2.3`), else as strings.
    """
    if not disable_for_version or previous.version is None:
        return None
    if not _same_version(previous.version, disable_for_version):
        return None
    return (f"backward compatibility is disabled for version {disable_for_version} (disable_for_version) and the "
            f"previous release {previous.name} is version {previous.version}")


def _same_version(left: str, right: str) -> bool:
    left, right = left.strip(), right.strip()
    try:
        return semver.Version.parse(left) == semver.Version.parse(right)
    except (ValueError, TypeError):
        return left == right


def _found(image: Any, name: str, pulled_from: str | None = None) -> PreviousImage:
    labels = image.labels or {}
    version = labels.get(VERSION_LABEL)
    return PreviousImage(name=name, image_id=image.id, version=str(version) if version is not None else None,
                         pulled_from=pulled_from)


def _pull(client: Any, reference: str) -> str | None:
    """Pull `reference`; the daemon's error in a few words, or None when it worked."""
    import docker.errors

    repository, tag, digest = split_reference(reference)
    try:
        stream = client.api.pull(repository, tag=digest or tag or DEFAULT_PREVIOUS_VERSION, stream=True, decode=True)
        for event in stream:
            if isinstance(event, dict) and event.get("error"):
                return _short(event.get("error"))
    except docker.errors.APIError as error:
        return _short(error.explanation or error)
    return None


def _registry_of(reference: str) -> str:
    repository = split_reference(reference)[0]
    return repository.split("/", 1)[0] if has_registry_host(repository) else "Docker Hub"


def _clean_registry(registry: str | None) -> str | None:
    registry = (registry or "").strip().rstrip("/")
    return registry or None


def _short(error: object) -> str:
    text = re.sub(r"\s+", " ", str(error)).strip()
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "…"
