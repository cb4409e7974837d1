"""Progress while a read runs: records spooled so far, said at most every PROGRESS_SECONDS, then how it ended."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from acceptance.report import progress as report
from acceptance.runner import LocalRunner
from acceptance.runner.base import read
from acceptance.runner.spool import RECORDS_LISTENER

RECORD = '{"type":"RECORD","record":{"stream":"s","data":{"i":%d},"emitted_at":1}}'
PRODUCER = f"import sys\nfor i in range(25000):\n    sys.stdout.write({RECORD!r} % i + '\\n')\n"


def test_a_read_says_its_records_so_far_and_its_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "PROGRESS_SECONDS", 0.0)
    script = tmp_path / "producer.py"
    script.write_text(PRODUCER)
    said: list[str] = []
    runner = report.ProgressRunner(LocalRunner([sys.executable, str(script)], cwd=tmp_path), said.append,
                                   lambda: "basic_read")
    result = read(runner, {}, {"streams": []}, timeout=60)
    assert result.messages.counts["RECORD"] == 25000
    assert said[0] == "[basic_read] read: started"
    assert said[1:3] == ["[basic_read] read: 10,000 records so far (0s)",
                         "[basic_read] read: 20,000 records so far (0s)"]
    assert said[-1].startswith("[basic_read] read: exit code 0 after") and said[-1].endswith(", 25000 records")
    assert RECORDS_LISTENER.get() is None  # reset after the command


def test_without_a_listener_nothing_is_said(tmp_path: Path) -> None:
    script = tmp_path / "producer.py"
    script.write_text(PRODUCER)
    result = read(LocalRunner([sys.executable, str(script)], cwd=tmp_path), {}, {"streams": []}, timeout=60)
    assert result.messages.counts["RECORD"] == 25000
