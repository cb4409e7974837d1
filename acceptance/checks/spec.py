"""The `spec` command: a ConnectorSpecification whose connectionSpecification the platform's UI can render.

Every check takes `spec`, the whole ConnectorSpecification object as the connector emits it (with
`connectionSpecification` inside), plus other arguments where named, and returns findings; an empty list means the
check passed.

Paths: checks about the connection schema report pointers *inside connectionSpecification*
(`/properties/credentials/oneOf/0`); checks about the whole object (`check_spec_matches_expected`,
`check_no_refs`, the two OAuth checks) report pointers inside the whole spec (`/advanced_auth/predicate_key`).
`check_config_matches_spec` reports pointers inside the config. Config values never appear in messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from airbyte_protocol.models import ConnectorSpecification
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from pydantic import ValidationError as ModelError

from acceptance.findings import Finding
from acceptance.protocol.jsonschema_helpers import (
    JsonPath,
    find_property,
    iter_keys,
    iter_keywords,
    iter_schema_nodes,
    json_type,
    pointer,
    types_of,
)

Spec = dict[str, Any]

SECRET_PROPERTY_NAMES = frozenset({
    "client_token", "access_token", "api_token", "token", "secret", "client_secret", "password", "key",
    "service_account_info", "service_account", "tenant_id", "certificate", "jwt", "credentials", "app_id", "appid",
    "refresh_token",
})
SECRET_CAPABLE_TYPES = frozenset({"string", "integer", "number"})

FORBIDDEN_KEYWORDS = ("not", "anyOf", "patternProperties", "prefixItems", "allOf", "if", "then", "else",
                      "dependentSchemas", "dependentRequired")
ARRAY_ITEM_TYPES = ("object", "string", "number", "integer")
DISPLAY_TYPES = ("dropdown", "radio")

# Mirrored from upstream exactly, including the day-month-year order of DATE_PATTERN.
DATE_PATTERN = "^[0-9]{2}-[0-9]{2}-[0-9]{4}$"
DATETIME_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2})?$"

OAUTH_PATH_SPECIFICATIONS = ("oauth_user_input_from_connector_config_specification",
                             "complete_oauth_output_specification",
                             "complete_oauth_server_output_specification")

MAX_DIFF_PATHS = 20
_MAX_TEXT = 120

# Like Draft7Validator.check_schema: the meta-schema with format checking, so a bad `pattern` regex is reported.
_META_VALIDATOR = Draft7Validator(Draft7Validator.META_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)


# --------------------------------------------------------------------------------------------------- checks


def check_spec_is_valid_json_schema(spec: Spec) -> list[Finding]:
    """connectionSpecification is an object and a valid Draft-7 JSON schema."""
    schema = spec.get("connectionSpecification") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        return [Finding("spec_is_valid_json_schema",
                        f"connectionSpecification must be a JSON schema object, got {_type_name(schema)}")]
    return [
        Finding("spec_is_valid_json_schema",
                f"connectionSpecification is not a valid Draft-7 schema: {_shorten(error.message)} "
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


def check_enum_values_unique(spec: Spec) -> list[Finding]:
    """Every `enum` list in connectionSpecification has distinct values."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(_connection_specification(spec)):
        values = node.get("enum")
        if not isinstance(values, list):
            continue
        seen: set[str] = set()
        duplicates: list[Any] = []
        for value in values:
            key = _canonical(value)
            if key in seen and all(_canonical(d) != key for d in duplicates):
                duplicates.append(value)
            seen.add(key)
        if duplicates:
            findings.append(Finding("enum_values_unique",
                                    f"enum lists duplicate value(s) {_json_list(duplicates)}; expected each value "
                                    "once", pointer((*path, "enum"))))
    return findings


