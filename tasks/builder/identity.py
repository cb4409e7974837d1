"""An image's identity: which files of the connector folder go into a build (a generated build's code, a Dockerfile's
context) and the digest of everything an image is built from (those files, the base images, the build mode, the
network mode, the Python minor version), by which an unchanged image is reused; `short_hash` for names made from a
text."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from acceptance.runner.command import IGNORED_ANYWHERE, IGNORED_AT_TOP, VENV_DIR
from tasks.builder.dockerfile import DERIVED_DOCKERFILE, WHEELHOUSE_DIR

How = Literal["dockerfile", "generated"]

# Bump when the generated Dockerfile changes shape: images built by an older version are then rebuilt.
GENERATOR_VERSION = "1"


def code_ignore(top: Path) -> Callable[[str, list[str]], set[str]]:
    """What never goes into an image or its identity: virtualenvs, caches, build outputs, tests and secrets."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in IGNORED_ANYWHERE or n.endswith(".egg-info")}
        if Path(directory) == top:
            skipped |= {n for n in names if n in IGNORED_AT_TOP or n in (WHEELHOUSE_DIR, DERIVED_DOCKERFILE)}
        return skipped

    return ignore


def _context_ignore(top: Path) -> Callable[[str, list[str]], set[str]]:
    """A Dockerfile build sees the whole folder: only our own temporary files, the venv and caches are left out."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in IGNORED_ANYWHERE}
        if Path(directory) == top:
            skipped |= {n for n in names if n in (VENV_DIR, WHEELHOUSE_DIR, DERIVED_DOCKERFILE)}
        return skipped

    return ignore


def inputs_digest(folder: Path, how: How, bases: list[str], base_ids: list[str], network_mode: str) -> str:
    digest = hashlib.sha256()
    for part in (GENERATOR_VERSION, how, network_mode, f"{sys.version_info.major}.{sys.version_info.minor}",
                 *bases, *base_ids):
        digest.update(f"{part}\0".encode())
    ignore = _context_ignore(folder) if how == "dockerfile" else code_ignore(folder)
    for directory, dirnames, filenames in os.walk(folder):
        skipped = ignore(directory, [*dirnames, *filenames])
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        for filename in sorted(f for f in filenames if f not in skipped):
            path = Path(directory) / filename
            digest.update(f"{path.relative_to(folder).as_posix()}\0".encode())
            try:
                digest.update(hashlib.sha256(path.read_bytes()).digest())
            except OSError:
                digest.update(b"unreadable")
    return digest.hexdigest()


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
