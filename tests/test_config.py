"""Tests of `acceptance.config`: models, defaults, legacy migration, notices, errors and strictness rules."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from acceptance.config.legacy import LEGACY_NOTICE
from acceptance.config.loading import LoadedConfig, load_config
from acceptance.config.models import (
    SUITE_NAMES,
    AcceptanceTestConfig,
    BasicReadTestConfig,
    ConnectionTestConfig,
    ConnectorAttributesConfig,
    ConnectorDocumentationConfig,
    DiscoveryTestConfig,
    EmptyStreamConfig,
    ExpectedRecordsConfig,
    FullRefreshConfig,
    IgnoredFieldConfig,
    IncrementalConfig,
    SpecTestConfig,
)
from acceptance.config.strictness import MANDATORY_AT_HIGH, high_strictness_problems, unconfigured_mandatory_suites
from acceptance.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures" / "configs"


def write_config(directory: Path, text: str, name: str = "acceptance-test-config.yml") -> Path:
    """Write a config file (dedented) into `directory` and return the file."""
    file = directory / name
    file.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return file


def suite_config(suite: str, entry: dict[str, Any], **root: Any) -> str:
    """YAML text of a config with one entry in `suite` (plus root keys)."""
    return yaml.safe_dump({**root, "acceptance_tests": {suite: {"tests": [entry]}}})


def config_error(directory: Path, text: str) -> ConfigError:
    """Write `text` as the config and return the ConfigError loading it raises."""
    write_config(directory, text)
    with pytest.raises(ConfigError) as caught:
        load_config(directory)
    return caught.value


def only_problem(error: ConfigError) -> tuple[str, str]:
    """The single (key path, message) of an error expected to report exactly one problem."""
    assert len(error.problems) == 1, error.problems
    return error.problems[0]


# ---------------------------------------------------------------------------------------------------------------
# Constants


def test_suite_names_in_upstream_order_and_mandatory_subset() -> None:
    assert SUITE_NAMES == (
        "spec",
        "connection",
        "discovery",
        "basic_read",
        "full_refresh",
        "incremental",
        "connector_attributes",
        "connector_documentation",
    )
    assert MANDATORY_AT_HIGH == SUITE_NAMES[:6]


# ---------------------------------------------------------------------------------------------------------------
# Minimal config and defaults (§1.5)


def test_minimal_config_loads_with_root_defaults() -> None:
    loaded = load_config(FIXTURES / "minimal")

    assert loaded.file == (FIXTURES / "minimal" / "acceptance-test-config.yml").resolve()
    assert loaded.base_path == (FIXTURES / "minimal").resolve()
    assert loaded.notices == []
    assert loaded.legacy is False
    config = loaded.config
    assert config.connector_image == "airbyte/source-pokeapi:dev"
    assert config.test_strictness_level == "low"
    assert loaded.test_strictness_level == "low"
    assert config.custom_environment_variables == {}
    assert config.cached_discovered_catalog is True
    assert config.base_path is None


def test_minimal_config_suites_and_entry_defaults() -> None:
    loaded = load_config(FIXTURES / "minimal")

    spec = loaded.entries("spec")[0]
    assert isinstance(spec, SpecTestConfig)
    assert spec.spec_path == "source_pokeapi/spec.json"
    assert spec.config_path == "secrets/config.json"
    assert spec.backward_compatibility_tests_config.previous_connector_version == "latest"

    connection = loaded.entries("connection")[0]
    assert connection.status == "succeed"

    incremental = loaded.suite("incremental")
    assert incremental is not None and incremental.is_bypassed
    assert incremental.tests is None and loaded.entries("incremental") == []
    assert loaded.suite("connector_attributes") is None
    assert loaded.entries("connector_documentation") == []


def test_unknown_suite_name_is_a_programming_error() -> None:
    loaded = load_config(FIXTURES / "minimal")
    with pytest.raises(ValueError, match="unknown suite 'basic_reads'"):
        loaded.suite("basic_reads")


def test_connector_image_is_optional() -> None:
    config = AcceptanceTestConfig.model_validate({"acceptance_tests": {"spec": {"tests": [{}]}}})
    assert config.connector_image is None


def test_shared_entry_defaults() -> None:
    for model in (
        SpecTestConfig,
        ConnectionTestConfig,
        DiscoveryTestConfig,
        BasicReadTestConfig,
        FullRefreshConfig,
        IncrementalConfig,
        ConnectorAttributesConfig,
        ConnectorDocumentationConfig,
    ):
        entry = model()
        assert entry.config_path == "secrets/config.json", model
        assert entry.timeout_seconds is None, model
        assert entry.location == "", model
    assert SpecTestConfig().spec_path == "secrets/spec.json"
    for model in (BasicReadTestConfig, FullRefreshConfig, IncrementalConfig):
        assert model().configured_catalog_path is None
        assert model().deployment_mode is None
        assert model().client_container_config is None


def test_spec_connection_discovery_defaults() -> None:
    spec = SpecTestConfig()
    assert spec.backward_compatibility_tests_config.previous_connector_version == "latest"
    assert spec.backward_compatibility_tests_config.disable_for_version is None
    assert spec.auth_default_method is None
    assert ConnectionTestConfig().status == "succeed"
    assert DiscoveryTestConfig().validate_primary_keys_data_type is True


def test_basic_read_defaults() -> None:
    entry = BasicReadTestConfig()
    assert entry.empty_streams == []
    assert entry.expect_records is None
    assert entry.validate_schema is True
    assert entry.validate_stream_statuses is None  # tri-state: decided by certification later
    assert entry.validate_state_messages is True
    assert entry.validate_primary_keys_data_type is True
    assert entry.fail_on_extra_columns is True
    assert entry.validate_data_points is False
    assert entry.expect_trace_message_on_failure is True
    assert entry.file_types.skip_test is False
    assert entry.file_types.unsupported_types is None
    assert entry.file_types.bypass_reason is None
    assert entry.ignored_fields is None


def test_incremental_and_attributes_defaults() -> None:
    incremental = IncrementalConfig()
    assert incremental.future_state is None
    assert incremental.skip_comprehensive_incremental_tests is False
    future_state = IncrementalConfig.model_validate({"future_state": {"future_state_path": "s.json"}}).future_state
    assert future_state is not None
    assert future_state.missing_streams == []
    assert future_state.bypass_reason is None
    assert future_state.cursor_format.format is None
    assert future_state.cursor_format.streams == []
    attributes = ConnectorAttributesConfig()
    assert attributes.streams_without_primary_key is None
    assert attributes.allowed_hosts is None and attributes.suggested_streams is None


def test_expect_records_defaults(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
        acceptance_tests:
          basic_read:
            tests:
              - expect_records:
                  path: integration_tests/expected_records.jsonl
        """,
    )
    records = load_config(tmp_path).entries("basic_read")[0].expect_records
    assert (records.exact_order, records.extra_fields, records.extra_records) == (False, False, True)
    assert records.bypass_reason is None


