"""`acceptance-test-config.yml`: the pydantic models of the file, their validators, and what is known about them
(the suite names, each suite's entry model, the deprecated fields).

The models follow upstream CAT's config (connector_acceptance_test/config.py) field for field, with the
published reference winning where the two disagree. Differences from upstream are deliberate and listed
where they happen (look for "upstream").
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from acceptance.config.field_types import (
    ConnectionStatus,
    DeploymentMode,
    NonNegativeInt,
    Regex,
    StrictnessLevel,
    Text,
    check_version,
    default_when_null,
    has_text,
    number_to_str,
    rule,
)

SUITE_NAMES: tuple[str, ...] = (
    "spec",
    "connection",
    "discovery",
    "basic_read",
    "full_refresh",
    "incremental",
    "connector_attributes",
    "connector_documentation",
)

_IGNORED_NOTICE = "is deprecated and ignored (upstream CAT dropped it)"


class ConfigModel(BaseModel):
    """Base of every config model: unknown keys are errors, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------------------------------------
# Leaf models


class BackwardCompatibilityTestsConfig(ConfigModel):
    """`backward_compatibility_tests_config` of spec and discovery."""

    previous_connector_version: Text = "latest"
    disable_for_version: Text | None = None

    @field_validator("previous_connector_version")
    @classmethod
    def _previous_version(cls, value: str) -> str:
        # Upstream rejected an explicit `latest` (v1 never validated the default) — a quirk we do not keep.
        return check_version(value, allow_latest=True)

    @field_validator("disable_for_version")
    @classmethod
    def _disable_version(cls, value: str | None) -> str | None:
        return None if value is None else check_version(value, allow_latest=False)


class OAuthTestConfig(ConfigModel):
    """`auth_default_method`: is OAuth the default auth method of the spec?"""

    oauth: bool = True
    bypass_reason: Text | None = None

    @model_validator(mode="after")
    def _bypass_when_not_oauth(self) -> Self:
        if self.oauth is False and not has_text(self.bypass_reason):
            raise rule("oauth: false requires a bypass_reason saying why OAuth is not the default auth method")
        return self


class NamedEntry(ConfigModel):
    """A named item with an optional bypass_reason. A bare string is accepted as the name: real upstream files
    still write `ignored_fields: {users: [created_at]}` in the current format (source-faker's does)."""

    name: Text
    bypass_reason: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class EmptyStreamConfig(NamedEntry):
    """A stream allowed to produce no records (also used for `future_state.missing_streams`)."""


class IgnoredFieldConfig(NamedEntry):
    """A field path (`/`-separated, dpath globs allowed) ignored when comparing records."""


class NoPrimaryKeyConfig(NamedEntry):
    """A stream that legitimately has no primary key (connector_attributes)."""


class AllowedHostsConfig(ConfigModel):
    """Setting a bypass_reason skips the metadata `allowedHosts` check."""

    bypass_reason: Text | None = None


class SuggestedStreamsConfig(ConfigModel):
    """Setting a bypass_reason skips the metadata `suggestedStreams` check."""

    bypass_reason: Text | None = None


class UnsupportedFileTypeConfig(ConfigModel):
    """A file extension a file-based source does not support."""

    extension: Text
    bypass_reason: Text | None = None

    @field_validator("extension")
    @classmethod
    def _extension_format(cls, value: str) -> str:
        if not value.startswith(".") or len(value) < 2:
            raise rule(f"expected a file extension starting with '.', e.g. '.csv', got {value!r}")
        return value


class FileTypesConfig(ConfigModel):
    """`file_types` of basic_read (file-based connectors only)."""

    bypass_reason: Text | None = None
    unsupported_types: list[UnsupportedFileTypeConfig] | None = None
    skip_test: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.skip_test and self.unsupported_types:
            raise rule("unsupported_types cannot be set when skip_test is true")
        if not self.skip_test and self.bypass_reason is not None:
            raise rule("bypass_reason can only be set when skip_test is true")
        return self