def check_oneof_usage(spec: Spec) -> list[Finding]:
    """Every oneOf/anyOf follows the platform's rules for a choice between variants.

    The parent has `type: object`; every variant has `properties`; the variants share at least one property name;
    exactly one shared property has `const` in every variant (the discriminator); in each variant the
    discriminator's `default` (if any) equals its const and its `enum` (if any) is exactly `[const]`.
    """
    findings: list[Finding] = []

    def fail(message: str, path: JsonPath) -> None:
        findings.append(Finding("oneof_usage", message, pointer(path)))

    for path, node in iter_schema_nodes(_connection_specification(spec)):
        for keyword in ("oneOf", "anyOf"):
            variants = node.get(keyword)
            if not isinstance(variants, list):
                continue
            where = (*path, keyword)
            if "object" not in types_of(node):
                fail(f"the schema holding {keyword} has {_type_words(node)}; expected type: object", path)
            if not variants:
                fail(f"{keyword} lists no variants; expected at least one object variant", where)
                continue
            property_names: list[set[str]] = []
            for index, variant in enumerate(variants):
                properties = variant.get("properties") if isinstance(variant, dict) else None
                if not isinstance(properties, dict):
                    fail(f"{keyword} variant {index} has no `properties`; expected each variant to be an object "
                         "with properties", (*where, index))
                else:
                    property_names.append(set(properties))
            if len(property_names) != len(variants):
                continue
            common = set.intersection(*property_names)
            if not common:
                fail(f"the {keyword} variants share no property name; expected a common discriminator property "
                     "(with `const`) in every variant", where)
                continue
            discriminators = sorted(
                name for name in common
                if all(isinstance(v["properties"][name], dict) and "const" in v["properties"][name] for v in variants)
            )
            if len(discriminators) != 1:
                got = f"{len(discriminators)} ({', '.join(map(repr, discriminators))})" if discriminators else "none"
                fail(f"expected exactly one property common to all {keyword} variants with `const` in every variant, "
                     f"got {got}; common properties: {', '.join(map(repr, sorted(common)))}", where)
                continue
            name = discriminators[0]
            for index, variant in enumerate(variants):
                prop = variant["properties"][name]
                prop_path = (*where, index, "properties", name)
                const = prop["const"]
                if "default" in prop and not _json_equal(prop["default"], const):
                    fail(f"discriminator {name!r} has default {_json(prop['default'])} but const {_json(const)}; "
                         "expected the default to equal the const (or no default)", (*prop_path, "default"))
                if "enum" in prop and not (isinstance(prop["enum"], list) and len(prop["enum"]) == 1
                                           and _json_equal(prop["enum"][0], const)):
                    fail(f"discriminator {name!r} has enum {_json(prop['enum'])} but const {_json(const)}; "
                         f"expected enum to be exactly [{_json(const)}] (or no enum)", (*prop_path, "enum"))
    return findings


def check_secrets_marked(spec: Spec) -> list[Finding]:
    """Properties named like a secret (exact, case-insensitive names) are marked `airbyte_secret` iff they can hold one.

    A property that can hold a secret (type string/integer/number, or a type list including one, and no truthy
    `const`) must have `airbyte_secret: true`; one that cannot (object/array/boolean/const) must not be marked.
    Only properties with a `type` are checked; names are exact (`api_key` is not checked).
    """
    findings: list[Finding] = []
    for path, name, prop in _iter_properties(_connection_specification(spec)):
        if name.lower() not in SECRET_PROPERTY_NAMES or "type" not in prop:
            continue
        marked = bool(prop.get("airbyte_secret", False))
        can_hold = _can_hold_secret(prop)
        if can_hold and not marked:
            findings.append(Finding("secrets_marked",
                                    f"property {name!r} can hold a secret ({_type_words(prop)}) but is not marked "
                                    "airbyte_secret: true; expected airbyte_secret: true", pointer(path)))
        elif marked and not can_hold:
            reason = "has a const value" if _type_capable(prop) else _type_words(prop)
            findings.append(Finding("secrets_marked",
                                    f"property {name!r} is marked airbyte_secret but cannot hold a secret ({reason}); "
                                    "expected no airbyte_secret on objects, arrays, booleans and constants",
                                    pointer(path)))
    return findings


