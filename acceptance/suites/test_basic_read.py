"""Suite `basic_read`: one full read of the configured streams, every record checked as it streams (reference §2.4).

The read runs once per `tests` entry; its output feeds every check as the connector writes it (no pass over the
spool afterwards), and each test below reports one check, so a failure names exactly what is wrong."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from acceptance.checks import basic_read as basic_read_checks
from acceptance.checks import record_schema
from acceptance.checks.expected_records import ExpectedRecordsMatcher, expected_streams_coverage, load_expected_records
from acceptance.checks.file_types import FileTypesTracker, check_file_types_present
from acceptance.checks.secret_leaks import SecretLeakFinder
from acceptance.config.models import ignored_field_paths
from acceptance.config.strictness import strictness
from acceptance.context import AcceptanceContext, Deadline
from acceptance.errors import InputFileError
from acceptance.findings import Finding
from acceptance.protocol import catalog as catalogs
from acceptance.protocol.messages import record_stream
from acceptance.runner.base import RunResult
from acceptance.runner.spool import watching
from acceptance.suites.conftest import assert_strictness
from acceptance.suites.support import assert_no_findings, fail_run


@dataclass
class BasicRead:
    run: RunResult
    catalog: dict[str, Any]
    record_counts: Counter[str] = field(default_factory=Counter)
    states: list[dict[str, Any]] = field(default_factory=list)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    expected: list[dict[str, Any]] | None = None
    file_types: FileTypesTracker | None = None


def empty_stream_names(inputs: Any) -> list[str]:
    return [entry.name for entry in inputs.empty_streams or []]


def validates_stream_statuses(acceptance: AcceptanceContext, inputs: Any) -> bool:
    """Explicit setting, else on for certified connectors (upstream: metadata `ab_internal.ql` >= 400)."""
    if inputs.validate_stream_statuses is not None:
        return bool(inputs.validate_stream_statuses)
    metadata = acceptance.metadata
    return metadata is not None and metadata.certified


def checks_file_types(acceptance: AcceptanceContext, inputs: Any) -> bool:
    """Only certified file-based connectors (metadata `connectorSubtype: file`), unless `file_types.skip_test`."""
    metadata = acceptance.metadata
    return (metadata is not None and metadata.certified and metadata.data.connectorSubtype == "file"
            and not inputs.file_types.skip_test)


def load_expected(acceptance: AcceptanceContext, inputs: Any) -> list[dict[str, Any]]:
    relative = inputs.expect_records.path
    path = acceptance.loaded.resolve(relative)
    key = f"{inputs.location}.expect_records.path"
    try:
        with open(path, encoding="utf-8") as handle:
            return load_expected_records(handle, str(path))
    except FileNotFoundError:
        raise InputFileError(path, "file not found", key) from None
    except ValueError as error:
        raise InputFileError(path, str(error), key) from None


class BasicReadFeed:
    """Every check of one read, fed message by message: while the connector writes (its output watched as it is
    spooled), or in one pass over the spool afterwards."""

    def __init__(self, acceptance: AcceptanceContext, inputs: Any, catalog: dict[str, Any]) -> None:
        schemas, keys = catalogs.schemas(catalog), catalogs.primary_keys(catalog)
        self.catalog = catalog
        self.record_counts: Counter[str] = Counter()
        self.states: list[dict[str, Any]] = []
        self.expected: list[dict[str, Any]] | None = None
        self.file_types = FileTypesTracker() if checks_file_types(acceptance, inputs) else None
        self.feeders: dict[str, Any] = {}
        if inputs.validate_schema:
            self.feeders["schema"] = record_schema.RecordSchemaValidator(
                schemas, fail_on_extra_columns=inputs.fail_on_extra_columns)
        if inputs.validate_primary_keys_data_type:
            self.feeders["primary_keys"] = basic_read_checks.PrimaryKeyValueChecker(keys)
        if inputs.validate_data_points:
            self.feeders["data_points"] = basic_read_checks.DataPointsTracker(schemas)
        if validates_stream_statuses(acceptance, inputs):
            streams = [(s["stream"].get("namespace"), s["stream"]["name"]) for s in catalog["streams"]]
            self.feeders["stream_statuses"] = basic_read_checks.StreamStatusTracker(streams)
        if inputs.expect_records is not None and inputs.expect_records.path:
            self.expected = load_expected(acceptance, inputs)
            flags = inputs.expect_records
            self.feeders["expected_records"] = ExpectedRecordsMatcher(
                self.expected, keys, exact_order=flags.exact_order, extra_fields=flags.extra_fields,
                extra_records=flags.extra_records, ignored_fields=ignored_field_paths(inputs),
                configured_streams=catalogs.stream_names(catalog),
            )
        self.secrets = self.feeders["secrets"] = SecretLeakFinder(acceptance.masker.secrets)
        self.consumers = [*self.feeders.values(), *([self.file_types] if self.file_types else [])]

    def feed(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "RECORD":
            self.record_counts[record_stream(message)] += 1
        elif kind == "STATE":
            self.states.append(message.get("state") or {})
        for consumer in self.consumers:
            consumer.feed(message)

    def finish(self, run: RunResult) -> BasicRead:
        self.secrets.feed_stderr(run.stderr_tail)
        return BasicRead(run, self.catalog, self.record_counts, self.states,
                         {name: feeder.findings() for name, feeder in self.feeders.items()}, self.expected,
                         self.file_types)


def read_and_check(acceptance: AcceptanceContext, inputs: Any, config: Any, catalog: dict[str, Any],
                   timeout: float) -> BasicRead:
    feed = BasicReadFeed(acceptance, inputs, catalog)
    with watching(feed.feed) as watcher:
        run = acceptance.read_run(config, catalog, timeout)
    if watcher.spool is not run.messages:  # the output was not seen as it came: one pass over it now
        feed = BasicReadFeed(acceptance, inputs, catalog)
        for message in run.messages:
            feed.feed(message)
    return feed.finish(run)


@pytest.fixture
def basic_read(acceptance: AcceptanceContext, inputs: Any, connector_config: Any,
               discovered_catalog: dict[str, Any], deadline: Deadline) -> BasicRead:
    """The entry's read, once per session; a failed read fails every test that needs it."""
    catalog = acceptance.basic_read_catalog(inputs, discovered_catalog)
    outcome = acceptance.memo("basic_read", {"entry": inputs.location, "catalog": catalog, "config": connector_config},
                              lambda: read_and_check(acceptance, inputs, connector_config, catalog,
                                                     deadline.remaining()))
    if not outcome.run.succeeded:
        fail_run(outcome.run, "`read` failed", acceptance.masker)
    return outcome


