"""An image's identity: which files of the connector folder go into a build (a Dockerfile's context, a generated
build's code, the source of the connector's wheel), all defined by `acceptance.runner.identity` less our own temporary
files, and the digest of everything an image is built from (those files, the base images, the build mode, the network
mode, the Python minor version), by which an unchanged image is reused; `short_hash` for names made from a text."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path
from typing import Literal

from acceptance.runner.identity import connector_code, context_files, hash_files, tracked_files
from tasks.builder.dockerfile import DERIVED_DOCKERFILE, WHEELHOUSE_DIR

How = Literal["dockerfile", "generated"]

# Bump when the generated Dockerfile changes shape: images built by an older version are then rebuilt.
GENERATOR_VERSION = "1"
# What a Dockerfile build writes into the folder for the time of the build: never an input.
OUR_TEMPORARY_FILES = {WHEELHOUSE_DIR, DERIVED_DOCKERFILE}


def code_files(folder: Path) -> list[str]:
    """What a generated image's code and the connector's wheel are made of: the files git would track in the folder,
    less tests, secrets, build outputs and the acceptance config."""
    return _without_ours(connector_code(tracked_files(folder)))


def copy_code(folder: Path, target: Path) -> None:
    """Copy `code_files(folder)` into `target` (created), keeping their relative paths."""
    target.mkdir(parents=True, exist_ok=True)
    for relative in code_files(folder):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / relative, destination)


def image_files(folder: Path, how: How) -> list[str]:
    """The files of the folder an image is built from: the Dockerfile's context (`.dockerignore` applied), or the code
    a generated Dockerfile copies."""
    return _without_ours(context_files(folder)) if how == "dockerfile" else code_files(folder)


def _without_ours(files: list[str]) -> list[str]:
    return [f for f in files if f.split("/", 1)[0] not in OUR_TEMPORARY_FILES]


def inputs_digest(folder: Path, how: How, bases: list[str], base_ids: list[str], network_mode: str) -> str:
    digest = hashlib.sha256()
    for part in (GENERATOR_VERSION, how, network_mode, f"{sys.version_info.major}.{sys.version_info.minor}",
                 *bases, *base_ids):
        digest.update(f"{part}\0".encode())
    hash_files(digest, folder, image_files(folder, how))
    return digest.hexdigest()


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