def test_null_values_mean_defaults(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
        test_strictness_level:
        custom_environment_variables:
        acceptance_tests:
          spec:
            tests:
              - backward_compatibility_tests_config:
          basic_read:
            tests:
              - empty_streams:
                file_types:
          full_refresh:
        """,
    )
    loaded = load_config(tmp_path)
    assert loaded.config.test_strictness_level == "low"
    assert loaded.config.custom_environment_variables == {}
    assert loaded.entries("spec")[0].backward_compatibility_tests_config.previous_connector_version == "latest"
    assert loaded.entries("basic_read")[0].empty_streams == []
    assert loaded.entries("basic_read")[0].file_types.skip_test is False
    assert loaded.suite("full_refresh") is None  # `full_refresh:` with nothing = not configured


def test_empty_tests_list_is_valid(tmp_path: Path) -> None:
    # Upstream parametrises over an empty list: the suite's tests are reported as skipped, not failed.
    write_config(tmp_path, "acceptance_tests:\n  discovery:\n    tests: []\n")
    suite = load_config(tmp_path).suite("discovery")
    assert suite is not None and suite.tests == [] and not suite.is_bypassed


# ---------------------------------------------------------------------------------------------------------------
# The large config: every optional block


@pytest.fixture(scope="module")
def full() -> LoadedConfig:
    return load_config(FIXTURES / "full")


def test_full_config_root(full: LoadedConfig) -> None:
    config = full.config
    assert config.connector_image == "airbyte/source-shopfront:dev"
    assert config.test_strictness_level == "high" and config.is_high_strictness
    assert config.cached_discovered_catalog is False
    assert config.base_path == "."
    assert full.base_path == (FIXTURES / "full").resolve()
    assert full.notices == []
    teardown = config.acceptance_tests.client_container_config
    assert teardown is not None
    assert teardown.final_teardown_command == [
        "python",
        "/connector/integration_tests/client_container/teardown.py",
        "--all",
    ]
    assert teardown.setup_command is None


def test_full_config_environment_variables_are_stringified(full: LoadedConfig) -> None:
    assert full.config.custom_environment_variables == {
        "SHOPFRONT_REGION": "eu",
        "SHOPFRONT_PAGE_SIZE": "250",
        "SHOPFRONT_DEBUG": "true",
        "SHOPFRONT_RATE_LIMIT": "1.5",
    }


def test_full_config_spec(full: LoadedConfig) -> None:
    first, second = full.entries("spec")
    assert first.spec_path == "source_shopfront/spec.yaml"
    assert first.timeout_seconds == 60
    assert first.deployment_mode == "oss"
    assert first.backward_compatibility_tests_config.previous_connector_version == "2.3.1"
    assert first.backward_compatibility_tests_config.disable_for_version == "3.0.0"
    assert first.auth_default_method is not None
    assert first.auth_default_method.oauth is False
    assert first.auth_default_method.bypass_reason.startswith("Private-app API keys")
    assert second.deployment_mode == "cloud"
    assert second.backward_compatibility_tests_config.previous_connector_version == "latest"
    assert second.auth_default_method.oauth is True


def test_full_config_connection_and_discovery(full: LoadedConfig) -> None:
    statuses = [entry.status for entry in full.entries("connection")]
    assert statuses == ["succeed", "succeed", "failed", "exception"]
    assert full.entries("connection")[2].timeout_seconds == 30
    discovery = full.entries("discovery")[0]
    assert discovery.validate_primary_keys_data_type is False
    assert discovery.backward_compatibility_tests_config.disable_for_version == "3.0.0"
    assert discovery.backward_compatibility_tests_config.previous_connector_version == "latest"


def test_full_config_basic_read(full: LoadedConfig) -> None:
    main, oauth = full.entries("basic_read")
    assert main.timeout_seconds == 1200
    assert [(s.name, s.bypass_reason) for s in main.empty_streams] == [
        ("refunds", "The sandbox store has no refunds"),
        ("gift_cards", "Gift cards need a paid plan"),
    ]
    records = main.expect_records
    assert records.path == "integration_tests/expected_records.jsonl"
    assert (records.exact_order, records.extra_fields, records.extra_records) == (True, True, False)
    assert main.validate_stream_statuses is True
    assert main.validate_state_messages is False
    assert main.fail_on_extra_columns is False
    assert main.validate_data_points is True
    assert main.expect_trace_message_on_failure is False
    assert [(t.extension, t.bypass_reason) for t in main.file_types.unsupported_types] == [
        (".avro", "Catalog exports are never Avro"),
        (".parquet", None),
    ]
    assert [f.name for f in main.ignored_fields["orders"]] == [
        "updated_at",
        "line_items/*/price_set/presentment_money",
    ]
    assert main.client_container_config.setup_command[-1].endswith("seed.py")
    assert main.client_container_config.teardown_command[-1].endswith("clean.py")
    assert oauth.expect_records.bypass_reason == "OAuth sandbox data is regenerated daily"
    assert oauth.expect_records.path is None
    assert oauth.validate_stream_statuses is False
    assert oauth.file_types.skip_test is True
    assert oauth.file_types.bypass_reason == "The OAuth store has no file exports"


def test_full_config_full_refresh_incremental_attributes_docs(full: LoadedConfig) -> None:
    refresh = full.entries("full_refresh")[0]
    assert refresh.configured_catalog_path == "integration_tests/configured_catalog.json"
    assert refresh.deployment_mode == "cloud"
    assert refresh.ignored_fields["products"][0] == IgnoredFieldConfig(
        name="inventory_quantity", bypass_reason="Inventory moves between the two reads"
    )
    assert refresh.client_container_config.client_container_dockerfile_path.endswith("Dockerfile")

    incremental, bypassed = full.entries("incremental")
    assert incremental.skip_comprehensive_incremental_tests is True
    state = incremental.future_state
    assert state.future_state_path == "integration_tests/abnormal_state.json"
    assert state.missing_streams == [
        EmptyStreamConfig(name="customers_audit", bypass_reason="The audit log cursor cannot be filtered on")
    ]
    assert state.cursor_format.format == r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
    assert [(s.name, s.format) for s in state.cursor_format.streams] == [("orders", r"^\d+$"), ("events", None)]
    assert incremental.client_container_config.between_syncs_command[-1].endswith("insert_order.py")
    assert bypassed.future_state.bypass_reason.startswith("The OAuth store")
    assert bypassed.future_state.future_state_path is None

    attributes = full.entries("connector_attributes")[0]
    assert attributes.timeout_seconds == 600
    assert attributes.streams_without_primary_key[0].name == "sales_report"
    assert attributes.allowed_hosts.bypass_reason == "Store domains are chosen by each customer"
    assert attributes.suggested_streams.bypass_reason == "All streams are equally useful"
    assert full.entries("connector_documentation")[0].timeout_seconds == 120


def test_full_config_locations(full: LoadedConfig) -> None:
    assert [entry.location for entry in full.entries("connection")] == [
        f"acceptance_tests.connection.tests[{index}]" for index in range(4)
    ]
    assert full.entries("connector_documentation")[0].location == "acceptance_tests.connector_documentation.tests[0]"
    assert full.suite("basic_read").location == "acceptance_tests.basic_read"


def test_full_config_passes_every_high_strictness_rule(full: LoadedConfig) -> None:
    for name in SUITE_NAMES:
        for entry in full.entries(name):
            assert high_strictness_problems(full, name, entry) == [], (name, entry.location)
    assert unconfigured_mandatory_suites(full) == []


def test_locations_are_set_without_the_loader() -> None:
    config = AcceptanceTestConfig.model_validate(
        {"acceptance_tests": {"connection": {"tests": [{}, {"status": "failed"}]}}}
    )
    assert config.acceptance_tests.connection.tests[1].location == "acceptance_tests.connection.tests[1]"


# ---------------------------------------------------------------------------------------------------------------
# Legacy `tests:` format (§1.6)


@pytest.fixture(scope="module")
def legacy() -> LoadedConfig:
    return load_config(FIXTURES / "legacy")


def test_legacy_suites_are_wrapped(legacy: LoadedConfig) -> None:
    assert legacy.legacy is True
    assert [entry.status for entry in legacy.entries("connection")] == ["succeed", "failed"]
    assert legacy.entries("spec")[0].spec_path == "source_github/spec.json"
    assert legacy.suite("incremental").bypass_reason is None


def test_legacy_empty_streams_become_objects(legacy: LoadedConfig) -> None:
    basic_read = legacy.entries("basic_read")[0]
    assert basic_read.empty_streams == [
        EmptyStreamConfig(name="events"),
        EmptyStreamConfig(name="comment_reactions"),
        EmptyStreamConfig(name="team_members"),
    ]
    assert basic_read.expect_records.path == "integration_tests/expected_records.txt"


def test_legacy_ignored_fields_become_objects(legacy: LoadedConfig) -> None:
    refresh = legacy.entries("full_refresh")[0]
    assert {stream: [f.name for f in fields] for stream, fields in refresh.ignored_fields.items()} == {
        "repositories": ["updated_at", "pushed_at", "stargazers_count"],
        "issues": ["reactions/*"],
    }
    assert all(f.bypass_reason is None for fields in refresh.ignored_fields.values() for f in fields)
    # The historic migration did the same for basic_read.
    assert [f.name for f in legacy.entries("basic_read")[0].ignored_fields["repositories"]] == [
        "updated_at",
        "pushed_at",
    ]


def test_legacy_future_state_path_moves_under_future_state(legacy: LoadedConfig) -> None:
    incremental = legacy.entries("incremental")[0]
    assert incremental.future_state.future_state_path == "integration_tests/abnormal_state.json"
    assert incremental.future_state.missing_streams == []


def test_legacy_notices_and_locations_use_the_legacy_layout(legacy: LoadedConfig) -> None:
    assert legacy.notices == [
        LEGACY_NOTICE,
        "tests.incremental[0].cursor_paths is deprecated and ignored (upstream CAT dropped it)",
    ]
    assert legacy.entries("connection")[1].location == "tests.connection[1]"
    assert legacy.suite("basic_read").location == "tests.basic_read"


def test_legacy_config_fails_every_bypass_rule_at_high(tmp_path: Path) -> None:
    text = (FIXTURES / "legacy" / "acceptance-test-config.yml").read_text()
    write_config(tmp_path, text + "test_strictness_level: high\n")
    loaded = load_config(tmp_path)
    problems = high_strictness_problems(loaded, "basic_read", loaded.entries("basic_read")[0])
    assert "tests.basic_read[0].empty_streams[0]: empty stream 'events' needs a bypass_reason" in problems[0]
    assert any(p.startswith("tests.basic_read[0].configured_catalog_path") for p in problems)
    assert high_strictness_problems(loaded, "full_refresh", loaded.entries("full_refresh")[0])


def test_legacy_errors_name_legacy_key_paths(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        connector_image: airbyte/source-github:dev
        tests:
          connection:
            - config_path: secrets/config.json
            - config_path: integration_tests/invalid_config.json
              status: fail
        """,
    )
    key, message = only_problem(error)
    assert key == "tests.connection[1].status"
    assert message == "expected one of: succeed, failed, exception; got a string ('fail')"


