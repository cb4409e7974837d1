"""Suite `discovery`: `discover` emits one valid catalog whose stream schemas are sound (reference §2.3)."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance.checks import discovery as checks
from acceptance.compat.verdicts import compare_catalogs
from acceptance.context import AcceptanceContext, Deadline
from acceptance.protocol.messages import catalog_problems
from acceptance.runner.base import RunResult
from acceptance.suites.backward_support import assert_backward_compatible, previous_release_or_skip
from acceptance.suites.support import assert_no_findings, fail_run, protocol_findings

# The primary-key type rule has its own test: it can be switched off per entry.
CATALOG_RULES = tuple(c for c in checks.DISCOVERY_CHECKS if c is not checks.check_primary_keys_data_type)


@pytest.mark.usefixtures("inputs")
class TestDiscovery:
    def test_discover(self, discover_run: RunResult, acceptance: AcceptanceContext) -> None:
        """`discover` succeeds and emits exactly one CATALOG message that follows the protocol's AirbyteCatalog."""
        if not discover_run.succeeded:
            fail_run(discover_run, "`discover` failed", acceptance.masker)
        assert_no_findings(checks.check_single_catalog(list(discover_run.messages)), acceptance.masker,
                           "`discover` output is invalid")
        catalog = discover_run.of_type("CATALOG")[0]["catalog"]
        assert_no_findings(protocol_findings("AirbyteCatalog", catalog_problems(catalog)), acceptance.masker,
                           "the CATALOG message does not follow the Airbyte protocol")

    @pytest.mark.parametrize("check", CATALOG_RULES, ids=lambda c: c.__name__.removeprefix("check_"))
    def test_catalog_rule(self, check: Any, discovered_catalog: dict[str, Any], acceptance: AcceptanceContext) -> None:
        """One rule of the discovered stream schemas (valid JSON schema, cursors, keys, refs, sync modes…)."""
        assert_no_findings(check(discovered_catalog), acceptance.masker,
                           (check.__doc__ or check.__name__).strip().splitlines()[0])

    def test_primary_keys_data_type(self, inputs: Any, discovered_catalog: dict[str, Any],
                                    acceptance: AcceptanceContext) -> None:
        if not inputs.validate_primary_keys_data_type:
            pytest.skip("validate_primary_keys_data_type is false")
        assert_no_findings(checks.check_primary_keys_data_type(discovered_catalog), acceptance.masker,
                           "primary keys must exist in the schema and not be objects or arrays")

    @pytest.mark.backward_compatibility
    def test_backward_compatibility(self, inputs: Any, acceptance: AcceptanceContext, deadline: Deadline,
                                    request: pytest.FixtureRequest) -> None:
        """The catalog does not break the previous release's users (removed streams or fields, type, cursor,
        primary-key and sync-mode changes), unless the version bump declares it (§3.5)."""
        release = previous_release_or_skip(acceptance, inputs, deadline)
        # Only now the current catalog: a skipped comparison runs nothing.
        connector_config = request.getfixturevalue("connector_config")
        discovered_catalog = request.getfixturevalue("discovered_catalog")
        previous_run = acceptance.previous_discover_run(release, connector_config, deadline.remaining())
        catalogs = previous_run.of_type("CATALOG")
        if not previous_run.succeeded or not catalogs or not isinstance(catalogs[-1].get("catalog"), dict):
            # Upstream too: a config the old version cannot discover with is not the new version's fault.
            pytest.skip(acceptance.masker.mask(f"the previous release ({release.description}) could not discover "
                                               f"with this config: {previous_run.describe_failure()}"))
        assert_backward_compatible(acceptance, release, compare_catalogs(catalogs[-1]["catalog"], discovered_catalog))
