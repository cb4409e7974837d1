"""`nox -s cache`: what the tool's cache folder holds, and `--prune` to keep uv's part of it bounded.

    nox -s cache [-- --show] [--prune [--ci]] [--cache-dir DIR]

The cache folder (`--cache-dir`, else CONNECTOR_ACCEPTANCE_CACHE_DIR or the default) holds uv's cache (`uv/`, or
`$UV_CACHE_DIR` when set), the previous releases' virtualenvs (`previous/`), the releases' upload dates
(`releases/`), pytest's caches (`pytest/`) and the connectors' cached outputs (the rest). `--prune` runs
`uv cache prune` on uv's cache (entries no environment can use any more; `--ci` also drops the wheels that were
downloaded, keeping only those uv built, as uv's own `--ci` does) and reports the sizes before and after.
Sizes count each file once, however many hard links it has (uv links its cache into the virtualenvs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from acceptance.cache import default_cache_dir
from acceptance.runner.environment import find_uv, uv_cache_dir

Say = Callable[[str], None]
PARTS = ("uv", "previous", "releases", "pytest")  # named folders under the cache root; the rest: connector outputs
PRUNE_TIMEOUT_SECONDS = 600


def run_cache(argv: list[str], say: Say = print) -> int:
    """Show the cache's sizes, or prune uv's cache (`--prune`); 0 when done, 1 when uv could not prune, 2 on
    unknown arguments."""
    parser = argparse.ArgumentParser(prog="nox -s cache --", exit_on_error=False, add_help=False)
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--prune", action="store_true")
    parser.add_argument("--ci", action="store_true")
    parser.add_argument("--cache-dir", default=None)
    try:
        args, unknown = parser.parse_known_args(argv)
    except argparse.ArgumentError as error:
        say(f"nox -s cache: {error}")
        return 2
    if unknown:
        say(f"nox -s cache: unknown arguments {' '.join(unknown)} (expected --show, --prune [--ci], --cache-dir DIR)")
        return 2
    root = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    uv_dir = uv_cache_dir(root)
    before = cache_sizes(root, uv_dir)
    say(render_sizes(root, uv_dir, before))
    if not args.prune:
        return 0
    uv = find_uv()
    if uv is None:
        say("cannot prune: uv cannot be run here (the `uv` package has no binary)")
        return 1
    command = [str(uv.binary), "cache", "prune", "--cache-dir", str(uv_dir), *(["--ci"] if args.ci else [])]
    result = subprocess.run(command, capture_output=True, text=True, errors="replace",
                            timeout=PRUNE_TIMEOUT_SECONDS, check=False)
    said = (result.stderr or result.stdout).strip()
    if result.returncode != 0:
        say(f"`{' '.join(command)}` failed (exit {result.returncode}): {said}")
        return 1
    after = cache_sizes(root, uv_dir)
    say(f"uv cache pruned ({said.splitlines()[-1] if said else 'nothing said'}): {human(before['uv'])} → "
        f"{human(after['uv'])}, {human(before['uv'] - after['uv'])} freed")
    return 0


def cache_sizes(root: Path, uv_dir: Path) -> dict[str, int]:
    """Bytes in each part of the cache and in all of it (`total`), each file counted once."""
    seen: set[tuple[int, int]] = set()
    sizes = {"uv": _size(uv_dir, seen)}
    for part in PARTS[1:]:
        sizes[part] = _size(root / part, seen)
    others = [entry for entry in _children(root) if entry.name not in PARTS and entry != uv_dir]
    sizes["outputs"] = sum(_size(entry, seen) for entry in others)
    sizes["total"] = sum(sizes.values())
    return sizes


def render_sizes(root: Path, uv_dir: Path, sizes: dict[str, int]) -> str:
    rows = [("uv's cache", uv_dir, sizes["uv"]), ("previous releases", root / "previous", sizes["previous"]),
            ("release dates", root / "releases", sizes["releases"]),
            ("pytest caches", root / "pytest", sizes["pytest"]),
            ("connector outputs (spec, catalogs)", root, sizes["outputs"])]
    lines = [f"cache {root}: {human(sizes['total'])}"]
    lines += [f"  {label:<36} {human(size):>10}  {where}" for label, where, size in rows]
    return "\n".join(lines)


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _size(path: Path, seen: set[tuple[int, int]]) -> int:
    total = 0
    for stat in _stats(path):
        key = (stat.st_dev, stat.st_ino)
        if key not in seen:
            seen.add(key)
            total += stat.st_size
    return total


def _stats(path: Path) -> Iterator[os.stat_result]:
    try:
        if path.is_symlink() or path.is_file():
            yield path.lstat()
            return
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    yield from _stats(Path(entry.path))
                else:
                    yield entry.stat(follow_symlinks=False)
    except OSError:
        return
