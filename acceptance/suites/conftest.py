"""Fixtures shared by the suites. Every connector run goes through the context, so it is cached and masked."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance.context import AcceptanceContext, Deadline
from acceptance.runner.base import RunResult
from acceptance.suites.support import fail_run


@pytest.fixture
def spec_run(acceptance: AcceptanceContext, deadline: Deadline) -> RunResult:
    return acceptance.spec_run(deadline.remaining())


@pytest.fixture
def connector_spec(spec_run: RunResult, acceptance: AcceptanceContext) -> dict[str, Any]:
    """The ConnectorSpecification the connector emits (exactly one SPEC message, or the test fails).

    Conformance to the protocol model is test_spec_is_valid's business: the other rules still run on the dict."""
    specs = spec_run.of_type("SPEC")
    if len(specs) != 1:
        fail_run(spec_run, f"`spec` must emit exactly one SPEC message, it emitted {len(specs)}", acceptance.masker)
    spec = specs[0].get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("connectionSpecification"), dict):
        pytest.fail("the SPEC message has no `spec.connectionSpecification` object", pytrace=False)
    return spec  # type: ignore[return-value]


@pytest.fixture
def connector_config(acceptance: AcceptanceContext, inputs: Any, deadline: Deadline) -> Any:
    return acceptance.load_connector_config(inputs, deadline.remaining())


@pytest.fixture
def discover_run(acceptance: AcceptanceContext, connector_config: Any, deadline: Deadline) -> RunResult:
    return acceptance.discover_run(connector_config, deadline.remaining())


@pytest.fixture
def discovered_catalog(discover_run: RunResult, acceptance: AcceptanceContext) -> dict[str, Any]:
    """The catalog of the last CATALOG message; a failed or catalog-less discover fails the test.

    Conformance to the protocol model is test_discover's business: the rules still run on the dict."""
    catalogs = discover_run.of_type("CATALOG")
    if not catalogs:
        fail_run(discover_run, "`discover` emitted no CATALOG message", acceptance.masker)
    catalog = catalogs[-1].get("catalog")
    if not isinstance(catalog, dict):
        pytest.fail("the CATALOG message has no `catalog` object", pytrace=False)
    return catalog  # type: ignore[return-value]
