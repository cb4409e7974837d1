"""Connector images (`tasks/builder/`) on the real Docker engine: a Dockerfile written as the reference's
"Option B", an image generated the airbyte-ci way, the dependency layer cache, broken builds, and source-faker from
PyPI. The Docker tests skip, with the reason, when no engine answers or the base image is missing; the rest run
everywhere. Every image a test builds is named for this run and removed at the end, except source-faker's (reused
by later runs while its inputs are unchanged)."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from acceptance.cache import CACHE_DIR_ENV
from acceptance.config.connector import Connector
from acceptance.config.metadata import load_metadata
from acceptance.errors import UserError
from acceptance.runner.docker import CONTAINER_LABEL
from tasks.bench.image_builds import copy_connector
from tasks.builder.build_customization import apply_hook, load_customization
from tasks.builder.dockerfile import (
    DERIVED_DOCKERFILE,
    INTEGRATION_CODE,
    WHEELHOUSE_DIR,
    instructions,
    wheelhouse_locations,
    with_pip_args,
)
from tasks.builder.engine import BUILD_LABEL, ImageBuildError
from tasks.builder.image import INPUTS_LABEL, BuiltImage, base_image_for, build_image, image_tag, normalize_image_ref
from tasks.builder.virtualenv import BuildError
from tasks.builder.wheels import WHEEL_STORE_DIR, _console_scripts

TESTS_DIR = Path(__file__).parent
DOCKERFILE_SOURCE = TESTS_DIR / "connectors" / "dockerfile-source"
PYTHON_SOURCE = TESTS_DIR / "connectors" / "python-source"
SOURCE_FAKER = TESTS_DIR.parent / "connectors" / "source-faker"
BASE_IMAGES = ("airbyte/python-connector-base:1.1.0", "airbyte/python-connector-base:4.0.0")
RUN_ID = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"  # this run's image names: concurrent runs do not meet
REPOSITORIES: list[str] = []  # the images this run builds, removed at the end
OPTION_B = [
    "FROM airbyte/python-connector-base:1.1.0",
    "COPY . ./airbyte/integration_code",
    "RUN pip install ./airbyte/integration_code",
]


def _docker_problem() -> str | None:
    try:
        client = docker.from_env()
        client.ping()
    except Exception as error:  # whatever stops us talking to the engine
        return f"no Docker engine answers ({type(error).__name__}: {error})"
    missing = [ref for ref in BASE_IMAGES if not client.images.list(name=ref)]
    if missing:
        return f"base image {', '.join(missing)} missing: make it with `nox -s base_image`"
    return None


DOCKER_PROBLEM = _docker_problem()
needs_docker = pytest.mark.skipif(DOCKER_PROBLEM is not None, reason=f"Docker tests skipped: {DOCKER_PROBLEM}")


# -- helpers --------------------------------------------------------------------------------------------------------


def run_in_image(client: docker.DockerClient, image: str, command: list[str] | None = None,
                 entrypoint: list[str] | None = None) -> str:
    """Run a container with no network (removed afterwards) and return its stdout."""
    output = client.containers.run(image, command=command, entrypoint=entrypoint, network_mode="none", remove=True,
                                   labels={CONTAINER_LABEL: "1", BUILD_LABEL: "tests"}, stderr=False)
    return output.decode()


def spec_message(output: str) -> dict[str, Any]:
    messages = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    specs = [m for m in messages if m.get("type") == "SPEC"]
    assert len(specs) == 1, output
    return specs[0]["spec"]


def step_outcomes(log: tuple[str, ...]) -> dict[str, bool]:
    """`Step n/m : INSTRUCTION` -> whether Docker reused its cache."""
    outcomes: dict[str, bool] = {}
    step = None
    for line in log:
        if line.startswith("Step "):
            step = line.split(" : ", 1)[1]
            outcomes[step] = False
        elif step and "Using cache" in line:
            outcomes[step] = True
    return outcomes


def dependency_layers(client: docker.DockerClient, image_id: str) -> list[str]:
    """The ids of an image's steps up to its dependency install (its history, oldest first)."""
    history = list(reversed(client.images.get(image_id).history()))
    ends = [n for n, step in enumerate(history) if f"{WHEELHOUSE_DIR}/*.whl" in step["CreatedBy"]]
    assert ends, history
    return [step["Id"] for step in history[: ends[0] + 1]]


