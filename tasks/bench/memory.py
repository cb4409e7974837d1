"""The memory of a whole basic_read: a real read through LocalRunner of a generator script, every basic_read
streaming check fed, measured in a fresh process."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acceptance.runner import LocalRunner
from acceptance.runner.base import read
from tasks.bench.paths import OursPath
from tasks.bench.process import CHILD_TIMEOUT_SECONDS, BenchError, child_json, peak_rss_bytes

MEMORY_STREAM = "items"

MEMORY_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string", "format": "email"},
        "updated_at": {"type": "string", "format": "date-time"}, "amount": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"type": ["null", "object"], "properties": {"city": {"type": "string"},
                                                               "zip": {"type": ["null", "string"]}}},
    },
}
MEMORY_CATALOG = {"streams": [{
    "stream": {"name": MEMORY_STREAM, "json_schema": MEMORY_SCHEMA, "supported_sync_modes": ["full_refresh"],
               "source_defined_primary_key": [["id"]]},
    "sync_mode": "full_refresh", "destination_sync_mode": "append", "primary_key": [["id"]],
}]}
# A connector of its own: `read --config C --catalog K` prints config["count"] records of one stream, with
# statuses and a STATE per 1,000 records, fast enough that the checks, not the generator, set the pace.
MEMORY_GENERATOR = '''
import json, sys

count = json.load(open(sys.argv[sys.argv.index("--config") + 1]))["count"]
write = sys.stdout.write
def status(name):
    write(json.dumps({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1.0, "stream_status": {
        "stream_descriptor": {"name": "items"}, "status": name}}}) + "\\n")
def state(position, records):
    write(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"},
        "stream_state": {"position": position}}, "sourceStats": {"recordCount": float(records)}}}) + "\\n")
status("STARTED")
status("RUNNING")
for i in range(count):
    write('{"type":"RECORD","record":{"stream":"items","emitted_at":%d,"data":{"id":%d,"name":"item number %d",'
          '"email":"user%d@example.com","updated_at":"2024-01-%02dT10:%02d:%02d.%06d+00:00","amount":%d.25,'
          '"tags":["red","tag %d"],"address":{"city":"Lyon","zip":%s}}}}\\n'
          % (1700000000000 + i, i, i, i, i % 28 + 1, i % 60, i % 59, i % 999999, i % 1000, i % 7,
             "null" if i % 3 else '"69001"'))
    if (i + 1) % 1000 == 0:
        state(i + 1, 1000)
state(count, count % 1000)
status("COMPLETE")
'''


@dataclass
class MemoryMeasurement:
    records: int
    seconds: float
    peak_rss_bytes: int
    findings: int


def measure_read(script: Path, records: int) -> dict[str, Any]:
    """A read through LocalRunner, every message fed to the basic_read checks: the child's side of
    `memory_in_child`. Expected records are checked too (a few, as a real config would list)."""
    expected = [{"stream": MEMORY_STREAM, "data": _memory_record(i)} for i in (0, 1, 2, records // 2)]
    started = time.perf_counter()
    run = read(LocalRunner([sys.executable, str(script)]), {"count": records}, MEMORY_CATALOG,
               timeout=CHILD_TIMEOUT_SECONDS)
    if not run.succeeded or run.messages.counts["RECORD"] != records:
        raise BenchError(run.describe_failure())
    checks = OursPath(MEMORY_CATALOG, all_checks=True, expected=expected)
    for message in run.messages:
        checks.feed(message)
    findings = checks.findings()
    run.messages.close()
    return {"records": records, "seconds": time.perf_counter() - started, "peak_rss_bytes": peak_rss_bytes(),
            "findings": len(findings)}


def _memory_record(i: int) -> dict[str, Any]:
    """Record `i` as MEMORY_GENERATOR prints it."""
    return {"id": i, "name": f"item number {i}", "email": f"user{i}@example.com",
            "updated_at": f"2024-01-{i % 28 + 1:02d}T10:{i % 60:02d}:{i % 59:02d}.{i % 999999:06d}+00:00",
            "amount": i % 1000 + 0.25, "tags": ["red", f"tag {i % 7}"],
            "address": {"city": "Lyon", "zip": None if i % 3 else "69001"}}


def memory_in_child(work_dir: Path, records: int) -> MemoryMeasurement:
    script = work_dir / "memory_generator.py"
    script.write_text(MEMORY_GENERATOR)
    code = ("import json, sys; from pathlib import Path; from tasks.bench.memory import measure_read; "
            "print(json.dumps(measure_read(Path(sys.argv[1]), int(sys.argv[2]))))")
    raw = child_json([sys.executable, "-c", code, str(script), str(records)])
    return MemoryMeasurement(raw["records"], raw["seconds"], raw["peak_rss_bytes"], raw["findings"])
