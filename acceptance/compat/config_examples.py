"""Backward compatibility by example: configs generated from the previous spec must validate against the current one.

The structural diff (`acceptance.compat.differences.diff_specs`) compares keywords; it cannot tell whether a
lowered `maximum`, a tightened `pattern` or a new `allOf` rejects a config that a user saved with the previous version.
Here configs are generated from the previous connectionSpecification (acceptance.compat.config_generation) and
validated against the current one the way a connector does (Draft 7, no format checking, top-level `_` keys such as
the CDK's `_limit` / `_page_size` dropped first).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from acceptance.compat.config_generation import (
    MAX_SHOWN_CONSTRAINT,
    TIME_BUDGET_SECONDS,
    WANTED,
    declared_names,
    describe,
    generate_configs,
    schema_problem,
)
from acceptance.compat.differences import CompatInputError, Difference, connection_specification
from acceptance.protocol.jsonschema_helpers import pointer

RULE = "previous config rejected"
# Keywords whose value is a sub-schema: an error there is described by its own sub-errors, not by the value.
DESCRIBED_BY_SUBERRORS = {"properties", "patternProperties", "items", "additionalItems", "allOf", "not", "if", "then",
                          "else", "dependencies", "contains", "propertyNames", "definitions"}


@dataclass(frozen=True)
class ExamplesOutcome:
    """What validating generated previous-version configs against the current spec found."""

    differences: list[Difference]
    generated: int
    note: str | None


# --------------------------------------------------------------------------------------------------- public API


def previous_configs_rejected(previous_spec: dict[str, Any], current_spec: dict[str, Any], *,
                              examples: int = WANTED, seconds: float = TIME_BUDGET_SECONDS) -> ExamplesOutcome:
    """Generate up to `examples` distinct configs from the previous spec and validate them against the current one.

    One breaking Difference per distinct (config location, failed keyword, current-spec location), counting the
    configs it rejected. Never raises: a spec that cannot be generated from gives generated=0 and a note.
    """
    try:
        previous, current = connection_specification(previous_spec), connection_specification(current_spec)
    except CompatInputError as error:
        return ExamplesOutcome([], 0, f"not a spec: {error}")
    problem = schema_problem(previous, "previous") or schema_problem(current, "current")
    if problem:
        return ExamplesOutcome([], 0, problem)
    configs, note = generate_configs(previous, examples=examples, seconds=seconds)
    try:
        differences = _rejections(configs, Draft7Validator(current), declared_names(previous, current))
    except Exception as error:  # a pattern Python cannot compile, an unresolvable $ref...
        return ExamplesOutcome([], len(configs), f"the current spec cannot validate configs: {describe(error)}")
    return ExamplesOutcome(differences, len(configs), note)


# --------------------------------------------------------------------------------------------------- validation


def _rejections(configs: list[dict[str, Any]], current: Draft7Validator, names: frozenset[str]) -> list[Difference]:
    """One breaking Difference per distinct (config location, keyword, current-spec location), with its count."""
    counts: dict[tuple[str, str, str], int] = {}
    details: dict[tuple[str, str, str], str] = {}
    for config in configs:
        visible = {key: value for key, value in config.items() if not key.startswith("_")}
        found: dict[tuple[str, str, str], str] = {}
        for error in current.iter_errors(visible):
            for specific in _specific(error):
                found.update(_groups(specific, names))
        for key, detail in found.items():
            counts[key] = counts.get(key, 0) + 1
            details.setdefault(key, detail)
    return [Difference(rule=RULE, path=key[0], breaking=True, message=_message(key, details[key], count, len(configs)))
            for key, count in sorted(counts.items())]


def _specific(error: ValidationError) -> list[ValidationError]:
    """The errors worth reporting for one failure. A failed oneOf / anyOf becomes the errors of the one variant the
    config selects (every other variant fails on a `const` / `enum` property such as auth_type, or on the type), so
    a lowered maximum inside an auth variant reads as that maximum rather than as "no variant accepts it"."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    by_variant: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        by_variant.setdefault(sub.relative_schema_path[0], []).append(sub)
    selected = [subs for subs in by_variant.values() if not any(_rules_out(sub) for sub in subs)]
    if len(selected) != 1:
        return [error]
    return [found for sub in selected[0] for found in _specific(sub)]


def _rules_out(error: ValidationError) -> bool:
    """Whether a variant's error says the config is not meant for that variant at all."""
    depth = len(error.relative_path)
    return (error.validator in ("const", "enum") and depth == 1) or (error.validator == "type" and depth == 0)


def _groups(error: ValidationError, names: frozenset[str]) -> Iterator[tuple[tuple[str, str, str], str]]:
    """(config pointer, keyword, schema pointer) and a value-free detail for one validation error. Array indexes and
    undeclared (generated) keys read `*`, so the same failure in different configs lands in one group."""
    where = tuple("*" if isinstance(part, int) or part not in names else part for part in error.absolute_path)
    schema_at = pointer(tuple(error.absolute_schema_path))
    keyword = str(error.validator)
    if keyword == "required" and isinstance(error.instance, dict) and isinstance(error.validator_value, list):
        for name in error.validator_value:
            if isinstance(name, str) and name not in error.instance:
                yield (pointer((*where, name)), keyword, schema_at), f" ('{name}' missing)"
        return
    yield (pointer(where), keyword, schema_at), _constraint(error)


def _constraint(error: ValidationError) -> str:
    """The constraint that failed, from the current spec (never the config's value, which may be a secret)."""
    if error.validator == "oneOf":
        return " (no variant accepts it)" if error.context else " (more than one variant accepts it)"
    if error.validator == "anyOf":
        return " (no variant accepts it)"
    if error.validator in DESCRIBED_BY_SUBERRORS or isinstance(error.validator_value, dict):
        return ""
    shown = json.dumps(error.validator_value, ensure_ascii=False)
    return f" ({shown})" if len(shown) <= MAX_SHOWN_CONSTRAINT else ""


def _message(key: tuple[str, str, str], detail: str, count: int, total: int) -> str:
    _, keyword, schema_at = key
    return (f"{count} of {total} configs valid for the previous spec fail '{keyword}'{detail} at {schema_at} "
            f"in the current spec")