def containers_of(client: docker.DockerClient, repository: str) -> list[Any]:
    return client.containers.list(all=True, filters={"label": f"{BUILD_LABEL}={repository}"})


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    """The engine; at the end, this run's images are removed and none of its containers may be left."""
    if DOCKER_PROBLEM:
        pytest.skip(f"Docker tests skipped: {DOCKER_PROBLEM}")
    engine = docker.from_env()
    yield engine
    leftovers = [c.name for repository in REPOSITORIES for c in containers_of(engine, repository)]
    for repository in REPOSITORIES:
        for image in engine.images.list(name=repository):
            for tag in image.tags:
                try:
                    engine.images.remove(tag)
                except docker.errors.APIError:
                    pass
    assert not leftovers, f"containers left behind: {leftovers}"


@pytest.fixture(scope="module")
def make_connector(client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path, str],
                                                                                                      Path]:
    """A private copy of a fixture connector whose image is named for this run (and removed at the end)."""

    def make(source: Path, variant: str) -> Path:
        repository = f"airbyte/test-{source.name}-{variant}-{RUN_ID}"
        REPOSITORIES.append(repository)
        return copy_connector(source, tmp_path_factory.mktemp(variant), repository)

    return make


@pytest.fixture(scope="module")
def dockerfile_build(make_connector: Callable[[Path, str], Path]) -> tuple[Path, BuiltImage]:
    folder = make_connector(DOCKERFILE_SOURCE, "option-b")
    return folder, build_image(Connector.read(folder), say=lambda _: None)


@pytest.fixture(scope="module")
def generated_build(make_connector: Callable[[Path, str], Path]) -> tuple[Path, BuiltImage]:
    folder = make_connector(PYTHON_SOURCE, "generated")
    return folder, build_image(Connector.read(folder), say=lambda _: None)


# -- a Dockerfile written as the reference's Option B ---------------------------------------------------------------


def test_the_dockerfile_example_is_the_references_option_b() -> None:
    instructions = [line for line in (DOCKERFILE_SOURCE / "Dockerfile").read_text().splitlines()
                    if line and not line.startswith("#")]
    assert instructions == OPTION_B


@needs_docker
def test_option_b_dockerfile_builds_unchanged_and_offline(
    client: docker.DockerClient, dockerfile_build: tuple[Path, BuiltImage]
) -> None:
    folder, built = dockerfile_build
    assert built.how == "dockerfile" and not built.reused
    assert built.tag == image_tag(Connector.read(folder)) == f"{load_metadata(folder).data.dockerRepository}:dev"  # type: ignore[union-attr]
    assert client.images.get(built.tag).id == built.image_id
    # pip inside found the connector's build backend and dependencies in the wheelhouse, not on an index
    assert f"Looking in links: {INTEGRATION_CODE}/{WHEELHOUSE_DIR}" in built.log
    assert any("Successfully installed source-dockerfile-example-0.1.0" in line for line in built.log)
    # the temporary files are gone and the image keeps no trace of the build args
    assert not (folder / WHEELHOUSE_DIR).exists() and not (folder / DERIVED_DOCKERFILE).exists()
    env = client.images.get(built.tag).attrs["Config"]["Env"]
    assert not [e for e in env if e.startswith(("PIP_FIND_LINKS=", "PIP_NO_INDEX="))]
    # its entrypoint is the base image's: main.py where Option B copied it
    spec = spec_message(run_in_image(client, built.tag, ["spec"]))
    assert spec["connectionSpecification"]["title"] == "Dockerfile Example Spec"


# -- generated the airbyte-ci way ----------------------------------------------------------------------------------


