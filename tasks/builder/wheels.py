"""The wheelhouse, made on the host so that builds need no network: the connector's own wheel, its dependencies and
those of its requirements.txt (`pip wheel`, same Python minor version as the image), and the console scripts its
package declares."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from acceptance.config.connector import Connector, Requirement
from acceptance.errors import BuildError
from acceptance.runner.command import CDK_SCRIPTS
from tasks.builder.engine import LOG_TAIL_LINES
from tasks.builder.identity import copy_code

# Reproducible wheels (zip timestamps): an unchanged project gives the same bytes, so Docker's cache holds.
WHEEL_ENV = {"SOURCE_DATE_EPOCH": "315532800", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@dataclass(frozen=True)
class _Wheels:
    dependencies: list[Path]  # every wheel the connector needs except its own
    project: Path | None  # the connector's own wheel, when the folder is a Python project
    scripts: list[str]  # console scripts of the connector's distribution


def python_requirement(connector: Connector) -> Requirement | None:
    """What pip installs for the connector (`Connector.python_requirement`), or None when it is no Python package."""
    return connector.python_requirement() if connector.is_python_package() else None


def make_wheels(folder: Path, requirement: Requirement | None, work: Path) -> _Wheels:
    """Wheels for everything the connector needs, made on the host: its own (built from a copy of the folder, which
    stays clean), its dependencies, and those of its requirements.txt."""
    dependencies_dir, project_dir, source = work / "wheels", work / "project-wheel", work / "source"
    dependencies_dir.mkdir()
    project_dir.mkdir()
    has_requirements_txt = (folder / "requirements.txt").is_file()
    if (requirement is not None and requirement.local) or has_requirements_txt:
        copy_code(folder, source)
    specs: list[str] = []
    project: Path | None = None
    if requirement is not None and requirement.local:
        pip_wheel([str(source)], project_dir, no_deps=True)
        project = next(project_dir.glob("*.whl"))
        specs.append(str(project))
    elif requirement is not None:
        specs.append(requirement.spec)
    if has_requirements_txt:
        specs += ["-r", str(source / "requirements.txt")]
    if specs:
        pip_wheel(specs, dependencies_dir, cwd=source if source.is_dir() else None)
    wheels = sorted(dependencies_dir.glob("*.whl"))
    if project is not None:
        own = _wheel_name(project)
        return _Wheels([w for w in wheels if _wheel_name(w) != own], project, _console_scripts(project))
    distribution = _normalize(requirement.distribution) if requirement is not None else None
    own_wheel = next((w for w in wheels if _wheel_name(w) == distribution), None)
    return _Wheels(wheels, None, _console_scripts(own_wheel) if own_wheel else [])


def pip_wheel(specs: list[str], wheel_dir: Path, *, cwd: Path | None = None, no_deps: bool = False) -> None:
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(wheel_dir),
            *(["--no-deps"] if no_deps else []), *specs]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env={**os.environ, **WHEEL_ENV},
                            check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-LOG_TAIL_LINES:]
        raise BuildError(f"could not make the wheelhouse (`pip wheel {shlex.join(specs)}`, exit "
                         f"{result.returncode}):\n" + "\n".join(tail))


def build_requires(folder: Path) -> list[str]:
    """The folder's build backend requirements (PEP 518), pip's default when it declares none."""
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        data = {}
    requires = data.get("build-system", {}).get("requires")
    return list(requires) if isinstance(requires, list) and requires else ["setuptools>=40.8.0"]


def copy_wheels(wheels: Iterable[Path], destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        shutil.copy2(wheel, destination / wheel.name)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _wheel_name(wheel: Path) -> str:
    return _normalize(wheel.name.split("-", 1)[0])


def _console_scripts(wheel: Path) -> list[str]:
    """The `[console_scripts]` of a wheel, read from its `*.dist-info/entry_points.txt`."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt") and n.count("/") == 1]
        if not names:
            return []
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(archive.read(names[0]).decode("utf-8"))
    return list(parser["console_scripts"]) if parser.has_section("console_scripts") else []


def pick_script(scripts: list[str], folder_name: str) -> str:
    own = [s for s in scripts if s not in CDK_SCRIPTS] or scripts
    return folder_name if folder_name in own else own[0]
