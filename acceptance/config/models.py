"""`acceptance-test-config.yml`: the models, the loader, and the strictness rules read from it.

The models follow upstream CAT's config (connector_acceptance_test/config.py) field for field, with the
published reference winning where the two disagree. Differences from upstream are deliberate and listed
where they happen (look for "upstream"). Loading never raises anything but `ConfigError`, whose
problems name the key path (``acceptance_tests.basic_read.tests[0].empty_streams[1].name``) and say
in plain words what was expected.

Public surface: the models, `SUITE_NAMES`, `MANDATORY_AT_HIGH`, `load_config` -> `LoadedConfig`,
`high_strictness_problems` and `unconfigured_mandatory_suites`.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, Self, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from acceptance.errors import ConfigError

CONFIG_FILE_NAME = "acceptance-test-config.yml"
# Upstream only ever read `.yml`; `.yaml` is accepted as a fallback because editors and people use both.
CONFIG_FILE_FALLBACK = "acceptance-test-config.yaml"

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
# The suites that must be configured (tests or a bypass_reason) at `high` strictness (§1.7 item 1).
MANDATORY_AT_HIGH: tuple[str, ...] = SUITE_NAMES[:6]

LEGACY_NOTICE = "legacy `tests:` format, migrated; consider `acceptance_tests:`"
_IGNORED_NOTICE = "is deprecated and ignored (upstream CAT dropped it)"


# --------------------------------------------------------------------------------------------------------------
# Small building blocks


def _rule(message: str) -> PydanticCustomError:
    """A validation error whose message is shown verbatim (the template indirection keeps braces safe)."""
    return PydanticCustomError("config_rule", "{message}", {"message": message})


def _has_text(value: str | None) -> bool:
    """True when a free-text field (a bypass_reason) actually says something."""
    return bool(value and value.strip())


def _number_to_str(value: object) -> object:
    # Upstream used pydantic v1, which turned YAML numbers into strings; v2 refuses them. Without this,
    # an unquoted `disable_for_version: 1.2` or a stream named `2023` would stop loading.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _reject_bool(value: object) -> object:
    # pydantic v2 takes `true` as the integer 1 in lax mode; `timeout_seconds: true` is a mistake, not 1 s.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _default_when_null(factory: Callable[[], Any]) -> BeforeValidator:
    """Treat an explicit YAML null (`key:` with nothing after it) like an absent key for defaulted fields."""
    return BeforeValidator(lambda value: factory() if value is None else value)


Text = Annotated[str, BeforeValidator(_number_to_str)]
NonNegativeInt = Annotated[int, BeforeValidator(_reject_bool), Field(ge=0)]
DeploymentMode = Literal["cloud", "oss"]
StrictnessLevel = Literal["low", "high"]
ConnectionStatus = Literal["succeed", "failed", "exception"]

# Upstream's version grammar: MAJOR[.MINOR[.PATCH]][-PRERELEASE] (prerelease needs at least MINOR).
# Upstream matched it as a prefix (so "1abc" passed); we require the whole string to match.
_VERSION = re.compile(r"(0|[1-9]\d*)(\.(0|[1-9]\d*)(\.(0|[1-9]\d*))?(-\w[\w.\-]*)?)?")


def _check_version(value: str, *, allow_latest: bool) -> str:
    if allow_latest and value == "latest":
        return value
    if not _VERSION.fullmatch(value):
        expected = "'latest' or a version like 1.2.3" if allow_latest else "a version like 1.2.3"
        raise _rule(f"expected {expected}, got {value!r}")
    return value


def _check_regex(value: str) -> str:
    """Cursor formats are regular expressions; a broken one should fail at load time, not mid-test."""
    try:
        re.compile(value)
    except re.error as exc:
        raise _rule(f"not a valid regular expression ({exc}): {value!r}") from None
    except (RecursionError, OverflowError):  # e.g. a thousand nested groups: too deep for the regex parser
        raise _rule(f"not a valid regular expression (too deeply nested or too large): {value[:40]!r}") from None
    return value


Regex = Annotated[Text, AfterValidator(_check_regex)]


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
        return _check_version(value, allow_latest=True)

    @field_validator("disable_for_version")
    @classmethod
    def _disable_version(cls, value: str | None) -> str | None:
        return None if value is None else _check_version(value, allow_latest=False)


class OAuthTestConfig(ConfigModel):
    """`auth_default_method`: is OAuth the default auth method of the spec?"""

    oauth: bool = True
    bypass_reason: Text | None = None

    @model_validator(mode="after")
    def _bypass_when_not_oauth(self) -> Self:
        if self.oauth is False and not _has_text(self.bypass_reason):
            raise _rule("oauth: false requires a bypass_reason saying why OAuth is not the default auth method")
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
            raise _rule(f"expected a file extension starting with '.', e.g. '.csv', got {value!r}")
        return value


class FileTypesConfig(ConfigModel):
    """`file_types` of basic_read (file-based connectors only)."""

    bypass_reason: Text | None = None
    unsupported_types: list[UnsupportedFileTypeConfig] | None = None
    skip_test: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.skip_test and self.unsupported_types:
            raise _rule("unsupported_types cannot be set when skip_test is true")
        if not self.skip_test and self.bypass_reason is not None:
            raise _rule("bypass_reason can only be set when skip_test is true")
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
            raise _rule("set either path or bypass_reason, not both")
        if not self.path and not self.bypass_reason:
            raise _rule("set path (a file of expected records) or bypass_reason (why there is none)")
        # The reference's table of supported combinations: extra_fields only with exact_order and no extra_records
        # (records without primary keys cannot be matched otherwise).
        if self.extra_fields and (not self.exact_order or self.extra_records):
            raise _rule(
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
    streams: Annotated[list[FutureStateCursorFormatStreamConfig], _default_when_null(list)] = Field(
        default_factory=list
    )


class FutureStateConfig(ConfigModel):
    """`future_state` of incremental: the abnormally-large-state test."""

    future_state_path: Text | None = None
    missing_streams: Annotated[list[EmptyStreamConfig], _default_when_null(list)] = Field(default_factory=list)
    bypass_reason: Text | None = None
    cursor_format: Annotated[FutureStateCursorFormatConfig, _default_when_null(FutureStateCursorFormatConfig)] = Field(
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
        BackwardCompatibilityTestsConfig, _default_when_null(BackwardCompatibilityTestsConfig)
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
        BackwardCompatibilityTestsConfig, _default_when_null(BackwardCompatibilityTestsConfig)
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
    empty_streams: Annotated[list[EmptyStreamConfig], _default_when_null(list)] = Field(default_factory=list)
    expect_records: ExpectedRecordsConfig | None = None
    validate_schema: bool = True
    # Tri-state: None means "true for certified connectors, off otherwise" (§1.7 item 8).
    validate_stream_statuses: bool | None = None
    validate_state_messages: bool = True
    validate_primary_keys_data_type: bool = True
    fail_on_extra_columns: bool = True
    validate_data_points: bool = False
    expect_trace_message_on_failure: bool = True
    file_types: Annotated[FileTypesConfig, _default_when_null(FileTypesConfig)] = Field(default_factory=FileTypesConfig)
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
    skip_comprehensive_incremental_tests: Annotated[bool, _default_when_null(lambda: False)] = False
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
            raise _rule(
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
        if self.tests and _has_text(self.bypass_reason):
            raise _rule("bypass_reason cannot be set together with tests")
        if self.tests is None and not _has_text(self.bypass_reason):
            # Upstream crashed with a TypeError here; say what is missing instead.
            raise _rule("set tests or bypass_reason")
        return self

    @property
    def location(self) -> str:
        """Key path of this suite, e.g. ``acceptance_tests.basic_read``."""
        return self._location

    @property
    def is_bypassed(self) -> bool:
        """True when the whole suite is skipped by its bypass_reason."""
        return _has_text(self.bypass_reason)

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
        name = _number_to_str(key)
        if isinstance(item, bool):
            # Upstream used str() ("True"); the YAML/JSON spelling is what the author wrote and what tools expect.
            result[name] = "true" if item else "false"
        elif item is None:
            result[name] = ""  # `FOO:` with no value: an empty variable, not the text "None" as upstream did
        else:
            result[name] = _number_to_str(item)
    return result


class AcceptanceTestConfig(ConfigModel):
    """Root of `acceptance-test-config.yml`."""

    # Optional here (upstream: required): the local-process runner has no image.
    connector_image: Text | None = None
    acceptance_tests: AcceptanceTestConfigurations
    base_path: Text | None = None
    test_strictness_level: Annotated[StrictnessLevel, _default_when_null(lambda: "low")] = "low"
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
                raise _rule(
                    "cached_discovered_catalog and its old spelling cache_discovered_catalog disagree; "
                    "keep only cached_discovered_catalog"
                )
            self.cached_discovered_catalog = self.cache_discovered_catalog
        _assign_locations(self, legacy=False)
        return self

    @property
    def is_high_strictness(self) -> bool:
        """True when `test_strictness_level: high`."""
        return self.test_strictness_level == "high"


def _assign_locations(config: AcceptanceTestConfig, *, legacy: bool) -> None:
    """Record each suite's and entry's key path, as the user wrote it (legacy files say `tests.<suite>[i]`)."""
    for name in SUITE_NAMES:
        suite = getattr(config.acceptance_tests, name)
        if suite is None:
            continue
        suite._location = f"tests.{name}" if legacy else f"acceptance_tests.{name}"
        for index, entry in enumerate(suite.tests or []):
            entry._location = f"tests.{name}[{index}]" if legacy else f"acceptance_tests.{name}.tests[{index}]"


# Deprecated-but-accepted fields: model -> field -> what the notice says after the key path.
_DEPRECATED_FIELDS: dict[type[BaseModel], dict[str, str]] = {
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


# --------------------------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config file, with its paths resolved and the notices to show the user."""

    file: Path
    config: AcceptanceTestConfig
    base_path: Path
    notices: list[str] = field(default_factory=list)
    legacy: bool = False

    @property
    def directory(self) -> Path:
        """The directory holding the config file."""
        return self.file.parent

    @property
    def test_strictness_level(self) -> StrictnessLevel:
        """`low` or `high`."""
        return self.config.test_strictness_level

    def suite(self, name: str) -> GenericTestConfig[Any] | None:
        """The suite block `name` (one of SUITE_NAMES), or None when the file does not configure it."""
        if name not in SUITE_NAMES:
            raise ValueError(f"unknown suite {name!r}; expected one of: {', '.join(SUITE_NAMES)}")
        return getattr(self.config.acceptance_tests, name)

    def entries(self, name: str) -> list[Any]:
        """The test entries of suite `name` (empty when absent or bypassed)."""
        suite = self.suite(name)
        return suite.entries if suite is not None else []

    def resolve(self, relative_path: str | Path) -> Path:
        """A path from the config, resolved against base_path (absolute paths are kept as they are)."""
        path = Path(relative_path)
        return path if path.is_absolute() else self.base_path / path


