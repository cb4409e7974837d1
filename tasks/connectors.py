"""Finding connector folders: by name under the connectors root, or by path."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from acceptance.errors import ConnectorNotFoundError

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
