"""Reading and deriving Dockerfile text: its instructions, the images it starts FROM, the copy in which every stage
declares the pip build args (`DERIVED_DOCKERFILE`), and where its `COPY .` puts the context's wheelhouse."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Callable

INTEGRATION_CODE = "/airbyte/integration_code"
WHEELHOUSE_DIR = ".wheelhouse"
DERIVED_DOCKERFILE = ".connector-acceptance.Dockerfile"
PIP_BUILD_ARGS = ("PIP_FIND_LINKS", "PIP_NO_INDEX")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        op, _, args = line.partition(" ")
        result.append((op.upper(), args.strip()))
    if pending.strip():
        op, _, args = pending.strip().partition(" ")
        result.append((op.upper(), args.strip()))
    return result


def _from_image(args: str) -> tuple[str, str | None]:
    """`[--platform=…] image [AS name]` -> (image, name)."""
    words = [w for w in args.split() if not w.startswith("--")]
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return (words[0] if words else ""), alias


def external_bases(instructions: list[tuple[str, str]]) -> list[str]:
    """The images the Dockerfile starts FROM that must be on the engine (not its own stages, not `scratch`)."""
    stages: set[str] = set()
    bases: list[str] = []
    for op, args in instructions:
        if op != "FROM":
            continue
        image, alias = _from_image(args)
        if image and image not in stages and image != "scratch" and "$" not in image and image not in bases:
            bases.append(image)
        if alias:
            stages.add(alias)
    return bases


def with_pip_args(text: str) -> str:
    """The Dockerfile with `ARG PIP_FIND_LINKS PIP_NO_INDEX` declared in every stage (after each FROM)."""
    out: list[str] = []
    in_from = continuing = False
    for line in text.splitlines():
        out.append(line)
        stripped = line.strip()
        if not continuing:
            in_from = re.match(r"FROM\s", stripped, re.IGNORECASE) is not None
        continuing = stripped.endswith("\\")
        if in_from and not continuing:
            out.append("ARG " + " ".join(PIP_BUILD_ARGS))
            in_from = False
    return "\n".join(out) + "\n"


def wheelhouse_locations(instructions: list[tuple[str, str]], workdir_of: Callable[[str], str]) -> list[str]:
    """Where `COPY .` (or `ADD .`) puts the context's `.wheelhouse/` in the image, following WORKDIR and each
    base image's working directory; `/airbyte/integration_code/.wheelhouse` too, as a last resort."""
    locations: list[str] = []
    workdir, stage_workdirs = "/", {}
    for op, args in instructions:
        if op == "FROM":
            image, alias = _from_image(args)
            workdir = stage_workdirs.get(image) or workdir_of(image) or "/"
            if alias:
                stage_workdirs[alias] = workdir
        elif op == "WORKDIR" and "$" not in args:
            workdir = posixpath.join(workdir, args.strip().strip('"'))
        elif op in ("COPY", "ADD"):
            words = _copy_words(args)
            if any(w.startswith("--from") for w in words):
                continue
            paths = [w for w in words if not w.startswith("--")]
            if len(paths) >= 2 and any(p.rstrip("/") in (".", "") for p in paths[:-1]):
                destination = posixpath.normpath(posixpath.join(workdir, paths[-1]))
                locations.append(posixpath.join(destination, WHEELHOUSE_DIR))
    fallback = posixpath.join(INTEGRATION_CODE, WHEELHOUSE_DIR)
    return list(dict.fromkeys([*locations, fallback]))


def _copy_words(args: str) -> list[str]:
    """`[--flag…] src… dest`, in shell form or JSON form, as words."""
    flags: list[str] = []
    rest = args.strip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.strip()
    if rest.startswith("["):
        try:
            return [*flags, *(str(w) for w in json.loads(rest))]
        except json.JSONDecodeError:
            pass
    try:
        return [*flags, *shlex.split(rest)]
    except ValueError:
        return [*flags, *rest.split()]