def check_property_types_not_arrays(spec: Spec) -> list[Finding]:
    """A property's `type`, when a list, is one type or one type plus "null".

    Upstream requires "null" as the *second* item; ["null", "string"] means the same to JSON schema and to the
    UI, so the order is not enforced here.
    """
    findings: list[Finding] = []
    for path, name, prop in _iter_properties(_connection_specification(spec)):
        declared = prop.get("type")
        if not isinstance(declared, list):
            continue
        where = pointer((*path, "type"))
        if len(declared) not in (1, 2):
            findings.append(Finding("property_types_not_arrays",
                                    f"property {name!r} has type {_json(declared)} ({len(declared)} types); expected a "
                                    'single type or one type plus "null", e.g. ["string", "null"]', where))
        elif len(declared) == 2 and (declared.count("null") != 1):
            findings.append(Finding("property_types_not_arrays",
                                    f"property {name!r} has type {_json(declared)}; expected one of the two types to "
                                    'be "null", e.g. ["string", "null"]', where))
    return findings


def check_objects_not_empty(spec: Spec) -> list[Finding]:
    """Every `type: object` below the root declares at least one property, or a oneOf."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(_connection_specification(spec)):
        if not path or "object" not in types_of(node) or "oneOf" in node:
            continue
        properties = node.get("properties")
        if not isinstance(properties, dict) or not properties:
            findings.append(Finding("objects_not_empty",
                                    "object has no properties and no oneOf, so the UI cannot render it; expected "
                                    "non-empty `properties` or a `oneOf` (or remove the field)", pointer(path)))
    return findings


def check_array_items(spec: Spec) -> list[Finding]:
    """An array's `items` is a single schema of type object/string/number/integer, or one with an `enum`."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(_connection_specification(spec)):
        if "array" not in types_of(node) or "items" not in node:
            continue
        items = node["items"]
        where = pointer((*path, "items"))
        if isinstance(items, list):
            findings.append(Finding("array_items",
                                    f"array items is a list of {len(items)} schemas (tuple validation); expected a "
                                    "single item schema", where))
        elif not isinstance(items, dict):
            findings.append(Finding("array_items",
                                    f"array items is {_json(items)}; expected an item schema object", where))
        elif items.get("type") not in ARRAY_ITEM_TYPES and "enum" not in items:
            findings.append(Finding("array_items",
                                    f"array items have {_type_words(items)}; expected a type among "
                                    f"{', '.join(ARRAY_ITEM_TYPES)}, or an `enum`", where))
    return findings


def check_no_forbidden_keywords(spec: Spec) -> list[Finding]:
    """None of the schema keywords the UI cannot render appear anywhere (a property merely *named* so is fine)."""
    return [
        Finding("no_forbidden_keywords",
                f"connectionSpecification uses the {keyword!r} keyword; expected none of "
                f"{', '.join(FORBIDDEN_KEYWORDS)} (the UI cannot render them)", pointer((*path, keyword)))
        for path, keyword, _value in iter_keywords(_connection_specification(spec))
        if keyword in FORBIDDEN_KEYWORDS
    ]


def check_date_patterns(spec: Spec) -> list[Finding]:
    """(warning) `format: date` / `date-time` fields carry the pattern the UI's date picker produces."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(_connection_specification(spec)):
        fmt, pattern = node.get("format"), node.get("pattern")
        expected = {"date": DATE_PATTERN, "date-time": DATETIME_PATTERN}.get(fmt) if isinstance(fmt, str) else None
        if expected is not None and pattern != expected:
            got = "no pattern" if pattern is None else f"pattern {_json(pattern)}"
            findings.append(Finding("date_patterns",
                                    f"field with format {fmt!r} has {got}; consider pattern {expected} so users can "
                                    "edit it with the UI's date picker", pointer(path), severity="warning"))
    return findings


def check_date_formats(spec: Spec) -> list[Finding]:
    """(warning) A field with the date / date-time pattern declares the matching `format`."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(_connection_specification(spec)):
        pattern, fmt = node.get("pattern"), node.get("format")
        expected = {DATE_PATTERN: "date", DATETIME_PATTERN: "date-time"}.get(pattern) if isinstance(pattern, str) \
            else None
        if expected is not None and fmt != expected:
            got = "no format" if fmt is None else f"format {_json(fmt)}"
            findings.append(Finding("date_formats",
                                    f"field has a {expected} pattern but {got}; consider format: {expected} so the UI "
                                    "shows a date picker", pointer(path), severity="warning"))
    return findings


