"""Backward compatibility on the real Docker engine: two versions of the example connector built as images,
`<repository>:latest` (0.1.0, the previous release) and `<repository>:dev` (0.2.0), diffed by the discovery suite and
by `nox -s backward_compat`. The previous version is read from the `io.airbyte.version` label."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from acceptance.config.connector import Connector
from tasks.backward_compat import run_backward_compat
from tasks.builder.image import build_image
from tasks.comparison import parse_args
from tests.conftest import AcceptanceOutcome

PYTHON_SOURCE = Path(__file__).parent / "connectors" / "python-source"
BASE_IMAGE = "airbyte/python-connector-base:4.0.0"
TEST = "test_backward_compatibility[inputs0]"


def release(root: Path, repository: str, version: str, square_type: str) -> Path:
    """A copy of the example connector at `version`, its `square` field declared as `square_type`."""
    folder = root / version / "source-python-example"
    shutil.copytree(PYTHON_SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__", ".venv", "*.egg-info"))
    metadata_file = folder / "metadata.yaml"
    metadata = yaml.safe_load(metadata_file.read_text())
    metadata["data"].update(dockerRepository=repository, dockerImageTag=version)
    metadata_file.write_text(yaml.safe_dump(metadata, sort_keys=False))
    config_file = folder / "acceptance-test-config.yml"
    config = yaml.safe_load(config_file.read_text())
    config["connector_image"] = f"{repository}:dev"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    code = folder / "source_python_example" / "__init__.py"
    code.write_text(code.read_text().replace('"square": {"type": "integer"}', f'"square": {{"type": "{square_type}"}}'))
    return folder


@pytest.fixture(scope="module")
def two_releases(docker_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    if not docker_engine.images.list(name=BASE_IMAGE):
        pytest.skip(f"base image {BASE_IMAGE} missing: make it with `nox -s base_image`")
    repository = f"connector-acceptance-tests/bc-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    root = tmp_path_factory.mktemp("bc-docker")
    try:
        previous_release = Connector.read(release(root, repository, "0.1.0", "integer"))
        previous = build_image(previous_release, say=lambda _: None, client=docker_engine)
        docker_engine.images.get(previous.tag).tag(repository, "latest")
        docker_engine.images.remove(previous.tag)  # only the :latest name stays for the previous release
        current = release(root, repository, "0.2.0", "string")
        build_image(Connector.read(current), say=lambda _: None, client=docker_engine)
        yield current, repository
    finally:
        for image in docker_engine.images.list(name=repository):
            docker_engine.images.remove(image.id, force=True)


def test_the_discovery_suite_diffs_latest_against_dev(two_releases: tuple[Path, str],
                                                      run_acceptance: Callable[..., AcceptanceOutcome]) -> None:
    folder, repository = two_releases
    outcome = run_acceptance(folder, "--backend=docker", f"--image={repository}:dev", "--suite", "discovery", "-k",
                             "backward_compatibility")
    assert outcome.outcomes == {TEST: "failed"}, outcome.texts
    text = outcome.texts[TEST]
    assert f"image {repository}:latest (version 0.1.0)" in text
    assert "/streams/numbers/json_schema/properties/square/type" in text and '"integer" → "string"' in text
    assert "0.1.0 → 0.2.0 is not a major version bump" in text


def test_the_spec_suite_sees_an_identical_spec(two_releases: tuple[Path, str],
                                               run_acceptance: Callable[..., AcceptanceOutcome]) -> None:
    folder, repository = two_releases
    outcome = run_acceptance(folder, "--backend=docker", f"--image={repository}:dev", "--suite", "spec", "-k",
                             "backward_compatibility")
    assert outcome.skipped == {TEST}
    assert "identical" in outcome.texts[TEST]


def test_the_session_reports_the_image_versions_and_fails(two_releases: tuple[Path, str], tmp_path: Path) -> None:
    folder, repository = two_releases
    args = parse_args([str(folder), "--backend", "docker", "--report-dir", str(tmp_path), "--cache-dir",
                       str(tmp_path / "cache")], prog="backward_compat")
    assert run_backward_compat(folder, args, say=lambda _: None) == 1
    report = json.loads((tmp_path / folder.name / "backward_compat.json").read_text())
    assert report["previous"] == {"release": f"image {repository}:latest (version 0.1.0)", "version": "0.1.0"}
    assert report["current"]["version"] == "0.2.0"
    catalog = report["comparisons"][1]
    assert [(d["rule"], d["path"], d["breaking"]) for d in catalog["differences"]] == [
        ("type changed", "/streams/numbers/json_schema/properties/square/type", True)]


def test_a_missing_latest_image_is_a_skip_naming_it(two_releases: tuple[Path, str], docker_engine: Any,
                                                    run_acceptance: Callable[..., AcceptanceOutcome],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder, repository = two_releases
    monkeypatch.setenv("CONNECTOR_ACCEPTANCE_REGISTRY", "127.0.0.1:9")  # nothing listens: the pull fails fast
    config_file = folder / "acceptance-test-config.yml"
    original = config_file.read_text()
    config = yaml.safe_load(original)
    config["acceptance_tests"]["discovery"]["tests"][0]["backward_compatibility_tests_config"] = {
        "previous_connector_version": "0.0.1"}
    config_file.write_text(yaml.safe_dump(config))
    try:
        outcome = run_acceptance(folder, "--backend=docker", f"--image={repository}:dev", "--suite", "discovery",
                                 "-k", "backward_compatibility")
    finally:
        config_file.write_text(original)
    assert outcome.skipped == {TEST}
    assert f"previous image {repository}:0.0.1 is not in the local engine and could not be pulled" in \
        outcome.texts[TEST]