def test_legacy_and_current_layout_together_is_an_error(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        tests:
          spec:
            - spec_path: spec.json
        acceptance_tests:
          spec:
            tests:
              - spec_path: spec.json
        """,
    )
    key, message = only_problem(error)
    assert key == "tests"
    assert "cannot be combined with `acceptance_tests:`" in message


# ---------------------------------------------------------------------------------------------------------------
# Historic keys: accepted, reported as notices


def test_historic_keys_load_with_notices() -> None:
    loaded = load_config(FIXTURES / "historic")
    ignored = "is deprecated and ignored (upstream CAT dropped it)"
    assert sorted(loaded.notices) == sorted(
        [
            f"acceptance_tests.incremental.tests[0].cursor_paths {ignored}",
            f"acceptance_tests.incremental.tests[0].threshold_days {ignored}",
            f"acceptance_tests.incremental.tests[0].future_state.cursor_paths {ignored}",
            f"acceptance_tests.incremental.tests[0].future_state.threshold_days {ignored}",
            "cache_discovered_catalog is the old spelling of cached_discovered_catalog; it is honoured, "
            "but please rename it",
        ]
    )
    # The old spelling is honoured, not ignored.
    assert loaded.config.cached_discovered_catalog is False
    entry = loaded.entries("incremental")[0]
    assert entry.threshold_days == 30
    assert entry.future_state.future_state_path == "integration_tests/abnormal_state.json"


def test_documented_keys_get_no_notice(full: LoadedConfig) -> None:
    # extra_fields, extra_records, basic_read.ignored_fields and cached_discovered_catalog are in the reference.
    assert full.notices == []


def test_both_catalog_cache_spellings_must_agree(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        cached_discovered_catalog: true
        cache_discovered_catalog: false
        acceptance_tests: {}
        """,
    )
    key, message = only_problem(error)
    assert key == ""
    assert "disagree" in message