def check_order_unique(spec: Spec) -> list[Finding]:
    """Within one object's `properties`, `order` values are unique per `group` (no group = the "" group)."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(_connection_specification(spec)):
        properties = node.get("properties")
        if not isinstance(properties, dict):
            continue
        first_user: dict[tuple[str, str], str] = {}
        for name, prop in properties.items():
            if not isinstance(prop, dict) or "order" not in prop:
                continue
            group = prop.get("group", "")
            slot = (_canonical(group), _canonical(prop["order"]))
            if slot in first_user:
                group_words = f"group {_json(group)}" if group != "" else "the default group (no group)"
                findings.append(Finding("order_unique",
                                        f"property {name!r} has order {_json(prop['order'])}, already used by "
                                        f"{first_user[slot]!r} in {group_words}; expected unique orders per group",
                                        pointer((*path, "properties", name, "order"))))
            else:
                first_user[slot] = name
    return findings


def check_group_top_level_only(spec: Spec) -> list[Finding]:
    """`group` is only set on top-level properties (/properties/<name>/group)."""
    return [
        Finding("group_top_level_only",
                f"`group` ({_json(node['group'])}) is set on a nested schema; expected groups only on top-level "
                "properties (/properties/<name>/group)", pointer((*path, "group")))
        for path, node in iter_schema_nodes(_connection_specification(spec))
        if "group" in node and not (len(path) == 2 and path[0] == "properties")
    ]


def check_display_type(spec: Spec) -> list[Finding]:
    """`display_type` is only set on fields with a oneOf, and is "dropdown" or "radio"."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(_connection_specification(spec)):
        if "display_type" not in node:
            continue
        where = pointer((*path, "display_type"))
        if "oneOf" not in node:
            findings.append(Finding("display_type",
                                    "display_type is set on a field without oneOf; expected it only on fields that "
                                    "have a oneOf", where))
        if node["display_type"] not in DISPLAY_TYPES:
            findings.append(Finding("display_type",
                                    f"display_type is {_json(node['display_type'])}; expected one of "
                                    f"{', '.join(map(repr, DISPLAY_TYPES))}", where))
    return findings


def check_no_refs(spec: Spec) -> list[Finding]:
    """No `$ref` anywhere in the spec: the platform does not resolve references (inline them)."""
    return [
        Finding("no_refs",
                f"spec uses $ref ({_json(value)}); expected no references: inline the referenced definition",
                pointer((*path, key)))
        for path, key, value in iter_keys(spec)
        if key == "$ref"
    ]


