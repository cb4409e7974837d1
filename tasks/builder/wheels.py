"""The wheelhouse, made on the host so that builds need no network: the connector's own wheel, its dependencies and
those of its requirements.txt (same Python minor version as the image), and the console scripts its package declares.

Through uv (`Installer` "uv", the default): the connector's own wheel is `uv build --wheel`; the requirements are
pinned by `uv pip compile` (from uv's cache and HTTP cache; with `UV_OFFLINE=1` from its cache alone). A pinned wheel
is taken from the wheel store (`<cache root>/wheels/<python>-<platform>/<name>/<version>/`) when it is there; the
others are fetched by `uv pip install --no-deps --target <stage> --link-mode symlink`, whose links lead each installed
distribution back to its unpacked wheel in uv's cache, which is zipped again into the store (reproducible bytes:
fixed times, sorted names). So a rebuild's wheelhouse is the same bytes as the last one (Docker's layer cache holds),
made in a second or two. The old way, `pip wheel` (`Installer` "pip"), stays as the fallback where uv cannot: no uv
installed, or a dependency that is no wheel in uv's cache (an editable or a directory requirement); the build says so
in one line."""

from __future__ import annotations

import concurrent.futures
import configparser
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Literal

from packaging.version import InvalidVersion, Version

from acceptance.cache import default_cache_dir
from acceptance.config.connector import Connector, Requirement
from acceptance.errors import BuildError
from acceptance.runner.command import CDK_SCRIPTS
from acceptance.runner.environment import find_uv, uv_cache_dir
from tasks.builder.engine import LOG_TAIL_LINES, Say
from tasks.builder.identity import copy_code

# Reproducible wheels (zip timestamps): an unchanged project gives the same bytes, so Docker's cache holds.
WHEEL_ENV = {"SOURCE_DATE_EPOCH": "315532800", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
WHEEL_STORE_DIR = "wheels"  # under the tool's cache root: wheels zipped again from uv's cache
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_THREADS = 4
ZIP_LEVEL = 1  # zlib's fastest: faker's dependencies zip in half the time, 75 MB instead of 66
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;]+)")  # `uv pip compile`

Installer = Literal["uv", "pip"]


class _UvCannot(Exception):
    """uv cannot make this wheelhouse (not installed, or a dependency that is no wheel in its cache): use pip."""


@dataclass(frozen=True)
class _UvTool:
    binary: Path
    cache_dir: Path


@dataclass(frozen=True)
class _Wheels:
    dependencies: list[Path]  # every wheel the connector needs except its own
    project: Path | None  # the connector's own wheel, when the folder is a Python project
    scripts: list[str]  # console scripts of the connector's distribution


def python_requirement(connector: Connector) -> Requirement | None:
    """What pip installs for the connector (`Connector.python_requirement`), or None when it is no Python package."""
    return connector.python_requirement() if connector.is_python_package() else None


def make_wheels(folder: Path, requirement: Requirement | None, work: Path, *, installer: Installer = "uv",
                say: Say = print, cache_root: Path | None = None) -> _Wheels:
    """Wheels for everything the connector needs, made on the host: its own (built from a copy of the folder, which
    stays clean), its dependencies, and those of its requirements.txt. `cache_root`: the tool's cache (default
    `default_cache_dir()`), where uv's cache and the wheel store are."""
    dependencies_dir, project_dir, source = work / "wheels", work / "project-wheel", work / "source"
    dependencies_dir.mkdir()
    project_dir.mkdir()
    has_requirements_txt = (folder / "requirements.txt").is_file()
    if (requirement is not None and requirement.local) or has_requirements_txt:
        copy_code(folder, source)
    specs: list[str] = []
    project: Path | None = None
    if requirement is not None and requirement.local:
        project = project_wheel(source, project_dir, installer=installer, cache_root=cache_root)
        specs.append(str(project))
    elif requirement is not None:
        specs.append(requirement.spec)
    if has_requirements_txt:
        specs += ["-r", str(source / "requirements.txt")]
    if specs:
        fill_wheelhouse(specs, dependencies_dir, cwd=source if source.is_dir() else None, installer=installer,
                        say=say, cache_root=cache_root)
    wheels = sorted(dependencies_dir.glob("*.whl"))
    if project is not None:
        own = _wheel_name(project)
        return _Wheels([w for w in wheels if _wheel_name(w) != own], project, _console_scripts(project))
    distribution = _normalize(requirement.distribution) if requirement is not None else None
    own_wheel = next((w for w in wheels if _wheel_name(w) == distribution), None)
    return _Wheels(wheels, None, _console_scripts(own_wheel) if own_wheel else [])


