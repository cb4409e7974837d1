"""Every Python environment the tool makes — a connector's virtualenv (`nox -s build`, local backend), each previous
release (backward_compat, regression) — is made here, with uv.

How: `uv venv` (for the current interpreter unless told), then `uv pip install --python <venv python>`. uv is a
dependency of the project: its binary is found through the installed `uv` package (`uv.find_uv_bin()`), never
looked up on PATH.

One cache, safe to share: uv's cache directory is `$UV_CACHE_DIR` when set, else `<tool cache>/uv` (the tool cache:
`--cache-dir`, else `acceptance.cache.default_cache_dir()`), shared by every connector, release and run. uv locks
its cache itself: two installs at the same time are safe. `nox -s cache -- --prune` keeps it bounded.

Offline: with `UV_OFFLINE=1` in the environment (or `offline=True`) uv reads only its cache: an install that was done
once works again; one that needs the index fails at once, naming the package ("offline and not in the uv cache at
<dir>").

Reproducible releases: an install of a published release (`name==version`) resolves its dependencies as the index
stood when the release was uploaded: `--exclude-newer <upload time>` (`acceptance.runner.release_date`). Chosen over
a lock per connector version (`uv pip compile` output kept under the cache) because a lock made on first use only
holds still on the machine that made it — another machine, or this one after a cache clean, compiles its own at
another time and gets other versions — whereas the upload date is a fact of the index, the same for every machine,
needs no file to share, and gives the release the dependencies it was published with. The date is read once from
the index and kept under the tool's cache, so an offline install reuses it; where no date can be had (`--no-index`,
an index without upload times, offline and never looked up) or where the dependencies of that day no longer install
here, the install resolves as of now, and the record says so.

The record: after each install, `connector-acceptance-environment.json` inside the venv says what was installed
(name, version, source where uv reports one — `uv pip freeze`'s `name @ url` — and a hash of each distribution's
installed files), with which installer and uv version, the requirements, the release date used, and the seconds the
whole environment took.

pip is a fallback for one condition: uv cannot be run (the `uv` package has no binary here) or rejects an option it
was given (its usage error, exit 2, e.g. a pip-only option among the index arguments); then `python -m pip --python
<venv python> install` runs with the same arguments, and the record says why.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packaging.utils import canonicalize_name

from acceptance.cache import default_cache_dir
from acceptance.errors import BuildError
from acceptance.files import write_atomically
from acceptance.runner.command import venv_bin
from acceptance.runner.release_date import ReleaseDate, release_upload_time

__all__ = [
    "ENVIRONMENT_RECORD", "EnvironmentRecord", "InstalledPackage", "Uv", "create_virtualenv", "find_uv", "is_offline",
    "make_environment", "uv_cache_dir",
]

ENVIRONMENT_RECORD = "connector-acceptance-environment.json"  # inside the venv
UV_DIR = "uv"  # under the tool's cache root
INSTALL_TIMEOUT_SECONDS = 1800
TAIL_LINES = 8  # lines of an installer's output kept in errors
TRUE = {"1", "true", "yes", "on"}
# uv's answer when offline and a package is not in its cache
NOT_IN_CACHE = re.compile(r"Because (\S+?)(?:==\S+)? was not found in the cache")
# Files of a dist-info folder that differ between installers and installs of the same files.
INSTALL_METADATA = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json"}

Say = Callable[[str], None]


@dataclass(frozen=True)
class Uv:
    binary: Path
    version: str  # e.g. "0.13.10"


@functools.cache
def find_uv() -> Uv | None:
    """uv's binary from the installed `uv` package and its version; None when there is none or it does not run."""
    try:
        from uv import find_uv_bin
        binary = Path(find_uv_bin())
        answer = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30, check=True)
    except (ImportError, FileNotFoundError, OSError, subprocess.SubprocessError):
        return None
    words = answer.stdout.split()  # "uv 0.13.10 (x86_64-unknown-linux-gnu)"
    return Uv(binary, words[1] if len(words) > 1 else answer.stdout.strip())


def uv_cache_dir(cache_root: Path | None = None) -> Path:
    """uv's cache: `$UV_CACHE_DIR` when set, else `<cache_root or the tool's default cache>/uv`."""
    if os.environ.get("UV_CACHE_DIR"):
        return Path(os.environ["UV_CACHE_DIR"])
    return (cache_root if cache_root is not None else default_cache_dir()) / UV_DIR


