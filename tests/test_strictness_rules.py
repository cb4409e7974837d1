"""Every rule of test_strictness_level high (reference §1.7), each with its exact outcome on the fake connector;
and the same configs pass those tests at low strictness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import AcceptanceOutcome

Make = Callable[..., Path]
Runner = Callable[..., AcceptanceOutcome]


def entry(config: dict, suite: str) -> dict:
    return config["acceptance_tests"][suite]["tests"][0]


def empty_stream_without_reason(config: dict) -> None:
    entry(config, "basic_read")["empty_streams"] = [{"name": "products"}]
    entry(config, "basic_read")["expect_records"] = {"bypass_reason": "products is empty in this test"}


def basic_read_ignored_field_without_reason(config: dict) -> None:
    entry(config, "basic_read")["ignored_fields"] = {"users": [{"name": "updated_at"}]}


def full_refresh_ignored_field_without_reason(config: dict) -> None:
    entry(config, "full_refresh")["ignored_fields"] = {"users": [{"name": "updated_at"}]}


def no_expect_records(config: dict) -> None:
    del entry(config, "basic_read")["expect_records"]


def custom_catalog_in_basic_read(config: dict) -> None:
    entry(config, "basic_read")["configured_catalog_path"] = "integration_tests/configured_catalog.json"


def schema_validation_off(config: dict) -> None:
    entry(config, "basic_read")["validate_schema"] = False


def no_future_state(config: dict) -> None:
    del entry(config, "incremental")["future_state"]


def missing_stream_without_reason(config: dict) -> None:
    entry(config, "incremental")["future_state"]["missing_streams"] = [{"name": "users"}]


RULES = {
    # rule id: (config change, suite, failing test, text the failure must contain)
    "empty-streams-need-a-reason": (empty_stream_without_reason, "basic_read", "test_config_meets_strictness",
                                    "empty_streams[0]"),
    "basic-read-ignored-fields-need-a-reason": (basic_read_ignored_field_without_reason, "basic_read",
                                                "test_config_meets_strictness", "ignored_fields"),
    "full-refresh-ignored-fields-need-a-reason": (full_refresh_ignored_field_without_reason, "full_refresh",
                                                  "test_config_meets_strictness", "ignored_fields"),
    "expect-records-required": (no_expect_records, "basic_read", "test_config_meets_strictness", "expect_records"),
    "no-custom-catalog-in-basic-read": (custom_catalog_in_basic_read, "basic_read", "test_config_meets_strictness",
                                        "configured_catalog_path"),
    "schema-validation-required": (schema_validation_off, "basic_read", "test_config_meets_strictness",
                                   "validate_schema"),
    "future-state-required": (no_future_state, "incremental", "test_config_meets_strictness", "future_state"),
    "future-state-test-fails-without-it": (no_future_state, "incremental",
                                           "test_state_with_abnormally_large_values", "future_state_path"),
    "missing-streams-need-a-reason": (missing_stream_without_reason, "incremental", "test_config_meets_strictness",
                                      "missing_streams[0]"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_high_strictness_rule_fails_its_test(rule: str, fake_source: Make, run_acceptance: Runner) -> None:
    change, suite, test, text = RULES[rule]
    folder = fake_source(change=change)
    (folder / "integration_tests" / "configured_catalog.json").write_text('{"streams": []}')
    outcome = run_acceptance(folder, "--suite", suite)
    name = f"{test}[inputs0]"
    assert name in outcome.failed, outcome.outcomes
    assert text in outcome.texts[name] and "Traceback" not in outcome.texts[name]


@pytest.mark.parametrize("rule", sorted(r for r in RULES if RULES[r][2] == "test_config_meets_strictness"))
def test_the_same_config_is_not_enforced_at_low(rule: str, fake_source: Make, run_acceptance: Runner) -> None:
    change, suite, test, _ = RULES[rule]

    def low(config: dict) -> None:
        change(config)
        config["test_strictness_level"] = "low"

    outcome = run_acceptance(fake_source(change=low), "--suite", suite)
    assert f"{test}[inputs0]" in outcome.skipped
    assert "only enforced at test_strictness_level high" in outcome.texts[f"{test}[inputs0]"]


def test_expected_records_must_cover_every_stream_at_high(fake_source: Make, run_acceptance: Runner) -> None:
    folder = fake_source()
    expected = folder / "integration_tests" / "expected_records.jsonl"
    expected.write_text("".join(line + "\n" for line in expected.read_text().splitlines() if '"users"' in line))
    outcome = run_acceptance(folder, "--suite", "basic_read")
    assert outcome.failed == {"test_expected_records[inputs0]"}
    assert "products" in outcome.texts["test_expected_records[inputs0]"]


def test_future_state_must_cover_every_incremental_stream_at_high(fake_source: Make, run_acceptance: Runner) -> None:
    folder = fake_source()
    (folder / "integration_tests" / "abnormal_state.json").write_text("[]")
    outcome = run_acceptance(folder, "--suite", "incremental")
    assert outcome.failed == {"test_state_with_abnormally_large_values[inputs0]"}
    assert "'users'" in outcome.texts["test_state_with_abnormally_large_values[inputs0]"]


def test_a_declared_missing_stream_is_accepted(fake_source: Make, run_acceptance: Runner) -> None:
    def change(config: dict) -> None:
        entry(config, "incremental")["future_state"]["missing_streams"] = [
            {"name": "users", "bypass_reason": "its state cannot be faked"}
        ]

    folder = fake_source(change=change)
    (folder / "integration_tests" / "abnormal_state.json").write_text("[]")
    outcome = run_acceptance(folder, "--suite", "incremental")
    assert "test_config_meets_strictness[inputs0]" in outcome.passed
    # Coverage is satisfied by the declaration; (an empty state then reads everything, which fails on its own.)
    assert "has no state for it" not in outcome.texts.get("test_state_with_abnormally_large_values[inputs0]", "")