def project_wheel(source: Path, wheel_dir: Path, *, installer: Installer = "uv", cache_root: Path | None = None
                  ) -> Path:
    """The connector's own wheel, built from `source` (a copy of its folder) into `wheel_dir`: `uv build --wheel`, or
    `pip wheel --no-deps` without uv."""
    uv = _uv(cache_root) if installer == "uv" else None
    if uv is None:
        pip_wheel([str(source)], wheel_dir, no_deps=True)
    else:
        _run([str(uv.binary), "build", "--wheel", "--quiet", "--no-progress", "--python", sys.executable,
              "--cache-dir", str(uv.cache_dir), "--out-dir", str(wheel_dir), str(source)],
             f"uv build --wheel {source.name}")
    return next(wheel_dir.glob("*.whl"))


def fill_wheelhouse(specs: list[str], wheel_dir: Path, *, cwd: Path | None = None, installer: Installer = "uv",
                    say: Say = print, cache_root: Path | None = None) -> None:
    """Every wheel the requirements `specs` (pip's argument words: names, wheel paths, `-r file`) resolve to, into
    `wheel_dir`: through uv's cache (module docstring), else `pip wheel`."""
    if installer == "uv":
        try:
            _uv_wheels(specs, wheel_dir, cwd, cache_root or default_cache_dir())
            return
        except _UvCannot as cannot:
            say(f"wheelhouse through pip: {cannot}")
    pip_wheel(specs, wheel_dir, cwd=cwd)


def pip_wheel(specs: list[str], wheel_dir: Path, *, cwd: Path | None = None, no_deps: bool = False) -> None:
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(wheel_dir),
            *(["--no-deps"] if no_deps else []), *specs]
    _run(argv, f"pip wheel {shlex.join(specs)}", cwd=cwd)


def _run(argv: list[str], what: str, *, cwd: Path | None = None) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env={**os.environ, **WHEEL_ENV},
                            check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-LOG_TAIL_LINES:]
        raise BuildError(f"could not make the wheelhouse (`{what}`, exit {result.returncode}):\n" + "\n".join(tail))


def _uv(cache_root: Path | None = None) -> _UvTool | None:
    """uv's binary (the tool's environments find it: `acceptance.runner.environment.find_uv`) and its cache
    (`uv_cache_dir`: `$UV_CACHE_DIR`, else `uv/` under the tool's cache root); None without the package."""
    uv = find_uv()
    return _UvTool(uv.binary, uv_cache_dir(cache_root)) if uv else None


def _uv_wheels(specs: list[str], wheel_dir: Path, cwd: Path | None, cache_root: Path) -> None:
    """`uv pip compile` pins the requirements; a pinned wheel already in the store is taken from there, the others are
    fetched (`_store_from_uv`); a local wheel file is taken as it is. All are linked into `wheel_dir`."""
    uv = _uv(cache_root)
    if uv is None:
        raise _UvCannot("the uv package is not installed")
    store = cache_root / WHEEL_STORE_DIR / f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}"
    wheels: list[Path] = []
    missing: list[str] = []
    for pin in _uv_compile(uv, specs, cwd):
        if pin.startswith(("-e ", "--editable")):
            raise _UvCannot(f"an editable requirement (`{pin}`) is no wheel in uv's cache")
        local = _local_wheel(pin)
        stored = _in_store(store, pin)
        if local is not None:
            wheels.append(local)
        elif stored is not None:
            wheels.append(stored)
        else:
            missing.append(pin)
    if missing:
        wheels += _store_from_uv(uv, missing, store, cwd)
    for wheel in wheels:
        target = wheel_dir / wheel.name
        target.unlink(missing_ok=True)
        try:
            os.link(wheel, target)
        except OSError:  # another file system
            shutil.copy2(wheel, target)


def _uv_compile(uv: _UvTool, specs: list[str], cwd: Path | None) -> list[str]:
    """The requirements `specs` resolved by uv for this Python: one `name==version` (or `name @ url`) per line."""
    lines: list[str] = []
    words = iter(specs)
    for word in words:
        lines.append(f"{word} {next(words, '')}" if word in ("-r", "--requirement") else word)
    with tempfile.TemporaryDirectory(prefix="connector-acceptance-pins-") as work:
        requirements_in = Path(work) / "requirements.in"
        requirements_in.write_text("\n".join(lines) + "\n")
        argv = [str(uv.binary), "pip", "compile", "--quiet", "--no-progress", "--no-header", "--no-annotate",
                "--python", sys.executable, "--cache-dir", str(uv.cache_dir), str(requirements_in)]
        result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env={**os.environ, **WHEEL_ENV},
                                check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-LOG_TAIL_LINES:]
        raise BuildError(f"could not make the wheelhouse (`uv pip compile` of {shlex.join(specs)}, exit "
                         f"{result.returncode}):\n" + "\n".join(tail))
    return [line.strip() for line in result.stdout.splitlines() if line.strip() and not line.startswith("#")]


