"""Secret discovery in specs and configs, and masking of every common encoding of a secret."""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

import pytest

from acceptance.secrets import LIKELY_SECRET_NAMES, MASK, WILDCARD, Masker, secret_paths, secret_values

SPEC: dict[str, Any] = {
    "type": "object",
    "properties": {
        "host": {"type": "string"},
        "api_secret": {"type": "string", "airbyte_secret": True},
        "port": {"type": "integer", "airbyte_secret": True},
        "not_really": {"type": "string", "airbyte_secret": "yes"},  # only `true` counts
        "credentials": {
            "type": "object",
            "oneOf": [
                {"properties": {"auth_type": {"const": "oauth"}, "refresh": {"airbyte_secret": True}}},
                {"properties": {"auth_type": {"const": "basic"}, "pwd": {"type": "string", "airbyte_secret": True}}},
            ],
        },
        "tunnel": {"anyOf": [{"properties": {"ssh_key": {"airbyte_secret": True}}}, {"type": "null"}]},
        "accounts": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {}, "token_value": {"airbyte_secret": True}}},
        },
        "service_account": {"type": "object", "airbyte_secret": True},
        "deep": {"properties": {"deeper": {"allOf": [{"properties": {"hidden": {"airbyte_secret": True}}}]}}},
    },
}


def test_secret_paths_through_properties_branches_and_items() -> None:
    assert secret_paths(SPEC) == {
        ("api_secret",),
        ("port",),
        ("credentials", "refresh"),
        ("credentials", "pwd"),
        ("tunnel", "ssh_key"),
        ("accounts", WILDCARD, "token_value"),
        ("service_account",),
        ("deep", "deeper", "hidden"),
    }


def test_secret_paths_through_tuple_style_items() -> None:
    spec = {"properties": {"pair": {"type": "array", "items": [{"type": "string"}, {"airbyte_secret": True}]}}}
    assert secret_paths(spec) == {("pair", WILDCARD)}


@pytest.mark.parametrize("spec", [None, {}, [], "text", {"airbyte_secret": True}, {"properties": []},
                                  {"oneOf": {"not": "a list"}}])
def test_secret_paths_of_odd_specs_are_empty(spec: Any) -> None:
    assert secret_paths(spec) == set()


def test_secret_values_follow_the_marked_paths() -> None:
    config = {
        "host": "db.example.com",
        "api_secret": "s3cr3t",
        "port": 5432,
        "not_really": "visible",
        "credentials": {"auth_type": "basic", "pwd": "pa55"},
        "tunnel": {"ssh_key": "-----BEGIN KEY-----"},
        "accounts": [{"name": "a", "token_value": "tok-a"}, {"name": "b", "token_value": "tok-b"}, {"name": "c"}],
        "service_account": {"type": "sa", "private_key_id": "pkid", "nested": ["x1", {"y": "y1"}], "flag": True},
        "deep": {"deeper": {"hidden": "h1"}},
    }
    assert secret_values(SPEC, config) == {
        "s3cr3t", "5432", "pa55", "-----BEGIN KEY-----", "tok-a", "tok-b", "sa", "pkid", "x1", "y1", "h1",
    }


def test_secret_values_include_likely_names_even_when_unmarked() -> None:
    assert {"password", "api_key", "access_token", "client_secret"} <= LIKELY_SECRET_NAMES
    config = {
        "host": "h",
        "Password": "p1",
        "nested": {"list": [{"api_key": "k1"}, {"access_token": "t1"}]},
        "oauth": {"client_secret": {"value": "cs1"}},
        "empty": {"token": ""},
        "none": {"secret": None},
        "boolean": {"key": True},
    }
    assert secret_values({}, config) == {"p1", "k1", "t1", "cs1"}


def test_secret_values_ignore_missing_paths_and_non_matching_shapes() -> None:
    config = {"accounts": {"token_value": "not under an array"}, "credentials": "flat"}
    assert secret_values(SPEC, config) == set()
    assert secret_values(SPEC, None) == set()