def test_sat_validate_output_from_all_streams_loads_with_notice(tmp_path: Path) -> None:
    # SAT before 0.1.13 (real legacy files from 2021 still carry it, usually written `yes`).
    write_config(
        tmp_path,
        """
        connector_image: airbyte/source-lighthouse:dev
        tests:
          basic_read:
            - config_path: secrets/lighthouse.json
              configured_catalog_path: integration_tests/lamps_catalog.json
              validate_output_from_all_streams: yes
        """,
    )
    loaded = load_config(tmp_path)
    entry = loaded.entries("basic_read")[0]
    assert entry.validate_output_from_all_streams is True
    assert entry.empty_streams == []
    assert loaded.notices == [
        LEGACY_NOTICE,
        "tests.basic_read[0].validate_output_from_all_streams is deprecated and ignored (SAT 0.1.13 replaced it "
        "with empty_streams: every stream not listed in empty_streams must produce records)",
    ]


def test_sat_validate_output_from_all_streams_is_still_type_checked(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        "acceptance_tests:\n  basic_read:\n    tests:\n      - validate_output_from_all_streams: always\n",
    )
    assert only_problem(error) == (
        "acceptance_tests.basic_read.tests[0].validate_output_from_all_streams",
        "expected a boolean (true or false), got a string ('always')",
    )


def test_sat_state_path_is_honoured_as_future_state_path(tmp_path: Path) -> None:
    # The earliest SAT name of the abnormal-state file.
    write_config(
        tmp_path,
        """
        connector_image: airbyte/source-tides:dev
        tests:
          incremental:
            - config_path: secrets/harbour.json
              configured_catalog_path: integration_tests/tide_catalog.json
              state_path: integration_tests/far_future_tides.json
              cursor_paths:
                tide_tables: ["measured_at"]
        """,
    )
    loaded = load_config(tmp_path)
    entry = loaded.entries("incremental")[0]
    assert entry.future_state is not None
    assert entry.future_state.future_state_path == "integration_tests/far_future_tides.json"
    assert loaded.notices == [
        LEGACY_NOTICE,
        "tests.incremental[0].cursor_paths is deprecated and ignored (upstream CAT dropped it)",
        "tests.incremental[0].state_path is the old name of future_state.future_state_path; it is honoured, "
        "but please rename it",
    ]


def test_sat_state_path_fills_an_empty_future_state_and_must_agree_with_it(tmp_path: Path) -> None:
    fills = tmp_path / "fills"
    fills.mkdir()
    write_config(
        fills,
        """
        acceptance_tests:
          incremental:
            tests:
              - state_path: integration_tests/late_state.json
                future_state:
                  missing_streams:
                    - name: moon_phases
                      bypass_reason: "Full refresh only"
        """,
    )
    future_state = load_config(fills).entries("incremental")[0].future_state
    assert future_state.future_state_path == "integration_tests/late_state.json"
    assert [stream.name for stream in future_state.missing_streams] == ["moon_phases"]

    conflict = tmp_path / "conflict"
    conflict.mkdir()
    error = config_error(
        conflict,
        """
        tests:
          incremental:
            - state_path: integration_tests/one.json
              future_state_path: integration_tests/other.json
        """,
    )
    key, message = only_problem(error)
    assert key == "tests.incremental[0]"
    assert "disagree" in message


def test_discovery_configured_catalog_path_loads_with_notice(tmp_path: Path) -> None:
    # Listed for discovery by the published reference (and in early SAT models); discovery never used it.
    write_config(
        tmp_path,
        """
        acceptance_tests:
          discovery:
            tests:
              - config_path: secrets/observatory.json
                configured_catalog_path: integration_tests/star_catalog.json
        """,
    )
    loaded = load_config(tmp_path)
    assert loaded.entries("discovery")[0].configured_catalog_path == "integration_tests/star_catalog.json"
    assert loaded.notices == [
        "acceptance_tests.discovery.tests[0].configured_catalog_path has no effect: discovery does not use a "
        "configured catalog (an early SAT key the published reference still lists)"
    ]


