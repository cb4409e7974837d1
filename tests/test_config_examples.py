"""Configs generated from the previous spec, validated against the current one (acceptance.compat.config_examples).

Every kind of change comes as a compatible and a breaking variant. Specs: the real source-faker 7.2.1 spec, and two
hand-written ones shaped like real API and database sources (oneOf auth with const discriminators, secrets, date-time
patterns, enums, bounded integers, arrays).
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from acceptance.compat.config_examples import RULE, ExamplesOutcome, previous_configs_rejected
from acceptance.compat.config_generation import generate_configs
from acceptance.compat.differences import breaking, diff_specs

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "tests" / "fixtures" / "specs"
FAKER_SCRIPT = ROOT / "connectors" / "source-faker" / ".venv" / "bin" / "source-faker"

Edit = Callable[[dict[str, Any]], None]


def load(name: str) -> dict[str, Any]:
    return json.loads((SPECS / f"{name}.json").read_text())["connectionSpecification"]


def edited(spec: dict[str, Any], *edits: Edit) -> dict[str, Any]:
    changed = copy.deepcopy(spec)
    for edit in edits:
        edit(changed)
    return changed


def prop(name: str, key: str, value: Any) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        spec["properties"][name][key] = value
    return edit


def at(path: str, value: Any) -> Edit:
    """Set the value at a /-separated path inside the spec (list indexes as numbers)."""
    def edit(spec: dict[str, Any]) -> None:
        *parents, last = path.strip("/").split("/")
        node: Any = spec
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return edit


def without(path: str, key: str | int) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        node: Any = spec
        for part in path.strip("/").split("/") if path.strip("/") else []:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node.pop(key) if isinstance(node, dict) else node.pop(int(key))
    return edit


def check(previous: dict[str, Any], current: dict[str, Any]) -> ExamplesOutcome:
    outcome = previous_configs_rejected(previous, current)
    assert outcome.generated >= 100, outcome.note
    assert all(d.rule == RULE and d.breaking for d in outcome.differences)
    return outcome


# --------------------------------------------------------------------------------------------------- the real spec


@pytest.mark.skipif(not FAKER_SCRIPT.is_file(),
                    reason="source-faker's virtualenv is not built (`nox -s build -- source-faker` makes it)")
def test_faker_fixture_is_the_spec_the_real_connector_prints() -> None:
    output = subprocess.run([str(FAKER_SCRIPT), "spec"], capture_output=True, text=True, timeout=120,
                            check=True).stdout
    messages = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    spec = next(m["spec"] for m in messages if m.get("type") == "SPEC")
    assert spec == json.loads((SPECS / "faker-7.2.1.json").read_text())


@pytest.mark.parametrize("name", ["faker-7.2.1", "api-source", "database-source"])
def test_unchanged_spec_rejects_nothing(name: str) -> None:
    spec = load(name)
    outcome = check(spec, copy.deepcopy(spec))
    assert outcome.differences == []
    assert outcome.note is None
    assert outcome.generated == 100


def test_more_examples_than_the_default_are_all_distinct() -> None:
    spec = load("database-source")
    configs, note = generate_configs(spec, examples=250)
    assert note is None
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == len(configs) == 250


def test_whole_connector_spec_documents_are_accepted() -> None:
    document = json.loads((SPECS / "faker-7.2.1.json").read_text())
    outcome = previous_configs_rejected(document, {"type": "SPEC", "spec": document})
    assert (outcome.differences, outcome.generated) == ([], 100)


# --------------------------------------------------------------------------------------------------- change kinds


@dataclass(frozen=True)
class Case:
    """A kind of change: the same previous spec with a compatible and a breaking current spec."""

    name: str
    compatible: tuple[dict[str, Any], dict[str, Any]]
    breaking: tuple[dict[str, Any], dict[str, Any]]
    path: str  # where in the config the breaking variant fails
    keyword: str  # which keyword of the current spec rejects it


def cases() -> Iterator[Case]:
    api, db = load("api-source"), load("database-source")
    yield Case("property added",
               (api, edited(api, at("/properties/new_option", {"type": "string"}))),
               (api, edited(api, at("/properties/new_option", {"type": "string"}),
                            at("/required", [*api["required"], "new_option"]))),
               "/new_option", "required")
    yield Case("type changed",
               (db, edited(db, prop("username", "type", ["string", "null"]))),
               (db, edited(db, prop("username", "type", "integer"))),
               "/username", "type")
    yield Case("enum changed",
               (api, edited(api, prop("region", "enum", ["us", "eu", "apac", "latam"]))),
               (api, edited(api, prop("region", "enum", ["us", "eu"]))),
               "/region", "enum")
    yield Case("maximum changed",
               (api, edited(api, prop("page_size", "maximum", 5000))),
               (api, edited(api, prop("page_size", "maximum", 100))),
               "/page_size", "maximum")
    yield Case("maximum changed inside a oneOf variant",
               (db, edited(db, at("/properties/tunnel_method/oneOf/1/properties/tunnel_port/maximum", 70000))),
               (db, edited(db, at("/properties/tunnel_method/oneOf/1/properties/tunnel_port/maximum", 1024))),
               "/tunnel_method/tunnel_port", "maximum")
    loose = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"
    yield Case("pattern changed",
               (api, edited(api, prop("start_date", "pattern", loose))),
               (api, edited(api, prop("start_date", "pattern", "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))),
               "/start_date", "pattern")
    yield Case("array item pattern changed",
               (api, edited(api, at("/properties/account_ids/items/pattern", "^[0-9a-z]+$"))),
               (api, edited(api, at("/properties/account_ids/items/pattern", "^[0-9]{6,}$"))),
               "/account_ids/*", "pattern")
    service_account = {"title": "Service Account", "type": "object", "required": ["auth_type", "key_json"],
                       "properties": {"auth_type": {"type": "string", "const": "service_account"},
                                      "key_json": {"type": "string", "airbyte_secret": True}}}
    variants = api["properties"]["credentials"]["oneOf"]
    yield Case("oneOf variant changed",
               (api, edited(api, at("/properties/credentials/oneOf", [*variants, service_account]))),
               (api, edited(api, at("/properties/credentials/oneOf", variants[:1]))),
               "/credentials", "oneOf")
    closed = edited(api, at("/additionalProperties", False))
    yield Case("additionalProperties changed",
               (closed, edited(api, at("/additionalProperties", True))),
               (api, closed),
               "/", "additionalProperties")
    internal = {"type": "object", "required": ["host"], "additionalProperties": False,
                "properties": {"host": {"type": "string"}, "_limit": {"type": "integer"}, "limit": {"type": "integer"}}}
    yield Case("key removed where additionalProperties is false",
               (internal, edited(internal, without("/properties", "_limit"))),  # `_` keys are dropped first
               (internal, edited(internal, without("/properties", "limit"))),
               "/", "additionalProperties")


CASES = list(cases())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compatible_variant_rejects_nothing(case: Case) -> None:
    assert check(*case.compatible).differences == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_breaking_variant_is_found_where_it_breaks(case: Case) -> None:
    outcome = check(*case.breaking)
    assert [(d.path, d.breaking) for d in outcome.differences] == [(case.path, True)], outcome.differences
    message = outcome.differences[0].message
    assert f"fail '{case.keyword}'" in message
    rejected = int(message.split(" of ")[0])
    assert 0 < rejected <= outcome.generated
    assert message.startswith(f"{rejected} of {outcome.generated} configs")


def test_new_required_property_is_named_in_path_and_message() -> None:
    api = load("api-source")
    current = edited(api, at("/properties/region/default", "us"), at("/required", [*api["required"], "region"]))
    [difference] = check(api, current).differences
    assert difference.path == "/region"
    assert "'region' missing" in difference.message and "at /required in the current spec" in difference.message


MISSED_BY_STRUCTURAL_DIFF = [
    ("maximum", "/page_size", "/properties/page_size/maximum", prop("page_size", "maximum", 100)),
    ("pattern", "/start_date", "/properties/start_date/pattern", prop("start_date", "pattern", "^20[0-9]{2}-.*$")),
    ("additionalProperties", "/", "/additionalProperties", at("/additionalProperties", False)),
]


@pytest.mark.parametrize(("keyword", "path", "schema_path", "edit"), MISSED_BY_STRUCTURAL_DIFF,
                         ids=[case[0] for case in MISSED_BY_STRUCTURAL_DIFF])
def test_changes_the_structural_diff_misses_are_caught_here(keyword: str, path: str, schema_path: str,
                                                            edit: Edit) -> None:
    api = load("api-source")
    current = edited(api, edit)
    assert not breaking(diff_specs(api, current))
    [difference] = check(api, current).differences
    assert difference.path == path and f"fail '{keyword}'" in difference.message
    assert f"at {schema_path} in the current spec" in difference.message


def test_every_value_of_a_small_enum_is_tried() -> None:
    """Three configs exist: all are generated, so the removed value is certainly hit."""
    previous = {"type": "object", "required": ["region"], "additionalProperties": False,
                "properties": {"region": {"type": "string", "enum": ["us", "eu", "apac"]}}}
    outcome = previous_configs_rejected(previous, edited(previous, prop("region", "enum", ["us", "eu"])))
    assert outcome.generated == 3
    assert outcome.note is not None and "3 distinct configs of 100 wanted" in outcome.note
    [difference] = outcome.differences
    assert difference.path == "/region" and difference.message.startswith("1 of 3 configs")


def test_top_level_underscore_keys_are_dropped_but_nested_ones_are_not() -> None:
    nested = {"type": "object", "properties": {"options": {
        "type": "object", "additionalProperties": False,
        "properties": {"_limit": {"type": "integer"}, "page": {"type": "integer"}}}}}
    outcome = check(nested, edited(nested, without("/properties/options/properties", "_limit")))
    assert [d.path for d in outcome.differences] == ["/options"]


def test_array_indexes_and_undeclared_keys_are_grouped() -> None:
    previous = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}},
                                                 "labels": {"type": "object"}}}
    current = edited(previous, at("/properties/tags/items/maxLength", 1),
                     at("/properties/labels/additionalProperties", {"type": "string"}))
    paths = sorted(d.path for d in check(previous, current).differences)
    assert paths == ["/labels/*", "/tags/*"]


# --------------------------------------------------------------------------------------------------- secrets


def strings_in(value: Any) -> Iterator[str]:
    """Every string value (not key) in a config."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from strings_in(item)


