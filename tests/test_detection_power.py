"""Every spec, connection and discovery test passes on the good fake connector and fails on a connector broken in
exactly its way (tests/connectors/fake-source, mutations chosen with FAKE_SOURCE_MUTATION)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import AcceptanceOutcome

ALL = None  # the mutant breaks the output every test of the suite relies on

# mutation -> (suite, tests that must fail: every other test of the suite must pass)
MUTANTS: dict[str, tuple[str, set[str] | None]] = {
    "spec_missing": ("spec", ALL),
    "spec_twice": ("spec", ALL),
    "spec_invalid_schema": ("spec", {"test_spec_is_valid[inputs0]", "test_config_match_spec[inputs0]"}),
    "config_mismatch": ("spec", {"test_config_match_spec[inputs0]"}),
    "spec_changed": ("spec", set()),
    "enum_duplicate": ("spec", {"test_spec_rule[enum_values_unique]"}),
    "oneof_without_const": ("spec", {"test_spec_rule[oneof_usage]"}),
    "secret_unmarked": ("spec", {"test_spec_rule[secrets_marked]"}),
    "type_list_without_null": ("spec", {"test_spec_rule[property_types_not_arrays]"}),
    "object_empty": ("spec", {"test_spec_rule[objects_not_empty]"}),
    "array_items_list": ("spec", {"test_spec_rule[array_items]"}),
    "forbidden_keyword": ("spec", {"test_spec_rule[no_forbidden_keywords]"}),
    "order_duplicate": ("spec", {"test_spec_rule[order_unique]"}),
    "group_nested": ("spec", {"test_spec_rule[group_top_level_only]"}),
    "display_type_invalid": ("spec", {"test_spec_rule[display_type]"}),
    "ref_in_spec": ("spec", {"test_spec_rule[no_refs]"}),
    "oauth_path_missing": ("spec", {"test_spec_rule[oauth_flow_parameters]"}),
    "oauth_not_default": ("spec", {"test_oauth_is_default_method[inputs0]"}),
    "spec_additional_properties_false": ("spec", {"test_spec_rule[additional_properties_true]"}),
    "check_always_fails": ("connection", {"test_check[inputs0]"}),
    "check_always_succeeds": ("connection", {"test_check[inputs1]"}),
    "crash_without_trace": ("connection", {"test_check[inputs2]"}),
    "catalog_missing": ("discovery", ALL),
    "catalog_twice": ("discovery", {"test_discover[inputs0]"}),
    "no_streams": ("discovery", {"test_catalog_rule[catalog_has_streams]"}),
    "duplicate_stream": ("discovery", {"test_catalog_rule[unique_stream_names]"}),
    "invalid_stream_schema": ("discovery", {"test_catalog_rule[streams_have_valid_json_schemas]"}),
    "cursor_not_in_schema": ("discovery", {"test_catalog_rule[cursors_exist_in_schema]"}),
    "ref_in_schema": ("discovery", {"test_catalog_rule[no_refs_in_schemas]"}),
    "allof_in_schema": ("discovery", {"test_catalog_rule[no_all_of]"}),
    "not_in_schema": ("discovery", {"test_catalog_rule[no_not]"}),
    "primary_key_not_in_schema": (
        "discovery", {"test_catalog_rule[primary_keys_exist_in_schema]", "test_primary_keys_data_type[inputs0]"}
    ),
    "primary_key_object": ("discovery", {"test_primary_keys_data_type[inputs0]"}),
    "no_sync_modes": ("discovery", {"test_catalog_rule[streams_have_sync_modes]", "test_discover[inputs0]"}),
    "schema_additional_properties_false": ("discovery", {"test_catalog_rule[additional_properties_true]"}),
}

Runner = Callable[..., AcceptanceOutcome]


@pytest.mark.parametrize("suite", ["spec", "connection", "discovery"])
def test_good_connector_passes_every_test(suite: str, fake_source: Callable[..., Path],
                                          run_acceptance: Runner) -> None:
    outcome = run_acceptance(fake_source(), "--suite", suite)
    assert outcome.failed == set(), outcome.texts
    assert outcome.passed, "nothing ran"
    assert outcome.ret == 0


@pytest.mark.parametrize("mutation", sorted(MUTANTS))
def test_mutant_is_detected_by_exactly_its_check(mutation: str, fake_source: Callable[..., Path],
                                                 run_acceptance: Runner) -> None:
    suite, must_fail = MUTANTS[mutation]
    outcome = run_acceptance(fake_source(mutation), "--suite", suite)
    if must_fail is ALL:
        assert outcome.failed and not outcome.passed, outcome.outcomes
        return
    if suite == "spec":  # any change to the spec also differs from integration_tests/spec.json
        must_fail = must_fail | {"test_match_expected[inputs0]"}
    assert outcome.failed == must_fail, {name: outcome.texts[name][-600:] for name in outcome.failed}
    assert outcome.passed, "the other tests of the suite must still run and pass"
