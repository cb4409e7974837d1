"""The spec as one document: connectionSpecification is a valid Draft-7 schema, the config validates against it,
and the whole spec equals the expected one (e.g. the connector's spec.json).

`check_spec_is_valid_json_schema` reports pointers inside connectionSpecification, `check_spec_matches_expected`
pointers inside the whole spec, `check_config_matches_spec` pointers inside the config (config values never appear
in messages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from airbyte_protocol.models import ConnectorSpecification
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from pydantic import ValidationError as ModelError

from acceptance.checks.spec_json import Spec, json_equal, json_text, shorten
from acceptance.findings import Finding
from acceptance.protocol.jsonschema_helpers import JsonPath, json_type, pointer

MAX_DIFF_PATHS = 20

# Like Draft7Validator.check_schema: the meta-schema with format checking, so a bad `pattern` regex is reported.
_META_VALIDATOR = Draft7Validator(Draft7Validator.META_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)


def check_spec_is_valid_json_schema(spec: Spec) -> list[Finding]:
    """connectionSpecification is an object and a valid Draft-7 JSON schema."""
    schema = spec.get("connectionSpecification") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        return [Finding("spec_is_valid_json_schema",
                        f"connectionSpecification must be a JSON schema object, got {_type_name(schema)}")]
    return [
        Finding("spec_is_valid_json_schema",
                f"connectionSpecification is not a valid Draft-7 schema: {shorten(error.message)} "
                f"(meta-schema validator {error.validator!r})",
                pointer(error.absolute_path))
        for error in sorted(_META_VALIDATOR.iter_errors(schema), key=_error_sort_key)
    ]


def check_config_matches_spec(spec: Spec, config: Any) -> list[Finding]:
    """The config (top-level keys starting with `_` removed) validates against connectionSpecification.

    Draft 7, format checking off. One finding per validation error, naming the config key path and the validator
    keyword, never the value found in the config.
    """
    schema = spec.get("connectionSpecification") if isinstance(spec, dict) else None
    if not isinstance(schema, dict) or not _META_VALIDATOR.is_valid(schema):
        return [Finding("config_matches_spec",
                        "spec is not a valid JSON schema, so the config cannot be validated against it "
                        "(see check spec_is_valid_json_schema)")]
    if isinstance(config, dict):
        config = {key: value for key, value in config.items() if not (isinstance(key, str) and key.startswith("_"))}
    validator = Draft7Validator(schema)  # no format_checker: formats are annotations only, as upstream
    return [
        Finding("config_matches_spec", _describe_config_error(error), pointer(error.absolute_path))
        for error in sorted(validator.iter_errors(config), key=_error_sort_key)
    ]


def check_spec_matches_expected(spec: Spec, expected: Spec) -> list[Finding]:
    """The spec equals the expected spec (e.g. the connector's spec.json) as a whole.

    Both sides are first normalised through the protocol's ConnectorSpecification model when they parse (so an
    omitted `supportsDBT` equals an explicit `false`, as in upstream's model equality); then compared as JSON.
    Reports up to MAX_DIFF_PATHS differing paths, each added, removed or changed.
    """
    actual_doc, expected_doc = _normalise_spec(spec), _normalise_spec(expected)
    if actual_doc is None or expected_doc is None:  # compare like with like: raw JSON unless both parse
        actual_doc, expected_doc = spec, expected
    differences = list(_diff(expected_doc, actual_doc, ()))
    findings = [
        Finding("spec_matches_expected", message, pointer(path))
        for path, message in differences[:MAX_DIFF_PATHS]
    ]
    if len(differences) > MAX_DIFF_PATHS:
        findings.append(Finding("spec_matches_expected",
                                f"… and {len(differences) - MAX_DIFF_PATHS} more differing paths between the actual "
                                "spec and the expected spec"))
    return findings


def _describe_config_error(error: ValidationError) -> str:
    """What failed, by key path and validator keyword; built from the schema side only, never the config value."""
    path = list(error.absolute_path)
    subject = f"{path[-1]!r} at {pointer(path)}" if path else "config at /"
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        detail = f"expected type {' or '.join(expected) if isinstance(expected, list) else expected}, got " \
                 f"{json_type(instance)}"
    elif keyword == "required" and error.message.endswith(" is a required property"):
        # jsonschema raises one error per missing name; its message holds only that (schema-side) name.
        detail = f"missing required property {error.message.removesuffix(' is a required property')}"
    elif keyword == "additionalProperties" and isinstance(instance, dict):
        extra = _undeclared_keys(instance, error.schema if isinstance(error.schema, dict) else {})
        detail = f"unexpected propert{'y' if len(extra) == 1 else 'ies'} {', '.join(map(repr, extra))} " \
                 "(additionalProperties is false)"
    elif keyword == "enum":
        detail = f"expected one of {json_text(expected)}"
    elif keyword == "const":
        detail = f"expected the constant {json_text(expected)}"
    elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        words = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<",
                 "multipleOf": "a multiple of"}[keyword]
        detail = f"expected a number {words} {json_text(expected)}"
    elif keyword in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
        bound = "at least" if keyword.startswith("min") else "at most"
        unit = {"Length": "characters", "Items": "items", "Properties": "properties"}[keyword[3:]]
        detail = f"expected {bound} {json_text(expected)} {unit}"
    elif keyword == "pattern":
        detail = f"expected a string matching {json_text(expected)}"
    elif keyword in ("oneOf", "anyOf"):
        how_many = "exactly one" if keyword == "oneOf" else "at least one"
        detail = f"expected the value to match {how_many} of the {keyword} options"
    elif keyword == "uniqueItems":
        detail = "expected unique items"
    else:
        detail = "value does not satisfy the schema"
    return f"{subject}: {detail} (validator {keyword!r})"


def _undeclared_keys(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Config keys (names only) matched by neither `properties` nor a `patternProperties` regex."""
    declared = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    patterns = schema.get("patternProperties") if isinstance(schema.get("patternProperties"), dict) else {}
    return [name for name in instance
            if name not in declared and not any(re.search(regex, name) for regex in patterns)]


def _error_sort_key(error: ValidationError) -> list[str]:
    return [str(part) for part in error.absolute_path] + [str(error.validator)]


def _normalise_spec(document: Any) -> dict[str, Any] | None:
    """The spec as the protocol model sees it (defaults filled, null fields dropped); None if it won't parse."""
    try:
        model = ConnectorSpecification.model_validate(document)
    except ModelError:
        return None
    dumped = model.model_dump(mode="json", by_alias=True)
    # Keep the connection schema byte-for-byte (explicit nulls in it are meaningful); drop absent optional fields.
    dumped["connectionSpecification"] = document["connectionSpecification"]
    return {key: value for key, value in dumped.items() if value is not None}


def _diff(expected: Any, actual: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key not in actual:
                yield (*path, key), f"removed: the expected spec has {json_text(expected[key])} here, the actual " \
                                    "spec has nothing"
            else:
                yield from _diff(expected[key], actual[key], (*path, key))
        for key in actual:
            if key not in expected:
                yield (*path, key), f"added: the actual spec has {json_text(actual[key])} here, the expected spec " \
                                    "has nothing"
    elif isinstance(expected, list) and isinstance(actual, list):
        for index in range(max(len(expected), len(actual))):
            if index >= len(actual):
                yield (*path, index), f"removed: the expected spec has item {json_text(expected[index])} here, the " \
                                      "actual spec has nothing"
            elif index >= len(expected):
                yield (*path, index), f"added: the actual spec has item {json_text(actual[index])} here, the " \
                                      "expected spec has nothing"
            else:
                yield from _diff(expected[index], actual[index], (*path, index))
    elif not json_equal(expected, actual):
        yield path, f"changed: expected {json_text(expected)}, got {json_text(actual)}"


def _type_name(value: Any) -> str:
    return "nothing" if value is None else json_type(value)