def test_messages_do_not_echo_generated_values() -> None:
    api = load("api-source")
    current = edited(api, at("/properties/credentials/oneOf/1/properties/api_key/pattern", "^sk_[A-Za-z0-9]{29}$"),
                     prop("page_size", "maximum", 10), prop("start_date", "pattern", "^2[0-9]{3}-.*$"))
    outcome = check(api, current)
    assert {d.path for d in outcome.differences} == {"/credentials/api_key", "/page_size", "/start_date"}
    text = "\n".join(d.message for d in outcome.differences)
    configs, _ = generate_configs(api)
    keys = [c["credentials"]["api_key"] for c in configs if "api_key" in c["credentials"]]
    assert keys and not any(key in text for key in keys)
    assert not re.search(r"[A-Za-z0-9]{32}", text)
    spec_text = json.dumps(api)  # consts and enum values come from the spec, not from generation
    generated = {s for c in configs for s in strings_in(c) if len(s) >= 6 and s not in spec_text}
    assert generated and not [s for s in generated if s in text]
    assert "does not match" not in text and "is greater than" not in text  # jsonschema's messages quote the value


# --------------------------------------------------------------------------------------------------- limits


def obj(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, **extra}


UNSUPPORTED = [
    ("recursive $ref", obj({"node": {"$ref": "#"}}, ["node"]), "recursive $ref '#'"),
    ("remote $ref", obj({"a": {"$ref": "https://example.com/a.json"}}, ["a"]), "is not local to the spec"),
    ("unsatisfiable leaf", obj({"a": {"type": "string", "minLength": 5, "maxLength": 2}}, ["a"]),
     "/properties/a: InvalidArgument"),
    ("required key forbidden", obj({}, ["x"], additionalProperties=False), "nothing is allowed at /properties/x"),
    ("lookahead pattern", obj({"password": {"type": "string", "pattern": "^(?=.*[A-Z])(?=.*[0-9])[A-Za-z0-9]{12}$"}},
                              ["password"]), "no generated config satisfies the previous spec"),
    ("invalid schema", obj({"a": {"type": "str"}}, ["a"]), "the previous spec is not a valid draft-7 schema"),
    ("not an object", {"type": "string"}, "does not describe an object"),
]


