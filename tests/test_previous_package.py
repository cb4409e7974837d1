"""The previous PyPI release of a connector: which version, installed in its own virtualenv, and how it is started.

The install tests are offline: tiny wheels of `airbyte-source-tiny` (one release per way of starting a connector)
and a stand-in `airbyte-cdk` go to a folder that pip and uv read with `--no-index --find-links`. The tests marked `slow`
install real releases of airbyte-source-faker from the configured index.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

import acceptance.compat.previous_package as previous_package
from acceptance.compat.launcher import DESCRIBE, launcher_source
from acceptance.compat.previous_image import Unavailable
from acceptance.compat.previous_package import (
    RECORD,
    PreviousPackage,
    install_previous,
    parse_index_versions,
    previous_venv,
    previous_version,
    published_versions,
    resolve_previous_package,
)
from tests.helpers.wheels import make_wheel

TINY = "airbyte-source-tiny"


def versions(*texts: str) -> list[Version]:
    return [Version(text) for text in texts]


# --- which release (no pip) ---------------------------------------------------------------------------------------

PUBLISHED = versions("7.2.1", "7.2.0", "7.1.0", "6.2.38", "4.0.0")
WITH_PRE = versions("2.0.0rc1", "2.0.0.dev3", "1.1.0", "1.0.0.post1", "1.0.0")


@pytest.mark.parametrize(
    ("published", "current", "explicit", "expected"),
    [
        (PUBLISHED, "7.2.1", None, "7.2.0"),  # the highest strictly lower one
        (PUBLISHED, "7.2.1", "latest", "7.2.0"),  # upstream's default means "choose"
        (PUBLISHED, "7.2.1", "", "7.2.0"),
        (PUBLISHED, "7.3.0", None, "7.2.1"),  # the current version need not be published yet
        (PUBLISHED, "6.2.38", None, "4.0.0"),
        (PUBLISHED, "7.2.1", "6.2.38", "6.2.38"),  # explicit: as is, even an older one
        (PUBLISHED, "7.2.1", "7.2.1", "7.2.1"),  # explicit may even be the current version
        (PUBLISHED, "7.2.1", "4.0", "4.0.0"),  # PEP 440 equality: the published spelling is returned
        (PUBLISHED, "not-a-version", "7.1.0", "7.1.0"),  # the current version does not matter then
        (WITH_PRE, "2.0.0", None, "1.1.0"),  # pre-releases and dev releases are skipped...
        (WITH_PRE, "2.1.0", None, "1.1.0"),
        (WITH_PRE, "2.0.0rc2", None, "2.0.0rc1"),  # ...unless the current version is a pre-release
        (WITH_PRE, "1.1.0", None, "1.0.0.post1"),  # a post-release is a release
        (WITH_PRE, "1.1.0", "2.0.0rc1", "2.0.0rc1"),
        (list(reversed(PUBLISHED)), "7.2.1", None, "7.2.0"),  # order of the list does not matter
    ],
)
def test_previous_version_chooses(published: list[Version], current: str, explicit: str | None,
                                  expected: str) -> None:
    chosen = previous_version(published, current, explicit)
    assert isinstance(chosen, Version)
    assert str(chosen) == expected


@pytest.mark.parametrize(
    ("published", "current", "explicit", "reason"),
    [
        (PUBLISHED, "4.0.0", None, "no release of airbyte-source-x older than 4.0.0 is published"),
        (PUBLISHED, "1.0.0", None, "no release of airbyte-source-x older than 1.0.0 is published"),
        ([], "1.0.0", None, "no release of airbyte-source-x older than 1.0.0 is published"),
        (WITH_PRE, "1.0.0", None, "no release of airbyte-source-x older than 1.0.0 is published"),
        (PUBLISHED, "dev", None, "'dev', is not a PEP 440 version"),
        (PUBLISHED, "7.2.1", "5.0.0",
         "previous_connector_version 5.0.0 is not a published release of airbyte-source-x"),
        (PUBLISHED, "7.2.1", "v-next", "previous_connector_version 'v-next' is not a PEP 440 version"),
    ],
)
def test_previous_version_says_why_there_is_none(published: list[Version], current: str, explicit: str | None,
                                                 reason: str) -> None:
    chosen = previous_version(published, current, explicit, package="airbyte-source-x")
    assert isinstance(chosen, str)
    assert reason in chosen


PIP_23_OUTPUT = """\
airbyte-source-faker (7.2.1)
Available versions: 7.2.1, 7.2.0, 6.2.38, 6.0.0, 4.0.0
  INSTALLED: 7.2.0
  LATEST:    7.2.1
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (PIP_23_OUTPUT, ["7.2.1", "7.2.0", "6.2.38", "6.0.0", "4.0.0"]),
        ("x (1.0)\nAvailable versions: 1.0\n", ["1.0"]),
        # unsorted, repeated, a pre-release, a non-PEP 440 entry and stray spaces
        ("available versions:0.9 ,1.10.0, 1.2.0,1.2.0, 2.0.0b1, not-a-version\n",
         ["2.0.0b1", "1.10.0", "1.2.0", "0.9"]),
        ("WARNING: something\nx (1.0)\nAvailable versions: \n", []),
    ],
)
def test_parse_index_versions(output: str, expected: list[str]) -> None:
    assert parse_index_versions(output) == versions(*expected)


