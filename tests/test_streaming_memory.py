"""Reading stays flat in memory: a read's output is spooled to disk and every basic_read check consumes it as a
stream, so ten times more records cost no more than a few hundred kilobytes of Python heap (tracemalloc)."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest

from acceptance.checks.basic_read import DataPointsTracker, PrimaryKeyValueChecker, StreamStatusTracker
from acceptance.checks.expected_records import ExpectedRecordsMatcher
from acceptance.checks.record_schema import RecordSchemaValidator
from acceptance.runner import LocalRunner, spool

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                           "at": {"type": "string", "format": "date-time"}}}
PRODUCER = """
import json, sys
print(json.dumps({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1.5,
      "stream_status": {"stream_descriptor": {"name": "items"}, "status": "STARTED"}}}))
print(json.dumps({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1.5,
      "stream_status": {"stream_descriptor": {"name": "items"}, "status": "RUNNING"}}}))
write = sys.stdout.write
for i in range(int(sys.argv[1])):
    write('{"type":"RECORD","record":{"stream":"items","data":{"id":%d,"name":"item %d %s",'
          '"at":"2024-01-01T00:00:00Z"},"emitted_at":1700000000000}}\\n' % (i, i, "x" * 60))
print(json.dumps({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1.5,
      "stream_status": {"stream_descriptor": {"name": "items"}, "status": "COMPLETE"}}}))
"""


def peak_heap_of_read_and_checks(script: Path, records: int) -> int:
    tracemalloc.start()
    try:
        run = LocalRunner([sys.executable, str(script)]).run([str(records)], timeout=300)
        assert run.succeeded and run.messages.counts["RECORD"] == records
        feeders = [
            RecordSchemaValidator({"items": SCHEMA}), PrimaryKeyValueChecker({"items": [["id"]]}),
            DataPointsTracker({"items": SCHEMA}), StreamStatusTracker([(None, "items")]),
            ExpectedRecordsMatcher([{"stream": "items", "data": {"id": 3, "name": f"item 3 {'x' * 60}",
                                                                  "at": "2024-01-01T00:00:00Z"}}], {"items": [["id"]]}),
        ]
        for message in run.messages:
            for feeder in feeders:
                feeder.feed(message)
        assert all(feeder.findings() == [] for feeder in feeders)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_ten_times_more_records_cost_no_more_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Spill to disk early, so both reads measure streaming rather than the in-memory head of the spool.
    monkeypatch.setattr(spool, "IN_MEMORY_BYTES", 256 * 1024)
    script = tmp_path / "producer.py"
    script.write_text(PRODUCER)
    small = peak_heap_of_read_and_checks(script, 20_000)  # ~2.5 MB of output
    large = peak_heap_of_read_and_checks(script, 200_000)  # ~25 MB of output, spilled to disk
    # Holding the large read's records would take well over 100 MB of heap; streaming keeps it flat.
    assert large - small < 2_000_000, (small, large)
