"""`nox -s build`: a connector's Docker image, tagged `<dockerRepository>:dev` (metadata.yaml).

Two ways, chosen by the connector folder:

- **dockerfile**: the folder has a `Dockerfile` (the reference's "Option B"); it is built with the folder as context.
- **generated** (the airbyte-ci way): no Dockerfile; one is generated `FROM` the base image (the `base_image`
  option, else metadata.yaml `connectorBuildOptions.baseImage` without its `@sha256:` digest and `docker.io/`
  prefix, else `airbyte/python-connector-base:local`). The dependencies are installed in their own layer from the
  build files alone (`pyproject.toml`, `poetry.lock`, `setup.py`, `requirements.txt`) before the code is copied to
  `/airbyte/integration_code`, so a code change reuses that layer. The entrypoint runs `main.py` (or
  `MAIN_FILE_NAME`, below); a connector with no code, only `remoteRegistries.pypi.packageName` pinned to
  `dockerImageTag` (source-faker), gets that package and runs its console script. `ENTRYPOINT` and the env
  `AIRBYTE_ENTRYPOINT` say the same thing; labels `io.airbyte.name` / `io.airbyte.version` come from metadata.yaml.

Offline: no build step reaches a network (builds run with `network_mode="none"`). Python dependencies come from a
wheelhouse made on the host through uv (`wheels.py`: uv's resolution and cache, so a rebuild makes it in a second or
two, and offline from the cache; `pip wheel` as the fallback), same Python minor version as the image, and installed
with `pip install --no-index`, as before. For a Dockerfile build the wheelhouse is written into the context as
`.wheelhouse/` (the connector's wheel, its dependencies and its build backend), and the build runs a copy of the
Dockerfile (`.connector-acceptance.Dockerfile`, beside it) in which every `FROM` line is followed by
`ARG PIP_FIND_LINKS` / `ARG PIP_NO_INDEX`; the build passes those build args, pointing pip at wherever the
Dockerfile's `COPY .` puts the wheelhouse. Being ARGs, not ENVs, they reach the `RUN` steps only: the image keeps
no trace of them, the connector's Dockerfile is run as written, and no shared image tag is touched. Both
temporary files are removed whatever happens.

`build_customization.py` in the connector folder (generated builds only; loaded by file path) may define:

    MAIN_FILE_NAME = "main.py"                             # the file the entrypoint runs
    def pre_install(dockerfile: list[str]) -> list[str]:   # after FROM and WORKDIR, before the dependencies
    def post_install(dockerfile: list[str]) -> list[str]:  # after the connector is installed

Each hook gets (a copy of) the Dockerfile lines so far and returns the lines to continue with, e.g.
`return [*dockerfile, 'ENV MY_SETTING="on"']`. The generated Dockerfile is, in order: FROM, WORKDIR,
`pre_install`'s lines, ENV AIRBYTE_ENTRYPOINT and ENTRYPOINT (early: they rarely change, so they are cached with
what follows), the build files and wheelhouse copied and the dependencies installed (one layer), the code copied
and the connector's own wheel installed, `post_install`'s lines, then one LABEL line. Builds have no network, so
system packages must come from the base image.

Every image must answer `spec` (in a container with no network) under a temporary tag before it is tagged
`:dev`; a failure raises `ImageBuildError` with the tail of the build log or of the container's output, and leaves
any previous `:dev` image as it was. An image whose inputs (files, base image, build mode) are unchanged since it
was built (label `INPUTS_LABEL`) is reused without building.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker
from filelock import FileLock

from acceptance.config.connector import DEV_TAG, Connector
from acceptance.config.metadata import METADATA_FILE, Metadata
from acceptance.errors import BuildError
from acceptance.runner.docker import CONTAINER_LABEL, docker_client
from tasks.builder import build_customization
from tasks.builder import dockerfile as dockerfiles
from tasks.builder.dockerfile import DERIVED_DOCKERFILE, INTEGRATION_CODE, WHEELHOUSE_DIR
from tasks.builder.engine import (
    TEMPORARY_TAG_PREFIX,
    DockerBuild,
    Say,
    check_spec,
    get_image,
    local_image,
    remove_image,
    remove_stale_temporary_tags,
    short_id,
    workdir,
)
from tasks.builder.identity import How, copy_code, inputs_digest, short_hash
from tasks.builder.wheels import (
    Installer,
    build_requires,
    copy_wheels,
    fill_wheelhouse,
    make_wheels,
    pick_script,
    python_requirement,
)

DEFAULT_BASE_IMAGE = "airbyte/python-connector-base:local"
INPUTS_LABEL = f"{CONTAINER_LABEL}.build-inputs"  # on images: the hash of what they were built from
WHEELHOUSE_MARKER = "MADE-BY-CONNECTOR-ACCEPTANCE"
PROJECT_WHEEL_DIR = ".connector-wheel"  # the connector's own wheel, beside its code in a generated build
BUILD_FILES = ("pyproject.toml", "poetry.lock", "setup.py", "requirements.txt")
LOCK_TIMEOUT_SECONDS = 1800
PIP_INSTALL = "python -m pip install --no-index --no-cache-dir --disable-pip-version-check"


@dataclass(frozen=True)
class BuiltImage:
    tag: str  # `<dockerRepository>:dev`
    image_id: str
    how: How
    reused: bool = False  # True: the inputs were unchanged, nothing was built
    dockerfile: str = ""  # the Dockerfile text that was built (empty when reused)
    log: tuple[str, ...] = ()  # the `docker build` output (empty when reused)
    seconds: float = 0.0


@dataclass(frozen=True)
class _WheelOptions:
    installer: Installer  # "uv", or "pip" (the old way)
    cache_root: Path | None  # the tool's cache; None: default_cache_dir()


def image_tag(connector: Connector) -> str:
    """`<dockerRepository>:dev`, the tag `build_image` gives the connector's image."""
    return connector.dev_image()


