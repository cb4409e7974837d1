"""The wheelhouse of an image build (`tasks/builder/wheels.py`): filled through uv (pinned by `uv pip compile`, wheels
zipped again from uv's cache into the wheel store), the same bytes every time and offline from the caches; pip's
`pip wheel` where uv cannot; and the bench's Docker rows (`tasks/bench/image_builds.py`), their shape on a stand-in
build. Each test has caches of its own (UV_CACHE_DIR, the tool's cache root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from acceptance.cache import CACHE_DIR_ENV
from acceptance.config.connector import Connector
from acceptance.runner.environment import UV_DIR
from tasks.bench import image_builds
from tasks.builder import wheels
from tasks.builder.image import BuiltImage
from tasks.builder.wheels import WHEEL_STORE_DIR, fill_wheelhouse

TESTS_DIR = Path(__file__).parent
PYTHON_SOURCE = TESTS_DIR / "connectors" / "python-source"
TABULATE = "tabulate==0.9.0"  # pure Python, no dependencies: one small wheel from PyPI

needs_uv = pytest.mark.skipif(wheels._uv() is None, reason="the uv package is not installed")


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv("UV_OFFLINE", raising=False)
    return tmp_path / "cache"


def fill(specs: list[str], directory: Path, **options: Any) -> dict[str, bytes]:
    directory.mkdir()
    fill_wheelhouse(specs, directory, **options)
    return {wheel.name: wheel.read_bytes() for wheel in directory.glob("*.whl")}


@needs_uv
def test_uv_wheelhouse_is_the_same_bytes_again_and_offline(caches: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    first = fill([TABULATE], tmp_path / "first", say=said.append)
    assert list(first) == ["tabulate-0.9.0-py3-none-any.whl"]
    assert list((caches / WHEEL_STORE_DIR).glob("*/tabulate/0.9.0/tabulate-0.9.0-py3-none-any.whl"))

    monkeypatch.setenv("UV_OFFLINE", "1")  # no index from here on
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert fill([TABULATE], tmp_path / "from-the-store", say=said.append) == first
    shutil.rmtree(caches / WHEEL_STORE_DIR)  # zipped again from uv's cache: the same bytes
    assert fill([TABULATE], tmp_path / "from-uv-cache", say=said.append) == first
    assert not said  # no pip fallback

    # a valid wheel: pip installs it with no index, and it runs
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target", str(target),
                    str(tmp_path / "first" / "tabulate-0.9.0-py3-none-any.whl")], check=True)
    assert (target / "tabulate" / "__init__.py").is_file()
    with zipfile.ZipFile(tmp_path / "first" / "tabulate-0.9.0-py3-none-any.whl") as archive:
        names = archive.namelist()
        assert names[-1] == "tabulate-0.9.0.dist-info/RECORD"
        assert {info.date_time for info in archive.infolist()} == {wheels.ZIP_TIME}


@needs_uv
def test_the_cache_root_given_holds_uvs_cache_and_the_wheel_store(caches: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UV_CACHE_DIR")
    root = tmp_path / "cache-dir-option"
    assert list(fill([TABULATE], tmp_path / "wheels", cache_root=root)) == ["tabulate-0.9.0-py3-none-any.whl"]
    assert (root / UV_DIR).is_dir()
    assert list((root / WHEEL_STORE_DIR).glob("*/tabulate/0.9.0/*.whl"))
    assert not caches.exists()  # the default cache root is left alone


@needs_uv
def test_offline_with_nothing_cached_fails_saying_what_uv_said(caches: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    with pytest.raises(wheels.BuildError) as failure:
        fill([TABULATE], tmp_path / "wheels")
    message = str(failure.value)
    assert message.startswith("could not make the wheelhouse (`uv pip compile` of tabulate==0.9.0")
    assert "not found in the cache" in message and "the network was disabled" in message


@needs_uv
def test_the_connectors_own_wheel_is_built_by_uv_and_its_dependencies_pinned(caches: Path, tmp_path: Path) -> None:
    connector = Connector.read(PYTHON_SOURCE)
    made = wheels.make_wheels(PYTHON_SOURCE, wheels.python_requirement(connector), tmp_path, say=pytest.fail)
    assert made.project is not None and made.project.name == "source_python_example-0.2.0-py3-none-any.whl"
    assert [wheel.name.split("-", 1)[0] for wheel in made.dependencies] == ["tabulate"]


def test_without_uv_the_wheelhouse_is_pips_and_says_so(caches: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wheels, "_uv", lambda *_: None)
    own = tmp_path / "own"
    own.mkdir()
    wheel = own / "example_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("example_pkg/__init__.py", "")
        archive.writestr("example_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: example-pkg\n"
                                                               "Version: 1.0\n")
        archive.writestr("example_pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                                                            "Tag: py3-none-any\n")
        archive.writestr("example_pkg-1.0.dist-info/RECORD", "")
    said: list[str] = []
    assert list(fill([str(wheel)], tmp_path / "wheels", say=said.append)) == [wheel.name]
    assert said == ["wheelhouse through pip: the uv package is not installed"]


@needs_uv
def test_an_editable_requirement_goes_to_pip_and_says_so(caches: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "example-editable"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "example-editable"\nversion = "1.0"\n'
                                            "dependencies = []\n")
    (tmp_path / "requirements.txt").write_text(f"-e {project}\n")
    pip_calls: list[list[str]] = []
    monkeypatch.setattr(wheels, "pip_wheel", lambda specs, *_, **__: pip_calls.append(specs))
    said: list[str] = []
    fill(["-r", str(tmp_path / "requirements.txt")], tmp_path / "wheels", cwd=tmp_path, say=said.append)
    assert pip_calls == [["-r", str(tmp_path / "requirements.txt")]]
    assert said == [f"wheelhouse through pip: an editable requirement (`-e {project}`) is no wheel in uv's "
                    "cache"], said


def test_a_wheel_is_named_from_its_dist_info(tmp_path: Path) -> None:
    dist_info = tmp_path / "PyYAML-6.0.2.dist-info"
    dist_info.mkdir()
    (dist_info / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: false\n"
                                     "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n")
    assert wheels._wheel_filename(dist_info) == \
        "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    (dist_info / "WHEEL").write_text("Wheel-Version: 1.0\nBuild: 1\nTag: py2-none-any\nTag: py3-none-any\n")
    assert wheels._wheel_filename(dist_info) == "PyYAML-6.0.2-1-py2.py3-none-any.whl"


# -- the bench's Docker rows ------------------------------------------------------------------------------------------


def test_docker_build_rows_time_both_ways_from_scratch_and_after_a_code_change(tmp_path: Path) -> None:
    """A stand-in for build_image: what the bench builds (folders, ways, the code change, the caches) and its rows."""
    calls: list[dict[str, Any]] = []

    def build(connector: Connector, *, say: Any, installer: str) -> BuiltImage:
        folder = connector.folder
        calls.append({"installer": installer, "folder": folder, "main": (folder / "main.py").read_text(),
                      "customization": (folder / "build_customization.py").read_text(),
                      "caches": [os.environ.get(name) for name in ("UV_CACHE_DIR", "PIP_CACHE_DIR", CACHE_DIR_ENV)],
                      "repository": connector.image_repository()})
        return BuiltImage(f"{connector.image_repository()}:dev", "sha256:0", "generated")

    before = [os.environ.get(name) for name in ("UV_CACHE_DIR", "PIP_CACHE_DIR", CACHE_DIR_ENV)]
    source = tmp_path / "source-faker"
    shutil.copytree(TESTS_DIR.parent / "connectors" / "source-faker", source)
    rows = image_builds.docker_build_rows(lambda _: None, source=source, rounds=2, build=build)

    assert [call["installer"] for call in calls] == ["uv", "uv", "pip", "pip", "pip", "pip", "uv", "uv"]
    for scratch, rebuild in zip(calls[::2], calls[1::2], strict=True):
        assert scratch["folder"] == rebuild["folder"] != source
        assert rebuild["main"] == scratch["main"] + image_builds.CODE_CHANGE
        assert "entry_points(group='console_scripts', name='source-faker')" in scratch["main"]
        assert "ENV CONNECTOR_ACCEPTANCE_BENCH=" in scratch["customization"]
        assert scratch["repository"].startswith(f"{image_builds.REPOSITORY_PREFIX}/source-faker-")
        assert scratch["caches"] == rebuild["caches"] and None not in scratch["caches"]
    assert len({call["repository"] for call in calls}) == 4  # every pair from scratch: its own repository
    assert len({call["customization"] for call in calls}) == 4  # its own ENV
    assert len({tuple(call["caches"]) for call in calls}) == 4  # its own empty caches
    assert [os.environ.get(name) for name in ("UV_CACHE_DIR", "PIP_CACHE_DIR", CACHE_DIR_ENV)] == before
    assert not (source / "main.py").exists()  # the connector folder itself is left alone

    assert [row["case"] for row in rows] == list(image_builds.CASES)
    for row in rows:
        assert set(row) == {"environment", "case", "uv_seconds", "pip_seconds", "speedup", "uv_runs", "pip_runs",
                            "target", "passed"}
        assert row["environment"] == "Docker image of source-faker"
        assert len(row["uv_runs"]) == len(row["pip_runs"]) == 2
        assert row["uv_seconds"] == min(row["uv_runs"]) and row["pip_seconds"] == min(row["pip_runs"])
    assert rows[0]["target"] is None and rows[0]["passed"] is None
    assert rows[1]["target"] == "uv ≤ 20 s" and rows[1]["passed"] is True
