"""test_strictness_level: high requires every mandatory suite to be configured or bypassed (reference §1.7).

One test per mandatory suite, so a missing suite is reported once, by name, even before its tests exist."""

from __future__ import annotations

import pytest

from acceptance import registry
from acceptance.config.strictness import strictness
from acceptance.context import AcceptanceContext

MANDATORY = [pytest.param(s.name, id=s.name, marks=pytest.mark.acceptance_suite(s.name))
             for s in registry.SUITES if s.mandatory_at_high]


@pytest.mark.parametrize("suite_name", MANDATORY)
def test_suite_is_configured(suite_name: str, acceptance: AcceptanceContext) -> None:
    if strictness(acceptance.loaded) != "high":
        pytest.skip("mandatory suites are only enforced at test_strictness_level high")
    generic = acceptance.loaded.suite(suite_name)
    if generic is None:
        pytest.fail(f"`acceptance_tests.{suite_name}` is not configured, but test_strictness_level high "
                    "requires it: add its `tests`, or a `bypass_reason` saying why it cannot run", pytrace=False)
    if generic.is_bypassed:
        pytest.skip(f"Bypassed: {generic.bypass_reason}")
