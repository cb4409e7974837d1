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
wheelhouse made on the host (`pip wheel`, same Python minor version as the image) and installed with
`pip install --no-index`. For a Dockerfile build the wheelhouse is written into the context as `.wheelhouse/`
(the connector's wheel, its dependencies and its build backend), and the build runs a copy of the Dockerfile
(`.connector-acceptance.Dockerfile`, beside it) in which every `FROM` line is followed by
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

import configparser
import hashlib
import importlib.util
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import docker
import docker.errors
import requests.exceptions
from filelock import FileLock

from acceptance.config.metadata import METADATA_FILE, Metadata, load_metadata
from acceptance.errors import BuildError
from acceptance.runner.command import CDK_SCRIPTS, IGNORED_ANYWHERE, IGNORED_AT_TOP, VENV_DIR
from acceptance.runner.docker import CONTAINER_LABEL, container_labels, docker_client
from tasks.builder.virtualenv import Requirement, requirement_for

Say = Callable[[str], None]
How = Literal["dockerfile", "generated"]

INTEGRATION_CODE = "/airbyte/integration_code"
DEFAULT_BASE_IMAGE = "airbyte/python-connector-base:local"
DEV_TAG = "dev"
TEMPORARY_TAG_PREFIX = "build-"  # `<repository>:build-<random>`: an image not yet checked
INPUTS_LABEL = f"{CONTAINER_LABEL}.build-inputs"  # on images: the hash of what they were built from
BUILD_LABEL = f"{CONTAINER_LABEL}.build"  # on the `spec` check's container: the repository being built
WHEELHOUSE_DIR = ".wheelhouse"
WHEELHOUSE_MARKER = "MADE-BY-CONNECTOR-ACCEPTANCE"
DERIVED_DOCKERFILE = ".connector-acceptance.Dockerfile"
PROJECT_WHEEL_DIR = ".connector-wheel"  # the connector's own wheel, beside its code in a generated build
CUSTOMIZATION_FILE = "build_customization.py"
BUILD_FILES = ("pyproject.toml", "poetry.lock", "setup.py", "requirements.txt")
PIP_BUILD_ARGS = ("PIP_FIND_LINKS", "PIP_NO_INDEX")
SPEC_TIMEOUT_SECONDS = 120
BUILD_TIMEOUT_SECONDS = 3600  # the longest a build step may stay silent
LOG_TAIL_LINES = 20
LOCK_TIMEOUT_SECONDS = 1800
# Bump when the generated Dockerfile changes shape: images built by an older version are then rebuilt.
GENERATOR_VERSION = "1"
# Reproducible wheels (zip timestamps): an unchanged project gives the same bytes, so Docker's cache holds.
WHEEL_ENV = {"SOURCE_DATE_EPOCH": "315532800", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
PIP_INSTALL = "python -m pip install --no-index --no-cache-dir --disable-pip-version-check"


class ImageBuildError(BuildError):
    """The image could not be built, or does not answer `spec`; the message ends with the log tail."""


@dataclass(frozen=True)
class BuiltImage:
    tag: str  # `<dockerRepository>:dev`
    image_id: str
    how: How
    reused: bool = False  # True: the inputs were unchanged, nothing was built
    dockerfile: str = ""  # the Dockerfile text that was built (empty when reused)
    log: tuple[str, ...] = ()  # the `docker build` output (empty when reused)
    seconds: float = 0.0


def image_tag(folder: Path) -> str:
    """`<dockerRepository>:dev`, the tag `build_image` gives the connector's image."""
    return f"{_repository(folder, load_metadata(folder))}:{DEV_TAG}"


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
    folder: Path, *, base_image: str | None = None, say: Say = print, client: docker.DockerClient | None = None,
    force: bool = False, network_mode: str = "none",
) -> BuiltImage:
    """Build the connector's image, check that it answers `spec`, tag it `<dockerRepository>:dev`.

    `base_image` overrides the metadata's base (generated builds only); `force` rebuilds even when the inputs are
    unchanged."""
    folder = folder.resolve()
    metadata = load_metadata(folder)
    repository = _repository(folder, metadata)
    how: How = "dockerfile" if (folder / "Dockerfile").is_file() else "generated"
    if how == "generated" and not (metadata and metadata.data.dockerImageTag):
        raise BuildError(f"{folder / METADATA_FILE}: data.dockerImageTag is needed for the io.airbyte.version label")
    client = client or docker_client()
    # Builds of one repository are serialised (its `:dev` tag is what they share): parallel sessions wait, then
    # find the image up to date.
    lock = Path(tempfile.gettempdir()) / f"connector-acceptance-image-{_short_hash(repository)}.lock"
    with FileLock(str(lock), timeout=LOCK_TIMEOUT_SECONDS):
        _remove_stale_temporary_tags(client, repository)
        return _build_image(folder, metadata, repository, how, base_image, say, client, force, network_mode)


def _build_image(
    folder: Path, metadata: Metadata | None, repository: str, how: How, base_image: str | None, say: Say,
    client: docker.DockerClient, force: bool, network_mode: str,
) -> BuiltImage:
    name, tag = folder.name, f"{repository}:{DEV_TAG}"
    instructions: list[tuple[str, str]] = []
    if how == "dockerfile":
        if base_image:
            say(f"{name}: the base image option is ignored: the Dockerfile names its own")
        instructions = _instructions((folder / "Dockerfile").read_text())
        bases = _external_bases(instructions)
    else:
        bases = [base_image_for(metadata, base_image)]
    base_ids = [_local_image(client, base, folder).id for base in bases]
    inputs = _inputs_digest(folder, how, bases, base_ids, network_mode)
    current = _get_image(client, tag)
    if not force and current is not None and current.labels.get(INPUTS_LABEL) == inputs:
        say(f"{name}: image {tag} up to date ({_short_id(current.id)})")
        return BuiltImage(tag, current.id, how, reused=True)

    started = time.monotonic()
    temporary = f"{repository}:{TEMPORARY_TAG_PREFIX}{uuid.uuid4().hex[:12]}"
    say(f"{name}: building {tag} ({'its Dockerfile' if how == 'dockerfile' else 'generated FROM ' + bases[0]})")
    with tempfile.TemporaryDirectory(prefix="connector-acceptance-image-") as work:
        build = _DockerBuild(client, temporary, {INPUTS_LABEL: inputs}, network_mode, say, name)
        if how == "dockerfile":
            dockerfile = _build_with_dockerfile(folder, instructions, client, build, Path(work))
        else:
            dockerfile = _build_generated(folder, metadata, bases[0], build, Path(work))
    try:
        _check_spec(client, build.image_id, name, repository)
        client.api.tag(build.image_id, repository, DEV_TAG, force=True)
    finally:
        # Untag; a failed image goes with its tag (noprune=False), a good one keeps its `:dev` tag.
        _remove_image(client, temporary)
    if current is not None and current.id != build.image_id:
        previous = _get_image(client, current.id)
        if previous is not None and not previous.tags:  # the previous `:dev`, now untagged: kept if in use
            _remove_image(client, current.id)
    seconds = time.monotonic() - started
    say(f"{name}: built {tag} ({_short_id(build.image_id)}) in {seconds:.1f}s; it answers spec")
    return BuiltImage(tag, build.image_id, how, dockerfile=dockerfile, log=tuple(build.log), seconds=seconds)


# -- the two ways -------------------------------------------------------------------------------------------------


def _build_with_dockerfile(
    folder: Path, instructions: list[tuple[str, str]], client: docker.DockerClient, build: _DockerBuild, work: Path,
) -> str:
    text = (folder / "Dockerfile").read_text()
    requirement = _python_requirement(folder)
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
        wheels = _make_wheels(folder, requirement, work)
        for wheel in [*wheels.dependencies, *([wheels.project] if wheels.project else [])]:
            shutil.copy2(wheel, wheelhouse)
        if requirement is not None and requirement.local:  # `pip install <folder>` builds it: its backend too
            _pip_wheel([*_build_requires(folder), "wheel"], wheelhouse)
        derived_text = _with_pip_args(text)
        derived.write_text(derived_text)
        links = _wheelhouse_locations(instructions, lambda image: _workdir(client, image))
        build.run(folder, DERIVED_DOCKERFILE, {"PIP_FIND_LINKS": " ".join(links), "PIP_NO_INDEX": "1"})
        return derived_text
    finally:
        shutil.rmtree(wheelhouse, ignore_errors=True)
        derived.unlink(missing_ok=True)


def _build_generated(folder: Path, metadata: Metadata | None, base: str, build: _DockerBuild, work: Path) -> str:
    assert metadata is not None and metadata.data.dockerImageTag and metadata.data.dockerRepository
    customization = _load_customization(folder)
    main_file = _main_file(customization, folder)
    requirement = _python_requirement(folder)
    pypi_only = requirement is not None and not requirement.local and not (folder / main_file).is_file()
    has_requirements_txt = (folder / "requirements.txt").is_file()
    if requirement is None and not has_requirements_txt and not (folder / main_file).is_file():
        raise BuildError(
            f"{folder}: nothing to build: add a Dockerfile, a {main_file}, a pyproject.toml or setup.py, or set "
            "data.remoteRegistries.pypi.packageName in metadata.yaml"
        )
    wheels = _make_wheels(folder, requirement, work)
    if (folder / main_file).is_file():
        entrypoint = ["python", posixpath.join(INTEGRATION_CODE, main_file)]
    elif wheels.scripts:
        entrypoint = [_pick_script(wheels.scripts, folder.name)]
    else:
        raise BuildError(f"{folder}: no {main_file} and no console script in the connector's package to run")
    context = work / "context"
    dependencies, code = context / "dependencies", context / "code"
    dependencies.mkdir(parents=True)
    for name in BUILD_FILES:
        if (folder / name).is_file():
            shutil.copy2(folder / name, dependencies / name)
    if wheels.dependencies:
        _copy_wheels(wheels.dependencies, dependencies / WHEELHOUSE_DIR)
    if not pypi_only:
        shutil.copytree(folder, code, ignore=_code_ignore(folder))
    if wheels.project:
        _copy_wheels([wheels.project], code / PROJECT_WHEEL_DIR)

    # One instruction per step, as few steps as can be: each costs a layer commit. The entrypoint comes early (it
    # rarely changes), so a code change rebuilds only the code, the connector's own wheel and the labels.
    lines = [f"FROM {base}", f"WORKDIR {INTEGRATION_CODE}"]
    lines = _apply_hook(customization, "pre_install", lines)
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
    lines = _apply_hook(customization, "post_install", lines)
    labels = {"io.airbyte.name": metadata.data.dockerRepository, "io.airbyte.version": metadata.data.dockerImageTag,
              **build.labels}
    lines.append("LABEL " + " ".join(f"{key}={json.dumps(value)}" for key, value in labels.items()))
    text = "\n".join(lines) + "\n"
    (context / "Dockerfile").write_text(text)
    build.run(context, "Dockerfile", {}, labels=False)  # the Dockerfile has them
    return text


# -- wheels ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wheels:
    dependencies: list[Path]  # every wheel the connector needs except its own
    project: Path | None  # the connector's own wheel, when the folder is a Python project
    scripts: list[str]  # console scripts of the connector's distribution


def _python_requirement(folder: Path) -> Requirement | None:
    """What pip installs for the connector (`tasks.builder.virtualenv.requirement_for`), or None when it is no
    Python package."""
    metadata = load_metadata(folder)
    if not any((folder / name).is_file() for name in ("pyproject.toml", "setup.py")) and not (
        metadata and metadata.data.pypi_package
    ):
        return None
    return requirement_for(folder)


def _make_wheels(folder: Path, requirement: Requirement | None, work: Path) -> _Wheels:
    """Wheels for everything the connector needs, made on the host: its own (built from a copy of the folder, which
    stays clean), its dependencies, and those of its requirements.txt."""
    dependencies_dir, project_dir, source = work / "wheels", work / "project-wheel", work / "source"
    dependencies_dir.mkdir()
    project_dir.mkdir()
    has_requirements_txt = (folder / "requirements.txt").is_file()
    if (requirement is not None and requirement.local) or has_requirements_txt:
        shutil.copytree(folder, source, ignore=_code_ignore(folder))
    specs: list[str] = []
    project: Path | None = None
    if requirement is not None and requirement.local:
        _pip_wheel([str(source)], project_dir, no_deps=True)
        project = next(project_dir.glob("*.whl"))
        specs.append(str(project))
    elif requirement is not None:
        specs.append(requirement.spec)
    if has_requirements_txt:
        specs += ["-r", str(source / "requirements.txt")]
    if specs:
        _pip_wheel(specs, dependencies_dir, cwd=source if source.is_dir() else None)
    wheels = sorted(dependencies_dir.glob("*.whl"))
    if project is not None:
        own = _wheel_name(project)
        return _Wheels([w for w in wheels if _wheel_name(w) != own], project, _console_scripts(project))
    distribution = _normalize(requirement.distribution) if requirement is not None else None
    own_wheel = next((w for w in wheels if _wheel_name(w) == distribution), None)
    return _Wheels(wheels, None, _console_scripts(own_wheel) if own_wheel else [])


def _pip_wheel(specs: list[str], wheel_dir: Path, *, cwd: Path | None = None, no_deps: bool = False) -> None:
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(wheel_dir),
            *(["--no-deps"] if no_deps else []), *specs]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env={**os.environ, **WHEEL_ENV},
                            check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-LOG_TAIL_LINES:]
        raise BuildError(f"could not make the wheelhouse (`pip wheel {shlex.join(specs)}`, exit "
                         f"{result.returncode}):\n" + "\n".join(tail))