@pytest.mark.parametrize("output", ["", "x (1.0)\n", "ERROR: No matching distribution found for x\n"])
def test_parse_index_versions_without_the_versions_line(output: str) -> None:
    assert parse_index_versions(output) is None


def test_previous_venv_is_per_release_and_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    assert previous_venv(TINY, "1.0.0", tmp_path) == tmp_path / "previous" / f"{TINY}-1.0.0-{python}"
    monkeypatch.setenv("CONNECTOR_ACCEPTANCE_CACHE_DIR", str(tmp_path / "shared"))
    assert previous_venv(TINY, "1.0.0") == tmp_path / "shared" / "previous" / f"{TINY}-1.0.0-{python}"


def test_launcher_fails_in_one_line_when_the_distribution_is_missing(tmp_path: Path) -> None:
    launcher = tmp_path / "launch.py"
    launcher.write_text(launcher_source("airbyte-source-not-installed-anywhere"))
    result = subprocess.run([sys.executable, str(launcher), "spec"], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "connector-acceptance launcher: airbyte-source-not-installed-anywhere: the distribution is not installed"]


# --- offline installs of tiny releases ----------------------------------------------------------------------------

SPEC_LINE = 'print(json.dumps({"type": "SPEC", "spec": {"connectionSpecification": {"title": "%s"}}}))'
RUN_MODULE = f"import json\n\n\ndef run():\n    {SPEC_LINE % 'tiny'}\n"
FAKE_CDK = {
    "airbyte_cdk/__init__.py": "",
    "airbyte_cdk/sources/__init__.py": "class Source:\n    pass\n",
    "airbyte_cdk/entrypoint.py": (
        "import json\n\n\ndef launch(source, args):\n"
        "    assert args == ['spec'], args\n"
        "    print(json.dumps({'type': 'SPEC', 'spec': source.spec()}))\n"
    ),
}
CLASS_PACKAGE = {
    "source_tiny/__init__.py": "from .source import SourceTiny\n\n__all__ = ['SourceTiny']\n",
    "source_tiny/source.py": (
        "from airbyte_cdk.sources import Source\n\n\n"
        "class SourceHelper(Source):\n    pass\n\n\n"  # also a Source, but not named like the package
        "class SourceTiny(SourceHelper):\n"
        "    def spec(self):\n        return {'connectionSpecification': {'title': 'class'}}\n"
    ),
    # old releases shipped their tests as packages too; this one cannot be imported
    "integration_tests/__init__.py": "import connector_acceptance_test\n",
}


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Releases of airbyte-source-tiny, one per way of starting it, and a stand-in airbyte-cdk."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    make_wheel(folder, "airbyte-cdk", "0.0.1", FAKE_CDK, top_level=["airbyte_cdk"],
               console_scripts={"source-declarative-manifest": "airbyte_cdk.entrypoint:launch"})
    # 0.1.0: answers spec with an error
    make_wheel(folder, TINY, "0.1.0", {"source_tiny/__init__.py": "", "source_tiny/run.py": (
        "import sys\n\n\ndef run():\n    sys.exit('source-tiny 0.1.0: cannot read its spec')\n")},
        console_scripts={"source-tiny": "source_tiny.run:run"})
    # 0.9.0: no console script of its own (only a CDK one): a Source class, started through the CDK
    make_wheel(folder, TINY, "0.9.0", CLASS_PACKAGE, requires=["airbyte-cdk"],
               top_level=["integration_tests", "source_tiny"],
               console_scripts={"source-declarative-manifest": "airbyte_cdk.entrypoint:launch"})
    # 1.0.0: no console script, a run() function, no top_level.txt (as Poetry builds it)
    make_wheel(folder, TINY, "1.0.0", {"source_tiny/__init__.py": "", "source_tiny/run.py": RUN_MODULE})
    # 1.1.0: a console script
    make_wheel(folder, TINY, "1.1.0", {"source_tiny/__init__.py": "", "source_tiny/run.py": RUN_MODULE},
               console_scripts={"source-tiny": "source_tiny.run:run"})
    make_wheel(folder, TINY, "2.0.0rc1", {"source_tiny/__init__.py": "", "source_tiny/run.py": RUN_MODULE},
               console_scripts={"source-tiny": "source_tiny.run:run"})
    return folder