def is_offline(offline: bool | None = None) -> bool:
    """`offline` when given, else whether UV_OFFLINE is set (1, true, yes, on)."""
    return offline if offline is not None else os.environ.get("UV_OFFLINE", "").strip().lower() in TRUE


@dataclass(frozen=True)
class InstalledPackage:
    name: str
    version: str
    source: str | None = None  # where uv reports one: a URL or path (`name @ file:///...`), an editable folder
    files_sha256: str | None = None  # the installed files (from the dist-info RECORD, scripts and install notes aside)


@dataclass(frozen=True)
class EnvironmentRecord:
    """What `make_environment` installed, written beside the environment (ENVIRONMENT_RECORD inside the venv)."""

    installer: str  # "uv" or "pip"
    uv_version: str | None
    python: str
    requirements: list[str]
    exclude_newer: str | None  # the release date the resolution was held to, when there was one
    resolution: str  # for people: "as uploaded to ... before ...", or why the resolution is as of now
    cache_dir: str
    offline: bool
    seconds: float  # creating the venv (when it was created) and installing
    finished_at: str  # ISO 8601, UTC
    packages: list[InstalledPackage] = field(default_factory=list)
    fallback: str | None = None  # why pip was used instead of uv

    def summary(self) -> str:
        """One line for people: who installed what, how fast, resolved how."""
        wanted = _normalized(_name_of(self.requirements[0])) if self.requirements else None
        first = next((p for p in self.packages if _normalized(p.name) == wanted), None)
        what = f"{first.name} {first.version}" if first else ", ".join(self.requirements) or "nothing"
        others = len(self.packages) - (1 if first else 0)
        installer = f"uv {self.uv_version}" if self.installer == "uv" else f"pip ({self.fallback})"
        return (f"{what} + {others} packages, installed by {installer} in {self.seconds:.1f} s"
                f"{'; offline' if self.offline else ''}; resolution: {self.resolution}")

    def write(self, venv: Path) -> None:
        write_atomically(venv / ENVIRONMENT_RECORD, json.dumps(asdict(self), indent=2))

    @classmethod
    def read(cls, venv: Path) -> EnvironmentRecord | None:
        try:
            raw = json.loads((venv / ENVIRONMENT_RECORD).read_text())
            raw["packages"] = [InstalledPackage(**p) for p in raw["packages"]]
            return cls(**raw)
        except (OSError, ValueError, KeyError, TypeError):
            return None


def make_environment(venv: Path, requirements: Sequence[str], *, cache_root: Path | None = None,
                     index_args: Sequence[str] = (), reinstall: Sequence[str] = (),
                     release: tuple[str, str] | None = None, python: str | None = None,
                     offline: bool | None = None, say: Say = print) -> EnvironmentRecord:
    """Create `venv` when it has no Python yet, install `requirements` into it, write and return its record.

    `index_args` go to the installer as they are (e.g. `--no-index --find-links DIR`); `reinstall` names
    distributions to rebuild and reinstall even at an unchanged version (a local project's new code);
    `release=(package, version)` holds the resolution to that release's upload date. Raises BuildError."""
    started = time.monotonic()
    offline = is_offline(offline)
    cache = uv_cache_dir(cache_root)
    uv = find_uv()
    fallback = None if uv else "uv cannot be run here (the `uv` package has no binary)"
    date = release_upload_time(*release, cache_root=cache_root, index_args=index_args, offline=offline) \
        if release else None
    vpython = venv_bin(venv) / "python"
    if not vpython.is_file():
        create_virtualenv(venv, python=python, cache_root=cache_root)
    if uv:
        argv = [str(uv.binary), "pip", "install", "--python", str(vpython), "--cache-dir", str(cache),
                *(["--offline"] if offline else []),
                *[arg for name in reinstall for arg in ("--reinstall-package", name)], *index_args, *requirements]
        held = ["--exclude-newer", date.when] if date and date.when else []
        result = _run([*argv, *held], _uv_env(cache, offline))
        if held and result.returncode == 1 and not offline:
            # An old release whose dependencies of the day no longer install here (no wheel for this Python, an
            # sdist that no longer builds): resolved as of now instead, and the record says so.
            date = ReleaseDate(None, f"as of now: as uploaded before {held[1]} it did not install "
                                     f"({_first_error(result.stderr)})")
            say(f"{' '.join(requirements)}: {date.why}")
            result = _run(argv, _uv_env(cache, offline))
        if result.returncode == 2 and "unexpected argument" in result.stderr:
            fallback = f"uv rejected an option ({_first_error(result.stderr)})"
        elif result.returncode != 0:
            raise BuildError(_uv_failure(requirements, result, offline, cache))
    if fallback:
        say(f"installing with pip: {fallback}")
        _pip_install(vpython, requirements, reinstall, index_args, offline)
        if date and date.when:
            date = ReleaseDate(None, "as of now: pip does not hold a resolution to a date")
    record = EnvironmentRecord(
        installer="pip" if fallback else "uv", uv_version=uv.version if uv else None, python=_python_version(venv),
        requirements=list(requirements), exclude_newer=date.when if date else None,
        resolution=date.why if date else "as of now (not a release)", cache_dir=str(cache), offline=offline,
        seconds=round(time.monotonic() - started, 2), finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        packages=_installed(venv, uv, cache), fallback=fallback)
    record.write(venv)
    return record