@needs_docker
def test_generated_image_follows_the_airbyte_conventions(
    client: docker.DockerClient, generated_build: tuple[Path, BuiltImage]
) -> None:
    folder, built = generated_build
    repository = load_metadata(folder).data.dockerRepository  # type: ignore[union-attr]
    assert built.how == "generated" and built.tag == f"{repository}:dev"
    # baseImage `docker.io/…:4.0.0@sha256:…` in metadata.yaml: the local image of that tag
    assert built.dockerfile.startswith("FROM airbyte/python-connector-base:4.0.0\n")
    config = client.images.get(built.tag).attrs["Config"]
    assert config["Labels"]["io.airbyte.name"] == repository
    assert config["Labels"]["io.airbyte.version"] == "0.2.0"
    assert config["Labels"][INPUTS_LABEL]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["Entrypoint"] == env["AIRBYTE_ENTRYPOINT"].split() == ["python", f"{INTEGRATION_CODE}/main.py"]
    assert env["SOURCE_PYTHON_EXAMPLE_STAGE"] == "pre-install"  # build_customization.py pre_install
    assert env["SOURCE_PYTHON_EXAMPLE_GREETING"] == "built with build_customization.py"  # post_install
    assert config["WorkingDir"] == INTEGRATION_CODE
    probe = ("import importlib.metadata as m, json, os, tabulate; "
             f"print(json.dumps([os.listdir('{INTEGRATION_CODE}'), m.version('source-python-example')]))")
    files, version = json.loads(run_in_image(client, built.tag, ["-c", probe], entrypoint=["python"]))
    assert {"main.py", "source_python_example", "pyproject.toml", "metadata.yaml", "build_customization.py"} <= set(
        files)
    assert not {"integration_tests", "acceptance-test-config.yml", WHEELHOUSE_DIR, ".connector-wheel"} & set(files)
    assert version == "0.2.0"
    spec = spec_message(run_in_image(client, built.tag, ["spec"]))  # tabulate imported, no network
    assert spec["connectionSpecification"]["title"] == "Python Example Spec"


@needs_docker
def test_a_code_change_reuses_the_dependency_layer(
    client: docker.DockerClient, generated_build: tuple[Path, BuiltImage]
) -> None:
    folder, first = generated_build
    unchanged = build_image(Connector.read(folder), say=lambda _: None)
    assert unchanged.reused and unchanged.image_id == first.image_id and not unchanged.log

    with (folder / "main.py").open("a") as main:
        main.write("# a code change\n")
    second = build_image(Connector.read(folder), say=lambda _: None)
    assert not second.reused and second.image_id != first.image_id
    steps = step_outcomes(second.log)
    dependencies = [step for step in steps if step.startswith("RUN") and f"{WHEELHOUSE_DIR}/*.whl" in step]
    assert dependencies and steps[dependencies[0]], "\n".join(second.log)  # the pip install layer: Using cache
    assert steps["COPY dependencies/ ./"]
    assert not steps["COPY code/ ./"]
    assert client.images.get(first.tag).id == second.image_id
    assert not client.images.list(name=f"{first.tag.rsplit(':', 1)[0]}:build-*")


