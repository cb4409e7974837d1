"""`nox -s build`: a connector's virtualenv (the Docker image build comes later).

What gets installed: the connector folder itself when it has Python packaging (pyproject.toml / setup.py),
else the PyPI package named by metadata.yaml `remoteRegistries.pypi.packageName`, pinned to `dockerImageTag`.
A build is skipped when its inputs (requirement, source files, Python) are unchanged since the last one.
The install is `acceptance.runner.environment.make_environment` (uv; a local project is rebuilt and reinstalled
even at an unchanged version; a PyPI release resolves as of its upload date), its record beside the build's.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from acceptance.config.connector import Connector, Requirement
from acceptance.errors import BuildError
from acceptance.runner.command import CDK_SCRIPTS, VENV_DIR, BuildRecord, venv_bin
from acceptance.runner.command import ConnectorCommand as _Command
from acceptance.runner.environment import make_environment
from acceptance.runner.identity import connector_identity

STAMP = "connector-acceptance-build.stamp"
BUILD_LOCK_TIMEOUT_SECONDS = 1800

Say = Callable[[str], None]


def build_virtualenv(connector: Connector, *, say: Say = print, force: bool = False,
                     cache_root: Path | None = None) -> BuildRecord:
    """Create or refresh `<folder>/.venv` with the connector installed; return what was installed.

    Builds of one connector are serialised (a file lock beside the venv): parallel sessions wait, then reuse.
    `cache_root` is the tool's cache folder (`--cache-dir`; default `acceptance.cache.default_cache_dir()`): uv's
    cache lives under it."""
    # The lock lives outside the folder: a file in it would change the folder's identity (and its image inputs).
    folder = connector.folder
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"connector-acceptance-venv-{key}.lock"
    with FileLock(str(lock), timeout=BUILD_LOCK_TIMEOUT_SECONDS):
        return _build_virtualenv(connector, say=say, force=force, cache_root=cache_root)


def _build_virtualenv(connector: Connector, *, say: Say, force: bool, cache_root: Path | None) -> BuildRecord:
    folder = connector.folder
    requirement = connector.python_requirement()
    venv = folder / VENV_DIR
    stamp = _stamp(folder, requirement)
    record = BuildRecord.read(venv)
    if not force and record and (venv / STAMP).is_file() and (venv / STAMP).read_text() == stamp:
        say(f"{folder.name}: virtualenv up to date ({record.package} {record.version}, `{record.console_script}`)")
        return record
    python = venv_bin(venv) / "python"
    if not python.is_file():
        say(f"{folder.name}: creating virtualenv {venv}")
    say(f"{folder.name}: installing {requirement.spec}")
    release = (requirement.distribution, connector.version) if not requirement.local and connector.version else None
    # A local project: same version number, new code: uv rebuilds and reinstalls it (its dependencies stay).
    environment = make_environment(venv, [requirement.spec], cache_root=cache_root, release=release, say=say,
                                   reinstall=[requirement.distribution] if requirement.local else [])
    record = _inspect(python, requirement.distribution, folder.name)
    record.write(venv)
    _smoke_test(venv, record)
    (venv / STAMP).write_text(stamp)
    say(f"{folder.name}: built {record.package} {record.version} with {environment.installer} in "
        f"{environment.seconds:.1f}s; runs as {venv_bin(venv) / record.console_script}")
    return record


def _stamp(folder: Path, requirement: Requirement) -> str:
    h = hashlib.sha256(f"{requirement.spec}\0{sys.version}\0".encode())
    if requirement.local:
        h.update(connector_identity(_Command([], "build", folder)).encode())
    return h.hexdigest()


def _inspect(python: Path, distribution: str, folder_name: str) -> BuildRecord:
    probe = (
        "import importlib.metadata as m, json, sys\n"
        "d = m.distribution(sys.argv[1])\n"
        "print(json.dumps({'name': d.metadata['Name'], 'version': d.version,"
        " 'scripts': [e.name for e in d.entry_points if e.group == 'console_scripts']}))"
    )
    output = _run([str(python), "-c", probe, distribution], f"inspect {distribution}")
    info = json.loads(output.strip().splitlines()[-1])
    scripts = [s for s in info["scripts"] if s not in CDK_SCRIPTS] or info["scripts"]
    if not scripts:
        raise BuildError(f"{distribution} {info['version']} declares no console script to run the connector")
    script = folder_name if folder_name in scripts else scripts[0]
    return BuildRecord(package=info["name"], version=info["version"], console_script=script)


def _smoke_test(venv: Path, record: BuildRecord) -> None:
    """The built connector must at least answer `spec`; a broken build fails here, not in every suite."""
    executable = venv_bin(venv) / record.console_script
    try:
        result = subprocess.run([str(executable), "spec"], capture_output=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        raise BuildError(f"`{executable} spec` did not answer within 300s") from None
    if result.returncode != 0 or b'"SPEC"' not in result.stdout:
        tail = (result.stderr or result.stdout).decode("utf-8", "replace").strip().splitlines()[-15:]
        raise BuildError(f"`{executable} spec` failed (exit {result.returncode}):\n" + "\n".join(tail))


def _run(argv: list[str], what: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-20:]
        raise BuildError(f"could not {what} (exit {result.returncode}):\n" + "\n".join(tail))
    return result.stdout


def remove_virtualenv(folder: Path) -> None:
    shutil.rmtree(folder / VENV_DIR, ignore_errors=True)