def _build_requires(folder: Path) -> list[str]:
    """The folder's build backend requirements (PEP 518), pip's default when it declares none."""
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        data = {}
    requires = data.get("build-system", {}).get("requires")
    return list(requires) if isinstance(requires, list) and requires else ["setuptools>=40.8.0"]


def _copy_wheels(wheels: Iterable[Path], destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        shutil.copy2(wheel, destination / wheel.name)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _wheel_name(wheel: Path) -> str:
    return _normalize(wheel.name.split("-", 1)[0])


def _console_scripts(wheel: Path) -> list[str]:
    """The `[console_scripts]` of a wheel, read from its `*.dist-info/entry_points.txt`."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt") and n.count("/") == 1]
        if not names:
            return []
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(archive.read(names[0]).decode("utf-8"))
    return list(parser["console_scripts"]) if parser.has_section("console_scripts") else []


def _pick_script(scripts: list[str], folder_name: str) -> str:
    own = [s for s in scripts if s not in CDK_SCRIPTS] or scripts
    return folder_name if folder_name in own else own[0]


# -- build_customization.py ---------------------------------------------------------------------------------------


def _load_customization(folder: Path) -> ModuleType | None:
    path = folder / CUSTOMIZATION_FILE
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_build_customization_{_short_hash(str(path))}", path)
    if spec is None or spec.loader is None:
        raise BuildError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise BuildError(f"{path}: could not be loaded:\n{_exception_tail(error)}") from None
    for dagger_hook, ours in (("pre_connector_install", "pre_install"), ("post_connector_install", "post_install")):
        if hasattr(module, dagger_hook) and not hasattr(module, ours):
            raise BuildError(f"{path}: defines {dagger_hook}, airbyte-ci's dagger hook, which this tool cannot run; "
                             f"define {ours}(dockerfile: list[str]) -> list[str] instead")
    return module


def _main_file(customization: ModuleType | None, folder: Path) -> str:
    main_file = getattr(customization, "MAIN_FILE_NAME", "main.py") if customization else "main.py"
    if not isinstance(main_file, str) or not main_file or main_file.startswith("/"):
        raise BuildError(f"{folder / CUSTOMIZATION_FILE}: MAIN_FILE_NAME must be a relative file name, "
                         f"got {main_file!r}")
    return main_file


def _apply_hook(customization: ModuleType | None, name: str, lines: list[str]) -> list[str]:
    hook = getattr(customization, name, None) if customization else None
    if hook is None:
        return lines
    path = customization.__file__ if customization else CUSTOMIZATION_FILE
    if not callable(hook):
        raise BuildError(f"{path}: {name} must be a function (dockerfile: list[str]) -> list[str]")
    try:
        result = hook(list(lines))
    except Exception as error:
        raise BuildError(f"{path}: {name}() failed:\n{_exception_tail(error)}") from None
    if not isinstance(result, list) or not all(isinstance(line, str) for line in result):
        raise BuildError(f"{path}: {name}() must return the Dockerfile lines as a list of strings, "
                         f"got {type(result).__name__}")
    return result


def _exception_tail(error: BaseException) -> str:
    return _tail("".join(traceback.format_exception(error)))


# -- Dockerfile reading -------------------------------------------------------------------------------------------


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        op, _, args = line.partition(" ")
        result.append((op.upper(), args.strip()))
    if pending.strip():
        op, _, args = pending.strip().partition(" ")
        result.append((op.upper(), args.strip()))
    return result


def _from_image(args: str) -> tuple[str, str | None]:
    """`[--platform=…] image [AS name]` -> (image, name)."""
    words = [w for w in args.split() if not w.startswith("--")]
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return (words[0] if words else ""), alias


def _external_bases(instructions: list[tuple[str, str]]) -> list[str]:
    """The images the Dockerfile starts FROM that must be on the engine (not its own stages, not `scratch`)."""
    stages: set[str] = set()
    bases: list[str] = []
    for op, args in instructions:
        if op != "FROM":
            continue
        image, alias = _from_image(args)
        if image and image not in stages and image != "scratch" and "$" not in image and image not in bases:
            bases.append(image)
        if alias:
            stages.add(alias)
    return bases


def _with_pip_args(text: str) -> str:
    """The Dockerfile with `ARG PIP_FIND_LINKS PIP_NO_INDEX` declared in every stage (after each FROM)."""
    out: list[str] = []
    in_from = continuing = False
    for line in text.splitlines():
        out.append(line)
        stripped = line.strip()
        if not continuing:
            in_from = re.match(r"FROM\s", stripped, re.IGNORECASE) is not None
        continuing = stripped.endswith("\\")
        if in_from and not continuing:
            out.append("ARG " + " ".join(PIP_BUILD_ARGS))
            in_from = False
    return "\n".join(out) + "\n"


def _wheelhouse_locations(instructions: list[tuple[str, str]], workdir_of: Callable[[str], str]) -> list[str]:
    """Where `COPY .` (or `ADD .`) puts the context's `.wheelhouse/` in the image, following WORKDIR and each
    base image's working directory; `/airbyte/integration_code/.wheelhouse` too, as a last resort."""
    locations: list[str] = []
    workdir, stage_workdirs = "/", {}
    for op, args in instructions:
        if op == "FROM":
            image, alias = _from_image(args)
            workdir = stage_workdirs.get(image) or workdir_of(image) or "/"
            if alias:
                stage_workdirs[alias] = workdir
        elif op == "WORKDIR" and "$" not in args:
            workdir = posixpath.join(workdir, args.strip().strip('"'))
        elif op in ("COPY", "ADD"):
            words = _copy_words(args)
            if any(w.startswith("--from") for w in words):
                continue
            paths = [w for w in words if not w.startswith("--")]
            if len(paths) >= 2 and any(p.rstrip("/") in (".", "") for p in paths[:-1]):
                destination = posixpath.normpath(posixpath.join(workdir, paths[-1]))
                locations.append(posixpath.join(destination, WHEELHOUSE_DIR))
    fallback = posixpath.join(INTEGRATION_CODE, WHEELHOUSE_DIR)
    return list(dict.fromkeys([*locations, fallback]))


def _copy_words(args: str) -> list[str]:
    """`[--flag…] src… dest`, in shell form or JSON form, as words."""
    flags: list[str] = []
    rest = args.strip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.strip()
    if rest.startswith("["):
        try:
            return [*flags, *(str(w) for w in json.loads(rest))]
        except json.JSONDecodeError:
            pass
    try:
        return [*flags, *shlex.split(rest)]
    except ValueError:
        return [*flags, *rest.split()]


# -- Docker ---------------------------------------------------------------------------------------------------------


class _DockerBuild:
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

    def _line(self, line: str) -> None:
        line = line.rstrip()
        if not line:
            return
        self.log.append(line)
        if line.startswith("Step "):
            self.say(f"{self.name}: {line}")


def _check_spec(client: docker.DockerClient, image_id: str, name: str, repository: str) -> None:
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
                                  + _tail(output)) from None
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
                              + _tail(both))


