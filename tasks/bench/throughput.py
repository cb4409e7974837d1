"""`nox -s bench`: record validation throughput against an upstream-style baseline, and the memory of a basic_read.

Inputs are generated in the work dir and reused: a recorded `read` of the real source-faker (its discovered streams,
full refresh) and a synthetic wide-schema stream with a few deliberately invalid records. On each file, in the same
run, three paths read the same lines: bare `orjson.loads`; ours (`parse_line` and `RecordSchemaValidator.feed`,
which checks the RECORD envelope and the data, what basic_read does per record); the upstream-style baseline
(each line parsed into the protocol model `AirbyteMessage`, each record through jsonschema's
`Draft7Validator.iter_errors` with a format checker, one validator per stream). The baseline may run on the first
lines only (`--baseline-lines`); ours then runs on the same lines for the ratio and for the invalid-record counts,
which must agree.

Memory: a real read through LocalRunner of a generator script, every basic_read streaming check fed, at two sizes.
Every measurement runs in its own fresh Python process, so its peak RSS (VmHWM) is its own and timings exclude
start-up. Verdicts are printed; the exit status is 1 on a missed target only with `--check`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
from airbyte_protocol.models import AirbyteMessage, Type
from jsonschema import Draft7Validator
from pydantic import ValidationError
from tabulate import tabulate

from acceptance.checks import basic_read as basic_read_checks
from acceptance.checks import record_schema
from acceptance.checks.expected_records import ExpectedRecordsMatcher
from acceptance.checks.secret_leaks import SecretLeakFinder
from acceptance.errors import UserError
from acceptance.protocol import catalog as catalogs
from acceptance.protocol.formats import FORMAT_CHECKER
from acceptance.protocol.messages import NON_PROTOCOL, parse_line, record_stream
from acceptance.runner import LocalRunner
from acceptance.runner.base import discover, read
from acceptance.runner.command import VENV_DIR, BuildRecord, resolve_command
from acceptance.secrets import Masker

REPO = Path(__file__).resolve().parent.parent
FAKER = REPO / "connectors" / "source-faker"
FAKER_CONFIG = {"seed": 42, "records_per_slice": 1000, "parallelism": 1, "always_updated": False}
WIDE_STREAM = "wide"
WIDE_SEED = 42
WIDE_FORMAT_VERSION = 1  # part of the synthetic file's name: bump when the generator changes
INVALID_EVERY = 1000  # one deliberately invalid record per this many synthetic records (0.1%)
MEMORY_STREAM = "items"
# A config secret the secret-leak check looks for in every message (in all its encodings), as it would in a real
# config with an API token; it appears nowhere in the inputs.
BENCH_SECRET = "bench-api-token-7f3c9a51d2"
CHILD_TIMEOUT_SECONDS = 3600
MB = 1024 * 1024
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "connector-acceptance-bench"

DEFAULT_PASSES = 3
DEFAULT_ROUNDS = 2
MIN_SPEEDUP_OVER_BASELINE = 25.0
MIN_SHARE_OF_ORJSON = 0.5
MAX_MEMORY_GROWTH_MB = 30.0
MAX_MEMORY_MB = 150.0

Say = Callable[[str], None]


class BenchError(UserError):
    """The benchmark could not run: bad options, a failed recording, a measurement process that crashed."""


@dataclass(frozen=True)
class Sizes:
    count: int  # source-faker `count` (~2.1 records each)
    wide_records: int
    baseline_lines: int  # 0: the whole file
    memory_small: int
    memory_large: int


DEFAULT_SIZES = Sizes(count=50_000, wide_records=100_000, baseline_lines=20_000, memory_small=10_000,
                      memory_large=1_000_000)
QUICK_SIZES = Sizes(count=100, wide_records=2_000, baseline_lines=1_000, memory_small=1_000, memory_large=5_000)


# --- the three paths over lines of connector output ------------------------------------------------------------


@dataclass
class PathResult:
    """One path over some lines: how many messages, how many of them invalid (a rejected line or a bad record)."""

    messages: int = 0
    invalid: int = 0
    invalid_lines: list[int] = field(default_factory=list)  # 0-based line numbers; only the baseline fills it


def run_orjson(lines: Iterable[bytes]) -> PathResult:
    """The floor: parse each line, nothing else."""
    result = PathResult()
    loads = orjson.loads
    for line in lines:
        loads(line)
        result.messages += 1
    return result


class OursPath:
    """What basic_read does per message: parse_line, then the streaming checks.

    Validation alone feeds only RecordSchemaValidator (RECORD envelope, schema, formats); `all_checks` also feeds
    the other basic_read streaming checks (the secret search with BENCH_SECRET as the config's secret) and
    collects counts and states as the suite does. Lines that are not a
    protocol message are counted as invalid and fed to nothing, as the baseline cannot parse them either.
    """

    def __init__(self, catalog: dict[str, Any], *, all_checks: bool = False,
                 expected: Sequence[dict[str, Any]] = ()) -> None:
        self.catalog = catalog
        schemas, keys = catalogs.schemas(catalog), catalogs.primary_keys(catalog)
        self.validator = record_schema.RecordSchemaValidator(schemas)
        self.others: list[Any] = []
        if all_checks:
            streams = [(s["stream"].get("namespace"), s["stream"]["name"]) for s in catalog["streams"]]
            self.others = [basic_read_checks.PrimaryKeyValueChecker(keys),
                           basic_read_checks.DataPointsTracker(schemas),
                           basic_read_checks.StreamStatusTracker(streams),
                           ExpectedRecordsMatcher(expected, keys, configured_streams=catalogs.stream_names(catalog)),
                           SecretLeakFinder(Masker({BENCH_SECRET}).secrets)]
        self.all_checks = all_checks
        self._check = self._check_every if all_checks else self.validator.feed
        self.messages = self.rejected = 0
        self.record_counts: Counter[str] = Counter()
        self.states: list[Any] = []

    def feed_lines(self, lines: Iterable[bytes]) -> None:
        # No method call or attribute update per message around the checks: the orjson loop has no such
        # scaffolding either (it would be the bench's cost, not the checks').
        check = self._check
        messages = rejected = 0
        for line in lines:
            message = parse_line(line)
            if message is not None:
                messages += 1
                if NON_PROTOCOL in message:
                    rejected += 1
                else:
                    check(message)
        self.messages += messages
        self.rejected += rejected

    def feed(self, message: dict[str, Any]) -> None:
        """One message already parsed, counted and checked as feed_lines does each."""
        self.messages += 1
        if NON_PROTOCOL in message:
            self.rejected += 1
        else:
            self._check(message)

    def _check_every(self, message: dict[str, Any]) -> None:
        self.validator.feed(message)
        kind = message.get("type")
        if kind == "RECORD":
            self.record_counts[record_stream(message)] += 1
        elif kind == "STATE":
            self.states.append(message.get("state") or {})
        for check in self.others:
            check.feed(message)

    def findings(self) -> list[Any]:
        """Every finding basic_read would report about this output."""
        found = self.validator.findings()
        if self.all_checks:
            names = catalogs.stream_names(self.catalog)
            found += basic_read_checks.check_records_exist(self.record_counts)
            found += basic_read_checks.check_streams_have_records(names, self.record_counts, ())
            found += basic_read_checks.check_state_messages(self.states, len(names))
            for check in self.others:
                found += check.findings()
        return found

    def result(self) -> PathResult:
        return PathResult(self.messages, self.rejected + self.validator.invalid_records)


def run_ours(lines: Iterable[bytes], catalog: dict[str, Any], *, all_checks: bool = False) -> PathResult:
    path = OursPath(catalog, all_checks=all_checks)
    path.feed_lines(lines)
    path.findings()  # the end of a read: part of the work
    return path.result()


def run_baseline(lines: Iterable[bytes], catalog: dict[str, Any]) -> PathResult:
    """Upstream-style: every line parsed into `AirbyteMessage` (pydantic), every record's errors collected with a
    Draft-7 validator built once per stream. Same format rules as ours (the comparison is about the machinery);
    undeclared top-level columns are refused by `additionalProperties: false`, as upstream's fail_on_extra_columns."""
    validators = {name: Draft7Validator({**schema, "additionalProperties": False}, format_checker=FORMAT_CHECKER)
                  for name, schema in catalogs.schemas(catalog).items()}
    result = PathResult()
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        result.messages += 1
        try:
            message = AirbyteMessage.model_validate_json(line)
        except ValidationError:
            result.invalid_lines.append(number)
            continue
        if message.type != Type.RECORD:
            continue
        validator = validators.get(message.record.stream)
        if validator is None or list(validator.iter_errors(message.record.data)):
            result.invalid_lines.append(number)
    result.invalid = len(result.invalid_lines)
    return result


PATHS: dict[str, Callable[[Iterable[bytes], dict[str, Any]], PathResult]] = {
    "orjson": lambda lines, _catalog: run_orjson(lines),
    "ours": run_ours,
    "ours_all_checks": lambda lines, catalog: run_ours(lines, catalog, all_checks=True),
    "baseline": run_baseline,
}
PATH_LABELS = {
    "orjson": "bare orjson.loads",
    "ours": "ours: envelope + schema + formats",
    "ours_all_checks": "ours + every basic_read streaming check",
    "baseline": "baseline: AirbyteMessage (pydantic) + Draft7Validator",
}


# --- measurements, each in a fresh process ---------------------------------------------------------------------


@dataclass
class Measurement:
    input: str
    path: str
    lines: str  # "all" or "first N"
    messages: int
    seconds: float
    invalid: int
    peak_rss_bytes: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


def peak_rss_bytes() -> int:
    """This process's peak resident set size (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def measure_path(path: str, data_file: Path, catalog_file: Path, limit: int, passes: int = 1) -> dict[str, Any]:
    """Run one path over the file (its first `limit` lines when > 0) `passes` times, keeping the fastest pass (as
    timeit does: slower passes measure the machine's other work): the child's side of `measure_in_child`."""
    catalog = orjson.loads(catalog_file.read_bytes())
    run = PATHS[path]
    fastest = float("inf")
    for _ in range(max(1, passes)):
        with data_file.open("rb") as handle:
            lines: Iterator[bytes] = itertools.islice(handle, limit) if limit > 0 else iter(handle)
            started = time.perf_counter()
            result = run(lines, catalog)
            fastest = min(fastest, time.perf_counter() - started)
    return {"messages": result.messages, "seconds": fastest, "invalid": result.invalid,
            "peak_rss_bytes": peak_rss_bytes()}


def measure_in_child(label: str, path: str, data_file: Path, catalog_file: Path, limit: int,
                     passes: int = 1) -> Measurement:
    code = ("import json, sys; from pathlib import Path; from tasks.bench.throughput import measure_path; "
            "print(json.dumps(measure_path(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), "
            "int(sys.argv[5]))))")
    raw = _child_json([sys.executable, "-c", code, path, str(data_file), str(catalog_file), str(limit), str(passes)])
    lines = f"first {limit:,}" if limit > 0 else "all"
    return Measurement(label, path, lines, raw["messages"], raw["seconds"], raw["invalid"], raw["peak_rss_bytes"])


def _child_json(argv: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(argv, capture_output=True, env=env, timeout=CHILD_TIMEOUT_SECONDS, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-15:]
        raise BenchError(f"bench: a measurement process failed (exit {done.returncode}):\n" + "\n".join(tail))
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


# --- memory of a whole basic_read --------------------------------------------------------------------------------

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
    code = ("import json, sys; from pathlib import Path; from tasks.bench.throughput import measure_read; "
            "print(json.dumps(measure_read(Path(sys.argv[1]), int(sys.argv[2]))))")
    raw = _child_json([sys.executable, "-c", code, str(script), str(records)])
    return MemoryMeasurement(raw["records"], raw["seconds"], raw["peak_rss_bytes"], raw["findings"])


# --- inputs --------------------------------------------------------------------------------------------------------


@dataclass
class BenchInput:
    name: str
    data_file: Path
    catalog_file: Path
    lines: int
    invalid_lines: list[int] | None = None  # known for the synthetic file

    def injected_invalid(self, limit: int) -> int | None:
        if self.invalid_lines is None:
            return None
        return sum(1 for number in self.invalid_lines if limit <= 0 or number < limit)


def faker_input(work_dir: Path, count: int, say: Say, *, build: bool = True) -> BenchInput | None:
    """source-faker's `read` output for `count`, recorded once per count and faker version; None when its
    virtualenv is missing and `build` is off."""
    record = BuildRecord.read(FAKER / VENV_DIR)
    if record is None:
        if not build:
            return None
        from tasks.builder.virtualenv import build_virtualenv

        record = build_virtualenv(FAKER, say=say)
    stem = f"faker-{record.version}-count{count}-seed{FAKER_CONFIG['seed']}"
    data_file, catalog_file = work_dir / f"{stem}.jsonl", work_dir / f"{stem}.catalog.json"
    if not (data_file.is_file() and catalog_file.is_file()):
        _record_faker(resolve_command(FAKER).argv, {"count": count, **FAKER_CONFIG}, data_file, catalog_file, say)
    else:
        say(f"bench: reusing {data_file}")
    return BenchInput(f"source-faker {record.version} (count {count:,})", data_file, catalog_file,
                      _line_count(data_file))


def _record_faker(argv: list[str], config: dict[str, Any], data_file: Path, catalog_file: Path, say: Say) -> None:
    runner = LocalRunner(argv, cwd=FAKER)
    discovered = discover(runner, config, timeout=300)
    found = discovered.of_type("CATALOG")
    if not discovered.succeeded or not found:
        raise BenchError(discovered.describe_failure())
    catalog = catalogs.configured_from_discovered(found[0]["catalog"], sync_mode=catalogs.FULL_REFRESH)
    inputs = data_file.parent / f"{data_file.stem}.inputs"
    inputs.mkdir(exist_ok=True)
    (inputs / "config.json").write_text(json.dumps(config))
    (inputs / "catalog.json").write_text(json.dumps(catalog))
    say(f"bench: recording `source-faker read` with {json.dumps(config)} (~{config['count'] * 2.1 / 5500:.0f}s)")
    partial = data_file.with_suffix(".partial")
    with partial.open("wb") as out:
        done = subprocess.run(
            [*argv, "read", "--config", str(inputs / "config.json"), "--catalog", str(inputs / "catalog.json")],
            cwd=FAKER, stdout=out, stderr=subprocess.PIPE, timeout=CHILD_TIMEOUT_SECONDS, check=False)
    if done.returncode != 0:
        raise BenchError(f"source-faker read failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}")
    catalog_file.write_text(json.dumps(catalog))
    partial.replace(data_file)  # only a complete recording is ever reused


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


# --- the synthetic wide-schema stream ----------------------------------------------------------------------------

_DATE_TIME = {"type": "string", "format": "date-time"}
_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "string": {"type": "string"},
    "nullable_string": {"type": ["null", "string"]},
    "date_time": _DATE_TIME,
    "date": {"type": "string", "format": "date"},
    "email": {"type": "string", "format": "email"},
    "boolean": {"type": "boolean"},
    "nullable_integer": {"type": ["null", "integer"]},
    "object": {"type": ["null", "object"], "properties": {
        "street": {"type": "string"}, "zip": {"type": ["null", "string"]},
        "geo": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}}}},
    "int_array": {"type": ["null", "array"], "items": {"type": "integer"}},
    "object_array": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string"}, "qty": {"type": "integer"}, "at": _DATE_TIME}}},
}
WIDE_COLUMNS = 100
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo")
_DOMAINS = ("example.com", "mail.example.org", "corp.example.net")
# Each breaks a rule both paths enforce (strict or not about integers): type, format, nesting, arrays, columns,
# the record envelope.
DEFECTS = ("wrong_type", "bad_date_time", "bad_email", "nested_wrong_type", "array_item_wrong_type",
           "undeclared_column", "bad_date", "missing_emitted_at")


def wide_columns() -> list[tuple[str, str]]:
    """(column, kind): `id` then the kinds in turn, 100 columns in all."""
    kinds = list(_KIND_SCHEMAS)
    return [("id", "integer")] + [(f"{kinds[i % len(kinds)]}_{i:02d}", kinds[i % len(kinds)])
                                  for i in range(WIDE_COLUMNS - 1)]


def wide_catalog() -> dict[str, Any]:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": ["id"],
              "properties": {name: _KIND_SCHEMAS[kind] for name, kind in wide_columns()}}
    stream = {"name": WIDE_STREAM, "json_schema": schema, "supported_sync_modes": ["full_refresh"],
              "source_defined_primary_key": [["id"]]}
    return {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "append",
                         "primary_key": [["id"]]}]}


def _date_time(rng: random.Random) -> str:
    zone = rng.choice(("Z", "+00:00", "+02:00", "-05:30"))
    return (f"20{rng.randrange(10, 25)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}"
            f":{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1_000_000):06d}{zone}")


def _value(kind: str, rng: random.Random, index: int) -> Any:
    if kind in ("nullable_string", "nullable_integer", "object", "int_array") and rng.random() < 0.2:
        return None
    if kind in ("integer", "nullable_integer"):
        return rng.randrange(-(10**9), 10**9)
    if kind == "number":
        return round(rng.uniform(-1e6, 1e6), 4)
    if kind in ("string", "nullable_string"):
        return f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {index}"
    if kind == "date_time":
        return _date_time(rng)
    if kind == "date":
        return f"20{rng.randrange(10, 25)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    if kind == "email":
        return f"{rng.choice(_WORDS)}.{index}@{rng.choice(_DOMAINS)}"
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "object":
        return {"street": f"{rng.randrange(1, 200)} {rng.choice(_WORDS)} street",
                "zip": None if rng.random() < 0.3 else f"{rng.randrange(100000):05d}",
                "geo": {"lat": round(rng.uniform(-90, 90), 6), "lon": round(rng.uniform(-180, 180), 6)}}
    if kind == "int_array":
        return [rng.randrange(1000) for _ in range(rng.randrange(6))]
    return [{"sku": f"SKU-{rng.randrange(10**6):06d}", "qty": rng.randrange(1, 10), "at": _date_time(rng)}
            for _ in range(rng.randrange(4))]


def _break(record: dict[str, Any], defect: str, first_of: dict[str, str]) -> None:
    """Make a valid record invalid in the given way."""
    data = record["data"]
    if defect == "wrong_type":
        data[first_of["integer"]] = "12"
    elif defect == "bad_date_time":
        data[first_of["date_time"]] = "2024-02-30T10:00:00Z"
    elif defect == "bad_email":
        data[first_of["email"]] = "no-at-sign.example.com"
    elif defect == "nested_wrong_type":
        data[first_of["object"]] = {"street": "1 main street", "zip": None, "geo": {"lat": "north", "lon": 2.35}}
    elif defect == "array_item_wrong_type":
        data[first_of["int_array"]] = [1, "two", 3]
    elif defect == "undeclared_column":
        data["undeclared_column"] = 1
    elif defect == "bad_date":
        data[first_of["date"]] = "2023-13-01"
    else:
        del record["emitted_at"]


def wide_messages(records: int, *, seed: int = WIDE_SEED, invalid_every: int = INVALID_EVERY
                  ) -> Iterator[tuple[dict[str, Any], bool]]:
    """The synthetic read, message by message with whether it was made invalid: statuses, records with a STATE
    per 1,000, one invalid record per `invalid_every` (the defects in turn). Same arguments, same messages."""
    rng = random.Random(seed)
    columns = wide_columns()
    first_of: dict[str, str] = {}
    for name, kind in columns[1:]:
        first_of.setdefault(kind, name)
    yield _status("STARTED"), False
    yield _status("RUNNING"), False
    broken = 0
    for index in range(records):
        data = {"id": index, **{name: _value(kind, rng, index) for name, kind in columns[1:]}}
        record = {"stream": WIDE_STREAM, "data": data, "emitted_at": 1_700_000_000_000 + index}
        invalid = invalid_every > 0 and index % invalid_every == invalid_every // 2
        if invalid:
            _break(record, DEFECTS[broken % len(DEFECTS)], first_of)
            broken += 1
        yield {"type": "RECORD", "record": record}, invalid
        if (index + 1) % 1000 == 0:
            yield _state(index + 1, 1000), False
    yield _state(records, records % 1000), False
    yield _status("COMPLETE"), False


def _status(status: str) -> dict[str, Any]:
    return {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1.0, "stream_status": {
        "stream_descriptor": {"name": WIDE_STREAM}, "status": status}}}


def _state(position: int, records: int) -> dict[str, Any]:
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": WIDE_STREAM}, "stream_state": {"position": position}},
        "sourceStats": {"recordCount": float(records)}}}


def write_wide_file(path: Path, records: int, *, seed: int = WIDE_SEED, invalid_every: int = INVALID_EVERY
                    ) -> list[int]:
    """Write the synthetic read as JSON lines; return the 0-based line numbers of the invalid records."""
    invalid_lines: list[int] = []
    with path.open("wb") as out:
        for number, (message, invalid) in enumerate(wide_messages(records, seed=seed, invalid_every=invalid_every)):
            out.write(orjson.dumps(message) + b"\n")
            if invalid:
                invalid_lines.append(number)
    return invalid_lines


def wide_input(work_dir: Path, records: int, say: Say) -> BenchInput:
    stem = f"wide-v{WIDE_FORMAT_VERSION}-{records}-seed{WIDE_SEED}"
    data_file, catalog_file = work_dir / f"{stem}.jsonl", work_dir / f"{stem}.catalog.json"
    invalid_file = work_dir / f"{stem}.invalid.json"
    if not (data_file.is_file() and invalid_file.is_file()):
        say(f"bench: generating {records:,} synthetic records with {WIDE_COLUMNS} columns")
        partial = data_file.with_suffix(".partial")
        invalid_lines = write_wide_file(partial, records)
        partial.replace(data_file)
        invalid_file.write_text(json.dumps(invalid_lines))
    else:
        say(f"bench: reusing {data_file}")
    catalog_file.write_text(json.dumps(wide_catalog()))
    return BenchInput(f"synthetic wide ({WIDE_COLUMNS} columns)", data_file, catalog_file, _line_count(data_file),
                      json.loads(invalid_file.read_text()))


# --- the run ----------------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    value: str
    wanted: str
    passed: bool


def bench_input(source: BenchInput, baseline_lines: int, say: Say, passes: int = 1, rounds: int = 1
                ) -> tuple[list[Measurement], list[Target]]:
    """Every path over one file, each the fastest of `passes` passes (the baseline too; orjson and ours over the
    whole file in `rounds` processes each, taking turns): throughput rows, then the ratio targets and the
    invalid-count agreement."""
    limit = baseline_lines if 0 < baseline_lines < source.lines else 0
    _warm_page_cache(source.data_file)
    rows = measure_taking_turns(source, ("orjson", "ours", "ours_all_checks"), say, passes, rounds)
    say(f"bench: {source.name}: {PATH_LABELS['baseline']}" + (f" (first {limit:,} lines)" if limit else ""))
    baseline = measure_in_child(source.name, "baseline", source.data_file, source.catalog_file, limit, passes)
    ours_full, orjson_full = rows[1], rows[0]
    ours_sample = measure_in_child(source.name, "ours", source.data_file, source.catalog_file, limit, passes) \
        if limit else ours_full
    rows += [baseline] + ([ours_sample] if limit else [])
    speedup = ours_sample.rate / baseline.rate
    share = ours_full.rate / orjson_full.rate
    injected = source.injected_invalid(limit)
    agree = ours_sample.invalid == baseline.invalid and injected in (None, ours_sample.invalid)
    lines = "all lines" if not limit else f"first {limit:,} lines"
    targets = [
        Target(f"{source.name}: ours / baseline ({lines})", f"{speedup:.1f}×", f"≥ {MIN_SPEEDUP_OVER_BASELINE:g}×",
               speedup >= MIN_SPEEDUP_OVER_BASELINE),
        Target(f"{source.name}: ours / orjson.loads (all lines)", f"{share:.0%}", f"≥ {MIN_SHARE_OF_ORJSON:.0%}",
               share >= MIN_SHARE_OF_ORJSON),
        Target(f"{source.name}: invalid records agree ({lines})",
               f"ours {ours_sample.invalid}, baseline {baseline.invalid}"
               + (f", injected {injected}" if injected is not None else ""), "equal", agree),
    ]
    return rows, targets


def measure_taking_turns(source: BenchInput, paths: Sequence[str], say: Say, passes: int, rounds: int
                         ) -> list[Measurement]:
    """Each path over the whole file in `rounds` processes of `passes` passes, the paths taking turns; the fastest
    pass of each path counts. A busy spell of the machine then falls on every path alike instead of on whichever
    ran during it, so the ratios between paths move less from run to run. Peak RSS: the highest of its rounds."""
    fastest: dict[str, Measurement] = {}
    for round_number in range(1, rounds + 1):
        for path in paths:
            shown = f" (round {round_number} of {rounds})" if rounds > 1 else ""
            say(f"bench: {source.name}: {PATH_LABELS[path]}{shown}")
            found = measure_in_child(source.name, path, source.data_file, source.catalog_file, 0, passes)
            kept = fastest.get(path)
            if kept is not None:
                peak = max(kept.peak_rss_bytes, found.peak_rss_bytes)
                found = found if found.seconds < kept.seconds else kept
                found = replace(found, peak_rss_bytes=peak)
            fastest[path] = found
    return [fastest[path] for path in paths]


def _warm_page_cache(path: Path) -> None:
    """Read the file once, so the first path measured does not pay for the disk."""
    with path.open("rb") as handle:
        while handle.read(16 * MB):
            pass


def bench_memory(work_dir: Path, sizes: Sizes, say: Say) -> tuple[list[MemoryMeasurement], list[Target]]:
    found = []
    for records in (sizes.memory_small, sizes.memory_large):
        say(f"bench: basic_read of {records:,} records through LocalRunner")
        found.append(memory_in_child(work_dir, records))
    small, large = found
    growth = (large.peak_rss_bytes - small.peak_rss_bytes) / MB
    peak = max(small.peak_rss_bytes, large.peak_rss_bytes) / MB
    clean = all(m.findings == 0 for m in found)
    targets = [
        Target(f"basic_read memory growth, {small.records:,} → {large.records:,} records", f"{growth:+.1f} MB",
               f"< {MAX_MEMORY_GROWTH_MB:g} MB", growth < MAX_MEMORY_GROWTH_MB),
        Target("basic_read peak RSS", f"{peak:.1f} MB", f"< {MAX_MEMORY_MB:g} MB", peak < MAX_MEMORY_MB),
        Target("basic_read of the generated reads finds nothing", f"{sum(m.findings for m in found)} findings",
               "0", clean),
    ]
    return found, targets


def throughput_table(rows: Sequence[Measurement], baselines: dict[str, Measurement]) -> str:
    orjson_rates = {row.input: row.rate for row in rows if row.path == "orjson" and row.lines == "all"}
    table = []
    for row in rows:
        baseline = baselines.get(row.input)
        same_lines = baseline is not None and baseline.lines == row.lines
        versus_baseline = f"{row.rate / baseline.rate:.1f}×" if same_lines and baseline is not None else ""
        orjson_rate = orjson_rates.get(row.input) if row.lines == "all" else None
        versus_orjson = f"{row.rate / orjson_rate:.0%}" if orjson_rate else ""
        table.append([row.input, PATH_LABELS[row.path], row.lines, f"{row.messages:,}", f"{row.rate:,.0f}",
                      versus_baseline, versus_orjson, row.invalid if row.path != "orjson" else "",
                      f"{row.peak_rss_bytes / MB:.0f}"])
    headers = ["input", "path", "lines", "messages", "msg/s", "vs baseline", "vs orjson", "invalid", "peak RSS MB"]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def memory_table(found: Sequence[MemoryMeasurement]) -> str:
    rows = [[f"{m.records:,}", f"{m.seconds:.1f}", f"{m.records / m.seconds:,.0f}", f"{m.peak_rss_bytes / MB:.1f}",
             m.findings] for m in found]
    headers = ["basic_read records", "seconds", "records/s", "peak RSS MB", "findings"]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def targets_table(targets: Sequence[Target]) -> str:
    rows = [["PASS" if t.passed else "FAIL", t.name, t.value, t.wanted] for t in targets]
    return tabulate(rows, headers=["verdict", "target", "measured", "wanted"], tablefmt="github",
                    disable_numparse=True)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__.splitlines()[0],
                                     exit_on_error=False)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests, a smoke run)")
    parser.add_argument("--count", type=int, metavar="N", help=f"source-faker count (default {DEFAULT_SIZES.count:,})")
    parser.add_argument("--records-wide", type=int, metavar="N",
                        help=f"synthetic wide records (default {DEFAULT_SIZES.wide_records:,})")
    parser.add_argument("--baseline-lines", type=int, metavar="N",
                        help=f"lines the baseline reads, 0 for all (default {DEFAULT_SIZES.baseline_lines:,})")
    parser.add_argument("--memory-records", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                        help=f"basic_read sizes (default {DEFAULT_SIZES.memory_small:,} "
                             f"{DEFAULT_SIZES.memory_large:,})")
    parser.add_argument("--no-faker", action="store_true", help="leave out the source-faker recording")
    parser.add_argument("--no-suites", action="store_true",
                        help="leave out the whole-run benchmark (source-faker count 10,000, every suite; ~2 min)")
    parser.add_argument("--work-dir", type=Path, metavar="DIR", default=DEFAULT_WORK_DIR,
                        help="where inputs are generated and reused (default: %(default)s)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="results file (default <work-dir>/bench.json)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--passes", type=int, metavar="N",
                        help=f"passes per path over its file, the fastest counts (default {DEFAULT_PASSES}; "
                             "1 with --quick)")
    parser.add_argument("--rounds", type=int, metavar="N",
                        help=f"processes per path for orjson and ours over the whole file, the paths taking turns "
                             f"(default {DEFAULT_ROUNDS}; 1 with --quick)")
    try:
        args, unknown = parser.parse_known_args(list(argv))
    except argparse.ArgumentError as error:
        raise BenchError(f"nox -s bench: {error}") from None
    if unknown:
        raise BenchError(f"nox -s bench: unknown arguments {' '.join(unknown)} (see nox -s bench -- --help)")
    return args


def sizes_of(args: argparse.Namespace) -> Sizes:
    base = QUICK_SIZES if args.quick else DEFAULT_SIZES
    small, large = args.memory_records or (base.memory_small, base.memory_large)
    return Sizes(
        count=base.count if args.count is None else args.count,
        wide_records=base.wide_records if args.records_wide is None else args.records_wide,
        baseline_lines=base.baseline_lines if args.baseline_lines is None else args.baseline_lines,
        memory_small=small, memory_large=large,
    )


def main(argv: Sequence[str] = (), *, command: str | None = None, say: Say | None = None) -> int:
    """Run the benchmark, print its tables, write the JSON; 1 only with --check and a missed target."""
    args = parse_args(argv)
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    command = command or shlex.join(["nox", "-s", "bench", *(["--", *argv] if argv else [])])
    sizes = sizes_of(args)
    passes = args.passes if args.passes is not None else 1 if args.quick else DEFAULT_PASSES
    rounds = args.rounds if args.rounds is not None else 1 if args.quick else DEFAULT_ROUNDS
    for option, value in (("--passes", passes), ("--rounds", rounds)):
        if value < 1:
            raise BenchError(f"nox -s bench: {option} must be at least 1, not {value}")
    work_dir = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    inputs: list[BenchInput] = []
    if not args.no_faker:
        faker = faker_input(work_dir, sizes.count, say, build=not args.quick)
        if faker is None:
            say("bench: source-faker is not built (nox -s build -- source-faker): its input is left out")
        else:
            inputs.append(faker)
    inputs.append(wide_input(work_dir, sizes.wide_records, say))
    rows: list[Measurement] = []
    targets: list[Target] = []
    baselines: dict[str, Measurement] = {}
    for source in inputs:
        found, met = bench_input(source, sizes.baseline_lines, say, passes, rounds)
        rows += found
        targets += met
        baselines[source.name] = next(row for row in found if row.path == "baseline")
    memory, met = bench_memory(work_dir, sizes, say)
    targets += met
    suites: dict[str, Any] | None = None
    if not (args.quick or args.no_suites):
        from tasks.bench.suites import bench_suites, suites_table, suites_targets

        suites = bench_suites(say=say)
        targets += [Target(*t) for t in suites_targets(suites)]
    seconds = time.monotonic() - started
    print(report_text(command, seconds, rows, baselines, memory, targets,
                      suites_table(suites) if suites else None, passes, rounds))
    json_path = args.json or work_dir / "bench.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    results = results_json(command, seconds, sizes, inputs, rows, memory, targets)
    results["passes"] = passes  # throughput: the fastest of this many passes per path
    results["rounds"] = rounds  # ... in this many processes per path (orjson and ours), taking turns
    results["suites"] = suites
    json_path.write_text(json.dumps(results, indent=2))
    print(f"\nresults: {json_path}")
    return 1 if args.check and not all(t.passed for t in targets) else 0


def report_text(command: str, seconds: float, rows: Sequence[Measurement], baselines: dict[str, Measurement],
                memory: Sequence[MemoryMeasurement], targets: Sequence[Target], suites: str | None = None,
                passes: int = 1, rounds: int = 1) -> str:
    machine = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    turns = f"; orjson and ours in {rounds} processes each, taking turns" if rounds > 1 else ""
    return "\n\n".join([
        f"$ {command}    ({machine}; {seconds:.0f}s; throughput: the fastest of {passes} pass"
        f"{'' if passes == 1 else 'es'} per path{turns})",
        throughput_table(rows, baselines),
        memory_table(memory),
        *([suites] if suites else []),
        targets_table(targets),
    ])


def results_json(command: str, seconds: float, sizes: Sizes, inputs: Sequence[BenchInput],
                 rows: Sequence[Measurement], memory: Sequence[MemoryMeasurement],
                 targets: Sequence[Target]) -> dict[str, Any]:
    return {
        "command": command,
        "seconds": round(seconds, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "sizes": asdict(sizes),
        "inputs": [{"name": s.name, "file": str(s.data_file), "lines": s.lines} for s in inputs],
        "throughput": [{**asdict(row), "messages_per_second": round(row.rate, 1)} for row in rows],
        "memory": [asdict(m) for m in memory],
        "targets": [asdict(t) for t in targets],
        "passed": all(t.passed for t in targets),
    }


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:], command=shlex.join(["python", "-m", "tasks.bench.throughput", *sys.argv[1:]])))
    except BenchError as failure:
        sys.exit(f"{failure}")