def load_config(directory: Path | str) -> LoadedConfig:
    """Load and validate `<directory>/acceptance-test-config.yml` (or `.yaml`).

    `directory` may also be the config file itself. Raises ConfigError (only) for anything wrong.
    """
    file = _find_config_file(Path(directory))
    raw = read_yaml(file)
    if raw is None:
        raise ConfigError(file, [("", "the file is empty; expected a mapping with at least `acceptance_tests:`")])
    if not isinstance(raw, dict):
        raise ConfigError(
            file,
            [("", f"expected a mapping (key: value pairs) at the top level, {_describe(raw)}")],
        )

    notices: list[str] = []
    legacy = "tests" in raw
    try:
        if legacy:
            raw = _migrate_legacy(file, raw)
            notices.append(LEGACY_NOTICE)
        config = AcceptanceTestConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(file, _problems(exc, raw, legacy=legacy)) from None
    except RecursionError:  # copying or validating values nested thousands deep
        raise ConfigError(file, [("", TOO_DEEP)]) from None

    if legacy:
        _assign_locations(config, legacy=True)
    notices.extend(
        f"{_legacy_path(path) if legacy else path} {what}" for path, what in _deprecated_fields_set(config, ())
    )

    directory_path = file.parent
    base_path = directory_path / config.base_path if config.base_path else directory_path
    try:
        resolved = base_path.resolve()
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        raise ConfigError(file, [("base_path", f"not a usable path ({exc}): {config.base_path!r}")]) from None
    return LoadedConfig(file=file, config=config, base_path=resolved, notices=notices, legacy=legacy)


