"""Suite `incremental`: reads resumed from state never go back in time (reference §2.6, §6, with the published
promise: every record of a resumed read has a cursor at or after the state's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from acceptance.checks import future_state, incremental
from acceptance.config.strictness import strictness
from acceptance.context import AcceptanceContext, Deadline
from acceptance.findings import Finding
from acceptance.protocol import catalog as catalogs
from acceptance.protocol.state import StateTracker, next_read_state
from acceptance.runner.base import RunResult
from acceptance.suites.conftest import assert_strictness
from acceptance.suites.support import assert_no_findings, fail_run


@pytest.fixture
def incremental_catalog(configured_catalog: dict[str, Any], acceptance: AcceptanceContext) -> dict[str, Any]:
    catalog = catalogs.only_supporting(configured_catalog, catalogs.INCREMENTAL)
    if not catalog["streams"]:
        pytest.skip("no configured stream supports incremental sync")
    assert_no_findings(incremental.check_incremental_streams_have_cursor(catalog["streams"]), acceptance.masker,
                       "incremental streams need a cursor")
    return catalog


def read_ok(acceptance: AcceptanceContext, config: Any, catalog: dict[str, Any], deadline: Deadline, what: str,
            state: Any = None) -> RunResult:
    run = acceptance.read_run(config, catalog, deadline.remaining(), state=state)
    if not run.succeeded:
        fail_run(run, f"{what} failed", acceptance.masker)
    return run


def first_read(acceptance: AcceptanceContext, config: Any, catalog: dict[str, Any], deadline: Deadline,
               what: str) -> RunResult:
    """A read from no state: the same config and catalog give the same read, so the tests share one."""
    return acceptance.memo("incremental first read", {"config": config, "catalog": catalog},
                           lambda: read_ok(acceptance, config, catalog, deadline, what))


def cursor_findings(catalog: dict[str, Any], state: Any, run: RunResult) -> list[Finding]:
    checker = incremental.CursorNotBeforeState(catalog["streams"], state)
    for message in run.messages:
        checker.feed(message)
    return checker.findings()


@pytest.mark.usefixtures("inputs")
class TestIncremental:
    def test_two_sequential_reads(self, connector_config: Any, incremental_catalog: dict[str, Any],
                                  acceptance: AcceptanceContext, deadline: Deadline,
                                  between_syncs: Callable[[], None]) -> None:
        """Read 1 emits records and states; read 2, from read 1's last state, emits no record before it."""
        first = first_read(acceptance, connector_config, incremental_catalog, deadline, "the first incremental read")
        tracker = StateTracker().feed_all(first.messages)
        assert_no_findings(incremental.check_first_read_has_records_and_states(first.messages.counts["RECORD"],
                                                                               tracker.count),
                           acceptance.masker, "the first incremental read must emit records and states")
        state = next_read_state(tracker)
        between_syncs()  # the client container's between_syncs_command, when configured (reference §1.8)
        second = read_ok(acceptance, connector_config, incremental_catalog, deadline,
                         "the second incremental read (from the first read's state)", state)
        assert_no_findings(cursor_findings(incremental_catalog, state, second), acceptance.masker,
                           "records read from a state must have a cursor at or after the state's cursor")

    def test_read_sequential_slices(self, inputs: Any, connector_config: Any, incremental_catalog: dict[str, Any],
                                    acceptance: AcceptanceContext, deadline: Deadline) -> None:
        """Resumed from sampled checkpoints of a full read, each read returns the rest of the data, not older."""
        if inputs.skip_comprehensive_incremental_tests:
            pytest.skip("skip_comprehensive_incremental_tests is true")
        findings: list[Finding] = []
        for configured in incremental_catalog["streams"]:
            name = configured["stream"]["name"]
            single = {"streams": [configured]}
            full = first_read(acceptance, connector_config, single, deadline, f"the full read of stream '{name}'")
            checkpoints = incremental.slice_checkpoints(full.messages, name)
            findings += incremental.check_slice_checkpoints_found(checkpoints, name, full.messages.counts["STATE"])
            for checkpoint in incremental.sample_checkpoints(checkpoints):
                resumed = read_ok(acceptance, connector_config, single, deadline,
                                  f"the read of '{name}' resumed from state #{checkpoint.position + 1}",
                                  checkpoint.state_input)
                count = incremental.records_per_stream(resumed.messages)[name]
                findings += incremental.check_slice_read(checkpoint.records_after, count, stream_name=name,
                                                         position=checkpoint.position)
                findings += cursor_findings(single, checkpoint.state_input, resumed)
        assert_no_findings(findings, acceptance.masker, "reads resumed from checkpoints must return the rest")

    def test_state_with_abnormally_large_values(self, inputs: Any, connector_config: Any,
                                                incremental_catalog: dict[str, Any], acceptance: AcceptanceContext,
                                                deadline: Deadline) -> None:
        """From a state far in the future, the connector emits no record and at least one STATE."""
        future = inputs.future_state
        if future is not None and future.bypass_reason:
            pytest.skip(f"Bypassed: {future.bypass_reason}")
        if future is None or not future.future_state_path:
            if strictness(acceptance.loaded) == "high":
                pytest.fail("test_strictness_level high requires future_state.future_state_path (or its "
                            "bypass_reason)", pytrace=False)
            pytest.skip("`future_state` not specified")
        state = acceptance.load_json(future.future_state_path, f"{inputs.location}.future_state.future_state_path")
        run = read_ok(acceptance, connector_config, incremental_catalog, deadline,
                      "the read from the abnormally large state", state)
        per_stream = incremental.records_per_stream(run.messages)
        findings = future_state.check_future_state_read(run.messages.counts["RECORD"], run.messages.counts["STATE"],
                                                        per_stream)
        if strictness(acceptance.loaded) == "high":
            findings += future_state.check_future_state_covers_streams(
                state, catalogs.stream_names(incremental_catalog), [m.name for m in future.missing_streams or []]
            )
        findings += future_state.check_cursor_format_consistency(run.of_type("STATE"), state,
                                                                 incremental_catalog["streams"], future.cursor_format)
        assert_no_findings(findings, acceptance.masker, "a state with abnormally large values must yield no records")

    def test_config_meets_strictness(self, inputs: Any, acceptance: AcceptanceContext) -> None:
        assert_strictness(acceptance, "incremental", inputs)
