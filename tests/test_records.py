"""acceptance.protocol.records: order-insensitive digests, ignored-field removal, primary keys, diffs, projection."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from acceptance.protocol.records import (
    DIGEST_SIZE,
    canonical_digest,
    describe_primary_key,
    diff_paths,
    json_equal,
    primary_key_value,
    project,
    remove_fields,
    shape_of,
)

# --- canonical_digest ------------------------------------------------------------------------------------------------


def test_digest_is_short_bytes() -> None:
    digest = canonical_digest({"a": 1})
    assert isinstance(digest, bytes) and len(digest) == DIGEST_SIZE


def test_digest_ignores_key_order() -> None:
    assert canonical_digest({"a": 1, "b": {"x": 1, "y": 2}}) == canonical_digest({"b": {"y": 2, "x": 1}, "a": 1})


def test_digest_ignores_list_order_at_any_depth() -> None:
    assert canonical_digest({"d": [1, 2]}) == canonical_digest({"d": [2, 1]})
    assert canonical_digest({"c": {"d": [1, 2]}}) == canonical_digest({"c": {"d": [2, 1]}})
    assert canonical_digest([{"t": ["b", "a"]}, {"u": 1}]) == canonical_digest([{"u": 1}, {"t": ["a", "b"]}])


def test_digest_keeps_list_multiplicity() -> None:
    assert canonical_digest({"d": [1, 1, 2]}) != canonical_digest({"d": [1, 2, 2]})
    assert canonical_digest({"d": [1, 1]}) != canonical_digest({"d": [1]})


def test_digest_numbers_compare_like_json() -> None:
    assert canonical_digest({"n": 1}) == canonical_digest({"n": 1.0})
    assert canonical_digest({"n": -0.0}) == canonical_digest({"n": 0})
    assert canonical_digest({"n": 1.5}) != canonical_digest({"n": 1})


def test_digest_booleans_are_not_numbers() -> None:
    assert canonical_digest({"b": True}) != canonical_digest({"b": 1})
    assert canonical_digest({"b": False}) != canonical_digest({"b": 0})
    assert canonical_digest([True, 1]) != canonical_digest([True, True])


def test_digest_distinguishes_types_and_values() -> None:
    assert canonical_digest({"a": "1"}) != canonical_digest({"a": 1})
    assert canonical_digest({"a": None}) != canonical_digest({})
    assert canonical_digest({"a": None}) != canonical_digest({"a": float("nan")})
    assert canonical_digest({"a": [1, [2, 3]]}) != canonical_digest({"a": [[1, 2], 3]})


def test_digest_handles_big_integers_exactly() -> None:
    assert canonical_digest({"n": 2**70}) == canonical_digest({"n": 2**70})
    assert canonical_digest({"n": 2**70}) != canonical_digest({"n": 2**70 + 1})


def test_digest_does_not_mutate() -> None:
    value = {"d": [3, 1, 2], "f": 1.0, "n": {"l": ["b", "a"]}}
    before = copy.deepcopy(value)
    canonical_digest(value)
    assert value == before and value["d"] == [3, 1, 2] and isinstance(value["f"], float)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4),
    max_leaves=20,
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        items = [_shuffled(v, rng) for v in value]
        rng.shuffle(items)
        return items
    return value


@given(json_values, st.integers(0, 1000))
def test_digest_is_invariant_under_reordering(value: Any, seed: int) -> None:
    assert canonical_digest(value) == canonical_digest(_shuffled(value, random.Random(seed)))


# --- remove_fields ---------------------------------------------------------------------------------------------------


def test_remove_fields_star_descends_lists() -> None:
    data = {"id": 1, "steps": [{"name": "a", "started_at": 1}, {"name": "b", "started_at": 2}]}
    assert remove_fields(data, ["steps/*/started_at"]) == {"id": 1, "steps": [{"name": "a"}, {"name": "b"}]}


def test_remove_fields_glob_within_a_segment() -> None:
    data = {"properties": {"hs_time_in_lead": 5, "hs_time_in_customer": 6, "name": "x"}, "hs_time_top": 1}
    assert remove_fields(data, ["properties/hs_time_*"]) == {"properties": {"name": "x"}, "hs_time_top": 1}


def test_remove_fields_star_descends_dicts_and_leading_slash_is_optional() -> None:
    data = {"a": {"x": {"b": 1, "c": 2}, "y": {"b": 3}}}
    assert remove_fields(data, ["/a/*/b"]) == {"a": {"x": {"c": 2}, "y": {}}}


def test_remove_fields_star_matches_exactly_one_segment() -> None:
    data = {"a": {"b": 1, "x": {"b": 2}}}
    assert remove_fields(data, ["a/*/b"]) == {"a": {"b": 1, "x": {}}}


def test_remove_fields_list_index() -> None:
    assert remove_fields({"l": ["a", "b", "c"]}, ["l/1"]) == {"l": ["a", "c"]}


def test_remove_fields_missing_paths_are_ignored() -> None:
    data = {"a": 1, "b": [1, 2], "c": "text"}
    assert remove_fields(data, ["zzz", "a/b/c", "b/7", "c/x", "steps/*/started_at", ""]) == data


def test_remove_fields_never_mutates_the_input() -> None:
    data = {"id": 1, "steps": [{"started_at": 1, "n": 1}], "properties": {"hs_time_a": 1, "keep": 2}}
    before = copy.deepcopy(data)
    result = remove_fields(data, ["steps/*/started_at", "properties/hs_time_*", "id"])
    assert data == before
    assert result == {"steps": [{"n": 1}], "properties": {"keep": 2}}
    assert result is not data


def test_remove_fields_returns_a_copy_even_when_nothing_matches() -> None:
    data = {"a": 1}
    result = remove_fields(data, ["b"])
    assert result == data and result is not data


def test_remove_fields_exact_key_with_glob_characters() -> None:
    assert remove_fields({"a[1]": 1, "a1": 2}, ["a[1]"]) == {}  # the exact key and the glob match both go


# --- primary keys ----------------------------------------------------------------------------------------------------


def test_primary_key_value_simple_nested_and_composite() -> None:
    data = {"id": 7, "org": {"id": "o-1"}, "n": None}
    assert primary_key_value(data, [["id"]]) == (7,)
    assert primary_key_value(data, [["org", "id"], ["id"]]) == ("o-1", 7)


def test_primary_key_value_missing_parts_are_none() -> None:
    data = {"id": 7, "org": "flat"}
    assert primary_key_value(data, [["missing"], ["org", "id"], ["id"]]) == (None, None, 7)


def test_describe_primary_key() -> None:
    assert describe_primary_key([["org", "id"], ["id"]], ("o-1", 7)) == 'org/id="o-1", id=7'


# --- diff_paths ------------------------------------------------------------------------------------------------------


def test_diff_paths_equal_values_have_no_differences() -> None:
    assert diff_paths({"a": [1, 2], "b": {"c": 1}}, {"b": {"c": 1.0}, "a": [2, 1]}) == []


def test_diff_paths_names_changed_missing_and_unexpected_fields() -> None:
    expected = {"a": {"b": 1}, "c": 3, "same": "x"}
    actual = {"a": {"b": 2}, "d": 4, "same": "x"}
    assert diff_paths(expected, actual) == [
        "/a/b: expected 1, got 2",
        "/c: missing (expected 3)",
        "/d: unexpected (got 4)",
    ]


def test_diff_paths_type_changes_and_booleans() -> None:
    assert diff_paths({"a": 1}, {"a": "1"}) == ['/a: expected 1, got "1"']
    assert diff_paths({"a": 1}, {"a": True}) == ["/a: expected 1, got true"]
    assert diff_paths(1, 2) == ["(root): expected 1, got 2"]


def test_diff_paths_lists_pair_unmatched_elements() -> None:
    expected = {"tags": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, "x"]}
    actual = {"tags": ["x", {"id": 2, "v": "B"}, {"id": 1, "v": "a"}]}
    assert diff_paths(expected, actual) == ['/tags/1/v: expected "b", got "B"']
    assert diff_paths({"l": [1, 2]}, {"l": [2]}) == ["/l/0: missing (expected 1)"]
    assert diff_paths({"l": [1]}, {"l": [1, 5]}) == ["/l/1: unexpected (got 5)"]


def test_diff_paths_escapes_pointer_characters() -> None:
    assert diff_paths({"a/b": 1, "t~": 1}, {"a/b": 2, "t~": 2}) == [
        "/a~1b: expected 1, got 2",
        "/t~0: expected 1, got 2",
    ]


def test_diff_paths_is_bounded() -> None:
    lines = diff_paths({str(i): i for i in range(50)}, {str(i): -i - 1 for i in range(50)}, limit=5)
    assert len(lines) == 6
    assert lines[0] == "/0: expected 0, got -1"
    assert lines[-1].startswith("…")


def test_diff_paths_shortens_long_values() -> None:
    [line] = diff_paths({"a": "x" * 500}, {"a": "y"})
    assert len(line) < 150 and line.endswith('got "y"')


def test_json_equal() -> None:
    assert json_equal({"a": [1, 2]}, {"a": [2, 1.0]})
    assert not json_equal({"a": True}, {"a": 1})


# --- projection ------------------------------------------------------------------------------------------------------


def test_project_keeps_only_expected_keys_recursively() -> None:
    expected = {"id": 1, "user": {"name": "a"}, "tags": [{"k": "x"}]}
    actual = {"id": 1, "extra": 2, "user": {"name": "a", "age": 3}, "tags": [{"k": "x", "v": 9}]}
    assert project(actual, shape_of(expected)) == expected


def test_project_keeps_missing_keys_missing() -> None:
    assert project({"id": 1}, shape_of({"id": 1, "name": "a"})) == {"id": 1}


def test_project_keeps_scalars_where_expected_has_objects() -> None:
    assert project({"user": "flat"}, shape_of({"user": {"name": "a"}})) == {"user": "flat"}
