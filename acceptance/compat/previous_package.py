"""The previous published PyPI release of a connector, installed in its own virtualenv: what the local backend
compares the current connector against (the Docker backend uses an image, see `acceptance.compat.previous_image`).

Which release: `previous_connector_version` when it names one (it must be published), else the highest published
version strictly lower than the current one, pre-releases only when the current version is itself a pre-release.
The list comes from `pip index versions`, so the machine's pip configuration (index mirror, find-links) applies;
releases whose Requires-Python excludes this interpreter are not listed, as they could not be installed anyway.
It is kept a few minutes under the cache root; offline (UV_OFFLINE set) the kept list is used whatever its age, and
a package never listed is unavailable at once rather than after pip's time-outs.

Where it goes: `<cache>/previous/<package>-<version>-py<major><minor>`, one virtualenv per release, reused by later
runs; `<cache>` is the run's cache root (`--cache-dir`, else CONNECTOR_ACCEPTANCE_CACHE_DIR or the default). The
install is `acceptance.runner.environment.make_environment` (uv, uv's cache under the same root, the resolution held
to the release's upload date). A record file written last marks a finished install whose `spec` answered: a venv
without it (an interrupted or failed install) is removed and installed again. Installs of one release are
serialised by a lock file beside it.

How it runs: the distribution's own console script when it declares one (CDK scripts aside). Old releases declare
none (their repository's main.py started them), so a small launcher written into the venv finds the connector in
the installed package: a `run()` function, else its Source (or Destination) class, started through the CDK.

Nothing here raises because a release is missing or broken: the functions return `Unavailable` with a sentence.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout
from packaging.version import InvalidVersion, Version

from acceptance.cache import default_cache_dir
from acceptance.compat.launcher import DESCRIBE, launcher_source
from acceptance.compat.previous_image import DEFAULT_PREVIOUS_VERSION, Unavailable
from acceptance.errors import BuildError
from acceptance.files import write_atomically
from acceptance.runner.command import CDK_SCRIPTS, venv_bin
from acceptance.runner.environment import is_offline, make_environment

__all__ = [
    "PreviousPackage", "Unavailable", "install_previous", "parse_index_versions", "previous_venv", "previous_version",
    "published_versions", "resolve_previous_package",
]

PREVIOUS_DIR = "previous"  # under the cache root
RECORD = "connector-acceptance-previous.json"  # inside the venv, written last
LAUNCHER = "connector_acceptance_launch.py"  # inside the venv, for releases without a console script
INSTALL_LOCK_TIMEOUT_SECONDS = 1800
INDEX_TIMEOUT_SECONDS = 600
VERSIONS_MAX_AGE_SECONDS = 600  # a published-versions list is reused this long (one run's sessions)
SPEC_TIMEOUT_SECONDS = 300
TAIL_LINES = 8  # lines of pip's or the connector's output kept in reasons

Say = Callable[[str], None]


@dataclass(frozen=True)
class PreviousPackage:
    """A previous release installed in `venv`; `argv` + a protocol command runs it."""

    package: str  # distribution name, e.g. "airbyte-source-faker"
    version: str  # installed version, e.g. "6.2.38"
    venv: Path
    argv: list[str]  # [console script] or [venv python, launcher]
    how: str  # for people: "console script source-faker", "launcher (no console script): source_faker.SourceFaker"


# --- which release ------------------------------------------------------------------------------------------------

def published_versions(package: str, *, index_args: Sequence[str] = (), cache_root: Path | None = None,
                       max_age: float = VERSIONS_MAX_AGE_SECONDS) -> list[Version] | str:
    """The versions of `package` the index publishes, newest first (pre-releases included); a sentence when the
    index cannot be read. `index_args` go to pip (and to the installer) as they are (e.g. `--no-index --find-links
    DIR`).

    The list is kept for `max_age` seconds under the cache root: the suites of one run (several sessions) ask once.
    Offline, the kept list is used whatever its age, and without one the answer is a sentence, at once.
    """
    offline = is_offline()
    remembered = (cache_root if cache_root is not None else default_cache_dir()) / PREVIOUS_DIR / \
        f"{package}.versions.json"
    try:
        raw = json.loads(remembered.read_text())
        if raw["index_args"] == list(index_args) and (offline or time.time() - raw["at"] < max_age):
            return [Version(v) for v in raw["versions"]]
    except (OSError, ValueError, KeyError, TypeError, InvalidVersion):
        pass
    if offline and "--no-index" not in index_args:
        return (f"offline (UV_OFFLINE is set) and the published versions of {package} were never listed under "
                f"{remembered.parent}: run once with the package index reachable")
    found = _index_versions(package, index_args)
    if isinstance(found, list) and max_age > 0:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(remembered, json.dumps({"at": time.time(), "index_args": list(index_args),
                                                 "versions": [str(v) for v in found]}))
    return found


def _index_versions(package: str, index_args: Sequence[str]) -> list[Version] | str:
    argv = [sys.executable, "-m", "pip", "index", "versions", "--pre", "--disable-pip-version-check", *index_args,
            package]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=INDEX_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return f"the package index did not list the versions of {package} within {INDEX_TIMEOUT_SECONDS}s"
    if result.returncode != 0:
        if "No matching distribution found" in result.stderr:
            return f"no release of {package} is published on the package index (for Python {_python_tag('.')})"
        return f"could not list the published versions of {package} (`pip index versions`): {_tail(result.stderr)}"
    versions = parse_index_versions(result.stdout)
    if versions is None:
        return f"could not read the published versions of {package} in pip's answer: {_tail(result.stdout)}"
    return versions


def parse_index_versions(output: str) -> list[Version] | None:
    """The versions on the `Available versions: 1.2.0, 1.1.0` line of `pip index versions`, newest first; None
    when there is no such line. Entries that are not PEP 440 versions are left out."""
    for line in output.splitlines():
        label, sep, listed = line.partition(":")
        if sep and label.strip().lower() == "available versions":
            return sorted({v for v in map(_version, listed.split(",")) if v is not None}, reverse=True)
    return None


def previous_version(versions: Iterable[Version], current: str, explicit: str | None = None, *,
                     package: str = "the connector") -> Version | str:
    """The release to compare `current` against (see the module docstring), or a sentence saying why there is none.

    `explicit` is `previous_connector_version`; None, "" and "latest" mean "choose"."""
    published = list(versions)
    if explicit and explicit.strip().lower() != DEFAULT_PREVIOUS_VERSION:
        wanted = _version(explicit)
        if wanted is None:
            return f"previous_connector_version {explicit!r} is not a PEP 440 version"
        match = next((v for v in published if v == wanted), None)
        return match if match is not None else (
            f"previous_connector_version {explicit} is not a published release of {package}")
    now = _version(current)
    if now is None:
        return f"the current version of {package}, {current!r}, is not a PEP 440 version: cannot find the one before"
    older = [v for v in published if v < now and (now.is_prerelease or not v.is_prerelease)]
    return max(older) if older else f"no release of {package} older than {current} is published"


def _version(text: str) -> Version | None:
    try:
        return Version(text.strip())
    except InvalidVersion:
        return None


# --- installing it ------------------------------------------------------------------------------------------------

def previous_venv(package: str, version: str, cache_root: Path | None = None) -> Path:
    """Where release `version` of `package` is installed for this Python (major.minor)."""
    root = cache_root if cache_root is not None else default_cache_dir()
    return root / PREVIOUS_DIR / f"{package}-{version}-py{_python_tag()}"


def install_previous(package: str, version: str, *, cache_root: Path | None = None, index_args: Sequence[str] = (),
                     say: Say = print) -> PreviousPackage | Unavailable:
    """`package==version` in its own virtualenv (reused when a previous install finished), checked with `spec`."""
    venv = previous_venv(package, version, cache_root)
    venv.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(venv.with_name(venv.name + ".lock")), timeout=INSTALL_LOCK_TIMEOUT_SECONDS)
    try:
        with lock:
            found = _reuse(venv, package, version)
            if found:
                say(f"{package} {version}: reusing {venv} ({found.how})")
                return found
            return _install(venv, package, version, cache_root, index_args, say)
    except Timeout:
        return Unavailable(f"{package}=={version}", f"{package} {version}: another session has been installing it "
                                                    f"for {INSTALL_LOCK_TIMEOUT_SECONDS}s (lock {lock.lock_file})")
    except BuildError as error:
        shutil.rmtree(venv, ignore_errors=True)  # half-installed: the next call starts again from nothing
        return Unavailable(f"{package}=={version}", str(error))


def resolve_previous_package(package: str, current: str, explicit: str | None = None, *,
                             cache_root: Path | None = None, index_args: Sequence[str] = (),
                             say: Say = print) -> PreviousPackage | Unavailable:
    """The release of `package` before `current` (or `explicit`), installed and answering `spec`."""
    versions = published_versions(package, index_args=index_args, cache_root=cache_root)
    if isinstance(versions, str):
        return Unavailable(package, versions)
    chosen = previous_version(versions, current, explicit, package=package)
    if isinstance(chosen, str):
        return Unavailable(package, chosen)
    return install_previous(package, str(chosen), cache_root=cache_root, index_args=index_args, say=say)


def _reuse(venv: Path, package: str, version: str) -> PreviousPackage | None:
    """The finished install in `venv`, or None when there is none (or it no longer runs: its Python is gone)."""
    try:
        raw = json.loads((venv / RECORD).read_text())
        script, how = raw["script"], raw["how"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    argv = _argv(venv, script)
    if raw.get("package") != package or raw.get("version") != version or not all(Path(a).is_file() for a in argv):
        return None
    return PreviousPackage(package, version, venv, argv, how)


def _install(venv: Path, package: str, version: str, cache_root: Path | None, index_args: Sequence[str],
             say: Say) -> PreviousPackage:
    requirement = f"{package}=={version}"
    shutil.rmtree(venv, ignore_errors=True)  # no record: whatever is there is an interrupted install
    say(f"{package} {version}: installing into {venv}")
    environment = make_environment(venv, [requirement], cache_root=cache_root, index_args=index_args,
                                   release=(package, version), say=say)
    python = venv_bin(venv) / "python"
    script = _console_script(python, package)
    if script is None:
        (venv / LAUNCHER).write_text(launcher_source(package))
    argv = _argv(venv, script)
    how = f"console script {script}" if script else f"launcher (no console script): {_describe(argv, requirement)}"
    _smoke_test(argv, requirement)
    installed = PreviousPackage(package, version, venv, argv, how)
    _write_record(venv, {"package": package, "version": version, "script": script, "how": how})
    say(f"{package} {version}: installed with {environment.installer} in {environment.seconds:.1f}s; runs with {how}")
    return installed


def _argv(venv: Path, script: str | None) -> list[str]:
    if script:
        return [str(venv_bin(venv) / script)]
    return [str(venv_bin(venv) / "python"), str(venv / LAUNCHER)]


def _console_script(python: Path, package: str) -> str | None:
    """The console script the distribution declares for the connector (the CDK's own aside), or None."""
    probe = ("import importlib.metadata as m, json, sys\n"
             "points = m.distribution(sys.argv[1]).entry_points\n"
             "print(json.dumps(sorted(p.name for p in points if p.group == 'console_scripts')))")
    scripts = [s for s in json.loads(_run([str(python), "-c", probe, package], f"inspect {package}").splitlines()[-1])
               if s not in CDK_SCRIPTS]
    if not scripts:
        return None
    short = package.lower().removeprefix("airbyte-")  # airbyte-source-faker declares source-faker
    return short if short in scripts else scripts[0]


def _describe(argv: list[str], requirement: str) -> str:
    """What the launcher found to run, e.g. `source_faker.SourceFaker`."""
    output = _run([*argv, DESCRIBE], f"find the connector in {requirement}", env=_clean_env())
    lines = output.strip().splitlines()
    return lines[-1] if lines else "?"


def _smoke_test(argv: list[str], requirement: str) -> None:
    """The release must at least answer `spec`: a broken install is reported once, here, not by every test."""
    shown = " ".join([*argv, "spec"])
    try:
        result = subprocess.run([*argv, "spec"], capture_output=True, text=True, errors="replace",
                                timeout=SPEC_TIMEOUT_SECONDS, env=_clean_env(), check=False)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{requirement}: `{shown}` did not answer within {SPEC_TIMEOUT_SECONDS}s") from None
    if result.returncode != 0 or not any('"SPEC"' in line for line in result.stdout.splitlines()):
        raise BuildError(f"{requirement}: `{shown}` printed no SPEC message (exit {result.returncode}): "
                         f"{_tail(result.stderr or result.stdout)}")


def _write_record(venv: Path, record: dict[str, str | None]) -> None:
    write_atomically(venv / RECORD, json.dumps(record, indent=2))  # a record is either absent or whole


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, errors="replace", env=env, check=False)
    if result.returncode != 0:
        raise BuildError(f"could not {what} (exit {result.returncode}): {_tail(result.stderr or result.stdout)}")
    return result.stdout


def _clean_env() -> dict[str, str]:
    # The release must import its own code, not the current connector's that PYTHONPATH may point at.
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}}


def _python_tag(sep: str = "") -> str:
    return f"{sys.version_info.major}{sep}{sys.version_info.minor}"


def _tail(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-TAIL_LINES:]) or "(no output)"