class ExpectedRecordsConfig(ConfigModel):
    """`expect_records` of basic_read: a JSONL file of expected records, or why there is none."""

    path: Text | None = None
    bypass_reason: Text | None = None
    exact_order: bool = False
    # Both documented in the published reference (upstream code dropped them in Feb 2024): honoured.
    extra_fields: bool = False
    extra_records: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.path and self.bypass_reason:
            raise rule("set either path or bypass_reason, not both")
        if not self.path and not self.bypass_reason:
            raise rule("set path (a file of expected records) or bypass_reason (why there is none)")
        # The reference's table of supported combinations: extra_fields only with exact_order and no extra_records
        # (records without primary keys cannot be matched otherwise).
        if self.extra_fields and (not self.exact_order or self.extra_records):
            raise rule(
                "extra_fields: true is only supported with exact_order: true and extra_records: false "
                f"(got exact_order: {str(self.exact_order).lower()}, extra_records: {str(self.extra_records).lower()})"
            )
        return self


class ClientContainerConfig(ConfigModel):
    """A setup/teardown container run around tests (§1.8)."""

    client_container_dockerfile_path: Text | None = None
    secrets_path: Text | None = None
    setup_command: list[Text] | None = None
    teardown_command: list[Text] | None = None
    between_syncs_command: list[Text] | None = None
    final_teardown_command: list[Text] | None = None


class FutureStateCursorFormatStreamConfig(ConfigModel):
    """Expected cursor format (a regex) for one stream."""

    name: Text
    format: Regex | None = None


class FutureStateCursorFormatConfig(ConfigModel):
    """`future_state.cursor_format`: a default regex and per-stream overrides."""

    format: Regex | None = None
    streams: Annotated[list[FutureStateCursorFormatStreamConfig], default_when_null(list)] = Field(
        default_factory=list
    )


class FutureStateConfig(ConfigModel):
    """`future_state` of incremental: the abnormally-large-state test."""

    future_state_path: Text | None = None
    missing_streams: Annotated[list[EmptyStreamConfig], default_when_null(list)] = Field(default_factory=list)
    bypass_reason: Text | None = None
    cursor_format: Annotated[FutureStateCursorFormatConfig, default_when_null(FutureStateCursorFormatConfig)] = Field(
        default_factory=FutureStateCursorFormatConfig
    )
    # Deprecated (SAT-era cursor comparison): accepted, reported in notices, otherwise ignored.
    cursor_paths: dict[Text, list[Text]] | None = None
    threshold_days: NonNegativeInt = 0


# --------------------------------------------------------------------------------------------------------------
# Test entries: one entry = one parametrised run of every test in the suite


class SuiteEntry(ConfigModel):
    """Base of a suite's test entry. `location` names the entry's key path in the file once loaded."""

    _location: str = PrivateAttr(default="")

    @property
    def location(self) -> str:
        """Key path of this entry, e.g. ``acceptance_tests.connection.tests[1]`` (empty if built by hand)."""
        return self._location


class SpecTestConfig(SuiteEntry):
    """`spec` suite entry."""

    spec_path: Text = "secrets/spec.json"
    config_path: Text = "secrets/config.json"
    timeout_seconds: NonNegativeInt | None = None
    deployment_mode: DeploymentMode | None = None
    backward_compatibility_tests_config: Annotated[
        BackwardCompatibilityTestsConfig, default_when_null(BackwardCompatibilityTestsConfig)
    ] = Field(default_factory=BackwardCompatibilityTestsConfig)
    auth_default_method: OAuthTestConfig | None = None


class ConnectionTestConfig(SuiteEntry):
    """`connection` suite entry."""

    config_path: Text = "secrets/config.json"
    status: ConnectionStatus = "succeed"
    timeout_seconds: NonNegativeInt | None = None
    deployment_mode: DeploymentMode | None = None
    # Deprecated: the first SAT model (2021) had no `status`; each entry named an invalid config next to the valid one.
    # `status: failed` on an entry of its own replaced it. Accepted, reported in notices, otherwise ignored.
    invalid_config_path: Text | None = None