def check_oauth_flow_parameters(spec: Spec) -> list[Finding]:
    """With `advanced_auth`: the predicate key and every `path_in_connector_config` exist in connectionSpecification.

    Paths are looked up as nested property paths, through oneOf/anyOf/allOf variants at each level.
    """
    advanced_auth = spec.get("advanced_auth") if isinstance(spec, dict) else None
    if not isinstance(advanced_auth, dict):
        return []
    schema = _connection_specification(spec)
    findings: list[Finding] = []

    def require(field_path: Any, origin: str, where: JsonPath) -> None:
        if not _is_field_path(field_path):
            findings.append(Finding("oauth_flow_parameters",
                                    f"{origin} must be a non-empty list of property names, got {_json(field_path)}",
                                    pointer(where)))
        elif find_property(schema, field_path) is None:
            findings.append(Finding("oauth_flow_parameters",
                                    f"{origin} {_json(field_path)} does not exist in connectionSpecification; expected "
                                    f"a property at {_property_pointer(field_path)} (possibly inside a oneOf variant)",
                                    pointer(where)))

    if advanced_auth.get("predicate_key") is not None:
        require(advanced_auth["predicate_key"], "advanced_auth.predicate_key", ("advanced_auth", "predicate_key"))
    oauth_config = advanced_auth.get("oauth_config_specification")
    if isinstance(oauth_config, dict):
        for spec_name in OAUTH_PATH_SPECIFICATIONS:
            declared = oauth_config.get(spec_name)
            properties = declared.get("properties") if isinstance(declared, dict) else None
            if not isinstance(properties, dict):
                continue
            for name, field in properties.items():
                if isinstance(field, dict) and "path_in_connector_config" in field:
                    require(field["path_in_connector_config"],
                            f"{spec_name} property {name!r} path_in_connector_config",
                            ("advanced_auth", "oauth_config_specification", spec_name, "properties", name,
                             "path_in_connector_config"))
    return findings


def check_oauth_is_default_method(spec: Spec, oauth_expected: bool = True) -> list[Finding]:
    """OAuth is the first option of the credentials oneOf: oneOf[0]'s predicate key has const == predicate_value.

    Not applicable (no findings) when `oauth_expected` is False, there is no advanced_auth or predicate_key, or the
    object holding the predicate key has no oneOf.
    """
    advanced_auth = spec.get("advanced_auth") if isinstance(spec, dict) else None
    if not oauth_expected or not isinstance(advanced_auth, dict):
        return []
    predicate_key = advanced_auth.get("predicate_key")
    if not _is_field_path(predicate_key):
        return []
    parent_path, leaf = predicate_key[:-1], predicate_key[-1]
    credentials = find_property(_connection_specification(spec), parent_path)
    variants = credentials.get("oneOf") if isinstance(credentials, dict) else None
    if not isinstance(variants, list) or not variants:
        return []
    where = pointer(("connectionSpecification", *_property_path(parent_path), "oneOf", 0))
    expected = advanced_auth.get("predicate_value")
    first = variants[0]
    predicate = find_property(first, [leaf]) if isinstance(first, dict) else None
    if predicate is None:
        return [Finding("oauth_is_default_method",
                        f"the first oneOf option of {_json(parent_path)} has no property {leaf!r}; expected it to "
                        f"be the OAuth option with {leaf!r} const {_json(expected)}", where)]
    if "const" not in predicate or not _json_equal(predicate["const"], expected):
        got = f"const {_json(predicate['const'])}" if "const" in predicate else "no const"
        return [Finding("oauth_is_default_method",
                        f"the first oneOf option of {_json(parent_path)} has {leaf!r} with {got}; expected const "
                        f"{_json(expected)} (advanced_auth.predicate_value): OAuth should be the first, default option",
                        pointer(("connectionSpecification", *_property_path(parent_path), "oneOf", 0, "properties",
                                 leaf)))]
    return []


def check_additional_properties_true(spec: Spec) -> list[Finding]:
    """Every `additionalProperties` in connectionSpecification is literally `true` (configs may gain fields)."""
    return [
        Finding("additional_properties_true",
                f"additionalProperties is {_json(value)}; expected true or absent (false or a schema makes removing "
                "a property a breaking change for existing configs)", pointer((*path, "additionalProperties")))
        for path, keyword, value in iter_keywords(_connection_specification(spec))
        if keyword == "additionalProperties" and value is not True
    ]


# -------------------------------------------------------------------------------------------------- helpers


def _connection_specification(spec: Any) -> dict[str, Any]:
    schema = spec.get("connectionSpecification") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else {}


def _iter_properties(schema: dict[str, Any]) -> Iterator[tuple[JsonPath, str, dict[str, Any]]]:
    """(path, name, schema) of every property declared in a `properties` map anywhere in the schema."""
    for path, node in iter_schema_nodes(schema):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, prop in properties.items():
                if isinstance(prop, dict):
                    yield (*path, "properties", name), name, prop


