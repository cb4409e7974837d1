"""Files written whole, with the permissions asked for (or a plain open()'s), and nothing left on failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acceptance.files import write_atomically


def test_content_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    write_atomically(target, '{"new": "é"}')
    assert target.read_text(encoding="utf-8") == '{"new": "é"}'
    write_atomically(target, b"bytes")
    assert target.read_bytes() == b"bytes" and os.listdir(tmp_path) == ["report.json"]


def test_permissions_are_those_asked_for_or_a_plain_opens(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")
    write_atomically(tmp_path / "atomic", "x")
    write_atomically(tmp_path / "secret", "x", mode=0o600)
    assert (tmp_path / "atomic").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "cache.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomically(target, 5)  # type: ignore[arg-type]
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["cache.json"]