def test_masker_masks_raw_and_encoded_forms() -> None:
    secret = 'p@ss "word"\\with\nnewline/&+='
    masker = Masker({secret})
    forms = {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "url": urllib.parse.quote(secret, safe=""),
        "url_plus": urllib.parse.quote_plus(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64_url": base64.urlsafe_b64encode(secret.encode()).decode(),
    }
    assert len({forms["raw"], forms["json"], forms["url"], forms["url_plus"], forms["base64"]}) == 5
    for name, form in forms.items():
        masked = masker.mask(f"before {form} after")
        assert masked.startswith("before ") and masked.endswith(" after"), name
        assert MASK in masked, name
        assert form.rstrip("=") not in masked, name
    # a JSON document carrying the secret, as a report or cache file would
    document = json.dumps({"config": {"password": secret}})
    assert secret not in masker.mask(document)
    assert json.loads(masker.mask(document)) == {"config": {"password": MASK}}


def test_masker_masks_both_base64_alphabets() -> None:
    secret = "~~~??>>>"  # its base64 holds '+' and '/', which the URL-safe alphabet spells '-' and '_'
    standard, url_safe = base64.b64encode(secret.encode()).decode(), base64.urlsafe_b64encode(secret.encode()).decode()
    assert standard != url_safe
    masker = Masker({secret})
    # padding is stripped from the masked forms (it depends on what follows), so a lone '=' may remain
    assert masker.mask(f"Basic {standard}") == f"Basic {MASK}="
    assert masker.mask(f"token={url_safe}&x=1") == f"token={MASK}=&x=1"


def test_masker_longest_first_leaves_no_partial_suffix() -> None:
    masker = Masker({"abc", "abcdef"})
    assert masker.mask("x abcdef y abc z") == f"x {MASK} y {MASK} z"
    masker = Masker({"abcdef"})
    masker.add({"abc"})  # order of adding does not matter
    assert masker.mask("abcdefgh") == f"{MASK}gh"


def test_masker_masks_every_occurrence() -> None:
    assert Masker({"tok"}).mask("tok-tok tok") == f"{MASK}-{MASK} {MASK}"


def test_masker_treats_secrets_as_literal_text() -> None:
    masker = Masker({"a.c", "(x|y)"})
    assert masker.mask("abc a.c x y (x|y)") == f"abc {MASK} x y {MASK}"


def test_mask_data_masks_nested_strings_keys_and_numeric_secrets() -> None:
    masker = Masker({"s3cr3t", "5432", "1.5"})
    data = {
        "password": "s3cr3t",
        "port": 5432,
        "ratio": 1.5,
        "other_port": 5433,
        "flag": True,
        "nothing": None,
        "url": "https://u:s3cr3t@host/",
        "list": ["s3cr3t", 7, {"s3cr3t": "key is secret"}],
    }
    assert masker.mask_data(data) == {
        "password": MASK,
        "port": MASK,
        "ratio": MASK,
        "other_port": 5433,
        "flag": True,
        "nothing": None,
        "url": f"https://u:{MASK}@host/",
        "list": [MASK, 7, {MASK: "key is secret"}],
    }
    assert data["password"] == "s3cr3t"  # a copy: the input is untouched


def test_mask_data_does_not_mask_booleans_that_look_like_a_secret() -> None:
    assert Masker({"1", "True"}).mask_data([True, 1, "True"]) == [True, MASK, MASK]


def test_masker_without_secrets_returns_input_unchanged() -> None:
    masker = Masker()
    assert masker.secrets == frozenset()
    assert masker.mask("password=hunter2") == "password=hunter2"
    data = {"a": [1, "b"]}
    assert masker.mask_data(data) is data
    assert Masker(set()).mask("") == ""
    assert Masker({"x"}).mask("") == ""


def test_masker_from_spec_and_config() -> None:
    masker = Masker.from_spec_and_config(SPEC, {"api_secret": "abc123", "host": "h"})
    assert masker.mask("host h uses abc123") == f"host h uses {MASK}"
    assert "abc123" in masker.secrets