class DiscoveryTestConfig(SuiteEntry):
    """`discovery` suite entry."""

    config_path: Text = "secrets/config.json"
    timeout_seconds: NonNegativeInt | None = None
    deployment_mode: DeploymentMode | None = None
    backward_compatibility_tests_config: Annotated[
        BackwardCompatibilityTestsConfig, default_when_null(BackwardCompatibilityTestsConfig)
    ] = Field(default_factory=BackwardCompatibilityTestsConfig)
    validate_primary_keys_data_type: bool = True
    # Deprecated: in early SAT models and still listed by the published reference, but discovery never reads a
    # configured catalog. Accepted, reported in notices, otherwise ignored.
    configured_catalog_path: Text | None = None


class BasicReadTestConfig(SuiteEntry):
    """`basic_read` suite entry."""

    config_path: Text = "secrets/config.json"
    configured_catalog_path: Text | None = None
    timeout_seconds: NonNegativeInt | None = None
    deployment_mode: DeploymentMode | None = None
    # A list, not upstream's set: the order of the file is kept for messages; duplicates are harmless.
    empty_streams: Annotated[list[EmptyStreamConfig], default_when_null(list)] = Field(default_factory=list)
    expect_records: ExpectedRecordsConfig | None = None
    validate_schema: bool = True
    # Tri-state: None means "true for certified connectors, off otherwise" (§1.7 item 8).
    validate_stream_statuses: bool | None = None
    validate_state_messages: bool = True
    validate_primary_keys_data_type: bool = True
    fail_on_extra_columns: bool = True
    validate_data_points: bool = False
    expect_trace_message_on_failure: bool = True
    file_types: Annotated[FileTypesConfig, default_when_null(FileTypesConfig)] = Field(default_factory=FileTypesConfig)
    client_container_config: ClientContainerConfig | None = None
    # Documented by the published reference (upstream code dropped it in Feb 2024): honoured, no notice.
    ignored_fields: dict[Text, list[IgnoredFieldConfig]] | None = None
    # Deprecated: SAT before 0.1.13 (2021) checked "every stream has records" only when this was true; empty_streams
    # replaced it and that check is now always on. Accepted, reported in notices, otherwise ignored.
    validate_output_from_all_streams: bool = False


class FullRefreshConfig(SuiteEntry):
    """`full_refresh` suite entry."""

    config_path: Text = "secrets/config.json"
    configured_catalog_path: Text | None = None
    timeout_seconds: NonNegativeInt | None = None
    deployment_mode: DeploymentMode | None = None
    ignored_fields: dict[Text, list[IgnoredFieldConfig]] | None = None
    client_container_config: ClientContainerConfig | None = None


class IncrementalConfig(SuiteEntry):
    """`incremental` suite entry."""

    config_path: Text = "secrets/config.json"
    configured_catalog_path: Text | None = None
    timeout_seconds: NonNegativeInt | None = None
    deployment_mode: DeploymentMode | None = None
    future_state: FutureStateConfig | None = None
    skip_comprehensive_incremental_tests: Annotated[bool, default_when_null(lambda: False)] = False
    client_container_config: ClientContainerConfig | None = None
    # Deprecated: upstream had these at this level (not under future_state) before dropping them. Accepted at
    # both places, reported in notices, otherwise ignored.
    cursor_paths: dict[Text, list[Text]] | None = None
    threshold_days: NonNegativeInt = 0
    # Deprecated: the earliest SAT name of future_state_path (the abnormal-state file). Honoured, with a notice.
    state_path: Text | None = None

    @model_validator(mode="after")
    def _honour_state_path(self) -> Self:
        if self.state_path is None:
            return self
        if self.future_state is None:
            self.future_state = FutureStateConfig(future_state_path=self.state_path)
        elif self.future_state.future_state_path is None:
            self.future_state.future_state_path = self.state_path
        elif self.future_state.future_state_path != self.state_path:
            raise rule(
                "state_path (the old name of future_state_path) and future_state_path disagree; "
                "keep only future_state_path"
            )
        return self


