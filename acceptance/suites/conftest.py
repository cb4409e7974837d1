"""Fixtures shared by the suites. Every connector run goes through the context, so it is cached and masked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from acceptance.config.strictness import high_strictness_problems, strictness
from acceptance.context import AcceptanceContext, Deadline
from acceptance.runner.base import RunResult
from acceptance.runner.client_container import ClientContainer, ClientContainers
from acceptance.suites.support import context_key, fail_run, timeout_key


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
    return acceptance.configured_catalog(inputs, discovered_catalog, from_file=bool(inputs.configured_catalog_path))


def assert_strictness(acceptance: AcceptanceContext, suite: str, inputs: Any) -> None:
    """The entry meets what test_strictness_level high demands of it (reference §1.7)."""
    problems = high_strictness_problems(acceptance.loaded, suite, inputs)
    if problems:
        pytest.fail("test_strictness_level high requires:\n" + "\n".join(f"- {p}" for p in problems), pytrace=False)
    if strictness(acceptance.loaded) != "high":
        pytest.skip("strictness rules are only enforced at test_strictness_level high")


# -- the client (setup/teardown) container of `client_container_config` (reference §1.8) ------------------------------



log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def client_containers(acceptance: AcceptanceContext) -> ClientContainers:
    """The session's client containers, one per distinct config: each image is looked up (or built) once."""
    return ClientContainers(acceptance.loaded.base_path, acceptance.masker)


def _entry_of(request: pytest.FixtureRequest) -> Any:
    """The test's `inputs` entry without instantiating the fixture (None for tests without one, or skipped)."""
    callspec = getattr(request.node, "callspec", None)
    if "inputs" not in request.fixturenames or callspec is None:
        return None
    return callspec.params.get("inputs")


def _client_container(request: pytest.FixtureRequest, entry: Any) -> ClientContainer | None:
    config = getattr(entry, "client_container_config", None)
    if config is None:
        return None
    acceptance: AcceptanceContext = request.getfixturevalue("acceptance")
    where = f"{entry.location}.client_container_config"
    if config.secrets_path:  # mask the secrets the client gets as the connector's own would be
        secrets = acceptance.load_json(config.secrets_path, f"{where}.secrets_path")
        acceptance.learn_secrets(secrets, request.node.stash.get(timeout_key, 600.0))
    containers: ClientContainers = request.getfixturevalue("client_containers")
    return containers.get(config, where)


@pytest.fixture(autouse=True)
def client_container_setup(request: pytest.FixtureRequest) -> Iterator[None]:
    """Around each test of an entry with a client_container_config: its setup_command before (then the container's
    integration_tests is copied back to the host), its teardown_command after. Each command gets the test's time
    budget. A failing setup still runs the teardown (to clean up what it started), then fails the test."""
    entry = _entry_of(request)
    container = _client_container(request, entry) if entry is not None else None
    if container is None:
        yield
        return
    timeout = request.node.stash.get(timeout_key, 600.0)
    try:
        container.setup(timeout)
    except Exception:
        try:
            container.teardown(timeout)
        except Exception as error:  # the setup's failure is the one to report
            log.warning("client container teardown after a failed setup also failed: %s", error)
        raise
    yield
    container.teardown(timeout)


@pytest.fixture
def between_syncs(request: pytest.FixtureRequest) -> Callable[[], None]:
    """Runs the entry's between_syncs_command (no-op without one): incremental calls it between its two reads."""
    entry = _entry_of(request)
    container = _client_container(request, entry) if entry is not None else None
    timeout = request.node.stash.get(timeout_key, 600.0)

    def run() -> None:
        if container is not None:
            container.between_syncs(timeout)

    return run


@pytest.fixture(scope="session", autouse=True)
def client_container_final_teardown(request: pytest.FixtureRequest) -> Iterator[None]:
    """`acceptance_tests.client_container_config.final_teardown_command`: run once, when the session ends."""
    context = request.config.stash.get(context_key, None)
    config = context.loaded.config.acceptance_tests.client_container_config if context is not None else None
    if config is None or not config.final_teardown_command:
        yield
        return
    containers: ClientContainers = request.getfixturevalue("client_containers")
    yield
    containers.get(config, "acceptance_tests.client_container_config").final_teardown()
