"""The native first filter (jsonschema-rs) never accepts what the detailed path rejects, and agrees with it on real
source-faker output."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceptance.checks.record_schema import StrictDraft7Validator, compile_fast_check
from acceptance.protocol import catalog as catalogs
from acceptance.protocol.formats import FORMAT_CHECKER, FORMAT_VALIDATORS
from acceptance.protocol.native_validation import (
    FORMAT_PATTERNS,
    RECORD_ENVELOPE_SCHEMA,
    compile_native_record_check,
    record_envelope_valid,
)
from acceptance.runner import LocalRunner
from acceptance.runner.base import discover, read
from acceptance.runner.command import venv_bin

FAKER = Path(__file__).parent.parent / "connectors" / "source-faker"


def detailed_valid(schema: dict[str, Any], data: Any) -> bool:
    return StrictDraft7Validator(schema, format_checker=FORMAT_CHECKER).is_valid(data)


def compile_native_check(schema: Any, *, forbid_undeclared: bool = False) -> Callable[[Any], bool] | None:
    """The record check seen from the data: wraps `data` in a valid envelope; an exception is "maybe invalid"."""
    declared = frozenset(schema.get("properties", {})) if forbid_undeclared else None
    check = compile_native_record_check(schema, declared_columns=declared)
    if check is None:
        return None

    def on_data(data: Any) -> bool:
        try:
            return bool(check({"stream": "s", "data": data, "emitted_at": 0}))
        except Exception:
            return False

    return on_data


# Strings shaped like each format, with out-of-range parts, odd separators and zones mixed in.
SHAPED = {
    "date-time": r"[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,3}([ Tt]([0-9]{1,2}):[0-9]{1,2}(:[0-9]{1,2}(\.[0-9]{1,13})?)?)?"
                 r"( ?(Z|z|UTC|[+-][0-9]{1,2}(:?[0-9]{1,2})?))?\n?",
    "date": r"[0-9]{3,5}-[0-9]{1,3}-[0-9]{1,3}\n?|(1900|2100|2000|2024|2023|0000|0400)-02-(28|29|30)",
    "time": r"[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\.[0-9]{0,13})?( ?(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?))?\n?",
    "email": r"[\"a-z@ .\[\]\x1c\u00a0]{0,6}@[a-z@ .\[\]0-9:]{0,8}",
}


@pytest.mark.parametrize("fmt", sorted(FORMAT_PATTERNS))
@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_a_format_pattern_accepts_only_what_the_detailed_check_accepts(fmt: str, data: st.DataObject) -> None:
    value = data.draw(st.one_of(st.from_regex(SHAPED[fmt], fullmatch=True), st.text(max_size=30)))
    native = jsonschema_rs.Draft7Validator({"type": "string", "pattern": FORMAT_PATTERNS[fmt]})
    if native.is_valid(value):
        assert FORMAT_VALIDATORS[fmt](value), f"{fmt} pattern accepts {value!r}, the detailed check does not"


@pytest.mark.parametrize(("fmt", "value"), [
    ("date-time", "2012-04-10T00:14:07.596313"), ("date-time", "2024-01-01T00:00:00+00:00"),
    ("date-time", "2024-01-31 23:59:59.123Z"), ("date-time", "2024-1-5"), ("date-time", "2024-12-31T10:00:00 UTC"),
    ("date", "2024-02-28"), ("time", "23:59:59.5+02:00"), ("email", "first.last@example.co.uk"),
    ("date-time", "2024-02-29T00:00:00Z"), ("date", "2000-02-29"), ("date-time", "2012-2-29"),
])
def test_common_values_take_the_native_path(fmt: str, value: str) -> None:
    assert re.fullmatch(FORMAT_PATTERNS[fmt].strip("^$"), value)


@pytest.mark.parametrize(("fmt", "value"), [("email", '"quoted local"@example.com'), ("email", "a@[192.0.2.1]")])
def test_rare_valid_values_fall_through_to_the_detailed_check(fmt: str, value: str) -> None:
    schema = {"type": "object", "properties": {"v": {"type": "string", "format": fmt}}}
    check = compile_native_check(schema)
    assert check is not None and not check({"v": value}) and detailed_valid(schema, {"v": value})


INTEGERS = {"type": "object", "properties": {
    "id": {"type": "integer"}, "price": {"type": ["null", "number"]},
    "tags": {"type": "array", "items": {"type": "integer"}},
    "nested": {"type": "object", "properties": {"n": {"type": ["null", "integer"]}}, "additionalProperties": True},
    "choice": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
}}
# The same, with a keyword Draft 4 does not have: it takes the Draft-7 route, with the generated float check.
INTEGERS_DRAFT7 = copy.deepcopy(INTEGERS)
INTEGERS_DRAFT7["properties"]["fixed"] = {"const": "x"}


@pytest.mark.parametrize("schema", [INTEGERS, INTEGERS_DRAFT7], ids=["draft4_route", "draft7_route"])
@pytest.mark.parametrize(("data", "valid"), [
    ({"id": 1, "price": 1.0, "tags": [1, 2], "nested": {"n": None}, "choice": 3}, True),
    ({"id": 1.0}, False), ({"id": 1, "tags": [1, 2.0]}, False), ({"id": 1, "nested": {"n": 5.0}}, False),
    ({"id": 1, "choice": 3.0}, False), ({"id": True}, False), ({"id": 2 ** 70}, True), ({"price": 2.0}, True),
    ({"id": -0.0}, False), ({"id": 1e20}, False),
])
def test_integer_valued_floats_are_not_integers(schema: dict[str, Any], data: dict[str, Any], valid: bool) -> None:
    check = compile_native_check(schema)
    assert check is not None
    assert detailed_valid(schema, data) is valid
    if check(data):
        assert valid, f"native accepted {data}"
    elif valid:
        assert data["id"] == 2 ** 70  # beyond 64 bits: jsonschema-rs may refuse it, the detailed path takes it


@pytest.mark.parametrize(("keyword", "schema", "data"), [
    ("const", {"properties": {"a": {"const": 1}}}, {"a": 2}),
    ("contains", {"properties": {"a": {"contains": {"type": "string"}}}}, {"a": [1]}),
    ("propertyNames", {"propertyNames": {"maxLength": 1}}, {"ab": 1}),
    ("if/then", {"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"a": 1}),
    ("exclusiveMinimum", {"properties": {"a": {"exclusiveMinimum": 5}}}, {"a": 5}),
    ("exclusiveMaximum", {"properties": {"a": {"exclusiveMaximum": 5}}}, {"a": 5}),
    ("boolean schema", {"properties": {"a": False}}, {"a": 1}),
    ("boolean schema beside a boolean additionalProperties", {"additionalProperties": False,
                                                              "properties": {"a": False}}, {"a": 1}),
    ("empty required", {"required": [], "properties": {"a": {"type": "integer"}}}, {"a": 1.0}),
])
def test_keywords_draft4_reads_otherwise_keep_their_draft7_meaning(keyword: str, schema: dict[str, Any],
                                                                   data: dict[str, Any]) -> None:
    check = compile_native_check({"type": "object", **schema})
    assert check is not None and not detailed_valid(schema, data)
    assert not check(data), keyword


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}},
    {"type": "object", "properties": {"a": {"type": "string", "format": "hostname"}}},
    {"type": "object", "properties": {"a": {"type": "number", "multipleOf": 0.1}}},
    {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}},
    {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
])
def test_schemas_the_engines_might_read_differently_get_no_native_filter(schema: dict[str, Any]) -> None:
    assert compile_native_check(schema) is None


@pytest.fixture(scope="module")
def faker_read() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    script = venv_bin(FAKER / ".venv") / "source-faker"
    if not script.exists():
        pytest.skip("connectors/source-faker/.venv is not built (nox -s build -- source-faker --backend local)")
    runner = LocalRunner([str(script)], cwd=FAKER)
    config = json.loads((FAKER / "integration_tests" / "config.json").read_text())
    catalog = discover(runner, config, timeout=120).of_type("CATALOG")[-1]["catalog"]
    records = read(runner, config, catalogs.configured_from_discovered(catalog), timeout=300).of_type("RECORD")
    return {s["name"]: s["json_schema"] for s in catalog["streams"]}, [m["record"] for m in records]


@pytest.mark.slow
def test_every_path_agrees_on_real_faker_output(faker_read: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    schemas, records = faker_read
    native = {name: compile_native_check(schema) for name, schema in schemas.items()}
    fast = {name: compile_fast_check(schema) for name, schema in schemas.items()}
    assert all(native.values()), "every faker stream gets the native filter"
    disagreements = []
    for record in records:
        name, data = record["stream"], record["data"]
        verdicts = {"detailed": detailed_valid(schemas[name], data), "native": native[name](data),
                    "python": fast[name](data) if fast[name] else None}
        if len({v for v in verdicts.values() if v is not None}) > 1:
            disagreements.append((name, verdicts, data))
    assert len(records) > 2000 and disagreements == []
    # and a broken copy of each record is refused by every path
    for record in records[:: max(1, len(records) // 200)]:
        name, data = record["stream"], dict(record["data"])
        data["id"] = float(data["id"]) if isinstance(data.get("id"), int) else "x"
        assert not detailed_valid(schemas[name], data) and not native[name](data)


def test_the_native_filter_can_apply_the_undeclared_column_rule() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}}
    plain, strict = compile_native_check(schema), compile_native_check(schema, forbid_undeclared=True)
    assert plain is not None and strict is not None
    assert plain({"a": 1, "extra": "x"}) and not strict({"a": 1, "extra": "x"}) and strict({"a": 1})


# --- the record check: envelope and data in one call -------------------------------------------------------------

WITH_REFS = {"type": "object", "definitions": {"n": {"type": "integer"}},
             "properties": {"id": {"$ref": "#/definitions/n"},
                            "tags": {"type": "array", "items": {"$ref": "#/definitions/n"}}}}
ENVELOPES = [
    ({"stream": "s", "data": {"id": 1}, "emitted_at": 1}, True),
    ({"stream": "s", "data": {"id": 1}, "emitted_at": 1.5, "namespace": None, "meta": {}}, True),
    ({"stream": "s", "data": {"id": 1}, "emitted_at": 1, "namespace": "n"}, True),
    ({"stream": "s", "data": {"id": 1}}, False), ({"data": {"id": 1}, "emitted_at": 1}, False),
    ({"stream": "s", "emitted_at": 1}, False), ({"stream": 1, "data": {"id": 1}, "emitted_at": 1}, False),
    ({"stream": "s", "data": [], "emitted_at": 1}, False),
    ({"stream": "s", "data": {"id": 1}, "emitted_at": "1"}, False),
    ({"stream": "s", "data": {"id": 1}, "emitted_at": True}, False),
    ({"stream": "s", "data": {"id": 1}, "emitted_at": 1, "namespace": 2}, False), ("s", False), (None, False),
]


@pytest.mark.parametrize("schema", [INTEGERS, WITH_REFS], ids=["embedded", "with_refs"])
@pytest.mark.parametrize(("record", "valid"), ENVELOPES)
def test_the_record_check_refuses_every_envelope_the_protocol_refuses(schema: dict[str, Any], record: Any,
                                                                      valid: bool) -> None:
    check = compile_native_record_check(schema)
    assert check is not None
    assert StrictDraft7Validator(RECORD_ENVELOPE_SCHEMA).is_valid(record) is valid
    assert record_envelope_valid(record) is valid
    assert bool(check(record)) is valid


@pytest.mark.parametrize("schema", [INTEGERS, WITH_REFS], ids=["embedded", "with_refs"])
def test_the_record_check_applies_the_data_schema_and_strict_integers(schema: dict[str, Any]) -> None:
    check = compile_native_record_check(schema)
    assert check is not None
    envelope = {"stream": "s", "emitted_at": 1}
    assert check({**envelope, "data": {"id": 1, "tags": [2]}})
    for data in ({"id": "1"}, {"id": 1.0}, {"id": 1, "tags": [2.0]}, {"id": 1, "tags": ["2"]}):
        assert not check({**envelope, "data": data}), data


def test_the_record_check_applies_the_undeclared_column_rule_under_top_level_branches() -> None:
    schema = {"type": "object", "oneOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]},
                                          {"properties": {"b": {"type": "string"}}, "required": ["b"]}]}
    check = compile_native_record_check(schema, declared_columns=frozenset({"a", "b"}))
    loose = compile_native_record_check(schema)
    assert check is not None and loose is not None
    envelope = {"stream": "s", "emitted_at": 1}
    assert check({**envelope, "data": {"a": 1}}) and check({**envelope, "data": {"b": "x"}})
    assert not check({**envelope, "data": {"a": 1, "c": 0}}) and loose({**envelope, "data": {"a": 1, "c": 0}})
    flat = compile_native_record_check({"properties": {"a": {}}}, declared_columns=frozenset({"a"}))
    assert flat is not None and flat({**envelope, "data": {"a": 1}})
    assert not flat({**envelope, "data": {"a": 1, "c": 0}})


def test_a_data_schema_for_more_than_objects_still_needs_an_object() -> None:
    check = compile_native_record_check({"type": ["object", "null"], "properties": {"a": {"type": "integer"}}})
    assert check is not None
    assert check({"stream": "s", "data": {"a": 1}, "emitted_at": 1})
    assert not check({"stream": "s", "data": None, "emitted_at": 1})


def test_schemas_without_a_native_filter_have_no_record_check() -> None:
    assert compile_native_record_check({"type": "object", "properties": {"a": {"pattern": "^x"}}}) is None
    assert compile_native_record_check(True) is None


# --- soundness on random schemas: the native verdict "valid" is never wrong ----------------------------------------

_LEAF_SCHEMAS = st.one_of(
    st.sampled_from([{"type": "integer"}, {"type": ["null", "integer"]}, {"type": "number"}]),  # floats' trap
    st.fixed_dictionaries({"type": st.sampled_from(["integer", "number", "string", "boolean", "null", "array",
                                                    "object"])}),
    st.fixed_dictionaries({"type": st.lists(st.sampled_from(["integer", "number", "null", "string"]), min_size=1,
                                            max_size=3, unique=True)}),
    st.fixed_dictionaries({"enum": st.lists(st.one_of(st.integers(-3, 3), st.floats(-3, 3), st.booleans(),
                                                      st.none()), min_size=1, max_size=4)}),
    st.fixed_dictionaries({"minimum": st.integers(-3, 3)}), st.fixed_dictionaries({"maximum": st.floats(-3, 3)}),
    st.fixed_dictionaries({"exclusiveMinimum": st.integers(-3, 3)}),
    st.fixed_dictionaries({"const": st.integers(-2, 2)}),
    st.fixed_dictionaries({"maxLength": st.integers(0, 3)}), st.fixed_dictionaries({"uniqueItems": st.just(True)}),
    st.fixed_dictionaries({"format": st.sampled_from(["date-time", "date", "email"])}),
    st.just({}),
)
_SCHEMAS = st.recursive(_LEAF_SCHEMAS, lambda inner: st.one_of(
    st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(st.sampled_from("abc"), inner,
                                                                                    max_size=3)},
                          optional={"required": st.lists(st.sampled_from("abc"), max_size=2, unique=True),
                                    "additionalProperties": st.one_of(st.booleans(), inner)}),
    st.fixed_dictionaries({"items": inner}, optional={"minItems": st.integers(0, 2)}),
    st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=3)}),
    st.fixed_dictionaries({"oneOf": st.lists(inner, min_size=1, max_size=3)}),
    st.fixed_dictionaries({"allOf": st.lists(inner, min_size=1, max_size=2)}),
    st.fixed_dictionaries({"not": inner}),
), max_leaves=6)
_VALUES = st.recursive(
    st.one_of(st.integers(-3, 3), st.sampled_from([0.0, 1.0, -2.0, 0.5, 2.5, 3.0]), st.booleans(), st.none(),
              st.sampled_from(["", "x", "2024-02-29", "2023-02-29T00:00:00Z", "2024-01-01 10:00", "a@b.c", "abcd"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abcd"), inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(schema=_SCHEMAS, data=st.fixed_dictionaries({}, optional={"a": _VALUES, "b": st.lists(_VALUES, max_size=3),
                                                                 "c": _VALUES}))
def test_the_native_record_check_never_accepts_what_the_detailed_path_refuses(schema: dict[str, Any],
                                                                             data: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {"a": schema, "b": {"items": schema}}}
    check = compile_native_check(schema)
    if check is not None and check(data):
        assert detailed_valid(schema, data), (schema, data)