def _find_config_file(path: Path) -> Path:
    path = path.expanduser().resolve()
    if path.is_file():
        return path
    candidates = [path / CONFIG_FILE_NAME, path / CONFIG_FILE_FALLBACK]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if candidates[0].is_dir():
        raise ConfigError(candidates[0], [("", "is a folder; expected the YAML file")])
    where = "" if path.is_dir() else f"; the directory {path} does not exist"
    message = f"file not found: expected {candidates[0]} (or {CONFIG_FILE_FALLBACK} beside it){where}"
    raise ConfigError(candidates[0], [("", message)])


TOO_DEEP = "nested too deeply to read (hundreds of levels or more)"
# libyaml recurses in C: a document nested some 30,000 levels deep overflows the stack and kills the process (a
# segfault, no exception). Every level needs one of these characters, so a text with few of them is safe for it;
# the rare text with many goes to the pure-Python loader, which raises RecursionError instead.
_NESTING_CHARACTERS = "[{-?:"
_C_LOADER_MAX_NESTING = 5_000


def read_yaml(file: Path) -> object:
    """The plain data of a YAML file (safe loader); anything wrong is a ConfigError naming the file and line."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(file, [("", f"cannot read the file: {reason}")]) from None
    try:
        return yaml.load(text, Loader=_loader_for(text))  # a safe loader: plain data only
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(file, [("", _yaml_syntax_problem(exc, text))]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses (NUL, other control characters)
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)  # libyaml gives the code
        problem = f"YAML syntax error at line {line}: the character U+{code:04X} is not allowed (a control character?)"
        raise ConfigError(file, [("", problem)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, [("", f"YAML syntax error: {exc}")]) from None
    except RecursionError:
        raise ConfigError(file, [("", TOO_DEEP)]) from None
    except ValueError as exc:  # a value YAML accepts but Python cannot build: 2023-02-30, a 5,000-digit number
        raise ConfigError(file, [("", f"a value cannot be read: {exc}")]) from None


def _loader_for(text: str) -> type:
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None and sum(text.count(c) for c in _NESTING_CHARACTERS) <= _C_LOADER_MAX_NESTING:
        return fast  # type: ignore[no-any-return]
    return yaml.SafeLoader


def _yaml_syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> str:
    """'YAML syntax error at line L, column C: <problem>', with the likely cause when it is a tab or an unclosed
    bracket."""
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    if mark and mark.line < len(lines) and lines[mark.line][mark.column:mark.column + 1] == "\t":
        problem += " (a tab: YAML indents with spaces only)"
    elif exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        opened = exc.context_mark
        problem += f" ({exc.context} started at line {opened.line + 1}, column {opened.column + 1})"
    return f"YAML syntax error{where}: {problem}"


def _migrate_legacy(file: Path, raw: dict[Any, Any]) -> dict[Any, Any]:
    """Rewrite the pre-v0.2.12 `tests:` layout into the current one (§1.6 steps 1–4)."""
    legacy_tests = raw["tests"]
    if "acceptance_tests" in raw:
        # Upstream silently dropped `acceptance_tests` in this case; losing half the file deserves an error.
        raise ConfigError(
            file, [("tests", "the legacy `tests:` key cannot be combined with `acceptance_tests:`; keep one")]
        )
    if not isinstance(legacy_tests, dict):
        raise ConfigError(
            file, [("tests", f"expected a mapping of suite name to a list of test entries, {_describe(legacy_tests)}")]
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


def _legacy_path(path: str) -> str:
    """Map a key path of the migrated config back to where it sits in a legacy file."""
    path = re.sub(r"^acceptance_tests\.(\w+)\.tests(?=\[|$)", r"tests.\1", path)
    return re.sub(r"^acceptance_tests(?=\.|$)", "tests", path)


def _deprecated_fields_set(model: BaseModel, keys: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
    """(key path, notice text) for every deprecated field the file actually sets, anywhere in the tree."""
    deprecated = _DEPRECATED_FIELDS.get(type(model), {})
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in deprecated and name in model.model_fields_set:
            yield _render_path((*keys, name)), deprecated[name]
        yield from _deprecated_in_value(value, (*keys, name))


def _deprecated_in_value(value: object, keys: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
    if isinstance(value, BaseModel):
        yield from _deprecated_fields_set(value, keys)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _deprecated_in_value(item, (*keys, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _deprecated_in_value(item, (*keys, key))


# --------------------------------------------------------------------------------------------------------------
# Turning pydantic errors into (key path, plain message) pairs

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def _render_path(keys: tuple[Any, ...] | list[Any]) -> str:
    """('a', 'b', 0, 'c') -> 'a.b[0].c'; odd keys (spaces, dots) are quoted: a["my stream"]."""
    out = ""
    for key in keys:
        if isinstance(key, int) and not isinstance(key, bool):
            out += f"[{key}]"
        elif _PLAIN_KEY.fullmatch(str(key)):
            out += f".{key}" if out else str(key)
        else:
            out += f'["{key}"]'
    return out


def _real_keys(loc: tuple[Any, ...], data: object) -> list[Any]:
    """Keep the loc elements that are real keys/indexes of the input; drop pydantic's type tags."""
    keys: list[Any] = []
    node = data
    for position, element in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(node, dict) and element in node:
            keys.append(element)
            node = node[element]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            keys.append(element)
            node = node[element]
        elif element == "[key]":
            continue  # pydantic's marker for "the key itself is invalid"
        elif last and isinstance(element, str):
            keys.append(element)  # a missing key
            node = None
        # anything else is a tag such as 'function-after[...]' or a union member name
    return keys


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] layers."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _model_at(keys: list[Any]) -> type[BaseModel] | None:
    """The model class found at a key path of the root model (None if the path does not lead to a model)."""
    annotation: Any = AcceptanceTestConfig
    for key in keys:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(key) if isinstance(key, str) else None
            if info is None:
                return None
            annotation = info.annotation
        elif origin is list and isinstance(key, int):
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _allowed_keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    deprecated = _DEPRECATED_FIELDS.get(model, {})
    return sorted(name for name in model.model_fields if name not in deprecated)