@needs_docker
def test_a_code_change_rebuilds_offline_on_the_same_dependency_layers(
    client: docker.DockerClient, make_connector: Callable[[Path, str], Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The wheelhouse comes through uv (no pip fallback). After a first build no index is reachable (UV_OFFLINE,
    PIP_NO_INDEX) and the wheel store is emptied: a code-only change rebuilds from uv's cache alone, the wheels zipped
    again are the same bytes, and the image's layers up to the dependency install are the first image's."""
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    folder = make_connector(PYTHON_SOURCE, "offline-rebuild")
    said: list[str] = []
    first = build_image(Connector.read(folder), say=said.append)
    first_layers = dependency_layers(client, first.image_id)

    shutil.rmtree(tmp_path / "cache" / WHEEL_STORE_DIR)
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with (folder / "main.py").open("a") as main:
        main.write("# a code change\n")
    second = build_image(Connector.read(folder), say=said.append)
    assert not [line for line in said if "through pip" in line], said
    steps = step_outcomes(second.log)
    install = next(step for step in steps if step.startswith("RUN") and f"{WHEELHOUSE_DIR}/*.whl" in step)
    assert steps["COPY dependencies/ ./"] and steps[install], "\n".join(second.log)
    assert not steps["COPY code/ ./"]
    assert second.image_id != first.image_id
    assert dependency_layers(client, second.image_id) == first_layers
    spec = spec_message(run_in_image(client, second.tag, ["spec"]))
    assert spec["connectionSpecification"]["title"] == "Python Example Spec"


@needs_docker
def test_a_connector_that_cannot_start_fails_with_its_traceback_and_leaves_nothing(
    client: docker.DockerClient, make_connector: Callable[[Path, str], Path]
) -> None:
    folder = make_connector(PYTHON_SOURCE, "broken")
    (folder / "main.py").write_text('raise RuntimeError("broken on purpose: this connector cannot start")\n')
    with pytest.raises(ImageBuildError) as failure:
        build_image(Connector.read(folder), say=lambda _: None)
    message = str(failure.value)
    assert "does not answer `spec`" in message
    assert "Traceback (most recent call last)" in message
    assert 'File "/airbyte/integration_code/main.py", line 1' in message
    assert message.rstrip().endswith("RuntimeError: broken on purpose: this connector cannot start")
    repository = load_metadata(folder).data.dockerRepository  # type: ignore[union-attr]
    assert not client.images.list(name=repository)  # neither `:dev` nor the temporary tag
    assert not containers_of(client, repository)


@needs_docker
def test_a_failing_build_step_shows_the_build_log_tail_and_leaves_nothing(
    client: docker.DockerClient, make_connector: Callable[[Path, str], Path]
) -> None:
    folder = make_connector(PYTHON_SOURCE, "failing-step")
    marker = f"failing-on-purpose-{RUN_ID}"
    (folder / "build_customization.py").write_text(
        "def post_install(dockerfile):\n"
        f"    return [*dockerfile, 'RUN echo \"{marker}\" >&2 && exit 3']\n"
    )
    with pytest.raises(ImageBuildError) as failure:
        build_image(Connector.read(folder), say=lambda _: None)
    message = str(failure.value)
    assert "docker build failed" in message and "returned a non-zero code: 3" in message
    assert marker in message.split("last lines of the build log:", 1)[1]
    repository = load_metadata(folder).data.dockerRepository  # type: ignore[union-attr]
    assert not client.images.list(name=repository)
    # the failed step's intermediate container is removed too (the engine may take a moment under load)
    def step_containers() -> list[object]:
        return [c for c in client.containers.list(all=True) if marker in " ".join(c.attrs["Config"]["Cmd"] or [])]

    deadline = time.monotonic() + 30
    while step_containers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not step_containers()


@needs_docker
@pytest.mark.slow
def test_source_faker_image_from_pypi(client: docker.DockerClient) -> None:
    """The real airbyte-source-faker 7.2.1, no code in the folder: the pinned package and its console script.
    Built once; later runs reuse it while its inputs are unchanged."""
    built = build_image(Connector.read(SOURCE_FAKER), say=lambda _: None)
    assert built.tag == "airbyte/source-faker:dev" and built.how == "generated"
    config = client.images.get(built.tag).attrs["Config"]
    assert config["Labels"]["io.airbyte.name"] == "airbyte/source-faker"
    assert config["Labels"]["io.airbyte.version"] == "7.2.1"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["Entrypoint"] == env["AIRBYTE_ENTRYPOINT"].split() == ["source-faker"]
    spec = spec_message(run_in_image(client, built.tag, ["spec"]))
    assert "seed" in spec["connectionSpecification"]["properties"]
    again = build_image(Connector.read(SOURCE_FAKER), say=lambda _: None)
    assert again.reused and again.image_id == client.images.get(built.tag).id
    assert not containers_of(client, "airbyte/source-faker")


# -- without Docker ---------------------------------------------------------------------------------------------------


def test_docker_unavailable_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    folder = copy_connector(PYTHON_SOURCE, tmp_path, "airbyte/source-python-example")
    with pytest.raises(UserError, match="Docker engine does not answer"):
        build_image(Connector.read(folder), say=lambda _: None)


def test_no_metadata_or_repository_is_a_build_error_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "source-nameless"
    folder.mkdir()
    with pytest.raises(BuildError, match=r"source-nameless: no metadata.yaml: its data.dockerRepository"):
        build_image(Connector.read(folder), say=lambda _: None)
    (folder / "metadata.yaml").write_text("data:\n  dockerImageTag: 0.1.0\n")
    with pytest.raises(BuildError, match=r"source-nameless/metadata.yaml: data.dockerRepository is missing"):
        build_image(Connector.read(folder), say=lambda _: None)


@pytest.mark.parametrize(("ref", "expected"), [
    ("docker.io/airbyte/python-connector-base:1.1.0@sha256:" + "a" * 64, "airbyte/python-connector-base:1.1.0"),
    ("airbyte/python-connector-base:4.0.0", "airbyte/python-connector-base:4.0.0"),
    ("docker.io/library/python:3.11-slim", "python:3.11-slim"),
    ("localhost:5000/airbyte/base:1@sha256:" + "b" * 64, "localhost:5000/airbyte/base:1"),
])
def test_base_image_references_lose_digest_and_docker_io(ref: str, expected: str) -> None:
    assert normalize_image_ref(ref) == expected


def test_base_image_precedence() -> None:
    metadata = load_metadata(PYTHON_SOURCE)
    assert base_image_for(metadata) == "airbyte/python-connector-base:4.0.0"
    assert base_image_for(metadata, "my/base:1") == "my/base:1"
    assert base_image_for(load_metadata(DOCKERFILE_SOURCE)) == "airbyte/python-connector-base:local"


def test_pip_build_args_are_declared_in_every_stage() -> None:
    dockerfile = ("# syntax=docker/dockerfile:1\nFROM base:1 AS build\nRUN pip wheel .\n"
                  "FROM --platform=linux/amd64 \\\n  base:2\nCOPY --from=build /w /w\n")
    assert with_pip_args(dockerfile).splitlines() == [
        "# syntax=docker/dockerfile:1", "FROM base:1 AS build", "ARG PIP_FIND_LINKS PIP_NO_INDEX", "RUN pip wheel .",
        "FROM --platform=linux/amd64 \\", "  base:2", "ARG PIP_FIND_LINKS PIP_NO_INDEX", "COPY --from=build /w /w",
    ]


def test_wheelhouse_location_follows_copy_and_workdirs() -> None:
    option_b = instructions("\n".join(OPTION_B))
    assert wheelhouse_locations(option_b, lambda _: "/") == ["/airbyte/integration_code/.wheelhouse"]
    assert wheelhouse_locations(option_b, lambda _: "/airbyte/integration_code") == [
        "/airbyte/integration_code/airbyte/integration_code/.wheelhouse", "/airbyte/integration_code/.wheelhouse"]
    custom = instructions("FROM x\nWORKDIR /app\nWORKDIR src\nCOPY --chown=1:1 [\".\", \"./\"]\n")
    assert wheelhouse_locations(custom, lambda _: "/") == [
        "/app/src/.wheelhouse", "/airbyte/integration_code/.wheelhouse"]


def test_build_customization_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "build_customization.py"
    path.write_text("def pre_install(dockerfile)\n    return dockerfile\n")
    with pytest.raises(BuildError, match=rf"{path}: could not be loaded:(.|\n)*SyntaxError"):
        load_customization(tmp_path)

    path.write_text("async def pre_connector_install(base_image_container):\n    return base_image_container\n")
    with pytest.raises(BuildError, match=rf"{path}: defines pre_connector_install, airbyte-ci's dagger hook"):
        load_customization(tmp_path)

    path.write_text("def post_install(dockerfile):\n    dockerfile.append('ENV A=1')\n")
    module = load_customization(tmp_path)
    with pytest.raises(BuildError, match=rf"{path}: post_install\(\) must return the Dockerfile lines .* got NoneType"):
        apply_hook(module, "post_install", ["FROM x"])

    path.write_text("def pre_install(dockerfile):\n    raise ValueError('no apt here')\n")
    module = load_customization(tmp_path)
    with pytest.raises(BuildError, match=rf"{path}: pre_install\(\) failed:(.|\n)*ValueError: no apt here"):
        apply_hook(module, "pre_install", ["FROM x"])


def test_console_scripts_come_from_the_wheels_entry_points(tmp_path: Path) -> None:
    wheel = tmp_path / "airbyte_source_example-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("airbyte_source_example-1.0.0.dist-info/entry_points.txt",
                         "[console_scripts]\nsource-example = source_example.run:run\n"
                         "[other]\nnot-a-script = x:y\n")
    assert _console_scripts(wheel) == ["source-example"]
