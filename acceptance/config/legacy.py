"""The legacy `tests:` layout of `acceptance-test-config.yml` (before upstream v0.2.12), rewritten into the current
`acceptance_tests:` one before validation (§1.6 steps 1-4)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from acceptance.config.problems import describe
from acceptance.errors import ConfigError

LEGACY_NOTICE = "legacy `tests:` format, migrated; consider `acceptance_tests:`"


def migrate_legacy(file: Path, raw: dict[Any, Any]) -> dict[Any, Any]:
    """Rewrite the pre-v0.2.12 `tests:` layout into the current one (§1.6 steps 1–4)."""
    legacy_tests = raw["tests"]
    if "acceptance_tests" in raw:
        # Upstream silently dropped `acceptance_tests` in this case; losing half the file deserves an error.
        raise ConfigError(
            file, [("tests", "the legacy `tests:` key cannot be combined with `acceptance_tests:`; keep one")]
        )
    if not isinstance(legacy_tests, dict):
        raise ConfigError(
            file, [("tests", f"expected a mapping of suite name to a list of test entries, {describe(legacy_tests)}")]
        )
    migrated = copy.deepcopy(raw)
    del migrated["tests"]
    suites = {name: {"tests": entries} for name, entries in copy.deepcopy(legacy_tests).items()}
    migrated["acceptance_tests"] = suites

    for entry in _raw_entries(suites, "basic_read"):  # step 2
        if "empty_streams" in entry:
            entry["empty_streams"] = _named(entry["empty_streams"])
    for suite in ("full_refresh", "basic_read"):  # step 3 (basic_read as the historic version did)
        for entry in _raw_entries(suites, suite):
            ignored = entry.get("ignored_fields")
            if isinstance(ignored, dict):
                entry["ignored_fields"] = {stream: _named(paths) for stream, paths in ignored.items()}
    for entry in _raw_entries(suites, "incremental"):  # step 4
        if "future_state_path" in entry:
            path = entry.pop("future_state_path")
            future_state = entry.get("future_state")
            if isinstance(future_state, dict):
                future_state.setdefault("future_state_path", path)
            else:
                entry["future_state"] = {"future_state_path": path}
    return migrated


def _named(items: object) -> object:
    """Legacy lists of plain names/paths -> lists of {name: ...}; anything else is left for validation to judge."""
    if not isinstance(items, list):
        return items
    return [{"name": item} if isinstance(item, str) else item for item in items]


def _raw_entries(suites: dict[Any, Any], name: str) -> Iterator[dict[Any, Any]]:
    entries = suites.get(name, {}).get("tests")
    if isinstance(entries, list):
        yield from (entry for entry in entries if isinstance(entry, dict))
