"""Configs a JSON schema accepts, generated deterministically (hypothesis derandomized, no example database) and
bounded in time: what compat.config_examples validates against the current spec.

hypothesis-jsonschema generates the leaf values (strings with patterns or formats, bounded numbers); objects, arrays,
oneOf / anyOf / allOf and `$ref` are composed here, because its object strategy fails on current hypothesis
(`many.more()` is gone) and because composing them lets an unsupported optional property be skipped instead of sinking
the whole spec.
"""

from __future__ import annotations

import json
import re
import string
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from hypothesis_jsonschema import from_schema
from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

from acceptance.compat.differences import CompatInputError, connection_specification
from acceptance.protocol.jsonschema_helpers import iter_schema_nodes, pointer

try:  # private: see _without_local_constants
    from hypothesis.internal.conjecture import providers as hypothesis_providers
except ImportError:  # pragma: no cover - moved in a later hypothesis
    hypothesis_providers = None

WANTED = 100
TIME_BUDGET_SECONDS = 30.0
# Extra keys per object where additionalProperties allows them, and items beyond minItems per array: enough to exercise
# `additionalProperties: false` or a new maxItems, small enough to keep configs cheap to generate and validate.
MAX_EXTRA_KEYS = 2
MAX_EXTRA_ITEMS = 4
# Keywords a leaf keeps when it is handed to hypothesis-jsonschema; everything else (airbyte_secret, order, examples,
# $schema...) is left out, so nothing it does not understand, or validates against the metaschema, reaches it.
NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
LEAF_KEYWORDS = {"string": ("minLength", "maxLength", "pattern", "format"), "integer": NUMERIC, "number": NUMERIC}
# Which type an untyped schema is meant to have, from the keywords it uses.
TYPE_HINTS = {
    "object": {"properties", "required", "additionalProperties", "patternProperties", "propertyNames",
               "minProperties", "maxProperties", "dependencies"},
    "array": {"items", "minItems", "maxItems", "uniqueItems", "contains", "additionalItems"},
    "string": {"pattern", "minLength", "maxLength", "format"},
    "number": set(NUMERIC),
}
JSON_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
MAX_SHOWN_CONSTRAINT = 80
_CONSTANTS_LOCK = threading.Lock()


class _Unsupported(Exception):
    """A part of the previous spec no strategy can be built for (the message says where and why)."""


class _OutOfTime(Exception):
    """Raised inside the generation loop: the only way to end a hypothesis run early."""