class ConnectorAttributesConfig(SuiteEntry):
    """`connector_attributes` suite entry (certified connectors)."""

    config_path: Text = "secrets/config.json"
    timeout_seconds: NonNegativeInt | None = None
    streams_without_primary_key: list[NoPrimaryKeyConfig] | None = None
    allowed_hosts: AllowedHostsConfig | None = None
    suggested_streams: SuggestedStreamsConfig | None = None


class ConnectorDocumentationConfig(SuiteEntry):
    """`connector_documentation` suite entry (upstream: TestConnectorDocumentationConfig; renamed so pytest
    never tries to collect it as a test class)."""

    config_path: Text = "secrets/config.json"
    timeout_seconds: NonNegativeInt | None = None


EntryT = TypeVar("EntryT", bound=SuiteEntry)


class GenericTestConfig(ConfigModel, Generic[EntryT]):
    """A suite: either `tests` (one entry per parametrised run) or a `bypass_reason` skipping the whole suite.

    Unlike upstream, unknown keys here are errors too (upstream silently ignored them: a typo such as
    `bypass_reasons:` went unnoticed).
    """

    bypass_reason: Text | None = None
    tests: list[EntryT] | None = None
    _location: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _tests_or_bypass(self) -> Self:
        if self.tests and has_text(self.bypass_reason):
            raise rule("bypass_reason cannot be set together with tests")
        if self.tests is None and not has_text(self.bypass_reason):
            # Upstream crashed with a TypeError here; say what is missing instead.
            raise rule("set tests or bypass_reason")
        return self

    @property
    def location(self) -> str:
        """Key path of this suite, e.g. ``acceptance_tests.basic_read``."""
        return self._location

    @property
    def is_bypassed(self) -> bool:
        """True when the whole suite is skipped by its bypass_reason."""
        return has_text(self.bypass_reason)

    @property
    def entries(self) -> list[EntryT]:
        """The test entries (empty when bypassed or `tests: []`)."""
        return list(self.tests or [])


class AcceptanceTestConfigurations(ConfigModel):
    """`acceptance_tests`: one optional block per suite, plus the session-level client container."""

    spec: GenericTestConfig[SpecTestConfig] | None = None
    connection: GenericTestConfig[ConnectionTestConfig] | None = None
    discovery: GenericTestConfig[DiscoveryTestConfig] | None = None
    basic_read: GenericTestConfig[BasicReadTestConfig] | None = None
    full_refresh: GenericTestConfig[FullRefreshConfig] | None = None
    incremental: GenericTestConfig[IncrementalConfig] | None = None
    connector_attributes: GenericTestConfig[ConnectorAttributesConfig] | None = None
    connector_documentation: GenericTestConfig[ConnectorDocumentationConfig] | None = None
    # Only its final_teardown_command is used: once, at the end of the session.
    client_container_config: ClientContainerConfig | None = None


SUITE_ENTRY_MODELS: dict[str, type[SuiteEntry]] = {
    "spec": SpecTestConfig,
    "connection": ConnectionTestConfig,
    "discovery": DiscoveryTestConfig,
    "basic_read": BasicReadTestConfig,
    "full_refresh": FullRefreshConfig,
    "incremental": IncrementalConfig,
    "connector_attributes": ConnectorAttributesConfig,
    "connector_documentation": ConnectorDocumentationConfig,
}


