"""The rules of `test_strictness_level: high` that depend on the config alone (§1.7): the tests that need them
fail; loading never does."""

from __future__ import annotations

from acceptance.config.field_types import has_text
from acceptance.config.loading import LoadedConfig
from acceptance.config.models import (
    SUITE_ENTRY_MODELS,
    SUITE_NAMES,
    BasicReadTestConfig,
    FullRefreshConfig,
    IgnoredFieldConfig,
    IncrementalConfig,
    SuiteEntry,
)
from acceptance.config.problems import render_path


def strictness(loaded: LoadedConfig) -> str:
    """The config's `test_strictness_level` as a word: `low` or `high`."""
    level = loaded.config.test_strictness_level
    return str(getattr(level, "value", level))


# The suites that must be configured (tests or a bypass_reason) at `high` strictness (§1.7 item 1).
MANDATORY_AT_HIGH: tuple[str, ...] = SUITE_NAMES[:6]
_AT_HIGH = "at test_strictness_level high"


def unconfigured_mandatory_suites(loaded: LoadedConfig) -> list[str]:
    """§1.7 item 1: mandatory suites with neither tests nor a bypass_reason ([] unless the level is high)."""
    if not loaded.config.is_high_strictness:
        return []
    return [name for name in MANDATORY_AT_HIGH if loaded.suite(name) is None]


def high_strictness_problems(loaded: LoadedConfig, suite_name: str, entry: SuiteEntry) -> list[str]:
    """Problems that fail `entry` of suite `suite_name` at `high` strictness; [] at `low`.

    Each problem is "<key path>: <what is wrong>". Rules (§1.7; only what the config alone decides — the
    parts that need a file's content, such as "every stream has expected records", belong to the tests):
    - basic_read: every empty_streams entry has a bypass_reason (item 2); every ignored_fields entry has one
      (item 3); expect_records is set, with a path or a bypass_reason (item 4); no configured_catalog_path,
      since the catalog is built from discovery (item 5); validate_schema is true (item 6).
    - full_refresh: every ignored_fields entry has a bypass_reason (item 3).
    - incremental: future_state is set with a future_state_path or a bypass_reason, and every missing_streams
      entry has a bypass_reason (item 7).
    Other suites have no entry-level rule.
    """
    expected_model = SUITE_ENTRY_MODELS.get(suite_name)
    if expected_model is None:
        raise ValueError(f"unknown suite {suite_name!r}; expected one of: {', '.join(SUITE_NAMES)}")
    if not isinstance(entry, expected_model):
        raise TypeError(f"{suite_name} entries are {expected_model.__name__}, got {type(entry).__name__}")
    if not loaded.config.is_high_strictness:
        return []
    where = entry.location or f"acceptance_tests.{suite_name}.tests[?]"
    if isinstance(entry, BasicReadTestConfig):
        return _basic_read_problems(entry, where)
    if isinstance(entry, FullRefreshConfig):
        return _ignored_fields_problems(entry.ignored_fields, where)
    if isinstance(entry, IncrementalConfig):
        return _future_state_problems(entry, where)
    return []


def _basic_read_problems(entry: BasicReadTestConfig, where: str) -> list[str]:
    problems = [
        f"{where}.empty_streams[{index}]: empty stream '{stream.name}' needs a bypass_reason {_AT_HIGH}"
        for index, stream in enumerate(entry.empty_streams)
        if not has_text(stream.bypass_reason)
    ]
    problems += _ignored_fields_problems(entry.ignored_fields, where)
    records = entry.expect_records
    if records is None:
        problems.append(
            f"{where}.expect_records: required {_AT_HIGH}; set expect_records.path "
            "(declare streams without records in empty_streams) or expect_records.bypass_reason"
        )
    elif not records.path and not has_text(records.bypass_reason):
        problems.append(f"{where}.expect_records: set path or a bypass_reason {_AT_HIGH}")
    if entry.configured_catalog_path:
        problems.append(
            f"{where}.configured_catalog_path: not allowed {_AT_HIGH}; the catalog is built from the "
            "discovered catalog minus empty_streams"
        )
    if not entry.validate_schema:
        problems.append(f"{where}.validate_schema: must be true {_AT_HIGH}")
    return problems


def _ignored_fields_problems(ignored: dict[str, list[IgnoredFieldConfig]] | None, where: str) -> list[str]:
    return [
        f"{where}.{render_path(('ignored_fields', stream, index))}: ignored field '{item.name}' "
        f"needs a bypass_reason {_AT_HIGH}"
        for stream, items in (ignored or {}).items()
        for index, item in enumerate(items)
        if not has_text(item.bypass_reason)
    ]


def _future_state_problems(entry: IncrementalConfig, where: str) -> list[str]:
    future_state = entry.future_state
    if future_state is None:
        return [
            f"{where}.future_state: required {_AT_HIGH}; set future_state.future_state_path "
            "or future_state.bypass_reason"
        ]
    problems = []
    if not future_state.future_state_path and not has_text(future_state.bypass_reason):
        problems.append(f"{where}.future_state: set future_state_path or bypass_reason {_AT_HIGH}")
    problems += [
        f"{where}.future_state.missing_streams[{index}]: missing stream '{stream.name}' needs a bypass_reason "
        f"{_AT_HIGH}"
        for index, stream in enumerate(future_state.missing_streams)
        if not has_text(stream.bypass_reason)
    ]
    return problems