def normalize_image_ref(ref: str) -> str:
    """`docker.io/airbyte/python-connector-base:1.1.0@sha256:…` -> `airbyte/python-connector-base:1.1.0`."""
    ref = ref.strip().split("@", 1)[0]
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def base_image_for(metadata: Metadata | None, override: str | None = None) -> str:
    """The image a generated Dockerfile starts `FROM`: the option, else metadata.yaml, else the local base."""
    options = metadata.data.connectorBuildOptions if metadata else None
    return normalize_image_ref(override or (options.baseImage if options else None) or DEFAULT_BASE_IMAGE)


def build_image(
    connector: Connector, *, base_image: str | None = None, say: Say = print,
    client: docker.DockerClient | None = None,
    force: bool = False, network_mode: str = "none", installer: Installer = "uv", cache_root: Path | None = None,
) -> BuiltImage:
    """Build the connector's image, check that it answers `spec`, tag it `<dockerRepository>:dev`.

    `base_image` overrides the metadata's base (generated builds only); `force` rebuilds even when the inputs are
    unchanged; `installer` "pip" makes the wheelhouse the old way (the bench compares them); `cache_root` is the
    tool's cache (`--cache-dir`; default `default_cache_dir()`), where uv's cache and the wheel store are."""
    folder = connector.folder.resolve()
    metadata = connector.metadata
    repository = connector.image_repository()
    how: How = "dockerfile" if (folder / "Dockerfile").is_file() else "generated"
    if how == "generated" and not (metadata and metadata.data.dockerImageTag):
        raise BuildError(f"{folder / METADATA_FILE}: data.dockerImageTag is needed for the io.airbyte.version label")
    client = client or docker_client()
    # Builds of one repository are serialised (its `:dev` tag is what they share): parallel sessions wait, then
    # find the image up to date.
    lock = Path(tempfile.gettempdir()) / f"connector-acceptance-image-{short_hash(repository)}.lock"
    with FileLock(str(lock), timeout=LOCK_TIMEOUT_SECONDS):
        remove_stale_temporary_tags(client, repository)
        options = _WheelOptions(installer, cache_root)
        return _build_image(connector, repository, how, base_image, say, client, force, network_mode, options)