def create_virtualenv(venv: Path, *, python: str | None = None, cache_root: Path | None = None) -> None:
    """An empty virtualenv at `venv` (whatever was there is removed) for `python` (default: this interpreter), made by
    `uv venv` (`python -m venv --without-pip` where uv cannot run: pip installs into it from outside)."""
    shutil.rmtree(venv, ignore_errors=True)  # a folder without its Python is an interrupted creation
    uv, cache, python = find_uv(), uv_cache_dir(cache_root), python or sys.executable
    if uv:
        argv = [str(uv.binary), "venv", "--quiet", "--no-project", "--python", python, "--cache-dir", str(cache),
                str(venv)]
    else:
        argv = [python, "-m", "venv", "--without-pip", str(venv)]
    result = _run(argv, _uv_env(cache, False))
    if result.returncode != 0:
        raise BuildError(f"could not create the virtualenv {venv} (exit {result.returncode}): {_tail(result)}")


def _pip_install(vpython: Path, requirements: Sequence[str], reinstall: Sequence[str], index_args: Sequence[str],
                 offline: bool) -> None:
    pip = [sys.executable, "-m", "pip", "--python", str(vpython), "install", "--disable-pip-version-check", "-q",
           *(["--no-index"] if offline else []), *index_args]
    result = _run([*pip, *requirements], None)
    if result.returncode == 0 and reinstall:  # same version number, new code: make pip reinstall it
        local = [r for r in requirements if Path(r).exists()] or list(requirements)
        result = _run([*pip, "--no-deps", "--force-reinstall", *local], None)
    if result.returncode != 0:
        shown = " ".join(requirements)
        why = " (offline: pip cannot install from uv's cache)" if offline else ""
        raise BuildError(f"could not install {shown} with pip{why} (exit {result.returncode}): {_tail(result)}")


def _uv_failure(requirements: Sequence[str], result: subprocess.CompletedProcess[str], offline: bool,
                cache: Path) -> str:
    shown = " ".join(requirements)
    missing = NOT_IN_CACHE.search(result.stderr)
    if offline and (missing or "network was disabled" in result.stderr):
        package = missing.group(1) if missing else _name_of(requirements[0]) if requirements else "a package"
        return (f"could not install {shown}: {package} is needed, and it is offline and not in the uv cache at "
                f"{cache} (UV_OFFLINE is set: run once with the index reachable to fill the cache)")
    return f"could not install {shown} (uv, exit {result.returncode}): {_tail(result)}"


