"""The three paths over lines of connector output, measured against each other.

Bare `orjson.loads` (the floor); ours (`parse_line` and `RecordSchemaValidator.feed`, which checks the RECORD envelope
and the data, what basic_read does per record; or every basic_read streaming check); the upstream-style baseline (each
line parsed into the protocol model `AirbyteMessage`, each record through jsonschema's `Draft7Validator.iter_errors`
with a format checker, one validator per stream)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from airbyte_protocol.models import AirbyteMessage, Type
from jsonschema import Draft7Validator
from pydantic import ValidationError

from acceptance.checks import basic_read as basic_read_checks
from acceptance.checks import record_schema
from acceptance.checks.expected_records import ExpectedRecordsMatcher
from acceptance.checks.secret_leaks import SecretLeakFinder
from acceptance.protocol import catalog as catalogs
from acceptance.protocol.formats import FORMAT_CHECKER
from acceptance.protocol.messages import NON_PROTOCOL, parse_line, record_stream
from acceptance.secrets import Masker

# A config secret the secret-leak check looks for in every message (in all its encodings), as it would in a real
# config with an API token; it appears nowhere in the inputs.
BENCH_SECRET = "bench-api-token-7f3c9a51d2"


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
            self.others = [basic_read_checks.PrimaryKeyValueChecker(keys), basic_read_checks.DataPointsTracker(schemas),
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
