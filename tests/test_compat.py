"""Backward-compatibility diffs: one breaking and one compatible case per rule, and the command for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acceptance.compat.cli import main
from acceptance.compat.differences import (
    CompatInputError,
    Difference,
    breaking,
    diff_catalogs,
    diff_specs,
    render_table,
)

Row = tuple[str, str, bool]  # (rule, path, breaking)

STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}


def spec(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                              "properties": properties}
    if required is not None:
        schema["required"] = required
    return {"documentationUrl": "https://example.com", "connectionSpecification": schema}


def auth(*variants: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "object", "oneOf": [
        {"type": "object", "properties": {"auth_type": {"type": "string", "const": const}, **extra}}
        for const, extra in variants
    ]}


def rows(differences: list[Difference]) -> list[Row]:
    return [(d.rule, d.path, d.breaking) for d in differences]


SPEC_CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[Row]]] = [
    ("property removed", spec({"a": STR, "b": INT}), spec({"a": STR}),
     [("property removed", "/properties/b", True)]),
    ("optional property added", spec({"a": STR}), spec({"a": STR, "b": INT}),
     [("property added", "/properties/b", False)]),
    ("new required property", spec({"a": STR}), spec({"a": STR, "b": INT}, ["b"]),
     [("new required field", "/required", True)]),
    ("existing property made required", spec({"a": STR, "b": INT}, ["a"]), spec({"a": STR, "b": INT}, ["a", "b"]),
     [("new required field", "/required", True)]),
    ("required keyword appears", spec({"a": STR}), spec({"a": STR}, ["a"]),
     [("new required field", "/required", True)]),
    ("required relaxed", spec({"a": STR}, ["a"]), spec({"a": STR}, []),
     [("required field relaxed", "/required", False)]),
    ("type changed", spec({"a": STR}), spec({"a": INT}),
     [("type changed", "/properties/a/type", True)]),
    ("nullable removed", spec({"a": {"type": ["string", "null"]}}), spec({"a": STR}),
     [("nullable removed", "/properties/a/type", True)]),
    ("type narrowed", spec({"a": {"type": ["string", "integer"]}}), spec({"a": STR}),
     [("type narrowed", "/properties/a/type", True)]),
    ("type widened to nullable", spec({"a": STR}), spec({"a": {"type": ["string", "null"]}}),
     [("type widened", "/properties/a/type", False)]),
    ("type added to a list", spec({"a": {"type": ["string"]}}), spec({"a": {"type": ["string", "integer"]}}),
     [("type widened", "/properties/a/type", False)]),
    ("enum value removed", spec({"a": {"type": "string", "enum": ["x", "y"]}}),
     spec({"a": {"type": "string", "enum": ["x"]}}), [("enum value removed", "/properties/a/enum", True)]),
    ("enum value added", spec({"a": {"type": "string", "enum": ["x"]}}),
     spec({"a": {"type": "string", "enum": ["x", "y"]}}), [("enum value added", "/properties/a/enum", False)]),
    ("enum added to existing property", spec({"a": STR}), spec({"a": {"type": "string", "enum": ["x"]}}),
     [("enum added", "/properties/a/enum", True)]),
    ("enum removed", spec({"a": {"type": "string", "enum": ["x"]}}), spec({"a": STR}),
     [("enum removed", "/properties/a/enum", False)]),
    ("default changed", spec({"a": {"type": "integer", "default": 10}}),
     spec({"a": {"type": "integer", "default": 20}}),
     [("default changed", "/properties/a/default", True)]),
    ("default removed", spec({"a": {"type": "integer", "default": 10}}), spec({"a": INT}),
     [("default changed", "/properties/a/default", True)]),
    ("default added", spec({"a": INT}), spec({"a": {"type": "integer", "default": 10}}),
     [("default added", "/properties/a/default", False)]),
    ("const changed", spec({"a": {"const": "v1"}}), spec({"a": {"const": "v2"}}),
     [("const changed", "/properties/a/const", True)]),
    ("const removed", spec({"a": {"type": "string", "const": "v1"}}), spec({"a": STR}),
     [("const removed", "/properties/a/const", False)]),
    ("oneOf variant removed", spec({"auth": auth(("key", {}), ("oauth", {}))}), spec({"auth": auth(("key", {}))}),
     [("oneOf variant removed", "/properties/auth/oneOf/1", True)]),
    ("oneOf variant added", spec({"auth": auth(("key", {}))}), spec({"auth": auth(("key", {}), ("oauth", {}))}),
     [("oneOf variant added", "/properties/auth/oneOf/1", False)]),
    ("oneOf variant const changed", spec({"auth": auth(("key", {}), ("oauth", {}))}),
     spec({"auth": auth(("api_key", {}), ("oauth", {}))}),
     [("const changed", "/properties/auth/oneOf/0/properties/auth_type/const", True)]),
    ("oneOf variants reordered", spec({"auth": auth(("key", {}), ("oauth", {}))}),
     spec({"auth": auth(("oauth", {}), ("key", {}))}), []),
    ("oneOf matched by const, nested type change", spec({"auth": auth(("key", {"k": STR}), ("oauth", {}))}),
     spec({"auth": auth(("oauth", {}), ("key", {"k": INT}))}),
     [("type changed", "/properties/auth/oneOf/1/properties/k/type", True)]),
    ("oneOf without discriminator matched by index", spec({"a": {"oneOf": [STR, INT]}}),
     spec({"a": {"oneOf": [STR, {"type": "boolean"}]}}), [("type changed", "/properties/a/oneOf/1/type", True)]),
    ("anyOf branch removed", spec({"a": {"anyOf": [STR, INT]}}), spec({"a": {"anyOf": [STR]}}),
     [("anyOf variant removed", "/properties/a/anyOf/1", True)]),
    ("nested property removed", spec({"o": {"type": "object", "properties": {"x": STR, "y": STR}}}),
     spec({"o": {"type": "object", "properties": {"x": STR}}}),
     [("property removed", "/properties/o/properties/y", True)]),
    ("nested property added", spec({"o": {"type": "object", "properties": {"x": STR}}}),
     spec({"o": {"type": "object", "properties": {"x": STR, "y": STR}}}),
     [("property added", "/properties/o/properties/y", False)]),
    ("nested new required", spec({"o": {"type": "object", "properties": {"x": STR}}}),
     spec({"o": {"type": "object", "properties": {"x": STR}, "required": ["x"]}}),
     [("new required field", "/properties/o/required", True)]),
    ("array items type changed", spec({"l": {"type": "array", "items": STR}}),
     spec({"l": {"type": "array", "items": INT}}), [("type changed", "/properties/l/items/type", True)]),
]


@pytest.mark.parametrize(("previous", "current", "expected"), [c[1:] for c in SPEC_CASES],
                         ids=[c[0] for c in SPEC_CASES])
def test_spec_rules(previous: dict[str, Any], current: dict[str, Any], expected: list[Row]) -> None:
    assert rows(diff_specs(previous, current)) == expected


def test_spec_rename_is_hinted() -> None:
    differences = diff_specs(spec({"api_key": STR}), spec({"token": STR}))
    assert rows(differences) == [("property removed", "/properties/api_key", True),
                                 ("property added", "/properties/token", False)]
    assert "renamed to 'token'?" in differences[0].message


def test_spec_cosmetic_changes_are_ignored() -> None:
    previous = spec({"a": {"type": "string", "title": "A", "description": "old", "order": 0, "examples": ["x"]}})
    current = spec({"a": {"type": "string", "title": "Aa", "description": "new", "order": 3, "examples": ["y"]}})
    assert diff_specs(previous, current) == []


def test_spec_identical_and_bare_schema() -> None:
    document = spec({"a": STR, "auth": auth(("key", {"k": STR}))}, ["a"])
    assert diff_specs(document, json.loads(json.dumps(document))) == []
    # A bare connectionSpecification and a SPEC message are accepted too.
    message = {"type": "SPEC", "spec": spec({"a": INT, "auth": auth(("key", {"k": STR}))}, ["a"])}
    assert rows(diff_specs(document["connectionSpecification"], message)) == [("type changed", "/properties/a/type",
                                                                               True)]


def test_messages_say_before_and_after() -> None:
    [difference] = diff_specs(spec({"a": {"type": ["string", "null"]}}), spec({"a": STR}))
    assert difference.message == 'no longer nullable: ["string", "null"] → "string"'
    [difference] = diff_specs(spec({"a": {"type": "integer", "default": 10}}), spec({"a": {"type": "integer",
                                                                                              "default": 20}}))
    assert difference.message == "default changed: 10 → 20"


def stream(name: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "json_schema": {"type": "object", "properties": properties},
            "supported_sync_modes": ["full_refresh"], **extra}


def catalog(*streams: dict[str, Any]) -> dict[str, Any]:
    return {"streams": list(streams)}


USERS = {"id": INT, "name": STR}
CATALOG_CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[Row]]] = [
    ("stream removed", catalog(stream("users", USERS), stream("orders", {"id": INT})), catalog(stream("users", USERS)),
     [("stream removed", "/streams/orders", True)]),
    ("stream added", catalog(stream("users", USERS)), catalog(stream("users", USERS), stream("orders", {"id": INT})),
     [("stream added", "/streams/orders", False)]),
    ("field removed", catalog(stream("users", USERS)), catalog(stream("users", {"id": INT})),
     [("field removed", "/streams/users/json_schema/properties/name", True)]),
    ("field added", catalog(stream("users", USERS)), catalog(stream("users", {**USERS, "age": INT})),
     [("field added", "/streams/users/json_schema/properties/age", False)]),
    ("nested field removed", catalog(stream("users", {"address": {"type": "object", "properties": {"city": STR}}})),
     catalog(stream("users", {"address": {"type": "object", "properties": {}}})),
     [("field removed", "/streams/users/json_schema/properties/address/properties/city", True)]),
    ("nested field added", catalog(stream("users", {"address": {"type": "object", "properties": {}}})),
     catalog(stream("users", {"address": {"type": "object", "properties": {"city": STR}}})),
     [("field added", "/streams/users/json_schema/properties/address/properties/city", False)]),
    ("field type changed", catalog(stream("users", USERS)), catalog(stream("users", {**USERS, "id": STR})),
     [("type changed", "/streams/users/json_schema/properties/id/type", True)]),
    ("field nullable removed", catalog(stream("users", {"id": {"type": ["null", "integer"]}})),
     catalog(stream("users", {"id": INT})),
     [("nullable removed", "/streams/users/json_schema/properties/id/type", True)]),
    ("field type widened", catalog(stream("users", USERS)),
     catalog(stream("users", {**USERS, "id": {"type": ["null", "integer"]}})),
     [("type widened", "/streams/users/json_schema/properties/id/type", False)]),
    ("cursor changed", catalog(stream("users", USERS, default_cursor_field=["updated_at"])),
     catalog(stream("users", USERS, default_cursor_field=["created_at"])),
     [("cursor changed", "/streams/users/default_cursor_field", True)]),
    ("cursor unchanged, streams reordered",
     catalog(stream("users", USERS, default_cursor_field=["u"]), stream("orders", {})),
     catalog(stream("orders", {}), stream("users", USERS, default_cursor_field=["u"])), []),
    ("primary key changed", catalog(stream("users", USERS, source_defined_primary_key=[["id"]])),
     catalog(stream("users", USERS, source_defined_primary_key=[["id"], ["name"]])),
     [("primary key changed", "/streams/users/source_defined_primary_key", True)]),
    ("primary key unchanged, description changed", catalog(stream("users", USERS, source_defined_primary_key=[["id"]])),
     catalog(stream("users", {"id": {"type": "integer", "description": "new"}, "name": STR},
                    source_defined_primary_key=[["id"]])), []),
    ("sync mode removed", catalog(stream("users", USERS, supported_sync_modes=["full_refresh", "incremental"])),
     catalog(stream("users", USERS, supported_sync_modes=["full_refresh"])),
     [("sync mode removed", "/streams/users/supported_sync_modes", True)]),
    ("sync mode added", catalog(stream("users", USERS)),
     catalog(stream("users", USERS, supported_sync_modes=["full_refresh", "incremental"])),
     [("sync mode added", "/streams/users/supported_sync_modes", False)]),
]


@pytest.mark.parametrize(("previous", "current", "expected"), [c[1:] for c in CATALOG_CASES],
                         ids=[c[0] for c in CATALOG_CASES])
def test_catalog_rules(previous: dict[str, Any], current: dict[str, Any], expected: list[Row]) -> None:
    assert rows(diff_catalogs(previous, current)) == expected


def test_catalog_accepts_catalog_message_and_hints_renamed_stream() -> None:
    previous = {"type": "CATALOG", "catalog": catalog(stream("user", USERS))}
    differences = diff_catalogs(previous, catalog(stream("users", USERS)))
    assert rows(differences) == [("stream removed", "/streams/user", True), ("stream added", "/streams/users", False)]
    assert "renamed to 'users'?" in differences[0].message
    assert diff_catalogs(previous, previous) == []


def test_catalog_does_not_compare_enum_or_default() -> None:
    previous = catalog(stream("users", {"kind": {"type": "string", "enum": ["a"], "default": "a"}}))
    current = catalog(stream("users", {"kind": {"type": "string", "enum": ["b"], "default": "b"}}))
    assert diff_catalogs(previous, current) == []


def faker_stream(name: str, number_fields: list[str], field_type: str, **extra: Any) -> dict[str, Any]:
    properties = {f: {"type": ["null", field_type]} for f in number_fields}
    properties["created_at"] = {"type": ["null", "string"], "format": "date-time"}
    return {"name": name, "json_schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                                          "properties": properties},
            "supported_sync_modes": ["full_refresh", "incremental"], "source_defined_cursor": True,
            "default_cursor_field": ["updated_at"], **extra}


def test_faker_4_to_7_number_fields_became_integer_and_primary_keys_appeared() -> None:
    """source-faker 4.0.0 declared ids and ages as `number`; later majors say `integer` and add primary keys."""
    old = {"type": "CATALOG", "catalog": catalog(faker_stream("users", ["id", "age"], "number"),
                                                 faker_stream("purchases", ["id", "user_id", "product_id"], "number"))}
    new = catalog(faker_stream("users", ["id", "age"], "integer", source_defined_primary_key=[["id"]]),
                  faker_stream("purchases", ["id", "user_id", "product_id"], "integer",
                               source_defined_primary_key=[["id"]]))
    differences = diff_catalogs(old, new)
    assert differences == breaking(differences)
    type_changes = {d.path for d in differences if d.rule == "type changed"}
    assert type_changes == {f"/streams/users/json_schema/properties/{f}/type" for f in ("id", "age")} | {
        f"/streams/purchases/json_schema/properties/{f}/type" for f in ("id", "user_id", "product_id")}
    key_changes = {d.path for d in differences if d.rule == "primary key changed"}
    assert key_changes == {"/streams/users/source_defined_primary_key",
                           "/streams/purchases/source_defined_primary_key"}
    assert len(differences) == 7
    assert any(d.message == 'type changed: ["null", "number"] → ["null", "integer"]' for d in differences)


@pytest.mark.parametrize("document", [[], {"streams": "x"}, {"streams": [{"json_schema": {}}]},
                                      {"type": "CATALOG"}])
def test_catalog_wrong_shape_raises(document: Any) -> None:
    with pytest.raises(CompatInputError):
        diff_catalogs(document, catalog())


@pytest.mark.parametrize("document", [[], {"streams": []}, {"connectionSpecification": []}, {"type": "SPEC"}])
def test_spec_wrong_shape_raises(document: Any) -> None:
    with pytest.raises(CompatInputError):
        diff_specs(document, spec({}))


def test_breaking_and_table() -> None:
    differences = diff_specs(spec({"a": STR, "b": STR}), spec({"a": {"type": ["string", "null"]}}))
    assert [d.rule for d in breaking(differences)] == ["property removed"]
    table = render_table(differences)
    assert [cell.strip() for cell in table.splitlines()[0].split("|")[1:5]] == ["verdict", "rule", "path", "change"]
    assert "breaking" in table and "compatible" in table and "/properties/b" in table
    assert render_table([]) == "No differences."


# ------------------------------------------------------------------------------------------------ command


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "acceptance.compat", *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=60)


def test_cli_breaking_spec_exits_1_with_json(tmp_path: Path) -> None:
    result = run("spec", write(tmp_path, "old.json", spec({"a": STR})), write(tmp_path, "new.json", spec({"a": INT})))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["breaking"] == 2
    structural, generated = report["differences"]
    assert structural == {"rule": "type changed", "path": "/properties/a/type", "breaking": True,
                          "message": 'type changed: "string" → "integer"'}
    assert generated["rule"] == "previous config rejected" and generated["path"] == "/a" and generated["breaking"]


def test_cli_compatible_catalog_exits_0(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", catalog(stream("users", USERS)))
    new = write(tmp_path, "new.json", {"type": "CATALOG", "catalog": catalog(stream("users", USERS),
                                                                              stream("orders", {}))})
    result = run("catalog", old, new)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"breaking": 0, "differences": [
        {"rule": "stream added", "path": "/streams/orders", "breaking": False, "message": "stream 'orders' added"}]}
    identical = run("catalog", old, old)
    assert identical.returncode == 0
    assert json.loads(identical.stdout) == {"differences": [], "breaking": 0}


def test_cli_table(tmp_path: Path) -> None:
    result = run("catalog", write(tmp_path, "old.json", catalog(stream("users", USERS))),
                 write(tmp_path, "new.json", catalog()), "--table")
    assert result.returncode == 1
    assert "verdict" in result.stdout and "stream removed" in result.stdout and "/streams/users" in result.stdout


def test_cli_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.json")
    result = run("spec", missing, write(tmp_path, "new.json", spec({})))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert missing in result.stderr and "No such file" in result.stderr


def test_cli_invalid_json_exits_2_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"streams": [')
    result = run("catalog", write(tmp_path, "old.json", catalog()), str(broken))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(broken) in result.stderr and "not valid JSON" in result.stderr


def test_cli_wrong_shape_exits_2(tmp_path: Path) -> None:
    not_a_catalog = write(tmp_path, "spec.json", spec({}))
    result = run("catalog", not_a_catalog, not_a_catalog)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {not_a_catalog}: invalid catalog: not a catalog: no 'streams' list"


def test_main_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = write(tmp_path, "s.json", spec({"a": STR}))
    assert main(["spec", document, document]) == 0
    assert json.loads(capsys.readouterr().out) == {"differences": [], "breaking": 0}


def test_main_spec_checks_configs_generated_from_the_previous_spec(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # A lowered maximum is invisible to the structural diff; generated configs catch it.
    previous = write(tmp_path, "old.json", spec({"port": {"type": "integer", "minimum": 1, "maximum": 65535}}))
    current = write(tmp_path, "new.json", spec({"port": {"type": "integer", "minimum": 1, "maximum": 1024}}))
    assert main(["spec", previous, current, "--examples", "0"]) == 0
    capsys.readouterr()
    assert main(["spec", previous, current]) == 1
    differences = json.loads(capsys.readouterr().out)["differences"]
    assert [(d["rule"], d["path"], d["breaking"]) for d in differences] == [("previous config rejected", "/port", True)]
    assert "'maximum' (1024)" in differences[0]["message"]
