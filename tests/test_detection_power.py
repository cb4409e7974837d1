"""Every acceptance test passes on the good fake connector and fails on a connector broken in exactly its way
(tests/connectors/fake-source, mutations chosen with FAKE_SOURCE_MUTATION or by editing its metadata.yaml)."""

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
    # basic_read (value mutants run with expect_records bypassed: see READ_MUTANTS_WITHOUT_EXPECTED_RECORDS)
    "no_records": ("basic_read", {"test_read[inputs0]", "test_streams_have_records[inputs0]"}),
    "empty_stream": ("basic_read", {"test_streams_have_records[inputs0]"}),
    "type_violation": ("basic_read", {"test_records_match_schema[inputs0]"}),
    "record_envelope_broken": ("basic_read", {"test_records_match_schema[inputs0]"}),
    "format_violation": ("basic_read", {"test_records_match_schema[inputs0]"}),
    "extra_column": ("basic_read", {"test_records_match_schema[inputs0]"}),
    "primary_key_null": ("basic_read", {"test_primary_key_values[inputs0]"}),
    "data_point_missing": ("basic_read", {"test_all_fields_have_data[inputs0]"}),
    "no_stream_status": ("basic_read", {"test_stream_statuses[inputs0]"}),
    "incomplete_status": ("basic_read", {"test_stream_statuses[inputs0]"}),
    "no_states": ("basic_read", {"test_state_messages[inputs0]"}),
    "legacy_state": ("basic_read", {"test_state_messages[inputs0]"}),
    "crash_without_trace_on_bad_catalog": ("basic_read", {"test_airbyte_trace_message_on_failure[inputs0]"}),
    "record_value_changed": ("basic_read", {"test_expected_records[inputs0]"}),
    "record_missing": ("basic_read", {"test_expected_records[inputs0]"}),
    "secret_in_record": ("basic_read", {"test_secret_never_in_the_output[inputs0]"}),
    "print_secret": ("basic_read", {"test_secret_never_in_the_output[inputs0]"}),
    # full_refresh
    "nondeterministic_values": ("full_refresh", {"test_sequential_reads[inputs0]"}),
    "emitted_at_constant": ("full_refresh", {"test_emitted_at_increases[inputs0]"}),
    # incremental: a connector ignoring its state breaks every promise made about states
    "ignores_state": ("incremental", {"test_two_sequential_reads[inputs0]", "test_read_sequential_slices[inputs0]",
                                      "test_state_with_abnormally_large_values[inputs0]"}),
    "slices_lose_records": ("incremental", {"test_read_sequential_slices[inputs0]"}),
    # connector_attributes
    "no_primary_key": ("connector_attributes", {"test_streams_define_primary_key[inputs0]"}),
}
# These change record values, which expected_records would also (rightly) report: it is bypassed for them so the
# table shows the one check each mutant is aimed at.
READ_MUTANTS_WITHOUT_EXPECTED_RECORDS = {
    "no_records", "empty_stream", "type_violation", "format_violation", "extra_column", "primary_key_null",
    "data_point_missing", "secret_in_record",
}
# Broken metadata.yaml rather than a broken connector: test -> (edit of metadata `data`).
METADATA_MUTANTS: dict[str, Callable[[dict], None]] = {
    "test_certified_connector_has_allowed_hosts[inputs0]": lambda data: data.pop("allowedHosts"),
    "test_certified_connector_has_suggested_streams[inputs0]": lambda data: data.pop("suggestedStreams"),
}

Runner = Callable[..., AcceptanceOutcome]


@pytest.mark.parametrize("suite", ["spec", "connection", "discovery", "basic_read", "full_refresh", "incremental",
                                   "connector_attributes"])
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
    change = bypass_expected_records if mutation in READ_MUTANTS_WITHOUT_EXPECTED_RECORDS else None
    outcome = run_acceptance(fake_source(mutation, change=change), "--suite", suite)
    if must_fail is ALL:
        suite_tests_passed = {n for n in outcome.passed if not n.startswith("test_suite_is_configured")}
        assert outcome.failed and not suite_tests_passed, outcome.outcomes
        return
    if suite == "spec":  # any change to the spec also differs from integration_tests/spec.json
        must_fail = must_fail | {"test_match_expected[inputs0]"}
    assert outcome.failed == must_fail, {name: outcome.texts[name][-600:] for name in outcome.failed}
    assert outcome.passed, "the other tests of the suite must still run and pass"


def bypass_expected_records(config: dict) -> None:
    config["acceptance_tests"]["basic_read"]["tests"][0]["expect_records"] = {"bypass_reason": "value mutant"}


@pytest.mark.parametrize("test_name", sorted(METADATA_MUTANTS))
def test_metadata_mutant_is_detected(test_name: str, fake_source: Callable[..., Path], run_acceptance: Runner) -> None:
    outcome = run_acceptance(fake_source(change_metadata=METADATA_MUTANTS[test_name]), "--suite",
                             "connector_attributes")
    assert outcome.failed == {test_name}, outcome.texts


def certified_file_based(data: dict) -> None:
    data["supportLevel"] = "certified"
    data["connectorSubtype"] = "file"


def test_file_types_pass_when_every_type_is_read(fake_source: Callable[..., Path], run_acceptance: Runner) -> None:
    folder = fake_source("file_based", change_metadata=certified_file_based)
    outcome = run_acceptance(folder, "--suite", "basic_read", "-k", "file_types")
    assert outcome.passed == {"test_all_supported_file_types_present[inputs0]"}, outcome.texts


def test_file_types_fail_when_a_type_is_never_read(fake_source: Callable[..., Path], run_acceptance: Runner) -> None:
    folder = fake_source("file_based,file_based_csv_only", change_metadata=certified_file_based)
    outcome = run_acceptance(folder, "--suite", "basic_read", "-k", "file_types")
    assert outcome.failed == {"test_all_supported_file_types_present[inputs0]"}
    assert ".avro, .jsonl, .parquet" in outcome.texts["test_all_supported_file_types_present[inputs0]"]


def test_file_types_are_not_checked_for_other_connectors(fake_source: Callable[..., Path],
                                                         run_acceptance: Runner) -> None:
    outcome = run_acceptance(fake_source("file_based,file_based_csv_only"), "--suite", "basic_read", "-k", "file_types")
    assert outcome.skipped == {"test_all_supported_file_types_present[inputs0]"}


def test_the_readme_table_lists_every_mutant() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    missing = [mutation for mutation in MUTANTS if f"| `{mutation}` |" not in readme]
    assert missing == [], f"add these mutants to the README's detection-power table: {missing}"