_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (bytes, "binary data"),
    (list, "a list"),
    (dict, "a mapping"),
)


def _describe(value: object) -> str:
    """'got a string ('abc')': the kind of a value, and the value itself when it is a short scalar."""
    if value is None:
        return "got nothing (null)"
    kind = next((name for cls, name in _KINDS if isinstance(value, cls)), f"a {type(value).__name__}")
    if isinstance(value, bool):
        return f"got {kind} ({str(value).lower()})"
    if isinstance(value, (int, float, str)):
        shown = repr(value)
        return f"got {kind} ({shown})" if len(shown) <= 40 else f"got {kind}"
    return f"got {kind}"


_EXPECTED_KIND = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "string_type": "a string",
    "string_unicode": "a string",
    "list_type": "a list",
    "dict_type": "a mapping (key: value pairs)",
    "model_type": "a mapping (key: value pairs)",
    "model_attributes_type": "a mapping (key: value pairs)",
}


def _message(error: Any, keys: list[Any]) -> str:
    """A plain-words message for one pydantic error (never pydantic's own wording when we can do better)."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_keys(_model_at(keys[:-1]))
        message = f"unknown key '{keys[-1]}'; allowed keys: {', '.join(allowed)}"
        close = difflib.get_close_matches(str(keys[-1]), allowed, n=1)
        return f"{message}; did you mean '{close[0]}'?" if close else message
    if kind == "missing":
        return "required"
    if kind == "invalid_key":
        quote = f"; write it in quotes: '{value}'" if value is not None else ""
        return f"keys must be strings, {_describe(value)}{quote}"
    if kind == "finite_number":
        return f"expected a finite number, {_describe(value)}"
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"keys must be strings, {_describe(value)}"
    if kind in _EXPECTED_KIND:
        return f"expected {_EXPECTED_KIND[kind]}, {_describe(value)}"
    if kind in ("literal_error", "enum"):
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"expected one of: {', '.join(options)}; {_describe(value)}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, {_describe(value)}"
    if kind == "config_rule":
        return str(error["msg"])
    return re.sub(r"^(Value|Assertion) error, ", "", str(error["msg"]))


def validation_problems(exc: ValidationError, data: object) -> list[tuple[str, str]]:
    """(key path, plain message) pairs for a pydantic error on `data`: for other YAML files (metadata.yaml)."""
    return _problems(exc, data, legacy=False)


def _problems(exc: ValidationError, data: object, *, legacy: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False):
        keys = _real_keys(tuple(error["loc"]), data)
        if error["type"] == "invalid_key":  # the key itself is at fault: name the mapping holding it
            keys = keys[:-1]
        path = _render_path(keys)
        problem = (_legacy_path(path) if legacy else path, _message(error, keys))
        if problem not in problems:
            problems.append(problem)
    return problems


# --------------------------------------------------------------------------------------------------------------
# Strictness rules that depend on the config alone (the tests that need them fail; loading never does)

_AT_HIGH = "at test_strictness_level high"


def unconfigured_mandatory_suites(loaded: LoadedConfig) -> list[str]:
    """§1.7 item 1: mandatory suites with neither tests nor a bypass_reason ([] unless the level is high)."""
    if not loaded.config.is_high_strictness:
        return []
    return [name for name in MANDATORY_AT_HIGH if loaded.suite(name) is None]


def ignored_field_paths(entry: Any) -> dict[str, list[str]]:
    """An entry's `ignored_fields` as stream -> field paths (basic_read and full_refresh entries; else empty)."""
    configured = getattr(entry, "ignored_fields", None) or {}
    return {stream: [field.name for field in fields] for stream, fields in configured.items()}


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
        if not _has_text(stream.bypass_reason)
    ]
    problems += _ignored_fields_problems(entry.ignored_fields, where)
    records = entry.expect_records
    if records is None:
        problems.append(
            f"{where}.expect_records: required {_AT_HIGH}; set expect_records.path "
            "(declare streams without records in empty_streams) or expect_records.bypass_reason"
        )
    elif not records.path and not _has_text(records.bypass_reason):
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
        f"{where}.{_render_path(('ignored_fields', stream, index))}: ignored field '{item.name}' "
        f"needs a bypass_reason {_AT_HIGH}"
        for stream, items in (ignored or {}).items()
        for index, item in enumerate(items)
        if not _has_text(item.bypass_reason)
    ]


def _future_state_problems(entry: IncrementalConfig, where: str) -> list[str]:
    future_state = entry.future_state
    if future_state is None:
        return [
            f"{where}.future_state: required {_AT_HIGH}; set future_state.future_state_path "
            "or future_state.bypass_reason"
        ]
    problems = []
    if not future_state.future_state_path and not _has_text(future_state.bypass_reason):
        problems.append(f"{where}.future_state: set future_state_path or bypass_reason {_AT_HIGH}")
    problems += [
        f"{where}.future_state.missing_streams[{index}]: missing stream '{stream.name}' needs a bypass_reason "
        f"{_AT_HIGH}"
        for index, stream in enumerate(future_state.missing_streams)
        if not _has_text(stream.bypass_reason)
    ]
    return problems
