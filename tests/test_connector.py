"""How the connector command is chosen, and the identity that keys the cache."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from acceptance.config.connector import Connector
from acceptance.errors import UserError
from acceptance.runner.command import (
    BuildRecord,
    ConnectorCommand,
    declared_console_scripts,
    resolve_command,
)
from acceptance.runner.identity import connector_identity


def make_folder(tmp_path: Path, *, main: bool = False, name: str = "source-x") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "metadata.yaml").write_text("data:\n  dockerImageTag: 1.0.0\n")
    if main:
        (folder / "main.py").write_text("print('hello')\n")
    return folder


def make_venv(folder: Path, *scripts: str, python: bool = False) -> Path:
    venv = folder / ".venv"
    (venv / "bin").mkdir(parents=True)
    for script in scripts:
        (venv / "bin" / script).write_text("#!/bin/sh\n")
    if python:
        (venv / "bin" / "python").write_text("#!/bin/sh\n")
    return venv


# -- resolve_command ------------------------------------------------------------------------------------------------


def test_connector_command_option_wins_and_makes_existing_relative_paths_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path, main=True)
    make_venv(folder, "source-x", python=True)
    BuildRecord("source-x", "1.0", "source-x").write(folder / ".venv")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "run.py").write_text("")
    monkeypatch.chdir(tmp_path)

    command = resolve_command(Connector.read(folder), "python bin/run.py --flag=bin/run.py -v no/such/file 'two words'")

    assert command.origin == "--connector-command"
    assert command.cwd == folder
    assert command.argv == [
        "python", str((tmp_path / "bin" / "run.py").resolve()), "--flag=bin/run.py", "-v", "no/such/file", "two words"
    ]


def test_build_record_console_script_in_the_virtualenv(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, main=True)  # main.py is there too, but the built virtualenv comes first
    venv = make_venv(folder, "source-x-cli", "other", python=True)
    BuildRecord("source-x", "1.2.3", "source-x-cli").write(venv)

    command = resolve_command(Connector.read(folder))

    assert command.argv == [str(venv / "bin" / "source-x-cli")]
    assert command.origin == "virtualenv"
    assert command.cwd == folder
    assert BuildRecord.read(venv) == BuildRecord("source-x", "1.2.3", "source-x-cli")


def test_build_record_whose_script_is_missing_is_skipped(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, main=True)
    venv = make_venv(folder)
    BuildRecord("source-x", "1.2.3", "gone").write(venv)
    command = resolve_command(Connector.read(folder))
    assert command.origin == "main.py"
    assert command.argv == [sys.executable, "main.py"]


@pytest.mark.parametrize(
    "pyproject",
    [
        '[project]\nname = "source-x"\n[project.scripts]\nsource-x = "source_x.run:run"\n',
        '[tool.poetry]\nname = "source-x"\n[tool.poetry.scripts]\nsource-x = "source_x.run:run"\n',
    ],
    ids=["pep621", "poetry"],
)
def test_declared_console_script_present_in_the_virtualenv(tmp_path: Path, pyproject: str) -> None:
    folder = make_folder(tmp_path, main=True)
    (folder / "pyproject.toml").write_text(pyproject)
    assert declared_console_scripts(folder) == ["source-x"]
    venv = make_venv(folder, "source-x")
    command = resolve_command(Connector.read(folder))
    assert command.argv == [str(venv / "bin" / "source-x")]
    assert command.origin == "virtualenv"


def test_declared_console_script_not_installed_falls_back_to_main_py(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, main=True)
    (folder / "pyproject.toml").write_text('[project]\nname = "x"\n[project.scripts]\nsource-x = "m:run"\n')
    make_venv(folder, python=True)
    command = resolve_command(Connector.read(folder))
    assert command.argv == [str(folder / ".venv" / "bin" / "python"), "main.py"]
    assert command.origin == "main.py"


def test_declared_console_scripts_tolerates_broken_or_missing_pyproject(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    assert declared_console_scripts(folder) == []
    (folder / "pyproject.toml").write_text("[project\nname=")
    assert declared_console_scripts(folder) == []


def test_main_py_uses_the_virtualenv_python_when_present(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, main=True)
    make_venv(folder, python=True)
    command = resolve_command(Connector.read(folder))
    assert command.argv == [str(folder / ".venv" / "bin" / "python"), "main.py"]
    assert command.cwd == folder


def test_main_py_uses_this_python_without_a_virtualenv(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, main=True)
    command = resolve_command(Connector.read(folder))
    assert command.argv == [sys.executable, "main.py"]
    assert command.origin == "main.py"


def test_nothing_to_run_is_a_user_error_naming_the_options(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    with pytest.raises(UserError) as raised:
        resolve_command(Connector.read(folder))
    message = str(raised.value)
    assert str(folder) in message
    assert "--connector-command" in message
    assert "nox -s build -- source-x" in message
    assert "main.py" in message
    assert "would install" not in message


def test_nothing_to_run_names_the_pypi_package(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "metadata.yaml").write_text(
        "data:\n  dockerImageTag: 2.0.1\n  remoteRegistries:\n    pypi:\n      enabled: true\n"
        "      packageName: airbyte-source-x\n"
    )
    with pytest.raises(UserError, match="airbyte-source-x"):
        resolve_command(Connector.read(folder))


# -- connector_identity ---------------------------------------------------------------------------------------------


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = make_folder(tmp_path, main=True)
    (folder / "source_x").mkdir()
    (folder / "source_x" / "streams.py").write_text("STREAMS = ['a']\n")
    (folder / "acceptance-test-config.yml").write_text("connector_image: x\n")
    (folder / "integration_tests").mkdir()
    (folder / "integration_tests" / "config.json").write_text("{}")
    return folder


def identity(folder: Path, *argv: str) -> str:
    return connector_identity(ConnectorCommand(list(argv) or [sys.executable, "main.py"], "main.py", folder))


def test_identity_is_stable_for_the_same_folder(source: Path) -> None:
    assert identity(source) == identity(source)
    assert len(identity(source)) == 64


@pytest.mark.parametrize(
    "change",
    [
        lambda f: (f / "main.py").write_text("print('changed')\n"),
        lambda f: (f / "source_x" / "streams.py").write_text("STREAMS = ['a', 'b']\n"),
        lambda f: (f / "source_x" / "new_module.py").write_text(""),
        lambda f: (f / "source_x" / "streams.py").rename(f / "source_x" / "renamed.py"),
        lambda f: (f / "metadata.yaml").write_text("data:\n  dockerImageTag: 1.0.1\n"),
    ],
    ids=["main", "module", "new-file", "rename", "metadata"],
)
def test_identity_changes_when_connector_code_changes(source: Path, change: object) -> None:
    before = identity(source)
    change(source)  # type: ignore[operator]
    assert identity(source) != before


@pytest.mark.parametrize(
    "change",
    [
        lambda f: (f / "integration_tests" / "config.json").write_text('{"a": 1}'),
        lambda f: (f / "integration_tests" / "expected_records.jsonl").write_text("{}"),
        lambda f: (f / "acceptance-test-config.yml").write_text("connector_image: y\n"),
        lambda f: (f / "secrets").mkdir() or (f / "secrets" / "config.json").write_text('{"k": "v"}'),
        lambda f: (f / "__pycache__").mkdir() or (f / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"x"),
        lambda f: (f / "source_x" / "__pycache__").mkdir()
        or (f / "source_x" / "__pycache__" / "s.pyc").write_bytes(b"y"),
        lambda f: (f / "source_x" / "streams.cpython-311.pyc").write_bytes(b"z"),
    ],
    ids=["integration-config", "integration-new-file", "acceptance-config", "secrets", "pycache", "nested-pycache",
         "pyc"],
)
def test_identity_ignores_test_inputs_secrets_and_caches(source: Path, change: object) -> None:
    before = identity(source)
    change(source)  # type: ignore[operator]
    assert identity(source) == before


def test_identity_changes_when_a_file_named_in_argv_changes(source: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "run.py"
    outside.parent.mkdir()
    outside.write_text("v1")
    before = identity(source, sys.executable, str(outside), "spec-like-arg")
    assert identity(source, sys.executable, str(outside), "spec-like-arg") == before
    outside.write_text("v2")
    assert identity(source, sys.executable, str(outside), "spec-like-arg") != before


def test_identity_changes_with_the_command(source: Path) -> None:
    assert identity(source, sys.executable, "main.py") != identity(source, sys.executable, "-u", "main.py")


def test_identity_changes_when_a_package_is_installed_in_the_virtualenv(source: Path) -> None:
    site_packages = source / ".venv" / "lib" / "python3.11" / "site-packages"
    site_packages.mkdir(parents=True)
    before = identity(source)
    (site_packages / "some_module.py").write_text("")  # not a distribution: no change
    assert identity(source) == before
    (site_packages / "airbyte_cdk-6.1.0.dist-info").mkdir()
    after = identity(source)
    assert after != before
    (site_packages / "requests-2.32.0.dist-info").mkdir()
    assert identity(source) != after

