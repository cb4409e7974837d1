"""Loading `acceptance-test-config.yml`: finding the file, reading and migrating it, validating it into a
`LoadedConfig` with its paths resolved and the notices to show (legacy format, deprecated fields).

Loading never raises anything but `ConfigError`, whose problems name the key path
(``acceptance_tests.basic_read.tests[0].empty_streams[1].name``) and say in plain words what was expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from acceptance.config.field_types import StrictnessLevel
from acceptance.config.legacy import LEGACY_NOTICE, migrate_legacy
from acceptance.config.models import (
    DEPRECATED_FIELDS,
    SUITE_NAMES,
    AcceptanceTestConfig,
    GenericTestConfig,
    assign_locations,
)
from acceptance.config.problems import describe, legacy_path, problems, render_path
from acceptance.config.yaml_files import TOO_DEEP, read_yaml
from acceptance.errors import ConfigError

CONFIG_FILE_NAME = "acceptance-test-config.yml"
# Upstream only ever read `.yml`; `.yaml` is accepted as a fallback because editors and people use both.
CONFIG_FILE_FALLBACK = "acceptance-test-config.yaml"


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
            [("", f"expected a mapping (key: value pairs) at the top level, {describe(raw)}")],
        )

    notices: list[str] = []
    legacy = "tests" in raw
    try:
        if legacy:
            raw = migrate_legacy(file, raw)
            notices.append(LEGACY_NOTICE)
        config = AcceptanceTestConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(file, problems(exc, raw, legacy=legacy)) from None
    except RecursionError:  # copying or validating values nested thousands deep
        raise ConfigError(file, [("", TOO_DEEP)]) from None

    if legacy:
        assign_locations(config, legacy=True)
    notices.extend(
        f"{legacy_path(path) if legacy else path} {what}" for path, what in _deprecated_fields_set(config, ())
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


def _deprecated_fields_set(model: BaseModel, keys: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
    """(key path, notice text) for every deprecated field the file actually sets, anywhere in the tree."""
    deprecated = DEPRECATED_FIELDS.get(type(model), {})
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in deprecated and name in model.model_fields_set:
            yield render_path((*keys, name)), deprecated[name]
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
