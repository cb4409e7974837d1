"""Files written whole: a reader (another nox session, a CI step) sees the old content or the new, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# The process's umask, read once at import (reading it means setting it): files get the permissions a plain open()
# would give them, where mkstemp alone would make every one owner-only.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_atomically(path: Path, content: str | bytes, *, mode: int | None = None) -> None:
    """Write `content` to a unique temporary file beside `path`, then rename it over `path` (atomic on POSIX).
    `mode` sets the file's permissions (e.g. 0o600 for what may hold secrets; by default those of a plain open()).
    Nothing is left behind on failure."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o666 & ~_UMASK if mode is None else mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