@pytest.fixture
def offline(wheelhouse: Path) -> list[str]:
    return ["--no-index", "--find-links", str(wheelhouse)]


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache the install tests share, so each tiny release is installed once."""
    return tmp_path_factory.mktemp("previous-cache")


def spec_of(found: PreviousPackage) -> dict[str, Any]:
    result = subprocess.run([*found.argv, "spec"], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return next(message["spec"] for message in messages if message["type"] == "SPEC")


def test_published_versions_from_a_folder(offline: list[str]) -> None:
    assert published_versions(TINY, index_args=offline) == versions("2.0.0rc1", "1.1.0", "1.0.0", "0.9.0", "0.1.0")


def test_published_versions_of_an_unknown_package(offline: list[str]) -> None:
    reason = published_versions("airbyte-source-nowhere", index_args=offline)
    assert isinstance(reason, str)
    assert reason.startswith("no release of airbyte-source-nowhere is published on the package index")


def test_published_versions_when_pip_fails() -> None:
    reason = published_versions(TINY, index_args=["--no-such-pip-option"])
    assert isinstance(reason, str)
    assert "could not list the published versions of airbyte-source-tiny" in reason
    assert "no such option: --no-such-pip-option" in reason


def test_published_versions_offline(offline: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    started = time.monotonic()
    reason = published_versions(TINY, cache_root=tmp_path)  # from the index: never listed
    assert time.monotonic() - started < 1  # at once, not after pip's time-outs
    assert reason == (f"offline (UV_OFFLINE is set) and the published versions of {TINY} were never listed under "
                      f"{tmp_path / 'previous'}: run once with the package index reachable")
    monkeypatch.delenv("UV_OFFLINE")
    listed = published_versions(TINY, index_args=offline, cache_root=tmp_path, max_age=600)
    monkeypatch.setenv("UV_OFFLINE", "1")
    # a kept list is used whatever its age while offline
    assert published_versions(TINY, index_args=offline, cache_root=tmp_path, max_age=0.0001) == listed


@pytest.mark.parametrize(
    ("version", "how", "title"),
    [
        ("1.1.0", "console script source-tiny", "tiny"),
        ("1.0.0", "launcher (no console script): source_tiny.run:run", "tiny"),
        ("0.9.0", "launcher (no console script): source_tiny.SourceTiny", "class"),
    ],
)
def test_install_and_run(version: str, how: str, title: str, offline: list[str], shared_cache: Path) -> None:
    said: list[str] = []
    found = install_previous(TINY, version, cache_root=shared_cache, index_args=offline, say=said.append)
    assert isinstance(found, PreviousPackage), found
    assert (found.package, found.version, found.how) == (TINY, version, how)
    assert found.venv == previous_venv(TINY, version, shared_cache)
    assert spec_of(found)["connectionSpecification"]["title"] == title
    assert (found.venv / RECORD).is_file()
    assert (found.venv.parent / f"{found.venv.name}.lock").exists()  # beside the venv, not in it


def test_an_installed_release_is_reused_without_pip(offline: list[str], shared_cache: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = install_previous(TINY, "1.0.0", cache_root=shared_cache, index_args=offline, say=lambda _: None)
    assert isinstance(first, PreviousPackage), first

    def no_subprocess(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a reused install ran {args}")

    monkeypatch.setattr(previous_package.subprocess, "run", no_subprocess)
    said: list[str] = []
    started = time.monotonic()
    again = install_previous(TINY, "1.0.0", cache_root=shared_cache, index_args=offline, say=said.append)
    assert time.monotonic() - started < 1
    assert again == first
    assert said == [f"{TINY} 1.0.0: reusing {first.venv} ({first.how})"]


def test_an_interrupted_install_is_redone(offline: list[str], tmp_path: Path) -> None:
    found = install_previous(TINY, "1.1.0", cache_root=tmp_path, index_args=offline, say=lambda _: None)
    assert isinstance(found, PreviousPackage), found
    (found.venv / RECORD).unlink()  # as if the install had stopped before its end
    leftover = found.venv / "leftover-of-the-interrupted-install"
    leftover.write_text("")
    said: list[str] = []
    again = install_previous(TINY, "1.1.0", cache_root=tmp_path, index_args=offline, say=said.append)
    assert again == found
    assert said[0].startswith(f"{TINY} 1.1.0: installing into {found.venv}")
    assert not leftover.exists()
    assert (found.venv / RECORD).is_file()
    assert spec_of(again)["connectionSpecification"]["title"] == "tiny"


def test_a_release_that_cannot_be_installed(offline: list[str], tmp_path: Path) -> None:
    found = install_previous(TINY, "3.0.0", cache_root=tmp_path, index_args=offline, say=lambda _: None)
    assert isinstance(found, Unavailable)
    assert found.name == f"{TINY}==3.0.0"
    assert found.reason.startswith(f"could not install {TINY}==3.0.0 (uv, exit 1):")
    assert f"there is no version of {TINY}==3.0.0" in found.reason
    assert len(found.reason.splitlines()) <= 1 + previous_package.TAIL_LINES
    assert not previous_venv(TINY, "3.0.0", tmp_path).exists()  # nothing half-installed is left


def test_a_release_that_does_not_answer_spec(offline: list[str], tmp_path: Path) -> None:
    found = install_previous(TINY, "0.1.0", cache_root=tmp_path, index_args=offline, say=lambda _: None)
    assert isinstance(found, Unavailable)
    assert "source-tiny spec` printed no SPEC message (exit 1)" in found.reason
    assert "source-tiny 0.1.0: cannot read its spec" in found.reason
    assert not previous_venv(TINY, "0.1.0", tmp_path).exists()


@pytest.mark.parametrize(
    ("current", "explicit", "expected"),
    [("1.1.0", None, "1.0.0"), ("2.0.0", None, "1.1.0"), ("9.0.0", "0.9.0", "0.9.0")],
)
def test_resolve_previous_package(current: str, explicit: str | None, expected: str, offline: list[str],
                                  shared_cache: Path) -> None:
    found = resolve_previous_package(TINY, current, explicit, cache_root=shared_cache, index_args=offline,
                                     say=lambda _: None)
    assert isinstance(found, PreviousPackage), found
    assert found.version == expected


def test_resolve_previous_package_says_why_not(offline: list[str], tmp_path: Path) -> None:
    found = resolve_previous_package(TINY, "0.1.0", cache_root=tmp_path, index_args=offline, say=lambda _: None)
    assert found == Unavailable(TINY, f"no release of {TINY} older than 0.1.0 is published")
    found = resolve_previous_package("airbyte-source-nowhere", "1.0.0", cache_root=tmp_path, index_args=offline)
    assert isinstance(found, Unavailable)
    assert "no release of airbyte-source-nowhere is published" in found.reason
    # nothing installed: only the published versions that were listed are kept, under the cache root given
    assert sorted(path.name for path in (tmp_path / "previous").iterdir()) == [f"{TINY}.versions.json"]


def test_the_launcher_says_what_it_runs(offline: list[str], shared_cache: Path) -> None:
    found = install_previous(TINY, "0.9.0", cache_root=shared_cache, index_args=offline, say=lambda _: None)
    assert isinstance(found, PreviousPackage), found
    result = subprocess.run([*found.argv, DESCRIBE], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "source_tiny.SourceTiny"


# --- real releases from the package index -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def faker_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("previous-faker")


def timed(call: Callable[[], Any], label: str) -> Any:
    started = time.monotonic()
    try:
        return call()
    finally:
        print(f"{label}: {time.monotonic() - started:.1f}s")


@pytest.mark.slow
def test_faker_4_has_no_console_script_and_runs_through_its_source_class(faker_cache: Path) -> None:
    found = timed(lambda: install_previous("airbyte-source-faker", "4.0.0", cache_root=faker_cache),
                  "install airbyte-source-faker 4.0.0")
    assert isinstance(found, PreviousPackage), found
    assert found.how == "launcher (no console script): source_faker.SourceFaker"
    spec = spec_of(found)
    print("faker 4.0.0 SPEC keys:", sorted(spec), sorted(spec["connectionSpecification"]["properties"]))
    assert spec["connectionSpecification"]["title"] == "Faker Source Spec"
    assert "count" in spec["connectionSpecification"]["properties"]


@pytest.mark.slow
def test_the_release_before_faker_7_2_1_is_7_2_0(faker_cache: Path) -> None:
    found = timed(lambda: resolve_previous_package("airbyte-source-faker", "7.2.1", cache_root=faker_cache),
                  "resolve and install the release before airbyte-source-faker 7.2.1")
    assert isinstance(found, PreviousPackage), found
    assert (found.package, found.version) == ("airbyte-source-faker", "7.2.0")
    assert found.how == "console script source-faker"
    assert "count" in spec_of(found)["connectionSpecification"]["properties"]
