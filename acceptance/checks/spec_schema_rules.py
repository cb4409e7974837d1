"""Rules on the shape of connectionSpecification, so the platform's UI can render it and configs stay compatible:
unique enums, well-formed oneOf choices, simple types and array items, no keyword the UI cannot render, date patterns
and formats, order/group/display_type, no `$ref`, `additionalProperties` left true.

Every check takes the whole spec and reports pointers inside connectionSpecification (`check_no_refs`, which looks
at the whole spec, inside the whole spec).
"""

from __future__ import annotations

from typing import Any

from acceptance.checks.spec_json import (
    Spec,
    canonical,
    connection_specification,
    iter_properties,
    json_equal,
    json_text,
    type_words,
)
from acceptance.findings import Finding
from acceptance.protocol.jsonschema_helpers import (
    JsonPath,
    iter_keys,
    iter_keywords,
    iter_schema_nodes,
    pointer,
    types_of,
)

FORBIDDEN_KEYWORDS = ("not", "anyOf", "patternProperties", "prefixItems", "allOf", "if", "then", "else",
                      "dependentSchemas", "dependentRequired")
ARRAY_ITEM_TYPES = ("object", "string", "number", "integer")
DISPLAY_TYPES = ("dropdown", "radio")

# Mirrored from upstream exactly, including the day-month-year order of DATE_PATTERN.
DATE_PATTERN = "^[0-9]{2}-[0-9]{2}-[0-9]{4}$"
DATETIME_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2})?$"


def check_enum_values_unique(spec: Spec) -> list[Finding]:
    """Every `enum` list in connectionSpecification has distinct values."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(connection_specification(spec)):
        values = node.get("enum")
        if not isinstance(values, list):
            continue
        seen: set[str] = set()
        duplicates: list[Any] = []
        for value in values:
            key = canonical(value)
            if key in seen and all(canonical(d) != key for d in duplicates):
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

    for path, node in iter_schema_nodes(connection_specification(spec)):
        for keyword in ("oneOf", "anyOf"):
            variants = node.get(keyword)
            if not isinstance(variants, list):
                continue
            where = (*path, keyword)
            if "object" not in types_of(node):
                fail(f"the schema holding {keyword} has {type_words(node)}; expected type: object", path)
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
                if "default" in prop and not json_equal(prop["default"], const):
                    fail(f"discriminator {name!r} has default {json_text(prop['default'])} but const "
                         f"{json_text(const)}; expected the default to equal the const (or no default)",
                         (*prop_path, "default"))
                if "enum" in prop and not (isinstance(prop["enum"], list) and len(prop["enum"]) == 1
                                           and json_equal(prop["enum"][0], const)):
                    fail(f"discriminator {name!r} has enum {json_text(prop['enum'])} but const {json_text(const)}; "
                         f"expected enum to be exactly [{json_text(const)}] (or no enum)", (*prop_path, "enum"))
    return findings


def check_property_types_not_arrays(spec: Spec) -> list[Finding]:
    """A property's `type`, when a list, is one type or one type plus "null".

    Upstream requires "null" as the *second* item; ["null", "string"] means the same to JSON schema and to the
    UI, so the order is not enforced here.
    """
    findings: list[Finding] = []
    for path, name, prop in iter_properties(connection_specification(spec)):
        declared = prop.get("type")
        if not isinstance(declared, list):
            continue
        where = pointer((*path, "type"))
        if len(declared) not in (1, 2):
            findings.append(Finding("property_types_not_arrays",
                                    f"property {name!r} has type {json_text(declared)} ({len(declared)} types); "
                                    'expected a single type or one type plus "null", e.g. ["string", "null"]', where))
        elif len(declared) == 2 and (declared.count("null") != 1):
            findings.append(Finding("property_types_not_arrays",
                                    f"property {name!r} has type {json_text(declared)}; expected one of the two "
                                    'types to be "null", e.g. ["string", "null"]', where))
    return findings


def check_objects_not_empty(spec: Spec) -> list[Finding]:
    """Every `type: object` below the root declares at least one property, or a oneOf."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(connection_specification(spec)):
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
    for path, node in iter_schema_nodes(connection_specification(spec)):
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
                                    f"array items is {json_text(items)}; expected an item schema object", where))
        elif items.get("type") not in ARRAY_ITEM_TYPES and "enum" not in items:
            findings.append(Finding("array_items",
                                    f"array items have {type_words(items)}; expected a type among "
                                    f"{', '.join(ARRAY_ITEM_TYPES)}, or an `enum`", where))
    return findings


def check_no_forbidden_keywords(spec: Spec) -> list[Finding]:
    """None of the schema keywords the UI cannot render appear anywhere (a property merely *named* so is fine)."""
    return [
        Finding("no_forbidden_keywords",
                f"connectionSpecification uses the {keyword!r} keyword; expected none of "
                f"{', '.join(FORBIDDEN_KEYWORDS)} (the UI cannot render them)", pointer((*path, keyword)))
        for path, keyword, _value in iter_keywords(connection_specification(spec))
        if keyword in FORBIDDEN_KEYWORDS
    ]


