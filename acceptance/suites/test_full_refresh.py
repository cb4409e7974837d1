"""Suite `full_refresh`: two sequential full-refresh reads agree (reference §2.5, with the published promise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from acceptance.checks.full_refresh import SequentialReadsFeed, check_emitted_at_increases, compare_sequential_reads
from acceptance.config.models import ignored_field_paths
from acceptance.context import AcceptanceContext, Deadline
from acceptance.protocol import catalog as catalogs
from acceptance.runner.base import RunResult
from acceptance.runner.spool import watching
from acceptance.suites.conftest import assert_strictness
from acceptance.suites.support import assert_no_findings, fail_run


@dataclass
class SequentialReads:
    catalog: dict[str, Any]
    first: RunResult
    second: RunResult
    fed: SequentialReadsFeed | None = None  # both reads seen as the connector wrote them; None: read the spools


@pytest.fixture
def sequential_reads(acceptance: AcceptanceContext, inputs: Any, connector_config: Any,
                     configured_catalog: dict[str, Any], deadline: Deadline) -> SequentialReads:
    """Two real reads one after the other (never served from a cache), shared by this entry's tests."""
    catalog = catalogs.only_supporting(configured_catalog, catalogs.FULL_REFRESH)
    if not catalog["streams"]:
        pytest.skip("no configured stream supports full_refresh")

    def read_twice() -> SequentialReads:
        fed = SequentialReadsFeed(ignored_field_paths(inputs))
        with watching(fed.feed_first) as first_watcher:
            first = acceptance.read_run(connector_config, catalog, deadline.remaining())
        if not first.succeeded:
            return SequentialReads(catalog, first, first)
        with watching(fed.feed_second) as second_watcher:
            second = acceptance.read_run(connector_config, catalog, deadline.remaining())
        seen = first_watcher.spool is first.messages and second_watcher.spool is second.messages
        return SequentialReads(catalog, first, second, fed if seen else None)

    reads = acceptance.memo("full_refresh", {"entry": inputs.location, "catalog": catalog, "config": connector_config},
                            read_twice)
    for run, which in ((reads.first, "first"), (reads.second, "second")):
        if not run.succeeded:
            fail_run(run, f"the {which} full-refresh read failed", acceptance.masker)
    return reads


@pytest.mark.usefixtures("inputs")
class TestFullRefresh:
    def test_sequential_reads(self, sequential_reads: SequentialReads, inputs: Any,
                              acceptance: AcceptanceContext) -> None:
        ignored = ignored_field_paths(inputs)
        findings = compare_sequential_reads(
            lambda: sequential_reads.first.messages, lambda: sequential_reads.second.messages,
            catalogs.primary_keys(sequential_reads.catalog), ignored, sequential_reads.fed,
        )
        assert_no_findings(findings, acceptance.masker, "the two sequential reads should produce either equal sets "
                           "of records or the first a strict subset of the second")

    def test_emitted_at_increases(self, sequential_reads: SequentialReads, acceptance: AcceptanceContext) -> None:
        findings = check_emitted_at_increases(lambda: sequential_reads.first.messages,
                                              lambda: sequential_reads.second.messages, sequential_reads.fed)
        assert_no_findings(findings, acceptance.masker, "emitted_at should increase on subsequent runs")

    def test_config_meets_strictness(self, inputs: Any, acceptance: AcceptanceContext) -> None:
        assert_strictness(acceptance, "full_refresh", inputs)
