"""`tasks/base_image.py`: the local Python connector base image (debootstrap + docker import) on the real engine.

The first run on a machine builds the image (about two minutes); later runs reuse it.
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import docker
import docker.errors
import pytest

from acceptance.errors import UserError
from acceptance.protocol.messages import parse_line
from tasks.builder import base_image
from tasks.builder.base_image import BASE_LABEL, DEFAULT_TAGS, build_base_image, debian_mirror, import_changes

# An "Option B" connector, as the reference writes its Dockerfile: no network is needed to install it (a setup.py
# without pyproject.toml builds with the setuptools Debian ships, without build isolation).
OPTION_B_DOCKERFILE = """\
FROM airbyte/python-connector-base:1.1.0
COPY . ./airbyte/integration_code
RUN pip install ./airbyte/integration_code
"""
OPTION_B_FILES = {
    "Dockerfile": OPTION_B_DOCKERFILE,
    "setup.py": "from setuptools import setup\n"
                "setup(name='source-option-b', version='0.1.0', py_modules=['option_b'])\n",
    "option_b.py": "import json\n\ndef spec():\n    print(json.dumps({'type': 'SPEC', 'spec': "
                   "{'connectionSpecification': {'type': 'object'}}}))\n",
    "main.py": "import sys\nimport option_b\n\nif sys.argv[1:] == ['spec']:\n    option_b.spec()\n",
}


@pytest.fixture(scope="module")
def client(docker_engine: docker.DockerClient) -> docker.DockerClient:
    return docker_engine


@pytest.fixture(scope="module")
def image_id(client: docker.DockerClient) -> str:
    try:
        return build_base_image(DEFAULT_TAGS, say=lambda _: None)  # reused when present
    except UserError as error:
        pytest.skip(f"the base image cannot be built here: {error}")


def run_in(client: docker.DockerClient, image: str, *entrypoint: str) -> str:
    output = client.containers.run(image, entrypoint=list(entrypoint), remove=True, network_mode="none",
                                   labels={"io.airbyte.connector-acceptance": "1"}, stderr=True)
    return output.decode()


def test_every_default_tag_names_the_base_image(client: docker.DockerClient, image_id: str) -> None:
    for tag in DEFAULT_TAGS:
        assert client.images.get(tag).id == image_id, tag
    assert DEFAULT_TAGS[0] == "airbyte/python-connector-base:local"
    assert {"1.1.0", "2.0.0", "3.0.0", "4.0.0"} <= {t.rsplit(":", 1)[1] for t in DEFAULT_TAGS}


def test_python_and_pip_run_inside(client: docker.DockerClient, image_id: str) -> None:
    assert run_in(client, image_id, "python", "--version").startswith("Python 3.11.")
    assert "python 3.11" in run_in(client, image_id, "pip", "--version")
    assert run_in(client, image_id, "python", "-c", "import venv, ssl; print('ok')").strip() == "ok"


def test_entrypoint_environment_and_label_follow_airbyte_conventions(
    client: docker.DockerClient, image_id: str
) -> None:
    config = client.images.get(image_id).attrs["Config"]
    env = dict(entry.split("=", 1) for entry in config["Env"])
    assert config["Entrypoint"] == ["python", "/airbyte/integration_code/main.py"]
    assert env["AIRBYTE_ENTRYPOINT"] == "python /airbyte/integration_code/main.py"
    assert env["AIRBYTE_ENTRYPOINT"] == " ".join(config["Entrypoint"])
    assert env["PIP_DISABLE_PIP_VERSION_CHECK"] == "1"
    assert env["PIP_BREAK_SYSTEM_PACKAGES"] == "1"
    assert config["Labels"][BASE_LABEL] == "1"
    assert config["WorkingDir"] in ("", "/")  # as Airbyte's own base: Option B's relative COPY lands in /airbyte


def test_second_call_reuses_the_image_without_building(
    client: docker.DockerClient, image_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_build(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("the base image was rebuilt")

    monkeypatch.setattr(base_image, "_build", no_build)
    said: list[str] = []
    started = time.monotonic()
    assert build_base_image(DEFAULT_TAGS, say=said.append) == image_id
    assert time.monotonic() - started < 10
    assert any("reused" in line for line in said), said


def test_reuse_adds_missing_tags(client: docker.DockerClient, image_id: str) -> None:
    extra = "connector-acceptance-test/base-extra-tag:1"
    try:
        assert build_base_image([DEFAULT_TAGS[0], extra], say=lambda _: None) == image_id
        assert client.images.get(extra).id == image_id
    finally:
        client.images.remove(extra, noprune=True)


def test_an_option_b_dockerfile_builds_unchanged_and_runs(client: docker.DockerClient, image_id: str) -> None:
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in OPTION_B_FILES.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = "connector-acceptance-test/option-b:dev"
    try:
        client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True,
                            network_mode="none")
        output = client.containers.run(tag, command=["spec"], remove=True, network_mode="none",
                                       labels={"io.airbyte.connector-acceptance": "1"})
        (message,) = [parse_line(line) for line in output.splitlines() if line.strip()]
        assert message is not None and message["type"] == "SPEC"
        installed = run_in(client, tag, "pip", "show", "source-option-b")
        assert "Version: 0.1.0" in installed
    finally:
        try:
            client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass


def test_import_changes_are_dockerfile_instructions() -> None:
    changes = import_changes()
    assert 'ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]' in changes
    assert 'ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"' in changes
    assert f'LABEL {BASE_LABEL}="1"' in changes


# -- the machine's Debian mirror (no Docker needed) -------------------------------------------------------------------


def test_mirror_from_deb822_sources_skips_security_and_third_party(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "a-nodesource.sources").write_text(
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n"
    )
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\n"
        "Types: deb deb-src\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main\n"
    )
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_mirror_from_one_line_sources_list(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb [signed-by=/usr/share/keyrings/x.gpg arch=amd64] http://other.example/x nodistro main\n"
        "deb http://security.debian.org/debian-security bookworm-security main\n"
        "deb http://ftp.example/debian trixie main\n"
    )
    assert debian_mirror(tmp_path) == "http://ftp.example/debian"


def test_mirror_falls_back_to_deb_debian_org(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "off.sources").write_text(
        "Enabled: no\nTypes: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\nComponents: main\n"
    )
    assert debian_mirror(tmp_path) == "http://deb.debian.org/debian"


def test_missing_debootstrap_without_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base_image, "_which_debootstrap", lambda: None)
    monkeypatch.setattr(base_image.os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match=r"apt-get install debootstrap"):
        base_image._ensure_debootstrap(lambda _: None)


def test_a_failing_step_shows_the_tail_of_its_output(tmp_path: Path) -> None:
    script = "; ".join(f"echo line{i}" for i in range(40)) + "; exit 3"
    with pytest.raises(UserError) as caught:
        base_image._run(["sh", "-c", script], "the step")
    text = str(caught.value)
    assert "the step failed (exit 3)" in text
    assert "line39" in text and "line0\n" not in text
