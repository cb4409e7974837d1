"""Credentials in the spec: properties named like a secret are marked `airbyte_secret` exactly when they can hold
one, and OAuth (`advanced_auth`) names properties that exist and is the first, default authentication option.

check_secrets_marked reports pointers inside connectionSpecification; the two OAuth checks report pointers inside
the whole spec (`/advanced_auth/predicate_key`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acceptance.checks.spec_json import (
    Spec,
    connection_specification,
    iter_properties,
    json_equal,
    json_text,
    type_words,
)
from acceptance.findings import Finding
from acceptance.protocol.jsonschema_helpers import JsonPath, find_property, pointer, types_of

SECRET_PROPERTY_NAMES = frozenset({
    "client_token", "access_token", "api_token", "token", "secret", "client_secret", "password", "key",
    "service_account_info", "service_account", "tenant_id", "certificate", "jwt", "credentials", "app_id", "appid",
    "refresh_token",
})
SECRET_CAPABLE_TYPES = frozenset({"string", "integer", "number"})

OAUTH_PATH_SPECIFICATIONS = ("oauth_user_input_from_connector_config_specification",
                             "complete_oauth_output_specification",
                             "complete_oauth_server_output_specification")


def check_secrets_marked(spec: Spec) -> list[Finding]:
    """Properties named like a secret (exact, case-insensitive names) are marked `airbyte_secret` iff they can hold one.

    A property that can hold a secret (type string/integer/number, or a type list including one, and no truthy
    `const`) must have `airbyte_secret: true`; one that cannot (object/array/boolean/const) must not be marked.
    Only properties with a `type` are checked; names are exact (`api_key` is not checked).
    """
    findings: list[Finding] = []
    for path, name, prop in iter_properties(connection_specification(spec)):
        if name.lower() not in SECRET_PROPERTY_NAMES or "type" not in prop:
            continue
        marked = bool(prop.get("airbyte_secret", False))
        can_hold = _can_hold_secret(prop)
        if can_hold and not marked:
            findings.append(Finding("secrets_marked",
                                    f"property {name!r} can hold a secret ({type_words(prop)}) but is not marked "
                                    "airbyte_secret: true; expected airbyte_secret: true", pointer(path)))
        elif marked and not can_hold:
            reason = "has a const value" if _type_capable(prop) else type_words(prop)
            findings.append(Finding("secrets_marked",
                                    f"property {name!r} is marked airbyte_secret but cannot hold a secret ({reason}); "
                                    "expected no airbyte_secret on objects, arrays, booleans and constants",
                                    pointer(path)))
    return findings


def check_oauth_flow_parameters(spec: Spec) -> list[Finding]:
    """With `advanced_auth`: the predicate key and every `path_in_connector_config` exist in connectionSpecification.

    Paths are looked up as nested property paths, through oneOf/anyOf/allOf variants at each level.
    """
    advanced_auth = spec.get("advanced_auth") if isinstance(spec, dict) else None
    if not isinstance(advanced_auth, dict):
        return []
    schema = connection_specification(spec)
    findings: list[Finding] = []

    def require(field_path: Any, origin: str, where: JsonPath) -> None:
        if not _is_field_path(field_path):
            findings.append(Finding("oauth_flow_parameters",
                                    f"{origin} must be a non-empty list of property names, got {json_text(field_path)}",
                                    pointer(where)))
        elif find_property(schema, field_path) is None:
            findings.append(Finding("oauth_flow_parameters",
                                    f"{origin} {json_text(field_path)} does not exist in connectionSpecification; "
                                    f"expected a property at {_property_pointer(field_path)} (possibly inside a oneOf "
                                    "variant)",
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
    credentials = find_property(connection_specification(spec), parent_path)
    variants = credentials.get("oneOf") if isinstance(credentials, dict) else None
    if not isinstance(variants, list) or not variants:
        return []
    where = pointer(("connectionSpecification", *_property_path(parent_path), "oneOf", 0))
    expected = advanced_auth.get("predicate_value")
    first = variants[0]
    predicate = find_property(first, [leaf]) if isinstance(first, dict) else None
    if predicate is None:
        return [Finding("oauth_is_default_method",
                        f"the first oneOf option of {json_text(parent_path)} has no property {leaf!r}; expected it to "
                        f"be the OAuth option with {leaf!r} const {json_text(expected)}", where)]
    if "const" not in predicate or not json_equal(predicate["const"], expected):
        got = f"const {json_text(predicate['const'])}" if "const" in predicate else "no const"
        return [Finding("oauth_is_default_method",
                        f"the first oneOf option of {json_text(parent_path)} has {leaf!r} with {got}; expected const "
                        f"{json_text(expected)} (advanced_auth.predicate_value): OAuth should be the first, default "
                        "option",
                        pointer(("connectionSpecification", *_property_path(parent_path), "oneOf", 0, "properties",
                                 leaf)))]
    return []


def _type_capable(prop: dict[str, Any]) -> bool:
    return bool(types_of(prop) & SECRET_CAPABLE_TYPES)


def _can_hold_secret(prop: dict[str, Any]) -> bool:
    """string/integer/number (alone or in a type list) and no truthy const — upstream's exact rule."""
    return _type_capable(prop) and not bool(prop.get("const"))


def _is_field_path(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(part, str) for part in value)


def _property_path(field_path: Sequence[str]) -> JsonPath:
    return tuple(part for name in field_path for part in ("properties", name))


def _property_pointer(field_path: Sequence[str]) -> str:
    return pointer(_property_path(field_path))
