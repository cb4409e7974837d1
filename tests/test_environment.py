"""The environments the tool makes (acceptance.runner.environment): uv installs and their record, uv's cache under the
tool's cache, offline installs, two installs at once into one cache, the pip fallback, previous releases under the
run's cache folder, the release date an install is held to, and `nox -s cache`.

Real installs come from PyPI (a tiny pure-Python package, `six`; the slow one a real connector); the others from
wheels written into a folder (`--no-index --find-links`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

import acceptance.runner.environment as environment
from acceptance.cache import Cache
from acceptance.compat.previous_release import PreviousRelease
from acceptance.config.connector import Connector
from acceptance.context import AcceptanceContext
from acceptance.errors import BuildError
from acceptance.runner.backend import Backend
from acceptance.runner.command import ConnectorCommand, venv_bin
from acceptance.runner.environment import (
    ENVIRONMENT_RECORD,
    EnvironmentRecord,
    InstalledPackage,
    environment_of,
    find_uv,
    make_environment,
    uv_cache_dir,
)
from acceptance.runner.release_date import index_url, release_upload_time
from tasks.cache import run_cache
from tests.helpers.wheels import make_wheel

ROOT = Path(__file__).resolve().parents[1]
SIX = "six==1.16.0"
SIX_UPLOADED = "2021-05-05T14:18:19Z"  # its last file (the sdist) was uploaded at 14:18:18.38


@pytest.fixture(autouse=True)
def own_caches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing from the machine's uv or pip setup decides where things go or whether the index is used."""
    for variable in ("UV_CACHE_DIR", "UV_OFFLINE", "UV_NO_INDEX", "UV_FIND_LINKS", "PIP_NO_INDEX", "PIP_FIND_LINKS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CONNECTOR_ACCEPTANCE_CACHE_DIR", str(tmp_path / "default-cache"))


def python_of(venv: Path) -> str:
    return str(venv_bin(venv) / "python")


def imports(venv: Path, module: str) -> str:
    """What `module.__file__` is in `venv` (raises when it does not import)."""
    result = subprocess.run([python_of(venv), "-c", f"import {module}; print({module}.__file__)"],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheelhouse")
    make_wheel(folder, "tiny-thing", "1.0.0", {"tiny_thing/__init__.py": "VALUE = 1\n"}, top_level=["tiny_thing"])
    return folder


# --- uv installs and their record ---------------------------------------------------------------------------------

def test_uv_comes_from_the_installed_package() -> None:
    uv = find_uv()
    assert uv is not None
    from uv import find_uv_bin

    assert uv.binary == Path(find_uv_bin())
    assert uv.version[0].isdigit()


def test_uv_cache_is_under_the_tool_cache_unless_uv_cache_dir_says(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert uv_cache_dir(tmp_path / "c") == tmp_path / "c" / "uv"
    assert uv_cache_dir() == tmp_path / "default-cache" / "uv"
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "mine"))
    assert uv_cache_dir(tmp_path / "c") == tmp_path / "mine"