def _has_spec(stdout: str) -> bool:
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == "SPEC":
            return True
    return False


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-LOG_TAIL_LINES:])


def _get_image(client: docker.DockerClient, ref: str) -> Any:
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def _local_image(client: docker.DockerClient, ref: str, folder: Path) -> Any:
    image = _get_image(client, ref)
    if image is None:
        raise BuildError(f"{folder.name}: base image {ref} is not on this Docker engine, and builds do not pull: "
                         "make it with `nox -s base_image` (or `docker load` / `docker pull` it)")
    return image


def _workdir(client: docker.DockerClient, ref: str) -> str:
    image = _get_image(client, ref)
    return str((image.attrs.get("Config") or {}).get("WorkingDir") or "/") if image is not None else "/"


def _remove_image(client: docker.DockerClient, ref: str) -> None:
    try:
        client.api.remove_image(ref)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError:  # still used by a container of someone else: it stays, untagged or not
        pass


def _remove_stale_temporary_tags(client: docker.DockerClient, repository: str) -> None:
    """Temporary tags left by a build that was killed (the caller holds the repository's lock)."""
    for image in client.images.list(name=repository):
        for tag in image.tags:
            if tag.startswith(f"{repository}:{TEMPORARY_TAG_PREFIX}"):
                _remove_image(client, tag)