def generate_configs(spec: dict[str, Any], *, examples: int = WANTED,
                     seconds: float = TIME_BUDGET_SECONDS) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `examples` distinct configs the spec accepts, always the same ones for the same spec; and a note saying
    why there are fewer (small spec, time budget, unsupported parts), or None."""
    if examples < 1:
        return [], "no examples asked for"
    try:
        spec = connection_specification(spec)
    except CompatInputError as error:
        return [], f"not a spec: {error}"
    problem = schema_problem(spec, "previous")
    if problem:
        return [], problem
    builder = _Builder(spec)
    try:
        strategy = builder.config()
    except _Unsupported as error:
        return [], f"cannot generate configs from the previous spec: {error}"
    except RecursionError:
        return [], "cannot generate configs from the previous spec: it nests or refers to itself too deeply"
    except Exception as error:  # a schema shape not foreseen here: say so rather than fail the caller
        return [], f"cannot generate configs from the previous spec: {describe(error)}"
    run = _run(strategy, Draft7Validator(spec), examples, seconds)
    return run.configs, _note(run, examples, builder.skipped)


# --------------------------------------------------------------------------------------------------- strategies


class _Builder:
    """Composes the strategy for configs a schema accepts. It may be loose where keywords interact (oneOf exclusivity,
    dependencies, patternProperties): every config is validated against the previous spec before it is used."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.skipped: list[str] = []  # optional parts never generated, and why
        self._refs: list[str] = []  # $refs being expanded: meeting one again is recursion

    def config(self) -> SearchStrategy[dict[str, Any]]:
        types = _declared_types(self.root)
        if types is not None and "object" not in types:
            raise _Unsupported("the connectionSpecification does not describe an object")
        return self.node({**self.root, "type": "object"}, ())

    def node(self, schema: Any, path: tuple[str | int, ...]) -> SearchStrategy[Any]:
        if schema is True or schema == {}:
            return _any_json()
        if not isinstance(schema, dict):
            raise _Unsupported(f"nothing is allowed at {pointer(path)}")
        if "$ref" in schema:
            return self._ref(schema["$ref"], path)
        if "allOf" in schema:
            return self.node(self._merge_all(schema, path), path)
        for keyword in ("oneOf", "anyOf"):
            if isinstance(schema.get(keyword), list):
                return self._choice(schema, keyword, path)
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            if not schema["enum"]:
                raise _Unsupported(f"empty enum at {pointer(path)}")
            return st.sampled_from(schema["enum"])
        types = _declared_types(schema)
        if types is None:
            types = _hinted_types(schema)
        if types is None:
            return _any_json()
        if not types:
            raise _Unsupported(f"no type is allowed at {pointer(path)}")
        return st.one_of([self._typed(schema, kind, path) for kind in types])

    def _typed(self, schema: dict[str, Any], kind: str, path: tuple[str | int, ...]) -> SearchStrategy[Any]:
        if kind == "object":
            return self._object(schema, path)
        if kind == "array":
            return self._array(schema, path)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return _leaf(schema, kind, path)

    def _object(self, schema: dict[str, Any], path: tuple[str | int, ...]) -> SearchStrategy[dict[str, Any]]:
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = _required(schema)
        additional = schema.get("additionalProperties", True)
        fixed = {name: self.node(properties.get(name, additional), (*path, "properties", name)) for name in required}
        optional: dict[str, SearchStrategy[Any]] = {}
        for name, sub in properties.items():
            if name not in fixed and sub is not False:
                optional.update(self._optional(name, sub, (*path, "properties", name)))
        declared = st.fixed_dictionaries(fixed, optional=optional)
        extras = self._extras(schema, frozenset(properties) | frozenset(required), path)
        return declared if extras is None else st.tuples(declared, extras).map(_with_extras)

    def _optional(self, name: str, sub: Any, path: tuple[str | int, ...]) -> dict[str, SearchStrategy[Any]]:
        """The strategy for an optional property, or nothing (noted) when it cannot be generated."""
        try:
            return {name: self.node(sub, path)}
        except _Unsupported as error:
            self.skipped.append(f"optional {pointer(path)} never generated ({error})")
            return {}

    def _extras(self, schema: dict[str, Any], known: frozenset[str],
                path: tuple[str | int, ...]) -> SearchStrategy[dict[str, Any]] | None:
        """Undeclared keys where the schema allows them: what `additionalProperties: false` added later rejects."""
        additional = schema.get("additionalProperties", True)
        if additional is False or "patternProperties" in schema or "propertyNames" in schema:
            return None
        try:
            values = self.node(additional, (*path, "additionalProperties"))
        except _Unsupported as error:
            self.skipped.append(f"undeclared keys at {pointer(path)} never generated ({error})")
            return None
        return st.dictionaries(_extra_name(known), values, max_size=MAX_EXTRA_KEYS)

    def _array(self, schema: dict[str, Any], path: tuple[str | int, ...]) -> SearchStrategy[list[Any]]:
        items = schema.get("items", True)
        if isinstance(items, list):  # tuple form: one schema per position
            return st.tuples(*[self.node(item, (*path, "items", i)) for i, item in enumerate(items)]).map(list)
        low = int(schema.get("minItems", 0))
        high = min(int(schema.get("maxItems", low + MAX_EXTRA_ITEMS)), low + MAX_EXTRA_ITEMS)
        if high < low:
            raise _Unsupported(f"maxItems < minItems at {pointer(path)}")
        try:
            element = self.node(items, (*path, "items"))
        except _Unsupported as error:
            if low:
                raise
            self.skipped.append(f"items of {pointer(path)} never generated ({error})")
            return st.just([])
        unique = _canonical if schema.get("uniqueItems") is True else None
        return st.lists(element, min_size=low, max_size=high, unique_by=unique)

    def _choice(self, schema: dict[str, Any], keyword: str, path: tuple[str | int, ...]) -> SearchStrategy[Any]:
        """One strategy per variant, each merged with the keywords beside the oneOf / anyOf (type, properties...)."""
        rest = {key: value for key, value in schema.items() if key != keyword}
        options = []
        for index, branch in enumerate(schema[keyword]):
            where = (*path, keyword, index)
            try:
                options.append(self.node(_merge(rest, self._deref(branch, where)), where))
            except _Unsupported as error:
                self.skipped.append(f"variant {pointer(where)} never generated ({error})")
        if not options:
            raise _Unsupported(f"no {keyword} variant at {pointer(path)} can be generated")
        return st.one_of(options)

    def _merge_all(self, schema: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
        merged = {key: value for key, value in schema.items() if key != "allOf"}
        for index, branch in enumerate(schema["allOf"]):
            merged = _merge(merged, self._deref(branch, (*path, "allOf", index)))
        return merged

    def _ref(self, ref: Any, path: tuple[str | int, ...]) -> SearchStrategy[Any]:
        if ref in self._refs:
            raise _Unsupported(f"recursive $ref {ref!r} at {pointer(path)}")
        target = self._target(ref, path)
        self._refs.append(ref)
        try:
            return self.node(target, path)
        finally:
            self._refs.pop()

    def _deref(self, schema: Any, path: tuple[str | int, ...]) -> Any:
        """The schema a chain of `$ref`s ends at (for merging: the merged result loses track of where refs were)."""
        seen: list[Any] = []
        while isinstance(schema, dict) and "$ref" in schema:
            if schema["$ref"] in seen:
                raise _Unsupported(f"recursive $ref {schema['$ref']!r} at {pointer(path)}")
            seen.append(schema["$ref"])
            schema = self._target(schema["$ref"], path)
        return {} if schema is True else schema

    def _target(self, ref: Any, path: tuple[str | int, ...]) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise _Unsupported(f"$ref {ref!r} at {pointer(path)} is not local to the spec")
        node: Any = self.root
        for part in ref[1:].split("/")[1:]:
            key = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise _Unsupported(f"$ref {ref!r} at {pointer(path)} points at nothing")
        return node


def _leaf(schema: dict[str, Any], kind: str, path: tuple[str | int, ...]) -> SearchStrategy[Any]:
    """A string or number from hypothesis-jsonschema, given only the keywords that constrain that type."""
    leaf = {"type": kind, **{key: schema[key] for key in LEAF_KEYWORDS[kind] if key in schema}}
    if "pattern" in leaf:
        # Format checking is off when validating, so only the pattern binds; generating for the format and then
        # filtering by the pattern is ten times slower (upstream removes `format: date-time` for the same reason).
        leaf.pop("format", None)
        try:
            re.compile(leaf["pattern"])
        except (re.error, TypeError) as error:
            raise _Unsupported(f"pattern at {pointer(path)} is not a Python regular expression ({error})") from None
    try:
        return _leaf_strategy(json.dumps(leaf, sort_keys=True))
    except _Unsupported as error:
        raise _Unsupported(f"{pointer(path)}: {error}") from None


@lru_cache(maxsize=1024)
def _leaf_strategy(leaf: str) -> SearchStrategy[Any]:
    """Built once per distinct leaf schema (the same `port` or `start_date` shape recurs across variants)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            strategy = from_schema(json.loads(leaf))
            strategy.validate()  # strategies are lazy: surface InvalidArgument & co. now
        except Exception as error:
            raise _Unsupported(describe(error)) from None
        if strategy.is_empty:
            hints = [str(w.message).splitlines()[0] for w in caught if issubclass(w.category, UserWarning)]
            raise _Unsupported("no value satisfies it" + (f" ({hints[0]})" if hints else ""))
    return strategy


@lru_cache(maxsize=1)
def _any_json() -> SearchStrategy[Any]:
    """Any small JSON value, for untyped schemas and undeclared keys."""
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(
        max_size=12)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=8), inner, max_size=3), max_leaves=6)


def _extra_name(known: frozenset[str]) -> SearchStrategy[str]:
    alphabet = string.ascii_letters + string.digits + "_"
    return st.text(alphabet=alphabet, min_size=1, max_size=12).filter(lambda name: name not in known)


def _with_extras(pair: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    declared, extras = pair
    return {**declared, **{key: value for key, value in extras.items() if key not in declared}}


# --------------------------------------------------------------------------------------------------- schema helpers


def _declared_types(schema: dict[str, Any]) -> list[str] | None:
    """The `type` as a list in declaration order, or None when the schema declares none."""
    declared = schema.get("type")
    if isinstance(declared, str):
        declared = [declared]
    if not isinstance(declared, list):
        return None
    return [kind for kind in dict.fromkeys(declared) if kind in JSON_TYPES]


def _hinted_types(schema: dict[str, Any]) -> list[str] | None:
    """The types an untyped schema's keywords are about (`properties` ⇒ object), or None for a schema about nothing."""
    hinted = [kind for kind, keywords in TYPE_HINTS.items() if keywords & schema.keys()]
    return hinted or None


def _required(schema: dict[str, Any]) -> list[str]:
    required = schema.get("required")
    return list(dict.fromkeys(r for r in required if isinstance(r, str))) if isinstance(required, list) else []


def _merge(base: dict[str, Any], extra: Any) -> dict[str, Any]:
    """Roughly a schema for `allOf: [base, extra]`: properties and required united, types intersected, other keywords
    from `extra`. Inexact on purpose: configs the previous spec rejects are dropped after generation."""
    if extra is False:
        raise _Unsupported("a branch allows nothing")
    merged = dict(base)
    for key, value in (extra if isinstance(extra, dict) else {}).items():
        if key == "properties" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            mine = merged[key]
            merged[key] = {**mine, **{name: {"allOf": [mine[name], sub]} if name in mine else sub
                                      for name, sub in value.items()}}
        elif key == "required" and isinstance(value, list):
            merged[key] = list(dict.fromkeys([*_required(merged), *value]))
        elif key == "type" and "type" in merged:
            merged[key] = _common_types(_declared_types(merged) or [], _declared_types({"type": value}) or [])
        elif key in ("allOf", "oneOf", "anyOf") and key in merged:
            merged["allOf"] = [*merged.get("allOf", []), {key: value}] if key != "allOf" else [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def _common_types(first: list[str], second: list[str]) -> list[str]:
    """Types both lists allow; `integer` is a `number` too."""
    def allowed(kind: str, kinds: list[str]) -> bool:
        return kind in kinds or (kind == "integer" and "number" in kinds)
    common = [kind for kind in first if allowed(kind, second)]
    return common + [kind for kind in second if kind == "integer" and "number" in first and kind not in common]


def schema_problem(schema: dict[str, Any], which: str) -> str | None:
    """Why the schema is not one a connector could validate with (it would fail on every config), or None."""
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as error:  # the message quotes the schema, never a config
        return (f"the {which} spec is not a valid draft-7 schema: {_shorten(error.message)} "
                f"at {pointer(tuple(error.absolute_path))}")
    return None


# --------------------------------------------------------------------------------------------------- generation


@dataclass
class _Run:
    configs: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    invalid: int = 0
    stopped: str | None = None  # why generation ended before `examples` configs were found


def _run(strategy: SearchStrategy[dict[str, Any]], previous: Draft7Validator, examples: int, seconds: float) -> _Run:
    """Draw configs until `examples` distinct valid ones are collected, the space is exhausted or time is up.

    Duplicates and configs the previous spec rejects are rejected as hypothesis assumptions, so they do not count
    towards max_examples: the run keeps drawing, up to hypothesis's limit on rejected draws."""
    run, seen, deadline = _Run(), set(), time.monotonic() + seconds

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
              report_multiple_bugs=False)
    @given(strategy)
    def collect(config: dict[str, Any]) -> None:
        if time.monotonic() >= deadline:
            raise _OutOfTime
        key = _canonical(config)
        if key in seen:
            run.duplicates += 1
            reject()
        seen.add(key)
        if not previous.is_valid(config):
            run.invalid += 1
            reject()
        run.configs.append(config)

    with warnings.catch_warnings(), _without_local_constants():
        warnings.simplefilter("ignore")
        try:
            collect()
        except _OutOfTime:
            run.stopped = f"time budget of {seconds:g} s spent"
        except Unsatisfiable:
            run.stopped = "no generated config satisfies the previous spec"
        except Exception as error:
            run.stopped = f"generation failed: {describe(error)}"
    return run


@contextmanager
def _without_local_constants() -> Iterator[None]:
    """Hide hypothesis's pool of "local constants" while generating.

    Since 6.131 hypothesis now and then draws a string or number literal found in the source of the non-library
    modules imported at that moment (HypothesisWorks/hypothesis#4356). Examples would then change with what happens
    to be imported (test order, plugins) and with any edit to the project's code. Private API: when its layout
    changes this does nothing, and the determinism test in tests/test_config_examples.py says so."""
    getter = getattr(hypothesis_providers, "_get_local_constants", None)
    cache = getattr(getattr(hypothesis_providers, "CONSTANTS_CACHE", None), "cache", None)
    empty = getattr(hypothesis_providers, "Constants", None)
    if getter is None or not isinstance(cache, dict) or empty is None:
        yield
        return
    with _CONSTANTS_LOCK:
        hypothesis_providers._get_local_constants = empty
        cache.clear()  # cached (global, local) pools per draw kind were built from the real local pool
        try:
            yield
        finally:
            hypothesis_providers._get_local_constants = getter
            cache.clear()


def _note(run: _Run, examples: int, skipped: list[str]) -> str | None:
    parts = []
    if len(run.configs) < examples:
        why = run.stopped or "the previous spec allows few distinct configs"
        parts.append(f"{len(run.configs)} distinct configs of {examples} wanted: {why} ({run.duplicates} duplicates, "
                     f"{run.invalid} configs the previous spec rejects skipped)")
    if skipped:
        parts.append("; ".join(skipped))
    return "; ".join(parts) or None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {_shorten(text[0])}" if text else type(error).__name__


def _shorten(text: str, limit: int = 2 * MAX_SHOWN_CONSTRAINT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def declared_names(*schemas: dict[str, Any]) -> frozenset[str]:
    """Every property name either spec declares or requires: config keys that are not generated at random."""
    names: set[str] = set()
    for schema in schemas:
        for _, node in iter_schema_nodes(schema):
            if isinstance(node.get("properties"), dict):
                names.update(node["properties"])
            names.update(_required(node))
    return frozenset(names)
