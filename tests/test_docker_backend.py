"""The Docker backend on the real engine: the two example connectors (one with a Dockerfile, one generated from
the base image) pass the same tests in Docker as locally, and the image tests catch a broken image."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import AcceptanceOutcome

docker = pytest.importorskip("docker")

from acceptance.config.connector import Connector  # noqa: E402
from acceptance.runner.backend import docker_client  # noqa: E402

CONNECTORS = Path(__file__).parent / "connectors"
IMAGE_TESTS = {"test_image_labels[inputs0]", "test_image_environment_variables[inputs0]"}
Runner = Callable[..., AcceptanceOutcome]


@pytest.fixture(scope="module")
def engine() -> object:
    client = docker_client()
    if client is None:
        pytest.skip("no Docker engine answers: the Docker backend tests need one")
    try:
        client.images.get("airbyte/python-connector-base:local")
    except Exception:
        from tasks.builder.base_image import DEFAULT_TAGS, build_base_image

        build_base_image(list(DEFAULT_TAGS), say=lambda _: None)
    return client


@pytest.fixture(scope="module")
def built(engine: object) -> dict[str, str]:
    from tasks.builder.image import build_image

    return {name: build_image(Connector.read(CONNECTORS / name), say=lambda _: None).tag
            for name in ("dockerfile-source", "python-source")}


@pytest.mark.parametrize("name", ["dockerfile-source", "python-source"])
def test_docker_and_local_backends_agree(name: str, built: dict[str, str], run_acceptance: Runner) -> None:
    folder = CONNECTORS / name
    in_docker = run_acceptance(folder, "--backend=docker", f"--image={built[name]}")
    locally = run_acceptance(folder, "--backend=local")
    assert locally.failed == set(), locally.texts
    assert locally.skipped >= IMAGE_TESTS  # they need an image
    # The reference's Option B Dockerfile sets no io.airbyte labels: exactly the image-label test tells.
    expected_failures = {"test_image_labels[inputs0]"} if name == "dockerfile-source" else set()
    assert in_docker.failed == expected_failures, {n: in_docker.texts[n][-500:] for n in in_docker.failed}
    assert in_docker.passed - IMAGE_TESTS == locally.passed
    assert in_docker.skipped == locally.skipped - IMAGE_TESTS


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ('LABEL io.airbyte.version="9.9.9"', "test_image_labels[inputs0]"),
        ('ENTRYPOINT ["python", "-u", "/airbyte/integration_code/main.py"]',
         "test_image_environment_variables[inputs0]"),
    ],
    ids=["wrong-version-label", "entrypoint-env-mismatch"],
)
def test_image_tests_catch_a_broken_image(change: str, failing: str, built: dict[str, str], engine: object,
                                          run_acceptance: Runner) -> None:
    import io

    tag = f"airbyte/source-python-example-broken:{failing.split('[')[0].removeprefix('test_')}"
    dockerfile = f"FROM {built['python-source']}\n{change}\n".encode()
    engine.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True)  # type: ignore[attr-defined]
    try:
        outcome = run_acceptance(CONNECTORS / "python-source", "--backend=docker", f"--image={tag}", "--suite",
                                 "spec", "-k", "image")
        assert outcome.failed == {failing}, outcome.texts
        assert outcome.passed == IMAGE_TESTS - {failing}
    finally:
        engine.images.remove(tag, force=True)  # type: ignore[attr-defined]
