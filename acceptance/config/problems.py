"""Validation problems as people read them: pydantic errors turned into (key path, plain message) pairs such as
``acceptance_tests.spec.tests[0].timeout_seconds``: "expected an integer, got a string ('abc')", with key paths
written as the user's file has them (legacy files: ``tests.<suite>[i]``)."""

from __future__ import annotations

import difflib
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from acceptance.config.models import DEPRECATED_FIELDS, AcceptanceTestConfig

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def render_path(keys: tuple[Any, ...] | list[Any]) -> str:
    """('a', 'b', 0, 'c') -> 'a.b[0].c'; odd keys (spaces, dots) are quoted: a["my stream"]."""
    out = ""
    for key in keys:
        if isinstance(key, int) and not isinstance(key, bool):
            out += f"[{key}]"
        elif _PLAIN_KEY.fullmatch(str(key)):
            out += f".{key}" if out else str(key)
        else:
            out += f'["{key}"]'
    return out


def legacy_path(path: str) -> str:
    """Map a key path of the migrated config back to where it sits in a legacy file."""
    path = re.sub(r"^acceptance_tests\.(\w+)\.tests(?=\[|$)", r"tests.\1", path)
    return re.sub(r"^acceptance_tests(?=\.|$)", "tests", path)


def _real_keys(loc: tuple[Any, ...], data: object) -> list[Any]:
    """Keep the loc elements that are real keys/indexes of the input; drop pydantic's type tags."""
    keys: list[Any] = []
    node = data
    for position, element in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(node, dict) and element in node:
            keys.append(element)
            node = node[element]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            keys.append(element)
            node = node[element]
        elif element == "[key]":
            continue  # pydantic's marker for "the key itself is invalid"
        elif last and isinstance(element, str):
            keys.append(element)  # a missing key
            node = None
        # anything else is a tag such as 'function-after[...]' or a union member name
    return keys


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] layers."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _model_at(keys: list[Any]) -> type[BaseModel] | None:
    """The model class found at a key path of the root model (None if the path does not lead to a model)."""
    annotation: Any = AcceptanceTestConfig
    for key in keys:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(key) if isinstance(key, str) else None
            if info is None:
                return None
            annotation = info.annotation
        elif origin is list and isinstance(key, int):
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _allowed_keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    deprecated = DEPRECATED_FIELDS.get(model, {})
    return sorted(name for name in model.model_fields if name not in deprecated)


_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (bytes, "binary data"),
    (list, "a list"),
    (dict, "a mapping"),
)


def describe(value: object) -> str:
    """'got a string ('abc')': the kind of a value, and the value itself when it is a short scalar."""
    if value is None:
        return "got nothing (null)"
    kind = next((name for cls, name in _KINDS if isinstance(value, cls)), f"a {type(value).__name__}")
    if isinstance(value, bool):
        return f"got {kind} ({str(value).lower()})"
    if isinstance(value, (int, float, str)):
        shown = repr(value)
        return f"got {kind} ({shown})" if len(shown) <= 40 else f"got {kind}"
    return f"got {kind}"


_EXPECTED_KIND = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "string_type": "a string",
    "string_unicode": "a string",
    "list_type": "a list",
    "dict_type": "a mapping (key: value pairs)",
    "model_type": "a mapping (key: value pairs)",
    "model_attributes_type": "a mapping (key: value pairs)",
}


def _message(error: Any, keys: list[Any]) -> str:
    """A plain-words message for one pydantic error (never pydantic's own wording when we can do better)."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_keys(_model_at(keys[:-1]))
        message = f"unknown key '{keys[-1]}'; allowed keys: {', '.join(allowed)}"
        close = difflib.get_close_matches(str(keys[-1]), allowed, n=1)
        return f"{message}; did you mean '{close[0]}'?" if close else message
    if kind == "missing":
        return "required"
    if kind == "invalid_key":
        quote = f"; write it in quotes: '{value}'" if value is not None else ""
        return f"keys must be strings, {describe(value)}{quote}"
    if kind == "finite_number":
        return f"expected a finite number, {describe(value)}"
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"keys must be strings, {describe(value)}"
    if kind in _EXPECTED_KIND:
        return f"expected {_EXPECTED_KIND[kind]}, {describe(value)}"
    if kind in ("literal_error", "enum"):
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"expected one of: {', '.join(options)}; {describe(value)}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, {describe(value)}"
    if kind == "config_rule":
        return str(error["msg"])
    return re.sub(r"^(Value|Assertion) error, ", "", str(error["msg"]))


def validation_problems(exc: ValidationError, data: object) -> list[tuple[str, str]]:
    """(key path, plain message) pairs for a pydantic error on `data`: for other YAML files (metadata.yaml)."""
    return problems(exc, data, legacy=False)


def problems(exc: ValidationError, data: object, *, legacy: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False):
        keys = _real_keys(tuple(error["loc"]), data)
        if error["type"] == "invalid_key":  # the key itself is at fault: name the mapping holding it
            keys = keys[:-1]
        path = render_path(keys)
        problem = (legacy_path(path) if legacy else path, _message(error, keys))
        if problem not in problems:
            problems.append(problem)
    return problems
