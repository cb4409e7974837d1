"""Fixtures shared by the suites. Every connector run goes through the context, so it is cached and masked."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance import catalog as catalogs
from acceptance.config import high_strictness_problems
from acceptance.context import AcceptanceContext, Deadline
from acceptance.errors import InputFileError
from acceptance.plugin import strictness
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


@pytest.fixture
def configured_catalog(
    acceptance: AcceptanceContext, inputs: Any, discovered_catalog: dict[str, Any]
) -> dict[str, Any]:
    """The entry's configured catalog file with discovered schemas, or every discovered stream (reference §7)."""
    return catalog_for(acceptance, inputs, discovered_catalog, from_file=bool(inputs.configured_catalog_path))


def catalog_for(acceptance: AcceptanceContext, inputs: Any, discovered: dict[str, Any], *, from_file: bool,
                exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    if not from_file:
        return catalogs.configured_from_discovered(discovered, exclude=exclude)
    key = f"{inputs.location}.configured_catalog_path"
    loaded = acceptance.load_json(inputs.configured_catalog_path, key)
    problems = catalogs.configured_catalog_problems(loaded)
    if problems:
        raise InputFileError(acceptance.loaded.resolve(inputs.configured_catalog_path),
                             "not a valid ConfiguredAirbyteCatalog: " + "; ".join(problems[:5]), key)
    try:
        return catalogs.configured_from_file(loaded, discovered)
    except catalogs.CatalogError as error:
        raise InputFileError(acceptance.loaded.resolve(inputs.configured_catalog_path), str(error), key) from None


def assert_strictness(acceptance: AcceptanceContext, suite: str, inputs: Any) -> None:
    """The entry meets what test_strictness_level high demands of it (reference §1.7)."""
    problems = high_strictness_problems(acceptance.loaded, suite, inputs)
    if problems:
        pytest.fail("test_strictness_level high requires:\n" + "\n".join(f"- {p}" for p in problems), pytrace=False)
    if strictness(acceptance.loaded) != "high":
        pytest.skip("strictness rules are only enforced at test_strictness_level high")