@pytest.mark.parametrize(("schema", "reason"), [(s, r) for _, s, r in UNSUPPORTED], ids=[n for n, _, _ in UNSUPPORTED])
def test_unsupported_previous_spec_gives_a_note_not_an_exception(schema: dict[str, Any], reason: str) -> None:
    outcome = previous_configs_rejected(schema, {"type": "object"})
    assert (outcome.differences, outcome.generated) == ([], 0)
    assert outcome.note is not None and reason in outcome.note, outcome.note


def test_non_schema_input_gives_a_note() -> None:
    outcome = previous_configs_rejected([1, 2], {"type": "object"})  # type: ignore[arg-type]
    assert outcome.generated == 0 and outcome.note is not None and "not a spec" in outcome.note


def test_invalid_current_spec_gives_a_note() -> None:
    outcome = previous_configs_rejected(load("faker-7.2.1"), obj({"count": {"type": "int"}}, []))
    assert outcome.generated == 0 and outcome.note is not None and "the current spec is not a valid" in outcome.note


def test_an_unsupported_optional_part_is_skipped_and_noted() -> None:
    tree = obj({"tree": {"$ref": "#/definitions/node"}, "name": {"type": "string"}}, ["name"],
               definitions={"node": {"type": "object", "properties": {
                   "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}}}})
    outcome = check(tree, copy.deepcopy(tree))
    assert outcome.differences == []
    assert outcome.note is not None and "items of /properties/tree/properties/children never generated" in outcome.note


def test_time_budget_ends_generation_with_a_note() -> None:
    outcome = previous_configs_rejected(load("api-source"), load("api-source"), seconds=0)
    assert outcome.generated == 0 and outcome.differences == []
    assert outcome.note is not None and "time budget of 0 s spent" in outcome.note


# --------------------------------------------------------------------------------------------------- determinism


def breaking_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    db = load("database-source")
    return db, edited(db, at("/properties/tunnel_method/oneOf/1/properties/tunnel_port/maximum", 1024),
                      prop("port", "maximum", 9000), without("/properties/ssl_mode/oneOf", 5))


def test_same_inputs_give_the_same_result() -> None:
    first, second = previous_configs_rejected(*breaking_pair()), previous_configs_rejected(*breaking_pair())
    assert first == second and first.differences


def test_examples_do_not_depend_on_which_local_modules_are_imported(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """hypothesis draws literals from loaded local modules' source now and then; the module hides that pool."""
    spec = load("database-source")
    before, _ = generate_configs(spec)
    module = tmp_path / "constants_for_hypothesis.py"
    module.write_text("".join(f"VALUE_{i} = 'literal-{i}-from-a-local-module'\nNUMBER_{i} = {7001 + i}\n"
                              for i in range(50)))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("constants_for_hypothesis")
    after, _ = generate_configs(spec)
    assert after == before
    assert "literal-" not in json.dumps(after)


def test_same_result_in_another_process_with_another_hash_seed() -> None:
    script = ("import json, sys\n"
              "from dataclasses import asdict\n"
              "from acceptance.compat.config_examples import previous_configs_rejected\n"
              "previous, current = json.load(sys.stdin)\n"
              "print(json.dumps(asdict(previous_configs_rejected(previous, current))))\n")
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(breaking_pair()), capture_output=True,
                          text=True, timeout=120, check=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "4242"})
    assert json.loads(done.stdout) == json.loads(json.dumps(asdict(previous_configs_rejected(*breaking_pair()))))


def test_generation_is_silent_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    previous_configs_rejected(*breaking_pair())
    previous_configs_rejected(load("api-source"), load("api-source"), seconds=0)  # ends by raising inside hypothesis
    previous_configs_rejected(*[obj({"a": {"type": "string", "pattern": "^(?=.*[A-Z])[a-z]{4}$"}}, ["a"])] * 2)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert list(tmp_path.iterdir()) == []