def _stringify_env(value: object) -> object:
    """Environment values are strings; YAML gives numbers and booleans too."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return value  # pydantic reports "expected a mapping"
    result: dict[object, object] = {}
    for key, item in value.items():
        name = number_to_str(key)
        if isinstance(item, bool):
            # Upstream used str() ("True"); the YAML/JSON spelling is what the author wrote and what tools expect.
            result[name] = "true" if item else "false"
        elif item is None:
            result[name] = ""  # `FOO:` with no value: an empty variable, not the text "None" as upstream did
        else:
            result[name] = number_to_str(item)
    return result


class AcceptanceTestConfig(ConfigModel):
    """Root of `acceptance-test-config.yml`."""

    # Optional here (upstream: required): the local-process runner has no image.
    connector_image: Text | None = None
    acceptance_tests: AcceptanceTestConfigurations
    base_path: Text | None = None
    test_strictness_level: Annotated[StrictnessLevel, default_when_null(lambda: "low")] = "low"
    custom_environment_variables: Annotated[dict[Text, str], BeforeValidator(_stringify_env)] = Field(
        default_factory=dict
    )
    # The published reference's name; upstream's code spelled it `cache_discovered_catalog` (accepted, deprecated).
    cached_discovered_catalog: bool = True
    cache_discovered_catalog: bool | None = None

    @model_validator(mode="after")
    def _finish(self) -> Self:
        if self.cache_discovered_catalog is not None:
            if (
                "cached_discovered_catalog" in self.model_fields_set
                and self.cached_discovered_catalog != self.cache_discovered_catalog
            ):
                raise rule(
                    "cached_discovered_catalog and its old spelling cache_discovered_catalog disagree; "
                    "keep only cached_discovered_catalog"
                )
            self.cached_discovered_catalog = self.cache_discovered_catalog
        assign_locations(self, legacy=False)
        return self

    @property
    def is_high_strictness(self) -> bool:
        """True when `test_strictness_level: high`."""
        return self.test_strictness_level == "high"


def assign_locations(config: AcceptanceTestConfig, *, legacy: bool) -> None:
    """Record each suite's and entry's key path, as the user wrote it (legacy files say `tests.<suite>[i]`)."""
    for name in SUITE_NAMES:
        suite = getattr(config.acceptance_tests, name)
        if suite is None:
            continue
        suite._location = f"tests.{name}" if legacy else f"acceptance_tests.{name}"
        for index, entry in enumerate(suite.tests or []):
            entry._location = f"tests.{name}[{index}]" if legacy else f"acceptance_tests.{name}.tests[{index}]"


# Deprecated-but-accepted fields: model -> field -> what the notice says after the key path.
DEPRECATED_FIELDS: dict[type[BaseModel], dict[str, str]] = {
    AcceptanceTestConfig: {
        "cache_discovered_catalog": "is the old spelling of cached_discovered_catalog; it is honoured, "
        "but please rename it",
    },
    ConnectionTestConfig: {
        "invalid_config_path": "is deprecated and ignored (the first SAT format); to check that an invalid config "
        "fails, add a connection entry with that config_path and status: failed",
    },
    DiscoveryTestConfig: {
        "configured_catalog_path": "has no effect: discovery does not use a configured catalog (an early SAT key "
        "the published reference still lists)",
    },
    BasicReadTestConfig: {
        "validate_output_from_all_streams": "is deprecated and ignored (SAT 0.1.13 replaced it with empty_streams: "
        "every stream not listed in empty_streams must produce records)",
    },
    IncrementalConfig: {
        "cursor_paths": _IGNORED_NOTICE,
        "threshold_days": _IGNORED_NOTICE,
        "state_path": "is the old name of future_state.future_state_path; it is honoured, but please rename it",
    },
    FutureStateConfig: {"cursor_paths": _IGNORED_NOTICE, "threshold_days": _IGNORED_NOTICE},
}


def ignored_field_paths(entry: Any) -> dict[str, list[str]]:
    """An entry's `ignored_fields` as stream -> field paths (basic_read and full_refresh entries; else empty)."""
    configured = getattr(entry, "ignored_fields", None) or {}
    return {stream: [field.name for field in fields] for stream, fields in configured.items()}