def _type_capable(prop: dict[str, Any]) -> bool:
    return bool(types_of(prop) & SECRET_CAPABLE_TYPES)


def _can_hold_secret(prop: dict[str, Any]) -> bool:
    """string/integer/number (alone or in a type list) and no truthy const — upstream's exact rule."""
    return _type_capable(prop) and not bool(prop.get("const"))


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
        detail = f"expected one of {_json(expected)}"
    elif keyword == "const":
        detail = f"expected the constant {_json(expected)}"
    elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        words = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<",
                 "multipleOf": "a multiple of"}[keyword]
        detail = f"expected a number {words} {_json(expected)}"
    elif keyword in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
        bound = "at least" if keyword.startswith("min") else "at most"
        unit = {"Length": "characters", "Items": "items", "Properties": "properties"}[keyword[3:]]
        detail = f"expected {bound} {_json(expected)} {unit}"
    elif keyword == "pattern":
        detail = f"expected a string matching {_json(expected)}"
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
                yield (*path, key), f"removed: the expected spec has {_json(expected[key])} here, the actual spec " \
                                    "has nothing"
            else:
                yield from _diff(expected[key], actual[key], (*path, key))
        for key in actual:
            if key not in expected:
                yield (*path, key), f"added: the actual spec has {_json(actual[key])} here, the expected spec has " \
                                    "nothing"
    elif isinstance(expected, list) and isinstance(actual, list):
        for index in range(max(len(expected), len(actual))):
            if index >= len(actual):
                yield (*path, index), f"removed: the expected spec has item {_json(expected[index])} here, the " \
                                      "actual spec has nothing"
            elif index >= len(expected):
                yield (*path, index), f"added: the actual spec has item {_json(actual[index])} here, the expected " \
                                      "spec has nothing"
            else:
                yield from _diff(expected[index], actual[index], (*path, index))
    elif not _json_equal(expected, actual):
        yield path, f"changed: expected {_json(expected)}, got {_json(actual)}"


def _is_field_path(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(part, str) for part in value)


def _property_path(field_path: Sequence[str]) -> JsonPath:
    return tuple(part for name in field_path for part in ("properties", name))


def _property_pointer(field_path: Sequence[str]) -> str:
    return pointer(_property_path(field_path))


def _canonical(value: Any) -> str:
    """A JSON-equality key: `true` differs from `1`, but `1` equals `1.0` (as in JSON schema)."""
    def normalise(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, dict):
            return {str(k): normalise(v) for k, v in item.items()}
        if isinstance(item, list):
            return [normalise(v) for v in item]
        return item
    return json.dumps(normalise(value), sort_keys=True, default=str)


def _json_equal(left: Any, right: Any) -> bool:
    return _canonical(left) == _canonical(right)


def _json(value: Any) -> str:
    return _shorten(json.dumps(value, default=str))


def _json_list(values: list[Any]) -> str:
    return ", ".join(_json(value) for value in values)


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _type_name(value: Any) -> str:
    return "nothing" if value is None else json_type(value)


def _type_words(node: dict[str, Any]) -> str:
    declared = node.get("type")
    return "no type" if declared is None else f"type {_json(declared) if isinstance(declared, list) else declared}"


SpecCheck = Callable[[Spec], list[Finding]]

# The checks that need nothing but the spec, in module order. check_oauth_is_default_method is left out on purpose:
# whether it applies depends on the suite config (auth_default_method.oauth), so callers must pass that.
SPEC_CHECKS: tuple[SpecCheck, ...] = (
    check_spec_is_valid_json_schema,
    check_enum_values_unique,
    check_oneof_usage,
    check_secrets_marked,
    check_property_types_not_arrays,
    check_objects_not_empty,
    check_array_items,
    check_no_forbidden_keywords,
    check_date_patterns,
    check_date_formats,
    check_order_unique,
    check_group_top_level_only,
    check_display_type,
    check_no_refs,
    check_oauth_flow_parameters,
    check_additional_properties_true,
)
