"""Which connector runs, and how: its folder, the command that starts it, what `nox -s build` recorded in its
virtualenv. Its identity for the cache is `acceptance.runner.identity`."""

from __future__ import annotations

import os
import shlex
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from acceptance.config.connector import Connector
from acceptance.errors import UserError

VENV_DIR = ".venv"
# Console scripts that come with the CDK, not with the connector itself.
CDK_SCRIPTS = {"airbyte-cdk", "source-declarative-manifest", "manifest-server"}
BUILD_RECORD = "connector-acceptance-build.json"  # written by `nox -s build` inside the venv


@dataclass(frozen=True)
class ConnectorCommand:
    argv: list[str]
    origin: str  # how it was chosen, said to the user: "--connector-command", "virtualenv", "main.py"
    cwd: Path


@dataclass(frozen=True)
class BuildRecord:
    """What `nox -s build` installed into a connector's virtualenv."""

    package: str
    version: str
    console_script: str

    @classmethod
    def read(cls, venv: Path) -> BuildRecord | None:
        try:
            raw = orjson.loads((venv / BUILD_RECORD).read_bytes())
            return cls(package=raw["package"], version=raw["version"], console_script=raw["console_script"])
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
            return None

    def write(self, venv: Path) -> None:
        (venv / BUILD_RECORD).write_bytes(orjson.dumps(self.__dict__, option=orjson.OPT_INDENT_2))


def venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def declared_console_scripts(folder: Path) -> list[str]:
    """Console scripts the connector's own pyproject.toml declares (PEP 621 or Poetry)."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return []
    try:
        data = tomllib.loads(pyproject.read_text())
    except (tomllib.TOMLDecodeError, OSError):
        return []
    scripts: dict[str, Any] = dict(data.get("project", {}).get("scripts", {}))
    scripts.update(data.get("tool", {}).get("poetry", {}).get("scripts", {}))
    return list(scripts)


def resolve_command(connector: Connector, override: str | None = None) -> ConnectorCommand:
    """`--connector-command` wins; else the console script of the folder's virtualenv; else `python main.py`."""
    folder = connector.folder
    if override:
        argv = [_absolute_if_file(arg) for arg in shlex.split(override)]
        return ConnectorCommand(argv, "--connector-command", folder)
    venv = folder / VENV_DIR
    record = BuildRecord.read(venv)
    scripts = [record.console_script] if record else []
    scripts += declared_console_scripts(folder)
    for script in scripts:
        executable = venv_bin(venv) / script
        if executable.is_file():
            return ConnectorCommand([str(executable)], "virtualenv", folder)
    if (folder / "main.py").is_file():
        python = venv_bin(venv) / "python"
        interpreter = str(python) if python.is_file() else sys.executable
        return ConnectorCommand([interpreter, "main.py"], "main.py", folder)
    package = connector.pypi_package
    hint = f" (it would install {package})" if package else ""
    raise UserError(
        f"don't know how to run the connector in {folder}: pass --connector-command, "
        f"build its virtualenv with `nox -s build -- {folder.name}`{hint}, or add a main.py"
    )


def _absolute_if_file(arg: str) -> str:
    # The command runs inside the connector folder; paths the user typed are relative to where they typed them.
    return str(Path(arg).resolve()) if not arg.startswith("-") and os.sep in arg and Path(arg).exists() else arg