def test_first_sat_invalid_config_path_loads_with_notice(tmp_path: Path) -> None:
    # The first SAT connection entry named an invalid config beside the valid one (before `status` existed).
    write_config(
        tmp_path,
        """
        connector_image: airbyte/source-orchard:dev
        tests:
          connection:
            - config_path: secrets/orchard.json
              invalid_config_path: integration_tests/rotten_orchard.json
        """,
    )
    loaded = load_config(tmp_path)
    entry = loaded.entries("connection")[0]
    assert (entry.status, entry.invalid_config_path) == ("succeed", "integration_tests/rotten_orchard.json")
    assert loaded.notices[1] == (
        "tests.connection[0].invalid_config_path is deprecated and ignored (the first SAT format); to check that an "
        "invalid config fails, add a connection entry with that config_path and status: failed"
    )


def test_suite_tests_must_be_a_list(tmp_path: Path) -> None:
    # Upstream rejected this too (`tests` is a list); a bypass_reason indented under `tests:` is a real-world slip.
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          spec:
            tests:
              bypass_reason: "Spec is checked elsewhere"
        """,
    )
    assert only_problem(error) == ("acceptance_tests.spec.tests", "expected a list, got a mapping")


def test_threshold_days_is_still_type_checked(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          incremental:
            tests:
              - threshold_days: -1
        """,
    )
    assert only_problem(error) == (
        "acceptance_tests.incremental.tests[0].threshold_days",
        "must be at least 0, got an integer (-1)",
    )


# ---------------------------------------------------------------------------------------------------------------
# Files and paths


def test_base_path_relative_to_the_config_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "connector").mkdir()
    write_config(tmp_path / "connector", "base_path: ../shared\nacceptance_tests: {}\n")
    monkeypatch.chdir("/")  # the working directory must not matter
    loaded = load_config(tmp_path / "connector")
    assert loaded.base_path == (tmp_path / "shared").resolve()
    assert loaded.resolve("secrets/config.json") == (tmp_path / "shared" / "secrets" / "config.json").resolve()


def test_base_path_absolute(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    write_config(tmp_path, f"base_path: {elsewhere}\nacceptance_tests: {{}}\n")
    loaded = load_config(tmp_path)
    assert loaded.base_path == elsewhere.resolve()
    assert loaded.resolve("/etc/hosts") == Path("/etc/hosts")


def test_default_base_path_is_the_directory_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, "acceptance_tests: {}\n")
    monkeypatch.chdir(tmp_path.parent)
    loaded = load_config(tmp_path.name)
    assert loaded.base_path == tmp_path.resolve()
    assert loaded.base_path.is_absolute()
    assert loaded.resolve("integration_tests/catalog.json") == tmp_path.resolve() / "integration_tests/catalog.json"


def test_yaml_extension_is_a_fallback(tmp_path: Path) -> None:
    write_config(tmp_path, "acceptance_tests: {}\n", name="acceptance-test-config.yaml")
    assert load_config(tmp_path).file.name == "acceptance-test-config.yaml"
    write_config(tmp_path, "acceptance_tests: {}\n")
    assert load_config(tmp_path).file.name == "acceptance-test-config.yml"


def test_config_file_path_is_accepted_too() -> None:
    file = FIXTURES / "minimal" / "acceptance-test-config.yml"
    assert load_config(file).file == file.resolve()


# ---------------------------------------------------------------------------------------------------------------
# Errors: file level


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    expected = tmp_path.resolve() / "acceptance-test-config.yml"
    assert caught.value.file == expected
    assert f"file not found: expected {expected}" in str(caught.value)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope")


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        connector_image: airbyte/source-x:dev
        acceptance_tests:
          spec:
            tests:
              - spec_path: "unterminated
        """,
    )
    key, message = only_problem(error)
    assert key == ""
    assert message.startswith("YAML syntax error at line 6")
    assert str(error).startswith(f"{tmp_path.resolve() / 'acceptance-test-config.yml'}: invalid configuration")


def test_bad_indentation_reports_its_line(tmp_path: Path) -> None:
    error = config_error(tmp_path, "acceptance_tests:\n  spec:\n    tests:\n   - spec_path: x\n")
    assert "line 4" in only_problem(error)[1]


def test_empty_file(tmp_path: Path) -> None:
    error = config_error(tmp_path, "# nothing yet\n")
    assert only_problem(error) == ("", "the file is empty; expected a mapping with at least `acceptance_tests:`")
    assert str(tmp_path.resolve() / "acceptance-test-config.yml") in str(error)


def test_root_is_a_list(tmp_path: Path) -> None:
    error = config_error(tmp_path, "- connector_image: airbyte/source-x:dev\n")
    assert only_problem(error) == ("", "expected a mapping (key: value pairs) at the top level, got a list")


def test_acceptance_tests_is_required(tmp_path: Path) -> None:
    error = config_error(tmp_path, "connector_image: airbyte/source-x:dev\n")
    assert only_problem(error) == ("acceptance_tests", "required")


# ---------------------------------------------------------------------------------------------------------------
# Errors: validation (one problem each, named by key path, in plain words)


def test_unknown_key_at_root(tmp_path: Path) -> None:
    error = config_error(tmp_path, "connector_imag: airbyte/source-x:dev\nacceptance_tests: {}\n")
    key, message = only_problem(error)
    assert key == "connector_imag"
    assert message == (
        "unknown key 'connector_imag'; allowed keys: acceptance_tests, base_path, cached_discovered_catalog, "
        "connector_image, custom_environment_variables, test_strictness_level; did you mean 'connector_image'?"
    )
    assert "  - connector_imag: unknown key 'connector_imag'" in str(error)


def test_unknown_key_in_suite_wrapper(tmp_path: Path) -> None:
    # Upstream silently ignored keys here; a typo of bypass_reason must not go unnoticed.
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          incremental:
            bypass_reason: "No incremental streams"
            skip: true
        """,
    )
    assert only_problem(error) == (
        "acceptance_tests.incremental.skip",
        "unknown key 'skip'; allowed keys: bypass_reason, tests",
    )


