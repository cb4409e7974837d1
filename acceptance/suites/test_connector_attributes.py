"""Suite `connector_attributes`: primary keys, allowed hosts and suggested streams (reference §2.7)."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance.checks import attributes as checks
from acceptance.context import AcceptanceContext
from acceptance.suites.support import assert_no_findings


def metadata_data(acceptance: AcceptanceContext) -> dict[str, Any] | None:
    metadata = acceptance.metadata
    return metadata.data.model_dump() if metadata is not None else None


@pytest.mark.usefixtures("inputs")
class TestConnectorAttributes:
    def test_streams_define_primary_key(self, inputs: Any, discovered_catalog: dict[str, Any],
                                        acceptance: AcceptanceContext) -> None:
        allowed = [entry.name for entry in inputs.streams_without_primary_key or []]
        assert_no_findings(checks.check_streams_define_primary_key(discovered_catalog, allowed), acceptance.masker,
                           "every stream must define a primary key, or be listed in streams_without_primary_key")

    def test_certified_connector_has_allowed_hosts(self, inputs: Any, connector_spec: dict[str, Any],
                                                   acceptance: AcceptanceContext) -> None:
        if inputs.allowed_hosts is not None and inputs.allowed_hosts.bypass_reason:
            pytest.skip(f"Bypassed: {inputs.allowed_hosts.bypass_reason}")
        findings = checks.check_allowed_hosts(metadata_data(acceptance), connector_spec.get("connectionSpecification"))
        assert_no_findings(findings, acceptance.masker, "metadata.yaml must declare data.allowedHosts.hosts")

    def test_certified_connector_has_suggested_streams(self, inputs: Any, discovered_catalog: dict[str, Any],
                                                       acceptance: AcceptanceContext) -> None:
        if inputs.suggested_streams is not None and inputs.suggested_streams.bypass_reason:
            pytest.skip(f"Bypassed: {inputs.suggested_streams.bypass_reason}")
        findings = checks.check_suggested_streams(metadata_data(acceptance), discovered_catalog)
        assert_no_findings(findings, acceptance.masker, "metadata.yaml must declare data.suggestedStreams.streams")
