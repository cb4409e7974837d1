"""Tiny wheels written directly (a wheel is a zip with a .dist-info folder): pip installs them offline, with no build
backend and no network, in a second."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def make_wheel(folder: Path, name: str, version: str, files: dict[str, str], *,
               console_scripts: dict[str, str] | None = None, requires: list[str] | None = None,
               top_level: list[str] | None = None) -> Path:
    """Write `<name>-<version>-py3-none-any.whl` into `folder` holding `files` (path -> text), and return it.

    `top_level` None leaves top_level.txt out, as Poetry-built wheels do."""
    stem = f"{name.replace('-', '_')}-{version}"
    dist_info = f"{stem}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    metadata += [f"Requires-Dist: {requirement}" for requirement in requires or []]
    contents = dict(files)
    contents[f"{dist_info}/METADATA"] = "\n".join(metadata) + "\n"
    contents[f"{dist_info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if console_scripts:
        lines = [f"{script} = {target}" for script, target in console_scripts.items()]
        contents[f"{dist_info}/entry_points.txt"] = "[console_scripts]\n" + "\n".join(lines) + "\n"
    if top_level is not None:
        contents[f"{dist_info}/top_level.txt"] = "\n".join(top_level) + "\n"
    record = [f"{path},{_hash(text)},{len(text.encode())}" for path, text in contents.items()]
    contents[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    wheel = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return wheel


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