def _in_store(store: Path, pin: str) -> Path | None:
    match = PIN.match(pin)
    if match is None:
        return None
    stored = list((store / _normalize(match["name"]) / _version(match["version"])).glob("*.whl"))
    return max(stored, key=lambda wheel: wheel.stat().st_mtime_ns) if stored else None  # the last one stored


def _local_wheel(pin: str) -> Path | None:
    """The file of a `name @ file:///….whl` pin (the connector's own wheel)."""
    _, at, url = pin.partition(" @ ")
    if not at or not url.startswith("file://") or not url.split(";", 1)[0].strip().endswith(".whl"):
        return None
    path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url.split(";", 1)[0].strip()).path))
    return path if path.is_file() else None


def _store_from_uv(uv: _UvTool, pins: list[str], store: Path, cwd: Path | None) -> list[Path]:
    """`uv pip install --target --no-deps` of the pins into a throwaway stage, linked (symlinks) into uv's cache; each
    installed distribution's unpacked wheel found through them and zipped again into the store."""
    with tempfile.TemporaryDirectory(prefix="connector-acceptance-stage-") as stage:
        _run([str(uv.binary), "pip", "install", "--quiet", "--no-progress", "--no-deps", "--python", sys.executable,
              "--cache-dir", str(uv.cache_dir), "--target", stage, "--link-mode", "symlink", *pins],
             f"uv pip install --target {shlex.join(pins)}", cwd=cwd)
        unpacked = [_unpacked_wheel(dist_info) for dist_info in sorted(Path(stage).glob("*.dist-info"))]
        with concurrent.futures.ThreadPoolExecutor(ZIP_THREADS) as pool:  # zlib lets go of the GIL
            return list(pool.map(lambda dist_info: _stored_wheel(dist_info, store), unpacked))


def _unpacked_wheel(installed: Path) -> Path:
    """The `*.dist-info` of the unpacked wheel in uv's cache that an installed `*.dist-info` links to."""
    for entry in sorted(installed.iterdir()):
        if entry.is_symlink():
            origin = (entry.parent / os.readlink(entry)).parent
            if origin.name == installed.name and (origin / "WHEEL").is_file() and (origin / "RECORD").is_file():
                return origin
    raise _UvCannot(f"uv did not link {installed.name.removesuffix('.dist-info')} from an unpacked wheel in its "
                    "cache")


def _stored_wheel(dist_info: Path, store: Path) -> Path:
    """The wheel of the unpacked wheel whose `*.dist-info` is `dist_info`, zipped into the store at
    `<name>/<version>/` unless it is there."""
    name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
    wheel = store / _normalize(name) / _version(version) / _wheel_filename(dist_info)
    if not wheel.is_file():
        wheel.parent.mkdir(parents=True, exist_ok=True)
        _zip_wheel(dist_info.parent, wheel)
    return wheel


def _wheel_filename(dist_info: Path) -> str:
    """`{name}-{version}[-{build}]-{python}-{abi}-{platform}.whl` from the dist-info's name and its WHEEL file."""
    wheel = HeaderParser().parsestr((dist_info / "WHEEL").read_text("utf-8"))
    tags = [tag.split("-") for tag in wheel.get_all("Tag") or [] if tag.count("-") == 2]
    if not tags:
        raise _UvCannot(f"{dist_info / 'WHEEL'}: no Tag")
    parts = [dist_info.name.removesuffix(".dist-info"), *([wheel["Build"].strip()] if wheel["Build"] else [])]
    parts += [".".join(dict.fromkeys(tag[i] for tag in tags)) for i in range(3)]
    return "-".join(parts) + ".whl"


def _zip_wheel(root: Path, wheel: Path) -> None:
    """`root`'s files into the zip `wheel` (dist-info last, RECORD at the very end, fixed times: reproducible bytes),
    written beside it and renamed into place (another build may be storing the same wheel)."""
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    files.sort(key=lambda name: (name.split("/", 1)[0].endswith(".dist-info"), name.endswith(".dist-info/RECORD")))
    fd, temporary = tempfile.mkstemp(dir=wheel.parent, prefix=f".{wheel.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in files:
                info = zipfile.ZipInfo(name, ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | stat.S_IMODE((root / name).stat().st_mode)) << 16
                archive.writestr(info, (root / name).read_bytes(), compresslevel=ZIP_LEVEL)
        os.chmod(temporary, 0o644)
        os.replace(temporary, wheel)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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


def _version(text: str) -> str:
    """PEP 440's normal form (`1.0.0-RC1` -> `1.0.0rc1`), the text itself when it is no version."""
    try:
        return str(Version(text))
    except InvalidVersion:
        return text


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
