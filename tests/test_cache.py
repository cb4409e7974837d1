"""The on-disk cache: compute once, reuse, never cache failures, survive corruption, and lock across processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from acceptance.cache import CACHE_DIR_ENV, Cache, default_cache_dir, digest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Counter:
    """A compute function that counts its calls and returns a fresh value each time."""

    def __init__(self, value: Any = "value") -> None:
        self.calls = 0
        self.value = value

    def __call__(self) -> Any:
        self.calls += 1
        return self.value


def encode(value: Any) -> Any:
    return {"stored": value}


def decode(raw: Any) -> Any:
    return ("decoded", raw["stored"])


def test_computes_once_then_returns_the_decoded_cached_value(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    compute = Counter({"spec": [1, 2]})
    first = cache.get_or_compute("id", "spec", {"config": 1}, compute, encode=encode, decode=decode)
    second = cache.get_or_compute("id", "spec", {"config": 1}, compute, encode=encode, decode=decode)
    assert first == {"spec": [1, 2]}  # the computed value itself
    assert second == ("decoded", {"spec": [1, 2]})  # rebuilt from what was stored
    assert compute.calls == 1
    assert (cache.hits, cache.misses) == (1, 1)
    entry = cache.entry_path("id", "spec", {"config": 1})
    assert orjson.loads(entry.read_bytes()) == {"stored": {"spec": [1, 2]}}


def test_a_new_cache_object_on_the_same_folder_reuses_entries(tmp_path: Path) -> None:
    compute = Counter()
    Cache(tmp_path).get_or_compute("id", "spec", None, compute, encode=encode, decode=decode)
    again = Cache(tmp_path).get_or_compute("id", "spec", None, compute, encode=encode, decode=decode)
    assert again == ("decoded", "value")
    assert compute.calls == 1


def test_encode_returning_none_is_not_stored(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    compute = Counter("failed run")
    for _ in range(3):
        value = cache.get_or_compute("id", "discover", {}, compute, encode=lambda v: None, decode=decode)
        assert value == "failed run"
    assert compute.calls == 3
    assert not cache.entry_path("id", "discover", {}).exists()


def test_falsy_encoded_values_are_cached(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    for stored in (0, [], {}, "", False):
        compute = Counter(stored)
        for _ in range(2):
            cache.get_or_compute("id", f"kind{stored!r}", {}, compute, encode=lambda v: v, decode=lambda raw: raw)
        assert compute.calls == 1, stored


def test_disabled_cache_never_touches_disk_and_each_session_computes(tmp_path: Path) -> None:
    compute = Counter()
    for _ in range(2):  # two sessions (two Cache objects), as two nox sessions with --no-cache would be
        cache = Cache(tmp_path / "cache", enabled=False)
        assert cache.get_or_compute("id", "spec", {}, compute, encode=encode, decode=decode) == "value"
    assert compute.calls == 2
    assert not (tmp_path / "cache").exists()


def test_disabled_cache_reuses_a_value_within_one_session_but_never_a_failure(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", enabled=False)
    ok, failed = Counter("ok"), Counter("failed")
    for _ in range(2):
        assert cache.get_or_compute("id", "spec", {}, ok, encode=encode, decode=decode) == "ok"
        cache.get_or_compute("id", "discover", {}, failed, encode=lambda v: None, decode=decode)
    assert ok.calls == 1
    assert failed.calls == 2
    assert not (tmp_path / "cache").exists()


def test_different_identity_kind_or_inputs_are_different_entries(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    compute = Counter()
    keys = [("a" * 64, "spec", {"x": 1}), ("b" * 64, "spec", {"x": 1}), ("a" * 64, "discover", {"x": 1}),
            ("a" * 64, "spec", {"x": 2}), ("a" * 64, "spec", {"x": 1, "y": None})]
    for identity, kind, inputs in keys:
        cache.get_or_compute(identity, kind, inputs, compute, encode=encode, decode=decode)
    assert compute.calls == len(keys)
    assert len({cache.entry_path(*key) for key in keys}) == len(keys)


def test_key_order_of_inputs_does_not_matter(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    compute = Counter()
    one = {"config": {"a": 1, "b": {"c": 2, "d": 3}}, "environment": {}}
    other = {"environment": {}, "config": {"b": {"d": 3, "c": 2}, "a": 1}}
    cache.get_or_compute("id", "spec", one, compute, encode=encode, decode=decode)
    assert cache.get_or_compute("id", "spec", other, compute, encode=encode, decode=decode) == ("decoded", "value")
    assert compute.calls == 1
    assert digest(one) == digest(other)
    assert digest([1, 2]) != digest([2, 1])  # list order does matter


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"stored": "torn', b"\xff\xfe"])
def test_corrupt_entry_is_recomputed_and_replaced(tmp_path: Path, content: bytes) -> None:
    cache = Cache(tmp_path)
    entry = cache.entry_path("id", "spec", {})
    entry.parent.mkdir(parents=True)
    entry.write_bytes(content)
    compute = Counter()
    assert cache.get_or_compute("id", "spec", {}, compute, encode=encode, decode=decode) == "value"
    assert compute.calls == 1
    assert orjson.loads(entry.read_bytes()) == {"stored": "value"}


def test_entries_are_private_and_no_temp_files_remain(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    old_umask = os.umask(0o022)
    try:
        cache.get_or_compute("id", "spec", {}, Counter(), encode=encode, decode=decode)
    finally:
        os.umask(old_umask)
    entry = cache.entry_path("id", "spec", {})
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert not list(entry.parent.glob(".tmp-*"))


def test_failed_compute_stores_nothing(tmp_path: Path) -> None:
    cache = Cache(tmp_path)

    def boom() -> str:
        raise RuntimeError("connector crashed")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("id", "spec", {}, boom, encode=encode, decode=decode)
    assert not cache.entry_path("id", "spec", {}).exists()
    assert cache.get_or_compute("id", "spec", {}, Counter(), encode=encode, decode=decode) == "value"


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"
    assert Cache().root == tmp_path / "explicit"
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "connector-acceptance"


WORKER = """
import sys, time
from pathlib import Path
from acceptance.cache import Cache

root, counter, ready, go = (Path(p) for p in sys.argv[1:5])
ready.write_text("ready")
while not go.exists():
    time.sleep(0.01)

def compute():
    with counter.open("a") as handle:
        handle.write("computed\\n")
    time.sleep(1.0)
    return {"catalog": ["s1", "s2"]}

value = Cache(root).get_or_compute(
    "identity", "discover", {"config": 1}, compute, encode=lambda v: v, decode=lambda raw: raw
)
print(value["catalog"])
"""


def test_two_processes_asking_at_once_compute_exactly_once(tmp_path: Path) -> None:
    root, counter, go = tmp_path / "cache", tmp_path / "counter", tmp_path / "go"
    workers = []
    for index in range(2):
        ready = tmp_path / f"ready-{index}"
        workers.append((ready, subprocess.Popen(
            [sys.executable, "-c", WORKER, str(root), str(counter), str(ready), str(go)],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )))
    try:
        deadline = time.monotonic() + 20
        while not all(ready.exists() for ready, _ in workers):
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.01)
        go.write_text("go")  # both are waiting: release them together
        outputs = [process.communicate(timeout=20) for _, process in workers]
    finally:
        for _, process in workers:
            if process.poll() is None:
                process.kill()
    for (_, process), (stdout, stderr) in zip(workers, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert stdout.strip() == "['s1', 's2']"
    assert counter.read_text().splitlines() == ["computed"]
