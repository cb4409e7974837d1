"""Which connector runs, and how: its folder, the command that starts it, and its identity for the cache."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
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
# Not part of what the connector does: changing them must not invalidate cached specs and catalogs.
# Top-level folders and files of a connector folder:
IGNORED_AT_TOP = {
    VENV_DIR, "build", "dist", "secrets", "integration_tests", "unit_tests", "acceptance-test-config.yml",
    "acceptance-test-config.yaml", "acceptance_tests_logs",
}
# Tool caches, at any depth:
IGNORED_ANYWHERE = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".nox"}


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


def connector_identity(command: ConnectorCommand) -> str:
    """A hash of everything that decides the connector's behaviour: the command, the files it names, the code in
    its folder, and the packages installed in its virtualenv. Any change gives a new identity."""
    h = hashlib.sha256()
    h.update(orjson.dumps(command.argv))
    executable = shutil.which(command.argv[0], path=os.environ.get("PATH")) if command.argv else None
    for arg in [executable or "", *command.argv[1:]]:
        path = Path(arg) if os.path.isabs(arg) else command.cwd / arg
        if arg and path.is_file():
            _hash_file(h, path.resolve())
    _hash_tree(h, command.cwd)
    _hash_installed_packages(h, command.cwd / VENV_DIR)
    return h.hexdigest()


def _hash_file(h: Any, path: Path) -> None:
    stat = path.stat()
    h.update(f"{path}\0{stat.st_size}\0".encode())
    if stat.st_size <= 4 * 1024 * 1024:
        h.update(path.read_bytes())
    else:  # a large binary (an interpreter): its size and mtime are enough to notice a change
        h.update(str(stat.st_mtime_ns).encode())


def _hash_tree(h: Any, folder: Path) -> None:
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):
        top = Path(root) == folder
        dirs[:] = sorted(
            d for d in dirs
            if d not in IGNORED_ANYWHERE and not d.endswith(".egg-info") and not (top and d in IGNORED_AT_TOP)
        )
        for name in sorted(files):
            if (top and name in IGNORED_AT_TOP) or name.endswith((".pyc", ".pyo")):
                continue
            path = Path(root) / name
            h.update(str(path.relative_to(folder)).encode() + b"\0")
            if path.is_file():
                h.update(hashlib.sha256(path.read_bytes()).digest())


def _hash_installed_packages(h: Any, venv: Path) -> None:
    # A reinstall rewrites each distribution's dist-info folder: names, versions and mtimes capture any change.
    for dist_info in sorted(venv.glob("lib/python*/site-packages/*.dist-info")):
        h.update(f"{dist_info.name}\0{dist_info.stat().st_mtime_ns}\0".encode())
