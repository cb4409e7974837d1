"""The spec-suite checks, one small passing and failing input each, plus upstream's edge cases."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from acceptance.checks import spec_document as checks
from acceptance.checks.spec import SPEC_CHECKS
from acceptance.checks.spec_credentials import (
    check_oauth_flow_parameters,
    check_oauth_is_default_method,
    check_secrets_marked,
)
from acceptance.checks.spec_document import (
    check_config_matches_spec,
    check_spec_is_valid_json_schema,
    check_spec_matches_expected,
)
from acceptance.checks.spec_schema_rules import (
    DATE_PATTERN,
    DATETIME_PATTERN,
    check_additional_properties_true,
    check_array_items,
    check_date_formats,
    check_date_patterns,
    check_display_type,
    check_enum_values_unique,
    check_group_top_level_only,
    check_no_forbidden_keywords,
    check_no_refs,
    check_objects_not_empty,
    check_oneof_usage,
    check_order_unique,
    check_property_types_not_arrays,
)
from acceptance.findings import Finding


def spec_of(connection_specification: dict) -> dict:
    return {"documentationUrl": "https://example.com/docs", "connectionSpecification": connection_specification}


def obj(**properties: Any) -> dict:
    return {"type": "object", "properties": properties}


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


CREDENTIALS = {
    "type": "object",
    "oneOf": [
        {"type": "object", "title": "OAuth", "properties": {
            "auth_type": {"type": "string", "const": "oauth2.0"},
            "client_id": {"type": "string"},
            "refresh_token": {"type": "string", "airbyte_secret": True},
        }},
        {"type": "object", "title": "API token", "properties": {
            "auth_type": {"type": "string", "const": "token"},
            "api_token": {"type": "string", "airbyte_secret": True},
        }},
    ],
}


def oauth_spec(credentials: dict | None = None, **advanced_auth: Any) -> dict:
    spec = spec_of(obj(credentials=copy.deepcopy(credentials or CREDENTIALS), start_date={"type": "string"}))
    spec["advanced_auth"] = {
        "auth_flow_type": "oauth2.0",
        "predicate_key": ["credentials", "auth_type"],
        "predicate_value": "oauth2.0",
        "oauth_config_specification": {
            "complete_oauth_output_specification": {"type": "object", "properties": {
                "refresh_token": {"type": "string", "path_in_connector_config": ["credentials", "refresh_token"]},
            }},
            "complete_oauth_server_output_specification": {"type": "object", "properties": {
                "client_id": {"type": "string", "path_in_connector_config": ["credentials", "client_id"]},
            }},
            "oauth_user_input_from_connector_config_specification": {"type": "object", "properties": {
                "start": {"type": "string", "path_in_connector_config": ["start_date"]},
            }},
        },
        **advanced_auth,
    }
    return spec


# ---------------------------------------------------------------------------------------- valid JSON schema


def test_valid_json_schema_passes() -> None:
    assert check_spec_is_valid_json_schema(spec_of(obj(a={"type": "string"}))) == []


def test_invalid_json_schema_fails_at_the_bad_keyword() -> None:
    finding = only(check_spec_is_valid_json_schema(spec_of(obj(a={"type": "strin"}))))
    assert finding.path == "/properties/a/type"
    assert "not a valid Draft-7 schema" in finding.message and "strin" in finding.message
    assert finding.check == "spec_is_valid_json_schema" and finding.severity == "error"


def test_invalid_regex_is_an_invalid_schema() -> None:
    spec = spec_of(obj(a={"type": "string", "pattern": "("}))
    finding = only(check_spec_is_valid_json_schema(spec))
    assert finding.path == "/properties/a/pattern" and "'format'" in finding.message
    assert "spec is not a valid JSON schema" in only(check_config_matches_spec(spec, {"a": "x"})).message


@pytest.mark.parametrize("value", [None, [], "object"])
def test_connection_specification_must_be_an_object(value: Any) -> None:
    spec = {"connectionSpecification": value} if value is not None else {}
    finding = only(check_spec_is_valid_json_schema(spec))
    assert "connectionSpecification must be a JSON schema object" in finding.message


# ----------------------------------------------------------------------------------------- config vs spec

CONFIG_SCHEMA = {"type": "object", "required": ["api_key"],
                 "properties": {"api_key": {"type": "string"}, "count": {"type": "integer"},
                                "start": {"type": "string", "format": "date"}}}


def test_config_matching_spec_passes_and_ignores_underscore_keys_and_formats() -> None:
    config = {"api_key": "s3cr3t", "count": 3, "start": "not-a-date", "_limit": "ignored"}
    schema = {**CONFIG_SCHEMA, "additionalProperties": False}
    assert check_config_matches_spec(spec_of(schema), config) == []


def test_config_type_mismatch_names_key_and_validator_not_value() -> None:
    finding = only(check_config_matches_spec(spec_of(CONFIG_SCHEMA), {"api_key": "s3cr3t", "count": "SECRETVALUE"}))
    assert finding.path == "/count"
    assert finding.message.startswith("'count' at /count: expected type integer")
    assert "(validator 'type')" in finding.message
    assert "SECRETVALUE" not in finding.message


def test_config_missing_required_and_extra_keys() -> None:
    schema = {**CONFIG_SCHEMA, "required": ["api_key", "count"], "additionalProperties": False}
    findings = check_config_matches_spec(spec_of(schema), {"surprise": "hunter2"})
    assert len(findings) == 3
    messages = " | ".join(f.message for f in findings)
    assert "config at /: missing required property 'api_key' (validator 'required')" in messages
    assert "missing required property 'count'" in messages
    assert "unexpected property 'surprise'" in messages and "hunter2" not in messages
    assert {f.path for f in findings} == {"/"}


def test_config_enum_and_pattern_do_not_echo_value() -> None:
    schema = obj(region={"type": "string", "enum": ["eu", "us"]}, token={"type": "string", "pattern": "^tk_"})
    findings = check_config_matches_spec(spec_of(schema), {"region": "hunter2", "token": "hunter3"})
    assert [f.path for f in findings] == ["/region", "/token"]
    assert all("hunter" not in f.message for f in findings)
    assert "expected one of [\"eu\", \"us\"] (validator 'enum')" in findings[0].message


def test_config_against_invalid_spec_is_one_finding() -> None:
    finding = only(check_config_matches_spec(spec_of(obj(a={"type": "strin"})), {"a": "x"}))
    assert "spec is not a valid JSON schema" in finding.message


# ------------------------------------------------------------------------------------------ expected spec


def test_spec_matching_expected_passes_with_model_defaults() -> None:
    actual = spec_of(obj(a={"type": "string"}))
    expected = {**copy.deepcopy(actual), "supportsDBT": False, "supportsIncremental": None}
    assert check_spec_matches_expected(actual, expected) == []


def test_spec_differences_are_reported_by_path() -> None:
    expected = spec_of(obj(a={"type": "string"}, b={"type": "integer"}))
    actual = spec_of(obj(a={"type": "integer"}, c={"type": "string"}))
    findings = check_spec_matches_expected(actual, expected)
    by_path = {f.path: f.message for f in findings}
    assert by_path["/connectionSpecification/properties/a/type"].startswith('changed: expected "string", got "integer"')
    assert by_path["/connectionSpecification/properties/b"].startswith("removed:")
    assert by_path["/connectionSpecification/properties/c"].startswith("added:")
    assert len(findings) == 3


def test_unparseable_spec_is_compared_as_raw_json() -> None:
    finding = only(check_spec_matches_expected({"connectionSpecification": []}, {}))
    assert finding.path == "/connectionSpecification" and finding.message.startswith("added:")


def test_spec_differences_are_bounded() -> None:
    expected = spec_of(obj(**{f"p{i}": {"type": "string"} for i in range(30)}))
    actual = spec_of(obj(**{f"p{i}": {"type": "integer"} for i in range(30)}))
    findings = check_spec_matches_expected(actual, expected)
    assert len(findings) == checks.MAX_DIFF_PATHS + 1
    assert "10 more differing paths" in findings[-1].message


# ------------------------------------------------------------------------------------------------- enums


def test_distinct_enum_passes() -> None:
    assert check_enum_values_unique(spec_of(obj(a={"type": "string", "enum": ["x", "y"]}))) == []


def test_duplicate_enum_values_fail() -> None:
    finding = only(check_enum_values_unique(spec_of(obj(a={"type": "string", "enum": ["x", "y", "x"]}))))
    assert finding.path == "/properties/a/enum"
    assert 'duplicate value(s) "x"' in finding.message


def test_enum_true_and_one_are_distinct() -> None:
    assert check_enum_values_unique(spec_of(obj(a={"enum": [1, True]}))) == []


# ------------------------------------------------------------------------------------------------- oneOf


def test_good_one_of_passes() -> None:
    assert check_oneof_usage(spec_of(obj(credentials=CREDENTIALS))) == []


def test_one_of_default_equal_to_const_and_enum_of_const_pass() -> None:
    credentials = copy.deepcopy(CREDENTIALS)
    credentials["oneOf"][0]["properties"]["auth_type"].update(default="oauth2.0", enum=["oauth2.0"])
    assert check_oneof_usage(spec_of(obj(credentials=credentials))) == []


def test_one_of_parent_must_be_object() -> None:
    credentials = {**copy.deepcopy(CREDENTIALS), "type": "string"}
    finding = only(check_oneof_usage(spec_of(obj(credentials=credentials))))
    assert finding.path == "/properties/credentials"
    assert "oneOf has type string; expected type: object" in finding.message


def test_one_of_variant_without_properties() -> None:
    credentials = copy.deepcopy(CREDENTIALS)
    credentials["oneOf"][1] = {"type": "object"}
    finding = only(check_oneof_usage(spec_of(obj(credentials=credentials))))
    assert finding.path == "/properties/credentials/oneOf/1"
    assert "variant 1 has no `properties`" in finding.message


def test_one_of_without_common_property() -> None:
    credentials = {"type": "object", "oneOf": [obj(a={"const": "a"}), obj(b={"const": "b"})]}
    finding = only(check_oneof_usage(spec_of(obj(credentials=credentials))))
    assert finding.path == "/properties/credentials/oneOf"
    assert "share no property name" in finding.message


def test_one_of_needs_exactly_one_const_discriminator() -> None:
    credentials = {"type": "object", "oneOf": [obj(a={"const": "a"}, b={"const": 1}), obj(a={"const": "b"},
                                                                                        b={"const": 2})]}
    finding = only(check_oneof_usage(spec_of(obj(credentials=credentials))))
    assert "exactly one property" in finding.message and "got 2 ('a', 'b')" in finding.message

    credentials = {"type": "object", "oneOf": [obj(a={"const": "a"}), obj(a={"type": "string"})]}
    finding = only(check_oneof_usage(spec_of(obj(credentials=credentials))))
    assert "got none" in finding.message


def test_one_of_discriminator_default_and_enum_must_match_const() -> None:
    credentials = copy.deepcopy(CREDENTIALS)
    credentials["oneOf"][1]["properties"]["auth_type"].update(default="other", enum=["token", "other"])
    findings = check_oneof_usage(spec_of(obj(credentials=credentials)))
    assert [f.path for f in findings] == ["/properties/credentials/oneOf/1/properties/auth_type/default",
                                          "/properties/credentials/oneOf/1/properties/auth_type/enum"]
    assert 'default "other" but const "token"' in findings[0].message
    assert 'expected enum to be exactly ["token"]' in findings[1].message


def test_any_of_is_checked_too() -> None:
    schema = obj(x={"anyOf": [obj(a={"const": "a"}), obj(a={"const": "b"})]})
    finding = only(check_oneof_usage(spec_of(schema)))
    assert finding.path == "/properties/x" and "anyOf" in finding.message


# ----------------------------------------------------------------------------------------------- secrets


def test_marked_secrets_pass() -> None:
    schema = obj(password={"type": "string", "airbyte_secret": True}, credentials=CREDENTIALS,
                 port={"type": "integer"})
    assert check_secrets_marked(spec_of(schema)) == []


def test_unmarked_secret_fails_with_path_and_type() -> None:
    finding = only(check_secrets_marked(spec_of(obj(password={"type": "string"}))))
    assert finding.path == "/properties/password"
    assert finding.message.startswith("property 'password' can hold a secret (type string) but is not marked "
                                      "airbyte_secret: true")


def test_secret_names_are_found_inside_one_of_and_case_insensitively() -> None:
    credentials = copy.deepcopy(CREDENTIALS)
    del credentials["oneOf"][1]["properties"]["api_token"]["airbyte_secret"]
    credentials["oneOf"][1]["properties"]["Client_Secret"] = {"type": ["null", "string"]}
    findings = check_secrets_marked(spec_of(obj(credentials=credentials)))
    assert [f.path for f in findings] == ["/properties/credentials/oneOf/1/properties/api_token",
                                          "/properties/credentials/oneOf/1/properties/Client_Secret"]


def test_secret_named_object_unmarked_ok_but_marked_fails() -> None:
    assert check_secrets_marked(spec_of(obj(credentials=obj(user={"type": "string"})))) == []
    marked = {**obj(user={"type": "string"}), "airbyte_secret": True}
    finding = only(check_secrets_marked(spec_of(obj(credentials=marked))))
    assert finding.path == "/properties/credentials"
    assert "marked airbyte_secret but cannot hold a secret (type object)" in finding.message


def test_secret_named_const_marked_fails() -> None:
    finding = only(check_secrets_marked(spec_of(obj(token={"type": "string", "const": "x", "airbyte_secret": True}))))
    assert "has a const value" in finding.message


def test_non_exact_secret_names_are_not_checked() -> None:
    assert check_secrets_marked(spec_of(obj(api_key={"type": "string"}, password_hint={"type": "string"}))) == []


# ------------------------------------------------------------------------------------------ type arrays


@pytest.mark.parametrize("declared", ["string", ["string"], ["string", "null"], ["null", "string"]])
def test_property_type_single_or_nullable_passes(declared: Any) -> None:
    assert check_property_types_not_arrays(spec_of(obj(a={"type": declared}))) == []


@pytest.mark.parametrize(("declared", "words"), [
    (["string", "integer"], 'expected one of the two types to be "null"'),
    (["string", "integer", "null"], "(3 types)"),
])
def test_property_type_multiple_fails(declared: list[str], words: str) -> None:
    finding = only(check_property_types_not_arrays(spec_of(obj(a=obj(b={"type": declared})))))
    assert finding.path == "/properties/a/properties/b/type"
    assert words in finding.message and "property 'b'" in finding.message


# --------------------------------------------------------------------------------------------- objects


def test_empty_root_and_objects_with_properties_or_one_of_pass() -> None:
    assert check_objects_not_empty(spec_of({"type": "object"})) == []
    assert check_objects_not_empty(spec_of(obj(a=obj(b={"type": "string"}), credentials=CREDENTIALS))) == []


def test_empty_nested_object_fails() -> None:
    findings = check_objects_not_empty(spec_of(obj(a={"type": "object"}, b={"type": "object", "properties": {}})))
    assert [f.path for f in findings] == ["/properties/a", "/properties/b"]
    assert "no properties and no oneOf" in findings[0].message


# ---------------------------------------------------------------------------------------------- arrays


@pytest.mark.parametrize("items", [{"type": "string"}, {"type": "object", "properties": {"a": {}}},
                                   {"type": "integer"}, {"enum": ["a", "b"]}])
def test_array_items_pass(items: dict) -> None:
    assert check_array_items(spec_of(obj(a={"type": "array", "items": items}))) == []


def test_array_items_tuple_and_bad_type_fail() -> None:
    finding = only(check_array_items(spec_of(obj(a={"type": "array", "items": [{"type": "string"}]}))))
    assert finding.path == "/properties/a/items" and "list of 1 schemas" in finding.message

    finding = only(check_array_items(spec_of(obj(a={"type": "array", "items": {"type": "boolean"}}))))
    assert finding.path == "/properties/a/items"
    assert "have type boolean; expected a type among object, string, number, integer" in finding.message


# --------------------------------------------------------------------------------------- forbidden keywords


def test_property_named_like_forbidden_keyword_is_allowed() -> None:
    schema = obj(allOf={"type": "string"}, **{"not": {"type": "string"}, "if": {"type": "boolean"}})
    assert check_no_forbidden_keywords(spec_of(schema)) == []


def test_forbidden_keywords_found_anywhere() -> None:
    schema = obj(a={"allOf": [{"type": "string"}]},
                 b={"type": "array", "items": {"not": {"type": "null"}}},
                 c={"type": "string", "default": {"if": "data, not a keyword"}})
    findings = check_no_forbidden_keywords(spec_of(schema))
    assert [f.path for f in findings] == ["/properties/a/allOf", "/properties/b/items/not"]
    assert "uses the 'allOf' keyword" in findings[0].message


# ------------------------------------------------------------------------------------------ date warnings


def test_date_pattern_present_passes() -> None:
    schema = obj(a={"type": "string", "format": "date", "pattern": DATE_PATTERN},
                 b={"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN})
    assert check_date_patterns(spec_of(schema)) == []
    assert check_date_formats(spec_of(schema)) == []


def test_date_without_pattern_warns() -> None:
    schema = obj(a={"type": "string", "format": "date"}, b={"type": "string", "format": "date-time",
                                                             "pattern": "^.*$"})
    findings = check_date_patterns(spec_of(schema))
    assert [f.path for f in findings] == ["/properties/a", "/properties/b"]
    assert all(f.severity == "warning" for f in findings)
    assert DATE_PATTERN in findings[0].message and "no pattern" in findings[0].message
    assert DATETIME_PATTERN in findings[1].message


def test_date_pattern_without_format_warns() -> None:
    schema = obj(a={"type": "string", "pattern": DATE_PATTERN}, b={"type": "string", "pattern": DATETIME_PATTERN,
                                                                  "format": "date"})
    findings = check_date_formats(spec_of(schema))
    assert [f.path for f in findings] == ["/properties/a", "/properties/b"]
    assert all(f.severity == "warning" for f in findings)
    assert "format: date " in findings[0].message and "format: date-time" in findings[1].message


# ---------------------------------------------------------------------------------------------- order


def test_orders_unique_per_group_pass() -> None:
    schema = obj(a={"type": "string", "order": 1}, b={"type": "string", "order": 1, "group": "x"},
                 c={"type": "string", "order": 2})
    assert check_order_unique(spec_of(schema)) == []


def test_duplicate_order_fails() -> None:
    schema = obj(a={"type": "string", "order": 1}, b={"type": "string", "order": 1})
    finding = only(check_order_unique(spec_of(schema)))
    assert finding.path == "/properties/b/order"
    assert "order 1, already used by 'a'" in finding.message


def test_duplicate_order_in_same_named_group_and_nested_objects() -> None:
    schema = obj(n=obj(a={"type": "string", "order": 0, "group": "g"}, b={"type": "string", "order": 0,
                                                                           "group": "g"}))
    finding = only(check_order_unique(spec_of(schema)))
    assert finding.path == "/properties/n/properties/b/order" and 'group "g"' in finding.message


# ---------------------------------------------------------------------------------------------- group


def test_top_level_group_and_property_named_group_pass() -> None:
    schema = obj(a={"type": "string", "group": "auth"}, n=obj(group={"type": "string"}))
    assert check_group_top_level_only(spec_of(schema)) == []


def test_nested_group_fails() -> None:
    credentials = copy.deepcopy(CREDENTIALS)
    credentials["oneOf"][0]["properties"]["client_id"]["group"] = "auth"
    finding = only(check_group_top_level_only(spec_of(obj(credentials=credentials))))
    assert finding.path == "/properties/credentials/oneOf/0/properties/client_id/group"
    assert "nested schema" in finding.message


# ---------------------------------------------------------------------------------------- display_type


def test_display_type_on_one_of_passes() -> None:
    credentials = {**CREDENTIALS, "display_type": "radio"}
    assert check_display_type(spec_of(obj(credentials=credentials))) == []


def test_display_type_without_one_of_or_bad_value_fails() -> None:
    finding = only(check_display_type(spec_of(obj(a={"type": "string", "display_type": "dropdown"}))))
    assert finding.path == "/properties/a/display_type" and "without oneOf" in finding.message

    finding = only(check_display_type(spec_of(obj(credentials={**CREDENTIALS, "display_type": "tabs"}))))
    assert '"tabs"' in finding.message and "'dropdown', 'radio'" in finding.message


# ------------------------------------------------------------------------------------------------ $ref


def test_no_refs_passes() -> None:
    assert check_no_refs(spec_of(obj(a={"type": "string"}))) == []


def test_refs_anywhere_fail() -> None:
    spec = spec_of({**obj(a={"$ref": "#/definitions/a"}), "definitions": {"a": {"type": "string"}}})
    spec["advanced_auth"] = {"oauth_config_specification": {"$ref": "elsewhere"}}
    findings = check_no_refs(spec)
    assert [f.path for f in findings] == ["/connectionSpecification/properties/a/$ref",
                                          "/advanced_auth/oauth_config_specification/$ref"]
    assert '"#/definitions/a"' in findings[0].message


# ------------------------------------------------------------------------------------------------ OAuth


def test_oauth_flow_parameters_pass() -> None:
    assert check_oauth_flow_parameters(oauth_spec()) == []
    assert check_oauth_flow_parameters(spec_of(obj(a={"type": "string"}))) == []


def test_oauth_flow_parameters_missing_paths_fail() -> None:
    spec = oauth_spec(predicate_key=["credentials", "method"])
    spec["advanced_auth"]["oauth_config_specification"]["complete_oauth_output_specification"]["properties"][
        "refresh_token"]["path_in_connector_config"] = ["refresh_token"]
    findings = check_oauth_flow_parameters(spec)
    assert [f.path for f in findings] == [
        "/advanced_auth/predicate_key",
        "/advanced_auth/oauth_config_specification/complete_oauth_output_specification/properties/refresh_token"
        "/path_in_connector_config",
    ]
    assert '["credentials", "method"] does not exist' in findings[0].message
    assert "/properties/credentials/properties/method" in findings[0].message
    assert "complete_oauth_output_specification property 'refresh_token'" in findings[1].message


def test_oauth_is_default_method_passes_and_skips() -> None:
    assert check_oauth_is_default_method(oauth_spec()) == []
    assert check_oauth_is_default_method(spec_of(obj(a={"type": "string"}))) == []
    assert check_oauth_is_default_method(oauth_spec(predicate_key=None)) == []
    assert check_oauth_is_default_method(oauth_spec(credentials=obj(auth_type={"type": "string"}))) == []
    reversed_credentials = {**CREDENTIALS, "oneOf": CREDENTIALS["oneOf"][::-1]}
    assert check_oauth_is_default_method(oauth_spec(credentials=reversed_credentials), oauth_expected=False) == []


def test_oauth_not_first_option_fails() -> None:
    reversed_credentials = {**CREDENTIALS, "oneOf": CREDENTIALS["oneOf"][::-1]}
    finding = only(check_oauth_is_default_method(oauth_spec(credentials=reversed_credentials)))
    assert finding.path == "/connectionSpecification/properties/credentials/oneOf/0/properties/auth_type"
    assert 'const "token"' in finding.message and 'expected const "oauth2.0"' in finding.message


# ------------------------------------------------------------------------------------ additionalProperties


def test_additional_properties_true_passes() -> None:
    schema = {**obj(a={**obj(b={"type": "string"}), "additionalProperties": True}), "additionalProperties": True}
    assert check_additional_properties_true(spec_of(schema)) == []


@pytest.mark.parametrize("value", [False, "foo", {"type": "string"}])
def test_additional_properties_not_true_fails(value: Any) -> None:
    schema = obj(a={**obj(b={"type": "string"}), "additionalProperties": value},
                 additionalProperties={"type": "boolean"})  # a property *named* additionalProperties is fine
    finding = only(check_additional_properties_true(spec_of(schema)))
    assert finding.path == "/properties/a/additionalProperties"
    assert "expected true or absent" in finding.message


# ------------------------------------------------------------------------------------------- SPEC_CHECKS


def test_spec_checks_are_the_single_argument_checks_and_pass_on_a_good_spec() -> None:
    names = [check.__name__ for check in SPEC_CHECKS]
    assert "check_config_matches_spec" not in names and "check_spec_matches_expected" not in names
    assert names.index("check_spec_is_valid_json_schema") == 0
    spec = oauth_spec()
    for check in SPEC_CHECKS:
        assert check(spec) == [], check.__name__