def _build_image(
    connector: Connector, repository: str, how: How, base_image: str | None, say: Say,
    client: docker.DockerClient, force: bool, network_mode: str, options: _WheelOptions,
) -> BuiltImage:
    folder, metadata = connector.folder.resolve(), connector.metadata
    name, tag = folder.name, f"{repository}:{DEV_TAG}"
    instructions: list[tuple[str, str]] = []
    if how == "dockerfile":
        if base_image:
            say(f"{name}: the base image option is ignored: the Dockerfile names its own")
        instructions = dockerfiles.instructions((folder / "Dockerfile").read_text())
        bases = dockerfiles.external_bases(instructions)
    else:
        bases = [base_image_for(metadata, base_image)]
    base_ids = [local_image(client, base, folder).id for base in bases]
    inputs = inputs_digest(folder, how, bases, base_ids, network_mode)
    current = get_image(client, tag)
    if not force and current is not None and current.labels.get(INPUTS_LABEL) == inputs:
        say(f"{name}: image {tag} up to date ({short_id(current.id)})")
        return BuiltImage(tag, current.id, how, reused=True)

    started = time.monotonic()
    temporary = f"{repository}:{TEMPORARY_TAG_PREFIX}{uuid.uuid4().hex[:12]}"
    say(f"{name}: building {tag} ({'its Dockerfile' if how == 'dockerfile' else 'generated FROM ' + bases[0]})")
    with tempfile.TemporaryDirectory(prefix="connector-acceptance-image-") as work:
        build = DockerBuild(client, temporary, {INPUTS_LABEL: inputs}, network_mode, say, name)
        if how == "dockerfile":
            dockerfile = _build_with_dockerfile(connector, instructions, client, build, Path(work), options)
        else:
            dockerfile = _build_generated(connector, bases[0], build, Path(work), options)
    try:
        check_spec(client, build.image_id, name, repository)
        client.api.tag(build.image_id, repository, DEV_TAG, force=True)
    finally:
        # Untag; a failed image goes with its tag (noprune=False), a good one keeps its `:dev` tag.
        remove_image(client, temporary)
    if current is not None and current.id != build.image_id:
        previous = get_image(client, current.id)
        if previous is not None and not previous.tags:  # the previous `:dev`, now untagged: kept if in use
            remove_image(client, current.id)
    seconds = time.monotonic() - started
    say(f"{name}: built {tag} ({short_id(build.image_id)}) in {seconds:.1f}s; it answers spec")
    return BuiltImage(tag, build.image_id, how, dockerfile=dockerfile, log=tuple(build.log), seconds=seconds)


def _build_with_dockerfile(
    connector: Connector, instructions: list[tuple[str, str]], client: docker.DockerClient, build: DockerBuild,
    work: Path, options: _WheelOptions,
) -> str:
    folder = connector.folder.resolve()
    text = (folder / "Dockerfile").read_text()
    requirement = python_requirement(connector)
    if requirement is None and not (folder / "requirements.txt").is_file():
        build.run(folder, "Dockerfile", {})  # nothing for pip: the Dockerfile as it is
        return text
    wheelhouse, derived = folder / WHEELHOUSE_DIR, folder / DERIVED_DOCKERFILE
    if wheelhouse.exists() and not (wheelhouse / WHEELHOUSE_MARKER).is_file():
        raise BuildError(f"{wheelhouse}: exists and is not ours; the build writes its wheelhouse there, move it away")
    try:
        shutil.rmtree(wheelhouse, ignore_errors=True)
        wheelhouse.mkdir()
        (wheelhouse / WHEELHOUSE_MARKER).write_text("temporary wheelhouse of `nox -s build`; safe to delete\n")
        wheels = make_wheels(folder, requirement, work, installer=options.installer, say=build.say_named,
                             cache_root=options.cache_root)
        for wheel in [*wheels.dependencies, *([wheels.project] if wheels.project else [])]:
            shutil.copy2(wheel, wheelhouse)
        if requirement is not None and requirement.local:  # `pip install <folder>` builds it: its backend too
            fill_wheelhouse([*build_requires(folder), "wheel"], wheelhouse, installer=options.installer,
                            say=build.say_named, cache_root=options.cache_root)
        derived_text = dockerfiles.with_pip_args(text)
        derived.write_text(derived_text)
        links = dockerfiles.wheelhouse_locations(instructions, lambda image: workdir(client, image))
        build.run(folder, DERIVED_DOCKERFILE, {"PIP_FIND_LINKS": " ".join(links), "PIP_NO_INDEX": "1"})
        return derived_text
    finally:
        shutil.rmtree(wheelhouse, ignore_errors=True)
        derived.unlink(missing_ok=True)