def _installed(venv: Path, uv: Uv | None, cache: Path) -> list[InstalledPackage]:
    """Name, version and source of each distribution in `venv` (`uv pip list` / `uv pip freeze`, pip's without uv)."""
    vpython = venv_bin(venv) / "python"
    tool = [str(uv.binary), "pip"] if uv else [sys.executable, "-m", "pip", "--python", str(vpython)]
    where = ["--python", str(vpython), "--cache-dir", str(cache)] if uv else ["--disable-pip-version-check"]
    listed = _run([*tool, "list", "--format", "json", *where], _uv_env(cache, False))
    frozen = _run([*tool, "freeze", *where], _uv_env(cache, False))
    if listed.returncode != 0:
        raise BuildError(f"could not list what is installed in {venv}: {_tail(listed)}")
    sources: dict[str, str] = {}
    for line in frozen.stdout.splitlines():
        name, at, url = line.partition(" @ ")
        if at:
            sources[canonicalize_name(name.strip())] = url.strip()
    dist_infos = {canonicalize_name(d.name.removesuffix(".dist-info").rsplit("-", 1)[0]): d
                  for d in venv.glob("lib/*/site-packages/*.dist-info")}
    packages = []
    for entry in json.loads(listed.stdout or "[]"):
        key = canonicalize_name(entry["name"])
        source = sources.get(key) or entry.get("editable_project_location")
        dist_info = dist_infos.get(key)
        packages.append(InstalledPackage(entry["name"], entry["version"], source,
                                         _files_sha256(dist_info) if dist_info else None))
    return sorted(packages, key=lambda p: canonicalize_name(p.name))


def _files_sha256(dist_info: Path) -> str | None:
    """A hash of the distribution's installed files as its RECORD lists them (path and sha256 each), leaving out the
    scripts (they name the venv's Python) and the installer's notes: equal for the same files anywhere."""
    try:
        lines = (dist_info / "RECORD").read_text().splitlines()
    except OSError:
        return None
    kept = sorted(line for line in lines if line and not line.startswith("..")
                  and not (line.startswith(dist_info.name + "/")
                           and line.split(",", 1)[0].rsplit("/", 1)[-1] in INSTALL_METADATA))
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()


def _uv_env(cache: Path, offline: bool) -> dict[str, str]:
    """The environment uv runs with: the tool's cache and offline choice, never a Python download, and the index
    that pip is told to use by environment variables (uv reads its own: UV_INDEX_URL, UV_FIND_LINKS...)."""
    env = dict(os.environ, UV_CACHE_DIR=str(cache), UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1")
    env.pop("VIRTUAL_ENV", None)  # the target is always given with --python
    if offline:
        env["UV_OFFLINE"] = "1"
    if "PIP_INDEX_URL" in env and not ({"UV_INDEX_URL", "UV_DEFAULT_INDEX"} & env.keys()):
        env["UV_INDEX_URL"] = env["PIP_INDEX_URL"]
    if "PIP_EXTRA_INDEX_URL" in env and not ({"UV_EXTRA_INDEX_URL", "UV_INDEX"} & env.keys()):
        env["UV_EXTRA_INDEX_URL"] = env["PIP_EXTRA_INDEX_URL"]
    if "PIP_CERT" in env and "SSL_CERT_FILE" not in env:
        env["SSL_CERT_FILE"] = env["PIP_CERT"]
    return env


def _run(argv: list[str], env: dict[str, str] | None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, errors="replace", env=env,
                              timeout=INSTALL_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise BuildError(f"`{' '.join(argv[:4])} ...` did not finish within {INSTALL_TIMEOUT_SECONDS}s") from None


def _python_version(venv: Path) -> str:
    """The venv's Python version, from pyvenv.cfg (`version_info` from uv, `version` from venv)."""
    try:
        for line in (venv / "pyvenv.cfg").read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() in {"version_info", "version"}:
                return value.strip()
    except OSError:
        pass
    return "unknown"


def environment_of(argv: Sequence[str]) -> EnvironmentRecord | None:
    """The record of the virtualenv whose executable (`<venv>/bin/x`) or interpreter starts `argv`, if it has one."""
    for arg in argv[:1]:
        venv = Path(arg).parent.parent
        if (venv / "pyvenv.cfg").is_file():
            return EnvironmentRecord.read(venv)
    return None


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name_of(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[@]", requirement.strip(), maxsplit=1)[0] or requirement


def _first_error(stderr: str) -> str:
    return next((line.strip() for line in stderr.splitlines() if line.startswith("error:")), stderr.strip()[:200])


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    text = result.stderr or result.stdout
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-TAIL_LINES:]) or "(no output)"
