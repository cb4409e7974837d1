"""When a release was published: the upload time of `package==version` on the package index, remembered for good.

A release install resolves its dependencies as the index stood when the release was uploaded (uv's
`--exclude-newer`, see `acceptance.runner.environment`), so this date is what makes the install the same on every
machine. It comes from the index's JSON simple API (PEP 691 with PEP 700's `upload-time`, which PyPI serves) and is
kept under the tool's cache (`<cache>/releases/<name>-<version>.json`): an upload time never changes, so it is read
once and later (also offline) installs use the stored one.

Nothing here raises for a missing date: `release_upload_time` returns a `ReleaseDate` whose `when` is None and whose
`why` says why (no index, an index without upload times, offline and never looked up, the index not answering).
"""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from acceptance.cache import default_cache_dir
from acceptance.files import write_atomically

__all__ = ["DEFAULT_INDEX", "ReleaseDate", "index_url", "release_upload_time"]

DEFAULT_INDEX = "https://pypi.org/simple"
RELEASES_DIR = "releases"  # under the cache root
LOOKUP_TIMEOUT_SECONDS = 20
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class ReleaseDate:
    """The moment just after the last file of a release was uploaded (RFC 3339, whole seconds, UTC), or None."""

    when: str | None
    why: str  # where the date comes from, or why there is none


def index_url(index_args: Sequence[str] = ()) -> str | None:
    """The index a release is installed from: `--index-url`/`--default-index`/`-i` among `index_args`, else the
    environment (UV_DEFAULT_INDEX, UV_INDEX_URL, PIP_INDEX_URL), else PyPI; None with `--no-index` (or UV_NO_INDEX /
    PIP_NO_INDEX set)."""
    args = list(index_args)
    no_index = {os.environ.get(v, "").strip().lower() for v in ("UV_NO_INDEX", "PIP_NO_INDEX")}
    if "--no-index" in args or no_index & {"1", "true", "yes", "on"}:
        return None
    for flag in ("--index-url", "--default-index", "-i"):
        for i, arg in enumerate(args):
            if arg == flag and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    for variable in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        if os.environ.get(variable):
            return os.environ[variable]
    return DEFAULT_INDEX


def release_upload_time(package: str, version: str, *, cache_root: Path | None = None,
                        index_args: Sequence[str] = (), offline: bool = False) -> ReleaseDate:
    """When `package==version` was uploaded to its index (see the module docstring)."""
    index = index_url(index_args)
    if index is None:
        return ReleaseDate(None, "installed without an index (--no-index): no upload date")
    name = canonicalize_name(package)
    remembered = (cache_root if cache_root is not None else default_cache_dir()) / RELEASES_DIR / \
        f"{name}-{version}.json"
    try:
        raw = json.loads(remembered.read_text())
        if raw["index"] == index and raw["version"] == version:
            return ReleaseDate(raw["when"], f"uploaded to {index} before {raw['when']} (remembered in {remembered})")
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if offline:
        return ReleaseDate(None, f"offline, and the upload date of {package} {version} was never looked up")
    found = _look_up(index, name, version)
    if found.when is not None:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(remembered, json.dumps({"index": index, "package": name, "version": version,
                                                 "when": found.when}))
    return found


def _look_up(index: str, name: str, version: str) -> ReleaseDate:
    """The release's upload time, rounded up to the next whole second (uv keeps the files uploaded strictly before
    the date), or why it is not known."""
    url = f"{index.rstrip('/')}/{name}/"
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})
    try:
        with urllib.request.urlopen(request, timeout=LOOKUP_TIMEOUT_SECONDS) as response:
            if SIMPLE_JSON not in response.headers.get("Content-Type", ""):
                return ReleaseDate(None, f"{index} does not serve the JSON simple API (PEP 691): no upload date")
            data = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError) as error:
        return ReleaseDate(None, f"could not read the upload date of {name} {version} from {index}: {error}")
    wanted = _version(version)
    times = [entry.get("upload-time") for entry in data.get("files", [])
             if wanted is not None and _file_version(str(entry.get("filename", "")), name) == wanted]
    if not times:
        return ReleaseDate(None, f"{index} lists no file of {name} {version}")
    if not all(isinstance(t, str) for t in times):
        return ReleaseDate(None, f"{index} gives no upload time (PEP 700) for {name} {version}")
    latest = max(datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times)  # type: ignore[union-attr]
    after = latest.replace(microsecond=0) + timedelta(seconds=math.ceil(latest.microsecond / 1_000_000))
    if after == latest:
        after += timedelta(seconds=1)
    when = after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ReleaseDate(when, f"uploaded to {index} before {when}")


def _file_version(filename: str, name: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            found_name, found, _, _ = parse_wheel_filename(filename)
        else:
            found_name, found = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return found if found_name == name else None


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None