def _build_generated(connector: Connector, base: str, build: DockerBuild, work: Path, options: _WheelOptions) -> str:
    folder, metadata = connector.folder.resolve(), connector.metadata
    assert metadata is not None and metadata.data.dockerImageTag and metadata.data.dockerRepository
    customization = build_customization.load_customization(folder)
    main_file = build_customization.main_file(customization, folder)
    requirement = python_requirement(connector)
    pypi_only = requirement is not None and not requirement.local and not (folder / main_file).is_file()
    has_requirements_txt = (folder / "requirements.txt").is_file()
    if requirement is None and not has_requirements_txt and not (folder / main_file).is_file():
        raise BuildError(
            f"{folder}: nothing to build: add a Dockerfile, a {main_file}, a pyproject.toml or setup.py, or set "
            "data.remoteRegistries.pypi.packageName in metadata.yaml"
        )
    wheels = make_wheels(folder, requirement, work, installer=options.installer, say=build.say_named,
                         cache_root=options.cache_root)
    if (folder / main_file).is_file():
        entrypoint = ["python", posixpath.join(INTEGRATION_CODE, main_file)]
    elif wheels.scripts:
        entrypoint = [pick_script(wheels.scripts, folder.name)]
    else:
        raise BuildError(f"{folder}: no {main_file} and no console script in the connector's package to run")
    context = work / "context"
    dependencies, code = context / "dependencies", context / "code"
    dependencies.mkdir(parents=True)
    for name in BUILD_FILES:
        if (folder / name).is_file():
            shutil.copy2(folder / name, dependencies / name)
    if wheels.dependencies:
        copy_wheels(wheels.dependencies, dependencies / WHEELHOUSE_DIR)
    if not pypi_only:
        copy_code(folder, code)
    if wheels.project:
        copy_wheels([wheels.project], code / PROJECT_WHEEL_DIR)

    # One instruction per step, as few steps as can be: each costs a layer commit. The entrypoint comes early (it
    # rarely changes), so a code change rebuilds only the code, the connector's own wheel and the labels.
    lines = [f"FROM {base}", f"WORKDIR {INTEGRATION_CODE}"]
    lines = build_customization.apply_hook(customization, "pre_install", lines)
    lines += [
        f"ENV AIRBYTE_ENTRYPOINT={json.dumps(' '.join(entrypoint))}",
        f"ENTRYPOINT {json.dumps(entrypoint)}",
    ]
    if any(dependencies.iterdir()):
        lines.append("COPY dependencies/ ./")
    if wheels.dependencies:
        lines.append(f"RUN {PIP_INSTALL} --find-links {WHEELHOUSE_DIR} {WHEELHOUSE_DIR}/*.whl"
                     f" && rm -rf {WHEELHOUSE_DIR}")
    if not pypi_only:
        lines.append("COPY code/ ./")
    if wheels.project:
        lines.append(f"RUN {PIP_INSTALL} --no-deps {PROJECT_WHEEL_DIR}/*.whl && rm -rf {PROJECT_WHEEL_DIR}")
    lines = build_customization.apply_hook(customization, "post_install", lines)
    labels = {"io.airbyte.name": metadata.data.dockerRepository, "io.airbyte.version": metadata.data.dockerImageTag,
              **build.labels}
    lines.append("LABEL " + " ".join(f"{key}={json.dumps(value)}" for key, value in labels.items()))
    text = "\n".join(lines) + "\n"
    (context / "Dockerfile").write_text(text)
    build.run(context, "Dockerfile", {}, labels=False)  # the Dockerfile has them
    return text
