"""The one registry of suites: names, test classes, default timeouts, strictness. Plugin, reports and docs read it."""

from __future__ import annotations

from dataclasses import dataclass

from acceptance.config.strictness import MANDATORY_AT_HIGH


@dataclass(frozen=True)
class Suite:
    name: str  # the key under `acceptance_tests:`
    test_class: str  # the pytest class implementing it
    default_timeout: int  # seconds per test, unless the entry sets `timeout_seconds`
    description: str

    @property
    def mandatory_at_high(self) -> bool:
        """At `test_strictness_level: high` the suite must be configured or bypassed."""
        return self.name in MANDATORY_AT_HIGH


# Default timeouts are upstream CAT's (per-class markers), not the older values its docs still print.
SUITES: tuple[Suite, ...] = (
    Suite("spec", "TestSpec", 60, "the SPEC message and the connection specification"),
    Suite("connection", "TestConnection", 60, "`check` with valid and invalid configs"),
    Suite("discovery", "TestDiscovery", 300, "`discover`: the catalog and its stream schemas"),
    Suite("basic_read", "TestBasicRead", 600, "one full read: records, schemas, statuses, states"),
    Suite("full_refresh", "TestFullRefresh", 1200, "two sequential full-refresh reads"),
    Suite("incremental", "TestIncremental", 1200, "incremental reads from state"),
    Suite("connector_attributes", "TestConnectorAttributes", 600, "primary keys, allowed hosts, streams"),
)

BACKWARD_COMPATIBILITY_TIMEOUT = 60


def get(name: str) -> Suite:
    for suite in SUITES:
        if suite.name == name:
            return suite
    raise KeyError(name)


def by_test_class(class_name: str) -> Suite | None:
    return next((s for s in SUITES if s.test_class == class_name), None)


def names() -> list[str]:
    return [s.name for s in SUITES]
