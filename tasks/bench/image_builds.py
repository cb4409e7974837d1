"""The Docker rows of the bench's "environments" table: a connector's image (source-faker) built from scratch and again
after a one-line code change, its wheelhouse made through uv and the old way (`pip wheel`), back to back, the two
ways taking turns round by round.

"From scratch": a copy of the connector folder under a repository of its own, with a `build_customization.py` whose
`pre_install` sets a fresh `ENV` (so no layer of an earlier image matches) and empty caches (uv's, pip's and the tool's
wheel store, through `UV_CACHE_DIR`, `PIP_CACHE_DIR` and `CONNECTOR_ACCEPTANCE_CACHE_DIR`). A connector with no code
of its own (source-faker, a PyPI package) gets a `main.py` that runs its console script, so that "a one-line code
change" is one: a line appended to `main.py`. The images are removed afterwards."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from acceptance.cache import CACHE_DIR_ENV
from acceptance.config.connector import Connector
from acceptance.errors import UserError
from tasks.bench.process import REPO, BenchError, Say
from tasks.builder.image import BuiltImage, build_image
from tasks.builder.wheels import Installer

SOURCE_FAKER = REPO / "connectors" / "source-faker"
REPOSITORY_PREFIX = "connector-acceptance-bench"
MAX_REBUILD_SECONDS = 20.0  # the target: the rebuild after a code change
WAYS: tuple[Installer, Installer] = ("uv", "pip")
CASES = ("from scratch", "after a one-line code change")
CODE_CHANGE = "# a one-line code change\n"

Build = Callable[..., BuiltImage]  # build_image's signature: (connector, *, say, installer, ...)


def docker_build_rows(say: Say, *, source: Path = SOURCE_FAKER, rounds: int = 1,
                      build: Build = build_image) -> list[dict[str, Any]]:
    """One row per case (from scratch, after a one-line code change): seconds through uv and through pip (the
    fastest of `rounds`), the speedup, and the target where the issue sets one (the rebuild ≤ 20 s, through uv)."""
    if rounds < 1:
        raise BenchError("bench: rounds must be at least 1")
    seconds: dict[tuple[str, Installer], list[float]] = {(case, way): [] for case in CASES for way in WAYS}
    for round_ in range(rounds):
        for way in WAYS if round_ % 2 == 0 else tuple(reversed(WAYS)):
            for case, taken in zip(CASES, _build_twice(source, way, say, build), strict=True):
                seconds[case, way].append(taken)
    rows: list[dict[str, Any]] = []
    for case in CASES:
        uv, pip = min(seconds[case, "uv"]), min(seconds[case, "pip"])
        target = MAX_REBUILD_SECONDS if case == CASES[1] else None
        rows.append({
            "environment": f"Docker image of {source.name}", "case": case,
            "uv_seconds": round(uv, 1), "pip_seconds": round(pip, 1), "speedup": round(pip / uv, 1) if uv > 0 else None,
            "uv_runs": [round(s, 1) for s in seconds[case, "uv"]],
            "pip_runs": [round(s, 1) for s in seconds[case, "pip"]],
            "target": f"uv ≤ {target:g} s" if target else None,
            "passed": uv <= target if target else None,
        })
    return rows


def _build_twice(source: Path, way: Installer, say: Say, build: Build) -> tuple[float, float]:
    """Seconds of a build from scratch, then of the rebuild after a one-line code change."""
    with tempfile.TemporaryDirectory(prefix=f"connector-acceptance-bench-image-{way}-") as work, \
            _empty_caches(Path(work) / "caches"):
        repository = f"{REPOSITORY_PREFIX}/{source.name}-{way}-{uuid.uuid4().hex[:8]}"
        folder = _scratch_copy(source, Path(work), repository)
        try:
            taken = []
            for case in CASES:
                if case == CASES[1]:
                    with (folder / "main.py").open("a") as main:
                        main.write(CODE_CHANGE)
                say(f"bench: Docker image of {source.name}, {case}, through {way}")
                started = time.monotonic()
                built = build(Connector.read(folder), say=lambda _: None, installer=way)
                taken.append(time.monotonic() - started)
                if built.reused:
                    raise BenchError(f"bench: {repository}: the build was skipped as up to date: nothing measured")
            return taken[0], taken[1]
        finally:
            _remove_images(repository)


def copy_connector(source: Path, destination: Path, repository: str) -> Path:
    """A copy of the connector folder `source` under `destination` (no virtualenv or build leftovers) whose
    metadata.yaml names `repository`: its image builds apart from the original's."""
    folder = destination / source.name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__", ".venv", "*.egg-info", "build"))
    metadata_file = folder / "metadata.yaml"
    metadata = yaml.safe_load(metadata_file.read_text())
    metadata["data"]["dockerRepository"] = repository
    metadata_file.write_text(yaml.safe_dump(metadata, sort_keys=False))
    return folder


def _scratch_copy(source: Path, work: Path, repository: str) -> Path:
    folder = copy_connector(source, work, repository)
    if not (folder / "main.py").is_file():  # a PyPI package: its console script, named as the folder
        (folder / "main.py").write_text(
            "from importlib.metadata import entry_points\n\n"
            f"(script,) = entry_points(group='console_scripts', name={source.name!r})\n"
            "script.load()()\n"
        )
    if (folder / "build_customization.py").exists():
        raise BenchError(f"bench: {source}: has a build_customization.py; the bench writes its own")
    (folder / "build_customization.py").write_text(
        "def pre_install(dockerfile):\n"
        f"    return [*dockerfile, 'ENV CONNECTOR_ACCEPTANCE_BENCH={uuid.uuid4().hex}']  # no earlier layer matches\n"
    )
    return folder


@contextmanager
def _empty_caches(root: Path) -> Iterator[None]:
    """uv's, pip's and the tool's caches (the wheel store) empty, for this process and the ones it starts."""
    names = {"UV_CACHE_DIR": "uv", "PIP_CACHE_DIR": "pip", CACHE_DIR_ENV: "tool"}
    before = {name: os.environ.get(name) for name in names}
    os.environ.update({name: str(root / directory) for name, directory in names.items()})
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _remove_images(repository: str) -> None:
    from acceptance.runner.docker import docker_client
    from tasks.builder.engine import remove_image

    try:
        client = docker_client()
    except UserError:  # no engine: no image was built
        return
    for image in client.images.list(name=repository):
        for tag in image.tags:
            remove_image(client, tag)
