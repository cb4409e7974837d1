"""The shared on-disk cache of connector outputs (spec, discovered catalogs; later reads and states).

Entries are keyed by the connector's identity (what would change its behaviour: its code, its installed packages,
its image digest) and by a hash of the inputs, so a changed connector or config never sees a stale entry.
Concurrent sessions are safe: an entry is computed under a file lock (the second session waits and then reuses
the first one's result) and written atomically.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock

from acceptance.files import write_atomically
from acceptance.protocol.messages import dumps, loads

T = TypeVar("T")

CACHE_DIR_ENV = "CONNECTOR_ACCEPTANCE_CACHE_DIR"
LOCK_TIMEOUT_SECONDS = 3600


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "connector-acceptance"


def digest(value: Any) -> str:
    """A stable hash of a JSON-like value (key order does not matter)."""
    return hashlib.sha256(dumps(value, sort_keys=True)).hexdigest()


class Cache:
    def __init__(self, root: Path | None = None, *, enabled: bool = True) -> None:
        self.root = root or default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self._session: dict[Path, Any] = {}  # with the disk cache off, one session still runs each command once

    def entry_path(self, identity: str, kind: str, inputs: Any) -> Path:
        return self.root / identity[:32] / f"{kind}-{digest(inputs)[:32]}.json"

    def get_or_compute(
        self,
        identity: str,
        kind: str,
        inputs: Any,
        compute: Callable[[], T],
        *,
        encode: Callable[[T], Any | None],
        decode: Callable[[Any], T],
    ) -> T:
        """Return the cached value, or compute it. `encode` returns None for values that must not be cached
        (a failed run), so failures are always retried. Disabled (`--no-cache`), nothing is read from or written
        to disk, but a value is still reused within this process."""
        path = self.entry_path(identity, kind, inputs)
        if not self.enabled:
            if path not in self._session:
                value = compute()
                if encode(value) is None:
                    return value
                self._session[path] = value
            return self._session[path]
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_SECONDS):
            cached = self._load(path)
            if cached is not None:
                try:
                    value = decode(cached)
                except (KeyError, TypeError, ValueError):  # an entry from an older layout: recompute it
                    value = None
                if value is not None:
                    self.hits += 1
                    return value
            self.misses += 1
            value = compute()
            encoded = encode(value)
            if encoded is not None:
                self._store(path, encoded)
            return value

    @staticmethod
    def _load(path: Path) -> Any | None:
        try:
            return loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError:  # a torn or foreign file: recompute rather than fail
            return None

    @staticmethod
    def _store(path: Path, value: Any) -> None:
        write_atomically(path, dumps(value), mode=0o600)
