"""Suite `connection`: `check` succeeds with a valid config and fails as configured otherwise (reference §2.2)."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance.checks.connection import check_connection_status
from acceptance.context import AcceptanceContext, Deadline
from acceptance.findings import render_findings


@pytest.mark.usefixtures("inputs")
class TestConnection:
    def test_check(self, inputs: Any, connector_config: Any, acceptance: AcceptanceContext,
                   deadline: Deadline) -> None:
        result = acceptance.check_run(connector_config, deadline.remaining())
        expected = str(getattr(inputs.status, "value", inputs.status))
        findings = check_connection_status(list(result.messages), expected)
        if result.timed_out or findings:
            detail = result.describe_failure() if (result.timed_out or result.exit_code != 0) else ""
            message = f"check with {inputs.config_path} (expected: {expected}):\n{render_findings(findings)}"
            pytest.fail(acceptance.masker.mask(f"{message}\n{detail}".rstrip()), pytrace=False)