def assert_check(outcome: BasicRead, name: str, acceptance: AcceptanceContext, title: str) -> None:
    assert_no_findings(outcome.findings[name], acceptance.masker, title)


@pytest.mark.usefixtures("inputs")
class TestBasicRead:
    def test_read(self, basic_read: BasicRead, acceptance: AcceptanceContext) -> None:
        """The read succeeds and produces at least one record."""
        assert_no_findings(basic_read_checks.check_records_exist(basic_read.record_counts), acceptance.masker,
                           "at least one record should be read using the configured catalog")

    def test_streams_have_records(self, basic_read: BasicRead, inputs: Any, acceptance: AcceptanceContext) -> None:
        findings = basic_read_checks.check_streams_have_records(
            catalogs.stream_names(basic_read.catalog), basic_read.record_counts, empty_stream_names(inputs)
        )
        assert_no_findings(findings, acceptance.masker, "every configured stream must have records")

    def test_records_match_schema(self, basic_read: BasicRead, inputs: Any, acceptance: AcceptanceContext) -> None:
        if not inputs.validate_schema:
            pytest.skip("validate_schema is false")
        assert_check(basic_read, "schema", acceptance, "records must match their stream's JSON schema")

    def test_primary_key_values(self, basic_read: BasicRead, inputs: Any, acceptance: AcceptanceContext) -> None:
        if not inputs.validate_primary_keys_data_type:
            pytest.skip("validate_primary_keys_data_type is false")
        assert_check(basic_read, "primary_keys", acceptance, "primary key values must be scalars, not all null")

    def test_all_fields_have_data(self, basic_read: BasicRead, inputs: Any, acceptance: AcceptanceContext) -> None:
        if not inputs.validate_data_points:
            pytest.skip("validate_data_points is false")
        assert_check(basic_read, "data_points", acceptance, "every schema field must have a value in some record")

    def test_expected_records(self, basic_read: BasicRead, inputs: Any, acceptance: AcceptanceContext) -> None:
        expect = inputs.expect_records
        if expect is None:
            pytest.skip("expect_records is not configured")
        if not expect.path:
            pytest.skip(f"Bypassed: {expect.bypass_reason}")
        findings = list(basic_read.findings["expected_records"])
        if strictness(acceptance.loaded) == "high":
            findings += expected_streams_coverage(basic_read.expected or [], catalogs.stream_names(basic_read.catalog),
                                                  empty_stream_names(inputs))
        assert_no_findings(findings, acceptance.masker, f"records must match {expect.path}")

    def test_stream_statuses(self, basic_read: BasicRead, acceptance: AcceptanceContext, inputs: Any) -> None:
        if "stream_statuses" not in basic_read.findings:
            pytest.skip("validate_stream_statuses is off (default: on for certified connectors)")
        assert_check(basic_read, "stream_statuses", acceptance, "each stream must go STARTED, RUNNING…, COMPLETE")

    def test_state_messages(self, basic_read: BasicRead, inputs: Any, acceptance: AcceptanceContext) -> None:
        if not inputs.validate_state_messages:
            pytest.skip("validate_state_messages is false")
        findings = basic_read_checks.check_state_messages(basic_read.states, len(basic_read.catalog["streams"]))
        assert_no_findings(findings, acceptance.masker, "state messages must be per stream with sourceStats")

    def test_secret_never_in_the_output(self, basic_read: BasicRead, acceptance: AcceptanceContext) -> None:
        """No secret of the config (as is, JSON-escaped, URL-encoded, base64) in records, logs, traces, states or
        stderr; the finding says where, never the value."""
        assert_check(basic_read, "secrets", acceptance, "the connector's output must not contain the config's secrets")

    def test_airbyte_trace_message_on_failure(self, inputs: Any, connector_config: Any,
                                              acceptance: AcceptanceContext, deadline: Deadline) -> None:
        if not inputs.expect_trace_message_on_failure:
            pytest.skip("expect_trace_message_on_failure is false")
        run = acceptance.read_run(connector_config, catalogs.invalid_catalog_for_trace_test(), deadline.remaining())
        findings = basic_read_checks.check_error_trace_emitted(run.messages)
        if findings:
            detail = "\n" + run.describe_failure() if not run.succeeded else ""
            assert_no_findings(findings, acceptance.masker,
                               f"a read with an invalid catalog must emit an error TRACE message{detail}")

    def test_all_supported_file_types_present(self, basic_read: BasicRead, inputs: Any,
                                              acceptance: AcceptanceContext) -> None:
        if inputs.file_types.skip_test:
            pytest.skip(f"Bypassed: {inputs.file_types.bypass_reason or 'file_types.skip_test is true'}")
        if basic_read.file_types is None:
            pytest.skip("only for certified file-based connectors (metadata connectorSubtype: file)")
        unsupported = [entry.extension for entry in inputs.file_types.unsupported_types or []]
        assert_no_findings(check_file_types_present(basic_read.file_types.extensions, unsupported), acceptance.masker,
                           "a file-based connector must read every file type it supports")

    def test_config_meets_strictness(self, inputs: Any, acceptance: AcceptanceContext) -> None:
        assert_strictness(acceptance, "basic_read", inputs)
