"""The Docker engine's side of a build: one `docker build` (its log streamed and kept), the `spec` check in a
container with no network, and looking up, tagging and removing images; `ImageBuildError` when a build or its check
fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from acceptance.errors import BuildError
from acceptance.runner.docker import CONTAINER_LABEL, container_labels

Say = Callable[[str], None]

TEMPORARY_TAG_PREFIX = "build-"  # `<repository>:build-<random>`: an image not yet checked
BUILD_LABEL = f"{CONTAINER_LABEL}.build"  # on the `spec` check's container: the repository being built
SPEC_TIMEOUT_SECONDS = 120
BUILD_TIMEOUT_SECONDS = 3600  # the longest a build step may stay silent
LOG_TAIL_LINES = 20


class ImageBuildError(BuildError):
    """The image could not be built, or does not answer `spec`; the message ends with the log tail."""


class DockerBuild:
    """One `docker build` (the legacy builder through the API): streams its log, keeps it, raises on failure."""

    def __init__(self, client: docker.DockerClient, tag: str, labels: dict[str, str], network_mode: str,
                 say: Say, name: str) -> None:
        self.client, self.tag, self.labels, self.network_mode = client, tag, labels, network_mode
        self.say, self.name = say, name
        self.log: list[str] = []
        self.image_id = ""

    def run(self, context: Path, dockerfile: str, buildargs: dict[str, str], *, labels: bool = True) -> None:
        """Build; `labels=False`: the Dockerfile sets `self.labels` itself (no extra LABEL step)."""
        error = ""
        pending = ""
        try:
            stream = self.client.api.build(
                path=str(context), dockerfile=dockerfile, tag=self.tag, rm=True, forcerm=True, pull=False,
                buildargs=buildargs, labels=self.labels if labels else None, network_mode=self.network_mode,
                decode=True, timeout=BUILD_TIMEOUT_SECONDS,
            )
            for chunk in stream:
                if "stream" in chunk:
                    *lines, pending = (pending + str(chunk["stream"])).split("\n")
                    for line in lines:
                        self._line(line)
                elif "aux" in chunk and isinstance(chunk["aux"], dict) and chunk["aux"].get("ID"):
                    self.image_id = str(chunk["aux"]["ID"])
                elif "error" in chunk:
                    error = str((chunk.get("errorDetail") or {}).get("message") or chunk["error"])
        except docker.errors.APIError as api_error:
            error = str(api_error.explanation or api_error)
        except requests.exceptions.RequestException as lost:  # the engine went away, or a step hung
            error = f"lost the Docker engine during the build ({type(lost).__name__}: {lost})"
        if pending:
            self._line(pending)
        if error or not self.image_id:
            tail = "\n".join(self.log[-LOG_TAIL_LINES:])
            raise ImageBuildError(f"{self.name}: docker build failed: {error or 'no image came out'}\n"
                                  f"last lines of the build log:\n{tail}")

    def say_named(self, line: str) -> None:
        """Say `line` as this build's (the connector's name first)."""
        self.say(f"{self.name}: {line}")

    def _line(self, line: str) -> None:
        line = line.rstrip()
        if not line:
            return
        self.log.append(line)
        if line.startswith("Step "):
            self.say_named(line)


def check_spec(client: docker.DockerClient, image_id: str, name: str, repository: str) -> None:
    """Run `spec` in a container with no network; it must exit 0 having printed a SPEC message."""
    container = client.containers.create(image_id, command=["spec"], network_mode="none",
                                         labels={**container_labels(), BUILD_LABEL: repository})
    try:
        container.start()
        try:
            status = container.wait(timeout=SPEC_TIMEOUT_SECONDS)
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
            raise ImageBuildError(f"{name}: the image did not answer `spec` within {SPEC_TIMEOUT_SECONDS}s:\n"
                                  + tail(output)) from None
        stdout = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        both = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
    code = status.get("StatusCode")
    if code != 0 or not _has_spec(stdout):
        problem = f"exited with {code}" if code != 0 else "printed no SPEC message"
        raise ImageBuildError(f"{name}: the built image does not answer `spec` ({problem}); its last output:\n"
                              + tail(both))


def _has_spec(stdout: str) -> bool:
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == "SPEC":
            return True
    return False


def tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-LOG_TAIL_LINES:])


def get_image(client: docker.DockerClient, ref: str) -> Any:
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def local_image(client: docker.DockerClient, ref: str, folder: Path) -> Any:
    image = get_image(client, ref)
    if image is None:
        raise BuildError(f"{folder.name}: base image {ref} is not on this Docker engine, and builds do not pull: "
                         "make it with `nox -s base_image` (or `docker load` / `docker pull` it)")
    return image


def workdir(client: docker.DockerClient, ref: str) -> str:
    image = get_image(client, ref)
    return str((image.attrs.get("Config") or {}).get("WorkingDir") or "/") if image is not None else "/"


def remove_image(client: docker.DockerClient, ref: str) -> None:
    try:
        client.api.remove_image(ref)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError:  # still used by a container of someone else: it stays, untagged or not
        pass


def remove_stale_temporary_tags(client: docker.DockerClient, repository: str) -> None:
    """Temporary tags left by a build that was killed (the caller holds the repository's lock)."""
    for image in client.images.list(name=repository):
        for tag in image.tags:
            if tag.startswith(f"{repository}:{TEMPORARY_TAG_PREFIX}"):
                remove_image(client, tag)


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]