def test_unknown_key_in_nested_entry(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          basic_read:
            tests:
              - config_path: secrets/config.json
                empty_streams:
                  - name: refunds
                    reason: "Sandbox has none"
        """,
    )
    key, message = only_problem(error)
    assert key == "acceptance_tests.basic_read.tests[0].empty_streams[0].reason"
    assert message.startswith("unknown key 'reason'; allowed keys: bypass_reason, name")


def test_unknown_key_in_entry_lists_entry_keys(tmp_path: Path) -> None:
    error = config_error(tmp_path, "acceptance_tests:\n  connection:\n    tests:\n      - config_pth: c.json\n")
    assert only_problem(error) == (
        "acceptance_tests.connection.tests[0].config_pth",
        "unknown key 'config_pth'; allowed keys: config_path, deployment_mode, status, timeout_seconds; "
        "did you mean 'config_path'?",
    )


def test_wrong_type(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          discovery:
            tests:
              - timeout_seconds: abc
        """,
    )
    assert only_problem(error) == (
        "acceptance_tests.discovery.tests[0].timeout_seconds",
        "expected an integer, got a string ('abc')",
    )


def test_wrong_type_boolean_is_not_an_integer(tmp_path: Path) -> None:
    error = config_error(tmp_path, "acceptance_tests:\n  spec:\n    tests:\n      - timeout_seconds: true\n")
    assert only_problem(error)[1] == "expected an integer, got a boolean (true)"


def test_wrong_type_long_values_are_not_echoed(tmp_path: Path) -> None:
    error = config_error(tmp_path, "acceptance_tests:\n  spec:\n    tests:\n      - spec_path: [a, b]\n")
    assert only_problem(error) == ("acceptance_tests.spec.tests[0].spec_path", "expected a string, got a list")


def test_wrong_type_for_a_suite(tmp_path: Path) -> None:
    error = config_error(tmp_path, "acceptance_tests:\n  spec:\n    - spec_path: spec.json\n")
    assert only_problem(error) == ("acceptance_tests.spec", "expected a mapping (key: value pairs), got a list")


def test_bad_enum(tmp_path: Path) -> None:
    error = config_error(tmp_path, "test_strictness_level: strict\nacceptance_tests: {}\n")
    assert only_problem(error) == ("test_strictness_level", "expected one of: low, high; got a string ('strict')")


def test_bad_deployment_mode_needs_a_full_match(tmp_path: Path) -> None:
    error = config_error(tmp_path, "acceptance_tests:\n  spec:\n    tests:\n      - deployment_mode: cloudy\n")
    assert only_problem(error) == (
        "acceptance_tests.spec.tests[0].deployment_mode",
        "expected one of: cloud, oss; got a string ('cloudy')",
    )


def test_negative_timeout(tmp_path: Path) -> None:
    error = config_error(tmp_path, "acceptance_tests:\n  spec:\n    tests:\n      - timeout_seconds: -5\n")
    assert only_problem(error)[1] == "must be at least 0, got an integer (-5)"


def test_bypass_reason_with_tests(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          full_refresh:
            bypass_reason: "Streams change too fast"
            tests:
              - config_path: secrets/config.json
        """,
    )
    assert only_problem(error) == ("acceptance_tests.full_refresh", "bypass_reason cannot be set together with tests")


def test_suite_with_neither_tests_nor_bypass_reason(tmp_path: Path) -> None:
    error = config_error(tmp_path, 'acceptance_tests:\n  spec:\n    bypass_reason: "  "\n')
    assert only_problem(error) == ("acceptance_tests.spec", "set tests or bypass_reason")


def test_expect_records_with_neither_path_nor_bypass(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          basic_read:
            tests:
              - expect_records:
                  exact_order: true
        """,
    )
    key, message = only_problem(error)
    assert key == "acceptance_tests.basic_read.tests[0].expect_records"
    assert message.startswith("set path (a file of expected records) or bypass_reason")


def test_expect_records_with_both_path_and_bypass(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          basic_read:
            tests:
              - expect_records:
                  path: integration_tests/expected_records.jsonl
                  bypass_reason: "Sandbox data changes"
        """,
    )
    assert only_problem(error)[1] == "set either path or bypass_reason, not both"


def test_extra_fields_without_exact_order(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          basic_read:
            tests:
              - expect_records:
                  path: integration_tests/expected_records.jsonl
                  extra_fields: true
                  extra_records: false
        """,
    )
    assert only_problem(error) == (
        "acceptance_tests.basic_read.tests[0].expect_records",
        "extra_fields: true is only supported with exact_order: true and extra_records: false "
        "(got exact_order: false, extra_records: false)",
    )


def test_extra_fields_with_default_extra_records(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          basic_read:
            tests:
              - expect_records:
                  path: integration_tests/expected_records.jsonl
                  extra_fields: true
                  exact_order: true
        """,
    )
    assert "(got exact_order: true, extra_records: true)" in only_problem(error)[1]


def test_oauth_false_requires_bypass_reason(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          spec:
            tests:
              - auth_default_method:
                  oauth: false
        """,
    )
    key, message = only_problem(error)
    assert key == "acceptance_tests.spec.tests[0].auth_default_method"
    assert message.startswith("oauth: false requires a bypass_reason")


