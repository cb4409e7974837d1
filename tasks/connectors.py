"""Finding connector folders: by name under the connectors root, or by path."""

from __future__ import annotations

import difflib
import os
import subprocess
from pathlib import Path

from acceptance.errors import ConnectorNotFoundError, UserError

CONNECTORS_ROOT_ENV = "CONNECTORS_ROOT"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("acceptance-test-config.yml", "acceptance-test-config.yaml", "metadata.yaml")


def connectors_root(option: str | None = None) -> Path:
    """`--connectors-root`, else $CONNECTORS_ROOT, else `connectors/` beside the noxfile."""
    return Path(option or os.environ.get(CONNECTORS_ROOT_ENV) or PROJECT_ROOT / "connectors").resolve()


def is_connector_folder(path: Path) -> bool:
    return path.is_dir() and any((path / marker).is_file() for marker in MARKERS)


def list_connectors(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if is_connector_folder(p))


def find_connector(name_or_path: str, root: Path) -> Path:
    """The folder of a connector named under `root`, or given as a path (absolute or relative to here)."""
    as_path = Path(name_or_path).expanduser()
    for candidate in (as_path, root / name_or_path):
        if is_connector_folder(candidate):
            return candidate.resolve()
    known = list_connectors(root)
    close = difflib.get_close_matches(name_or_path, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else (f"; known: {', '.join(known)}" if known else "")
    raise ConnectorNotFoundError(
        f"no connector {name_or_path!r}: not a folder with acceptance-test-config.yml or metadata.yaml, "
        f"and not a connector under {root}{hint}"
    )


def modified_connectors(root: Path, base: str) -> list[str]:
    """Connectors under `root` with a file changed against the git ref `base`: committed since their merge base,
    staged, unstaged or untracked (what a pull request would bring, plus the work in progress)."""
    top = _git(["rev-parse", "--show-toplevel"], root)
    if top is None:
        raise UserError(f"--modified: {root} is not inside a git repository")
    top_path = Path(top.strip())
    changed: set[str] = set()
    for argv in (["diff", "--name-only", f"{base}...HEAD"], ["diff", "--name-only", "HEAD"],
                 ["ls-files", "--others", "--exclude-standard"]):
        output = _git(argv, top_path)
        if output is None:
            raise UserError(f"--modified: `git {' '.join(argv)}` failed: is {base!r} a known ref? "
                            "(in CI, fetch it first, e.g. `git fetch origin main`)")
        changed.update(line.strip() for line in output.splitlines() if line.strip())
    found = set()
    for path in changed:
        absolute = (top_path / path).resolve()
        try:
            relative = absolute.relative_to(root)
        except ValueError:
            continue
        if relative.parts and is_connector_folder(root / relative.parts[0]):
            found.add(relative.parts[0])
    return sorted(found)


def _git(argv: list[str], cwd: Path) -> str | None:
    result = subprocess.run(["git", *argv], cwd=cwd, capture_output=True, text=True, check=False)
    return result.stdout if result.returncode == 0 else None