def _short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


# -- identity -------------------------------------------------------------------------------------------------------


def _repository(folder: Path, metadata: Metadata | None) -> str:
    if metadata is None:
        raise BuildError(f"{folder}: no {METADATA_FILE}: its data.dockerRepository names the image to build")
    if not metadata.data.dockerRepository:
        raise BuildError(f"{folder / METADATA_FILE}: data.dockerRepository is missing: it names the image to build")
    return metadata.data.dockerRepository


def _code_ignore(top: Path) -> Callable[[str, list[str]], set[str]]:
    """What never goes into an image or its identity: virtualenvs, caches, build outputs, tests and secrets."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in IGNORED_ANYWHERE or n.endswith(".egg-info")}
        if Path(directory) == top:
            skipped |= {n for n in names if n in IGNORED_AT_TOP or n in (WHEELHOUSE_DIR, DERIVED_DOCKERFILE)}
        return skipped

    return ignore


def _context_ignore(top: Path) -> Callable[[str, list[str]], set[str]]:
    """A Dockerfile build sees the whole folder: only our own temporary files, the venv and caches are left out."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in IGNORED_ANYWHERE}
        if Path(directory) == top:
            skipped |= {n for n in names if n in (VENV_DIR, WHEELHOUSE_DIR, DERIVED_DOCKERFILE)}
        return skipped

    return ignore


def _inputs_digest(folder: Path, how: How, bases: list[str], base_ids: list[str], network_mode: str) -> str:
    digest = hashlib.sha256()
    for part in (GENERATOR_VERSION, how, network_mode, f"{sys.version_info.major}.{sys.version_info.minor}",
                 *bases, *base_ids):
        digest.update(f"{part}\0".encode())
    ignore = _context_ignore(folder) if how == "dockerfile" else _code_ignore(folder)
    for directory, dirnames, filenames in os.walk(folder):
        skipped = ignore(directory, [*dirnames, *filenames])
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        for filename in sorted(f for f in filenames if f not in skipped):
            path = Path(directory) / filename
            digest.update(f"{path.relative_to(folder).as_posix()}\0".encode())
            try:
                digest.update(hashlib.sha256(path.read_bytes()).digest())
            except OSError:
                digest.update(b"unreadable")
    return digest.hexdigest()


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