@pytest.mark.parametrize(
    ("file_types", "expected"),
    [
        ({"skip_test": True, "unsupported_types": [{"extension": ".csv"}]}, "unsupported_types cannot be set"),
        ({"bypass_reason": "not file based"}, "bypass_reason can only be set when skip_test is true"),
    ],
)
def test_file_types_rules(tmp_path: Path, file_types: dict[str, Any], expected: str) -> None:
    write_config(
        tmp_path, yaml.safe_dump({"acceptance_tests": {"basic_read": {"tests": [{"file_types": file_types}]}}})
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    key, message = only_problem(caught.value)
    assert key == "acceptance_tests.basic_read.tests[0].file_types"
    assert message.startswith(expected)


@pytest.mark.parametrize("extension", ["csv", "."])
def test_unsupported_file_type_extension_format(tmp_path: Path, extension: str) -> None:
    write_config(
        tmp_path,
        yaml.safe_dump(
            {
                "acceptance_tests": {
                    "basic_read": {"tests": [{"file_types": {"unsupported_types": [{"extension": extension}]}}]}
                }
            }
        ),
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    key, message = only_problem(caught.value)
    assert key == "acceptance_tests.basic_read.tests[0].file_types.unsupported_types[0].extension"
    assert message.startswith("expected a file extension starting with '.'")


def test_explicit_latest_and_unquoted_versions_are_accepted(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """
        acceptance_tests:
          spec:
            tests:
              - backward_compatibility_tests_config:
                  previous_connector_version: latest
                  disable_for_version: 1.2
          discovery:
            tests:
              - backward_compatibility_tests_config:
                  previous_connector_version: 0.3.0-rc.1
        """,
    )
    loaded = load_config(tmp_path)
    spec = loaded.entries("spec")[0].backward_compatibility_tests_config
    assert (spec.previous_connector_version, spec.disable_for_version) == ("latest", "1.2")
    assert loaded.entries("discovery")[0].backward_compatibility_tests_config.previous_connector_version == "0.3.0-rc.1"


@pytest.mark.parametrize(
    ("key", "value"), [("previous_connector_version", "v1.2.3"), ("disable_for_version", "latest")]
)
def test_bad_versions_are_rejected(tmp_path: Path, key: str, value: str) -> None:
    write_config(
        tmp_path,
        yaml.safe_dump(
            {"acceptance_tests": {"spec": {"tests": [{"backward_compatibility_tests_config": {key: value}}]}}}
        ),
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    path, message = only_problem(caught.value)
    assert path == f"acceptance_tests.spec.tests[0].backward_compatibility_tests_config.{key}"
    assert "a version like 1.2.3" in message and repr(value) in message


def test_invalid_cursor_format_regex(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          incremental:
            tests:
              - future_state:
                  future_state_path: integration_tests/abnormal_state.json
                  cursor_format:
                    streams:
                      - name: orders
                        format: "([0-9"
        """,
    )
    key, message = only_problem(error)
    assert key == "acceptance_tests.incremental.tests[0].future_state.cursor_format.streams[0].format"
    assert message.startswith("not a valid regular expression")


def test_environment_variable_must_be_a_scalar(tmp_path: Path) -> None:
    error = config_error(tmp_path, "custom_environment_variables:\n  HOSTS: [a, b]\nacceptance_tests: {}\n")
    assert only_problem(error) == ("custom_environment_variables.HOSTS", "expected a string, got a list")


def test_odd_stream_names_are_quoted_in_key_paths(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        acceptance_tests:
          full_refresh:
            tests:
              - ignored_fields:
                  "Sales Report.v2":
                    - name: total
                      reason: "recomputed nightly"
        """,
    )
    key, message = only_problem(error)
    assert key == 'acceptance_tests.full_refresh.tests[0].ignored_fields["Sales Report.v2"][0].reason'
    assert message.startswith("unknown key 'reason'")


def test_several_problems_are_reported_together_without_pydantic_wording(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        """
        test_strictness_level: medium
        acceptance_tests:
          connection:
            tests:
              - status: ok
                timeout_seconds: 1.5
          basic_read:
            tests:
              - empty_streams: [{bypass_reason: "no name"}]
        """,
    )
    assert [key for key, _ in error.problems] == [
        "acceptance_tests.connection.tests[0].status",
        "acceptance_tests.connection.tests[0].timeout_seconds",
        "acceptance_tests.basic_read.tests[0].empty_streams[0].name",
        "test_strictness_level",
    ]
    text = str(error)
    for pydantic_wording in ("Input should", "validation error", "pydantic", "Traceback", "type="):
        assert pydantic_wording not in text


# ---------------------------------------------------------------------------------------------------------------
# Strictness rules (§1.7)


def load_one_entry(directory: Path, suite: str, entry: dict[str, Any], level: str = "high") -> tuple[LoadedConfig, Any]:
    """Load a config with a single entry in `suite`; return the loaded config and that entry."""
    write_config(directory, suite_config(suite, entry, test_strictness_level=level))
    loaded = load_config(directory)
    return loaded, loaded.entries(suite)[0]


GOOD_BASIC_READ: dict[str, Any] = {
    "expect_records": {"path": "integration_tests/expected_records.jsonl"},
    "empty_streams": [{"name": "refunds", "bypass_reason": "Sandbox has no refunds"}],
    "ignored_fields": {"orders": [{"name": "updated_at", "bypass_reason": "Changes on every read"}]},
}


def test_high_rules_do_not_apply_at_low(tmp_path: Path) -> None:
    loaded, entry = load_one_entry(tmp_path, "basic_read", {"empty_streams": [{"name": "a"}]}, level="low")
    assert high_strictness_problems(loaded, "basic_read", entry) == []
    assert unconfigured_mandatory_suites(loaded) == []


def test_high_basic_read_compliant_entry(tmp_path: Path) -> None:
    loaded, entry = load_one_entry(tmp_path, "basic_read", GOOD_BASIC_READ)
    assert high_strictness_problems(loaded, "basic_read", entry) == []


def test_high_empty_streams_need_bypass_reason(tmp_path: Path) -> None:
    entry_data = {**GOOD_BASIC_READ, "empty_streams": [{"name": "refunds", "bypass_reason": "ok"}, {"name": "gifts"}]}
    loaded, entry = load_one_entry(tmp_path, "basic_read", entry_data)
    assert high_strictness_problems(loaded, "basic_read", entry) == [
        "acceptance_tests.basic_read.tests[0].empty_streams[1]: empty stream 'gifts' needs a bypass_reason "
        "at test_strictness_level high"
    ]


def test_high_ignored_fields_need_bypass_reason_in_basic_read(tmp_path: Path) -> None:
    entry_data = {**GOOD_BASIC_READ, "ignored_fields": {"orders": [{"name": "updated_at"}]}}
    loaded, entry = load_one_entry(tmp_path, "basic_read", entry_data)
    assert high_strictness_problems(loaded, "basic_read", entry) == [
        "acceptance_tests.basic_read.tests[0].ignored_fields.orders[0]: ignored field 'updated_at' needs a "
        "bypass_reason at test_strictness_level high"
    ]


def test_high_ignored_fields_need_bypass_reason_in_full_refresh(tmp_path: Path) -> None:
    entry_data = {
        "ignored_fields": {
            "products": [{"name": "inventory", "bypass_reason": "moves"}, {"name": "price/amount", "bypass_reason": ""}]
        }
    }
    loaded, entry = load_one_entry(tmp_path, "full_refresh", entry_data)
    assert high_strictness_problems(loaded, "full_refresh", entry) == [
        "acceptance_tests.full_refresh.tests[0].ignored_fields.products[1]: ignored field 'price/amount' needs a "
        "bypass_reason at test_strictness_level high"
    ]
    loaded, entry = load_one_entry(tmp_path, "full_refresh", {"configured_catalog_path": "catalog.json"})
    assert high_strictness_problems(loaded, "full_refresh", entry) == []


def test_high_expect_records_must_be_set(tmp_path: Path) -> None:
    loaded, entry = load_one_entry(tmp_path, "basic_read", {})
    problems = high_strictness_problems(loaded, "basic_read", entry)
    assert len(problems) == 1
    assert problems[0].startswith(
        "acceptance_tests.basic_read.tests[0].expect_records: required at test_strictness_level high"
    )
    loaded, entry = load_one_entry(tmp_path, "basic_read", {"expect_records": {"bypass_reason": "PII in sandbox"}})
    assert high_strictness_problems(loaded, "basic_read", entry) == []


def test_high_expect_records_needs_path_or_bypass(tmp_path: Path) -> None:
    loaded, _ = load_one_entry(tmp_path, "basic_read", {})
    # Only reachable for entries built without validation (the model validator guards loaded files).
    entry = BasicReadTestConfig(
        expect_records=ExpectedRecordsConfig.model_construct(path=None, bypass_reason=" ", extra_fields=False)
    )
    assert high_strictness_problems(loaded, "basic_read", entry) == [
        "acceptance_tests.basic_read.tests[?].expect_records: set path or a bypass_reason at test_strictness_level high"
    ]


def test_high_forbids_basic_read_configured_catalog(tmp_path: Path) -> None:
    entry_data = {**GOOD_BASIC_READ, "configured_catalog_path": "integration_tests/configured_catalog.json"}
    loaded, entry = load_one_entry(tmp_path, "basic_read", entry_data)
    problems = high_strictness_problems(loaded, "basic_read", entry)
    assert len(problems) == 1
    assert problems[0].startswith(
        "acceptance_tests.basic_read.tests[0].configured_catalog_path: not allowed at test_strictness_level high"
    )


def test_high_requires_validate_schema(tmp_path: Path) -> None:
    loaded, entry = load_one_entry(tmp_path, "basic_read", {**GOOD_BASIC_READ, "validate_schema": False})
    assert high_strictness_problems(loaded, "basic_read", entry) == [
        "acceptance_tests.basic_read.tests[0].validate_schema: must be true at test_strictness_level high"
    ]


def test_high_future_state_must_be_set(tmp_path: Path) -> None:
    loaded, entry = load_one_entry(tmp_path, "incremental", {"configured_catalog_path": "catalog.json"})
    problems = high_strictness_problems(loaded, "incremental", entry)
    assert len(problems) == 1
    assert problems[0].startswith("acceptance_tests.incremental.tests[0].future_state: required")


def test_high_future_state_needs_path_or_bypass(tmp_path: Path) -> None:
    loaded, entry = load_one_entry(tmp_path, "incremental", {"future_state": {"missing_streams": []}})
    assert high_strictness_problems(loaded, "incremental", entry) == [
        "acceptance_tests.incremental.tests[0].future_state: set future_state_path or bypass_reason "
        "at test_strictness_level high"
    ]
    for future_state in ({"future_state_path": "abnormal_state.json"}, {"bypass_reason": "No cursor in the API"}):
        loaded, entry = load_one_entry(tmp_path, "incremental", {"future_state": future_state})
        assert high_strictness_problems(loaded, "incremental", entry) == []


def test_high_missing_streams_need_bypass_reason(tmp_path: Path) -> None:
    future_state = {
        "future_state_path": "abnormal_state.json",
        "missing_streams": [{"name": "audit", "bypass_reason": "no cursor filter"}, {"name": "events"}],
    }
    loaded, entry = load_one_entry(tmp_path, "incremental", {"future_state": future_state})
    assert high_strictness_problems(loaded, "incremental", entry) == [
        "acceptance_tests.incremental.tests[0].future_state.missing_streams[1]: missing stream 'events' needs a "
        "bypass_reason at test_strictness_level high"
    ]


def test_high_other_suites_have_no_entry_rules(tmp_path: Path) -> None:
    loaded, entry = load_one_entry(tmp_path, "connection", {"status": "failed"})
    assert high_strictness_problems(loaded, "connection", entry) == []


def test_high_rules_check_the_entry_type(tmp_path: Path) -> None:
    loaded, entry = load_one_entry(tmp_path, "connection", {})
    with pytest.raises(TypeError, match="basic_read entries are BasicReadTestConfig"):
        high_strictness_problems(loaded, "basic_read", entry)
    with pytest.raises(ValueError, match="unknown suite"):
        high_strictness_problems(loaded, "read", entry)


def test_unconfigured_mandatory_suites(tmp_path: Path) -> None:
    loaded, _ = load_one_entry(tmp_path, "connection", {})
    assert unconfigured_mandatory_suites(loaded) == ["spec", "discovery", "basic_read", "full_refresh", "incremental"]
    assert unconfigured_mandatory_suites(load_config(FIXTURES / "minimal")) == []  # low level