def check_date_patterns(spec: Spec) -> list[Finding]:
    """(warning) `format: date` / `date-time` fields carry the pattern the UI's date picker produces."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(connection_specification(spec)):
        fmt, pattern = node.get("format"), node.get("pattern")
        expected = {"date": DATE_PATTERN, "date-time": DATETIME_PATTERN}.get(fmt) if isinstance(fmt, str) else None
        if expected is not None and pattern != expected:
            got = "no pattern" if pattern is None else f"pattern {json_text(pattern)}"
            findings.append(Finding("date_patterns",
                                    f"field with format {fmt!r} has {got}; consider pattern {expected} so users can "
                                    "edit it with the UI's date picker", pointer(path), severity="warning"))
    return findings


def check_date_formats(spec: Spec) -> list[Finding]:
    """(warning) A field with the date / date-time pattern declares the matching `format`."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(connection_specification(spec)):
        pattern, fmt = node.get("pattern"), node.get("format")
        expected = {DATE_PATTERN: "date", DATETIME_PATTERN: "date-time"}.get(pattern) if isinstance(pattern, str) \
            else None
        if expected is not None and fmt != expected:
            got = "no format" if fmt is None else f"format {json_text(fmt)}"
            findings.append(Finding("date_formats",
                                    f"field has a {expected} pattern but {got}; consider format: {expected} so the UI "
                                    "shows a date picker", pointer(path), severity="warning"))
    return findings


def check_order_unique(spec: Spec) -> list[Finding]:
    """Within one object's `properties`, `order` values are unique per `group` (no group = the "" group)."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(connection_specification(spec)):
        properties = node.get("properties")
        if not isinstance(properties, dict):
            continue
        first_user: dict[tuple[str, str], str] = {}
        for name, prop in properties.items():
            if not isinstance(prop, dict) or "order" not in prop:
                continue
            group = prop.get("group", "")
            slot = (canonical(group), canonical(prop["order"]))
            if slot in first_user:
                group_words = f"group {json_text(group)}" if group != "" else "the default group (no group)"
                findings.append(Finding("order_unique",
                                        f"property {name!r} has order {json_text(prop['order'])}, already used by "
                                        f"{first_user[slot]!r} in {group_words}; expected unique orders per group",
                                        pointer((*path, "properties", name, "order"))))
            else:
                first_user[slot] = name
    return findings


def check_group_top_level_only(spec: Spec) -> list[Finding]:
    """`group` is only set on top-level properties (/properties/<name>/group)."""
    return [
        Finding("group_top_level_only",
                f"`group` ({json_text(node['group'])}) is set on a nested schema; expected groups only on top-level "
                "properties (/properties/<name>/group)", pointer((*path, "group")))
        for path, node in iter_schema_nodes(connection_specification(spec))
        if "group" in node and not (len(path) == 2 and path[0] == "properties")
    ]


def check_display_type(spec: Spec) -> list[Finding]:
    """`display_type` is only set on fields with a oneOf, and is "dropdown" or "radio"."""
    findings: list[Finding] = []
    for path, node in iter_schema_nodes(connection_specification(spec)):
        if "display_type" not in node:
            continue
        where = pointer((*path, "display_type"))
        if "oneOf" not in node:
            findings.append(Finding("display_type",
                                    "display_type is set on a field without oneOf; expected it only on fields that "
                                    "have a oneOf", where))
        if node["display_type"] not in DISPLAY_TYPES:
            findings.append(Finding("display_type",
                                    f"display_type is {json_text(node['display_type'])}; expected one of "
                                    f"{', '.join(map(repr, DISPLAY_TYPES))}", where))
    return findings


def check_no_refs(spec: Spec) -> list[Finding]:
    """No `$ref` anywhere in the spec: the platform does not resolve references (inline them)."""
    return [
        Finding("no_refs",
                f"spec uses $ref ({json_text(value)}); expected no references: inline the referenced definition",
                pointer((*path, key)))
        for path, key, value in iter_keys(spec)
        if key == "$ref"
    ]


def check_additional_properties_true(spec: Spec) -> list[Finding]:
    """Every `additionalProperties` in connectionSpecification is literally `true` (configs may gain fields)."""
    return [
        Finding("additional_properties_true",
                f"additionalProperties is {json_text(value)}; expected true or absent (false or a schema makes "
                "removing a property a breaking change for existing configs)", pointer((*path, "additionalProperties")))
        for path, keyword, value in iter_keywords(connection_specification(spec))
        if keyword == "additionalProperties" and value is not True
    ]


def _json_list(values: list[Any]) -> str:
    return ", ".join(json_text(value) for value in values)