def test_a_real_install_is_recorded_beside_the_environment(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    record = make_environment(venv, [SIX], cache_root=tmp_path / "cache", release=("six", "1.16.0"),
                              say=lambda _: None)
    uv = find_uv()
    assert uv is not None
    assert (record.installer, record.uv_version, record.fallback) == ("uv", uv.version, None)
    assert record.requirements == [SIX]
    assert record.python == ".".join(map(str, sys.version_info[:3]))
    assert record.exclude_newer == SIX_UPLOADED  # the resolution is held to the release's upload date
    assert record.cache_dir == str(tmp_path / "cache" / "uv")
    assert (tmp_path / "cache" / "uv").is_dir()
    assert 0 < record.seconds < 120
    [six] = record.packages
    assert (six.name, six.version, six.source) == ("six", "1.16.0", None)
    assert six.files_sha256 and len(six.files_sha256) == 64
    assert EnvironmentRecord.read(venv) == record
    written = json.loads((venv / ENVIRONMENT_RECORD).read_text())
    assert written["packages"] == [{"name": "six", "version": "1.16.0", "source": None,
                                    "files_sha256": six.files_sha256}]
    assert imports(venv, "six").startswith(str(venv))
    # the same files installed elsewhere have the same hash; uv's cache made this one
    again = make_environment(tmp_path / "other", [SIX], cache_root=tmp_path / "cache", say=lambda _: None)
    assert again.packages == record.packages
    assert again.exclude_newer is None and again.resolution == "as of now (not a release)"
    # what the report header and report.json say of the connector's environment, found from its command
    summary = environment_of([str(venv_bin(venv) / "python"), "main.py"]).summary()  # type: ignore[union-attr]
    assert summary.startswith(f"six 1.16.0 + 0 packages, installed by uv {uv.version} in ")
    assert "resolution: uploaded to " in summary and SIX_UPLOADED in summary
    assert environment_of(["python", "main.py"]) is None  # not a virtualenv's executable


def test_a_local_project_is_rebuilt_at_the_same_version(tmp_path: Path) -> None:
    """`nox -s build` semantics: new code under an unchanged version number is installed (--reinstall-package)."""
    project = tmp_path / "project"
    (project / "local_thing").mkdir(parents=True)
    (project / "pyproject.toml").write_text(textwrap.dedent("""\
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "local-thing"
        version = "0.1.0"
        """))
    code = project / "local_thing" / "__init__.py"
    code.write_text("ANSWER = 1\n")
    venv = tmp_path / "env"
    record = make_environment(venv, [str(project)], cache_root=tmp_path / "cache", reinstall=["local-thing"],
                              say=lambda _: None)
    [thing] = [p for p in record.packages if p.name == "local-thing"]
    assert thing.source == project.as_uri()
    answer = [python_of(venv), "-c", "import local_thing; print(local_thing.ANSWER)"]
    assert subprocess.run(answer, capture_output=True, text=True, check=True).stdout.strip() == "1"
    code.write_text("ANSWER = 2\n")
    make_environment(venv, [str(project)], cache_root=tmp_path / "cache", reinstall=["local-thing"],
                     say=lambda _: None)
    assert subprocess.run(answer, capture_output=True, text=True, check=True).stdout.strip() == "2"


def test_a_release_whose_dependencies_of_the_day_do_not_install_resolves_as_of_now(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from acceptance.runner.release_date import ReleaseDate

    # as if six 1.16.0 had been uploaded in 2000: nothing of it is older, so the held resolution fails
    monkeypatch.setattr(environment, "release_upload_time",
                        lambda *_, **__: ReleaseDate("2000-01-01T00:00:00Z", "uploaded before 2000"))
    said: list[str] = []
    record = make_environment(tmp_path / "env", [SIX], cache_root=tmp_path / "cache", release=("six", "1.16.0"),
                              say=said.append)
    assert record.exclude_newer is None
    assert record.resolution.startswith("as of now: as uploaded before 2000-01-01T00:00:00Z it did not install (")
    assert said == [f"{SIX}: {record.resolution}"]
    assert [(p.name, p.version) for p in record.packages] == [("six", "1.16.0")]


@pytest.mark.slow
def test_a_real_connector_release_installs_in_seconds(tmp_path: Path) -> None:
    package, version = "airbyte-source-hardcoded-records", "0.0.48"
    venv = tmp_path / "env"
    record = make_environment(venv, [f"{package}=={version}"], cache_root=tmp_path / "cache",
                              release=(package, version), say=lambda _: None)
    print(f"{package} {version}: {record.seconds:.1f}s with an empty uv cache, {len(record.packages)} packages, "
          f"resolved as {record.resolution}")
    names = {p.name: p.version for p in record.packages}
    assert names[package] == version
    assert "airbyte-cdk" in names
    assert record.exclude_newer is not None
    assert (venv_bin(venv) / "source-hardcoded-records").is_file()
    assert EnvironmentRecord.read(venv) == record


# --- offline ------------------------------------------------------------------------------------------------------

def test_offline_an_install_done_once_works_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    make_environment(tmp_path / "online", [SIX], cache_root=cache, release=("six", "1.16.0"), say=lambda _: None)
    monkeypatch.setenv("UV_OFFLINE", "1")
    started = time.monotonic()
    record = make_environment(tmp_path / "offline", [SIX], cache_root=cache, release=("six", "1.16.0"),
                              say=lambda _: None)
    assert time.monotonic() - started < 10
    assert record.offline
    assert record.exclude_newer == SIX_UPLOADED  # remembered under the cache: offline needs no index for it
    assert [(p.name, p.version) for p in record.packages] == [("six", "1.16.0")]
    imports(tmp_path / "offline", "six")


def test_offline_an_install_that_needs_the_index_fails_at_once_and_says_so(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    cache = tmp_path / "empty-cache"
    started = time.monotonic()
    with pytest.raises(BuildError) as raised:
        make_environment(tmp_path / "env", [SIX], cache_root=cache, release=("six", "1.16.0"), say=lambda _: None)
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert message.startswith(f"could not install {SIX}: six is needed")
    assert f"offline and not in the uv cache at {cache / 'uv'}" in message


def test_offline_flag_without_the_environment_variable(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="six is needed, and it is offline and not in the uv cache"):
        make_environment(tmp_path / "env", [SIX], cache_root=tmp_path / "empty", offline=True, say=lambda _: None)


# --- two installs at once into one cache --------------------------------------------------------------------------

INSTALL_SCRIPT = """\
import sys
from pathlib import Path
from acceptance.runner.environment import make_environment
record = make_environment(Path(sys.argv[1]), sys.argv[3:], cache_root=Path(sys.argv[2]), say=lambda _: None)
print(record.installer, len(record.packages))
"""


def test_two_installs_at_once_into_one_cache(tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"  # empty: both download, unpack and link at the same time
    requirements = [SIX, "idna==3.7", "attrs==23.2.0", "packaging==24.0"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    processes = [subprocess.Popen([sys.executable, "-c", INSTALL_SCRIPT, str(tmp_path / name), str(cache),
                                   *requirements], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for name in ("first", "second")]
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert out.split() == ["uv", "4"]
    for name in ("first", "second"):
        for module in ("six", "idna", "attrs", "packaging"):
            assert imports(tmp_path / name, module).startswith(str(tmp_path / name))
        assert {p.name for p in EnvironmentRecord.read(tmp_path / name).packages} == {  # type: ignore[union-attr]
            "six", "idna", "attrs", "packaging"}


# --- the pip fallback ---------------------------------------------------------------------------------------------

def test_pip_installs_when_uv_rejects_an_option(tmp_path: Path, wheelhouse: Path) -> None:
    said: list[str] = []
    # --no-warn-script-location is pip's: uv stops with its usage error (exit 2, "unexpected argument")
    index_args = ["--no-index", "--find-links", str(wheelhouse), "--no-warn-script-location"]
    record = make_environment(tmp_path / "env", ["tiny-thing==1.0.0"], cache_root=tmp_path / "cache",
                              index_args=index_args, say=said.append)
    assert record.installer == "pip"
    assert record.fallback == "uv rejected an option (error: unexpected argument '--no-warn-script-location' found)"
    assert said == [f"installing with pip: {record.fallback}"]
    assert [(p.name, p.version) for p in record.packages] == [("tiny-thing", "1.0.0")]
    imports(tmp_path / "env", "tiny_thing")


def test_pip_installs_when_uv_cannot_run(tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "find_uv", lambda: None)
    record = make_environment(tmp_path / "env", ["tiny-thing==1.0.0"], cache_root=tmp_path / "cache",
                              index_args=["--no-index", "--find-links", str(wheelhouse)], say=lambda _: None)
    assert (record.installer, record.uv_version) == ("pip", None)
    assert record.fallback == "uv cannot be run here (the `uv` package has no binary)"
    assert record.packages == [InstalledPackage("tiny-thing", "1.0.0", None, record.packages[0].files_sha256)]
    assert "version = " in (tmp_path / "env" / "pyvenv.cfg").read_text()  # made by `python -m venv`
    imports(tmp_path / "env", "tiny_thing")


def test_a_failed_install_says_what_uv_said(tmp_path: Path, wheelhouse: Path) -> None:
    with pytest.raises(BuildError) as raised:
        make_environment(tmp_path / "env", ["tiny-thing==9.9.9"], cache_root=tmp_path / "cache",
                         index_args=["--no-index", "--find-links", str(wheelhouse)], say=lambda _: None)
    assert str(raised.value).startswith("could not install tiny-thing==9.9.9 (uv, exit 1):")
    assert "there is no version of tiny-thing==9.9.9" in str(raised.value)


# --- previous releases under the run's cache folder ---------------------------------------------------------------

def test_previous_release_goes_under_the_runs_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        fake_source: object) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    run = ("import json\n\n\ndef run():\n"
           "    print(json.dumps({'type': 'SPEC', 'spec': {'connectionSpecification': {}}}))\n")
    make_wheel(wheels, "airbyte-source-tiny", "1.0.0", {"source_tiny/__init__.py": "", "source_tiny/run.py": run},
               console_scripts={"source-tiny": "source_tiny.run:run"})
    # the index is a folder for pip (which lists the versions) and uv (which installs)
    for tool in ("PIP", "UV"):
        monkeypatch.setenv(f"{tool}_NO_INDEX", "1")
        monkeypatch.setenv(f"{tool}_FIND_LINKS", str(wheels))

    def declare(data: dict) -> None:
        data["dockerImageTag"] = "1.1.0"
        data.setdefault("remoteRegistries", {})["pypi"] = {"enabled": True, "packageName": "airbyte-source-tiny"}

    folder = fake_source(change_metadata=declare)  # type: ignore[operator]
    connector = Connector.read(folder)
    backend = Backend("local", "test", command=ConnectorCommand([sys.executable, "main.py"], "main.py", folder))
    run_cache = tmp_path / "run-cache"  # what --cache-dir says
    context = AcceptanceContext(connector, backend, Cache(run_cache))
    release = context.previous_release("latest")
    assert isinstance(release, PreviousRelease), release
    assert release.version == "1.0.0"
    assert release.cwd == run_cache / "previous" / f"airbyte-source-tiny-1.0.0-py{sys.version_info[0]}" \
        f"{sys.version_info[1]}"
    record = EnvironmentRecord.read(release.cwd)
    assert record is not None and record.cache_dir == str(run_cache / "uv")
    assert (run_cache / "uv").is_dir()
    assert (run_cache / "previous" / "airbyte-source-tiny.versions.json").is_file()
    assert not (tmp_path / "default-cache").exists()  # nothing went to the default cache folder


# --- the release date ---------------------------------------------------------------------------------------------

def test_index_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert index_url() == "https://pypi.org/simple"
    assert index_url(["--index-url", "https://mirror/simple"]) == "https://mirror/simple"
    assert index_url(["-i", "https://a/simple"]) == "https://a/simple"
    assert index_url(["--default-index=https://b/simple"]) == "https://b/simple"
    assert index_url(["--no-index", "--find-links", "x"]) is None
    monkeypatch.setenv("PIP_INDEX_URL", "https://pip-mirror/simple")
    assert index_url() == "https://pip-mirror/simple"
    monkeypatch.setenv("UV_DEFAULT_INDEX", "https://uv-mirror/simple")
    assert index_url() == "https://uv-mirror/simple"
    monkeypatch.setenv("UV_NO_INDEX", "1")
    assert index_url() is None


def test_release_date_is_remembered_and_used_offline(tmp_path: Path) -> None:
    offline = release_upload_time("six", "1.16.0", cache_root=tmp_path, offline=True)
    assert offline.when is None and offline.why == "offline, and the upload date of six 1.16.0 was never looked up"
    found = release_upload_time("six", "1.16.0", cache_root=tmp_path)
    assert found.when == SIX_UPLOADED
    assert json.loads((tmp_path / "releases" / "six-1.16.0.json").read_text())["when"] == SIX_UPLOADED
    assert release_upload_time("six", "1.16.0", cache_root=tmp_path, offline=True).when == SIX_UPLOADED
    unknown = release_upload_time("six", "99.0.0", cache_root=tmp_path)
    assert unknown.when is None and "lists no file of six 99.0.0" in unknown.why
    assert release_upload_time("six", "1.16.0", cache_root=tmp_path, index_args=["--no-index"]).when is None


# --- nox -s cache -------------------------------------------------------------------------------------------------

def test_cache_show_and_prune(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    make_environment(root / "previous" / "six-env", [SIX], cache_root=root, say=lambda _: None)
    said: list[str] = []
    assert run_cache(["--cache-dir", str(root)], say=said.append) == 0
    [shown] = said
    assert shown.startswith(f"cache {root}: ")
    assert f"{root / 'uv'}" in shown and "previous releases" in shown
    said.clear()
    assert run_cache(["--prune", "--cache-dir", str(root)], say=said.append) == 0
    assert said[-1].startswith("uv cache pruned (")
    imports(root / "previous" / "six-env", "six")  # pruning keeps what an environment uses
    assert run_cache(["--bogus"], say=said.append) == 2
    assert "unknown arguments --bogus" in said[-1]


def test_the_record_reads_back_only_when_whole(tmp_path: Path) -> None:
    assert EnvironmentRecord.read(tmp_path) is None
    (tmp_path / ENVIRONMENT_RECORD).write_text(yaml.safe_dump({"installer": "uv"}))
    assert EnvironmentRecord.read(tmp_path) is None
