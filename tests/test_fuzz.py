"""Property-based tests (issue 7): random input never crashes the tool with an unexpected exception.

- protocol.parse_line: any bytes or text, any JSON (truncated, odd unicode, NaN, huge integers, deep nesting)
  gives None or a message dict with a string `type`; a valid message comes back as it was.
- config.load_config and metadata.load_metadata: any file content, and random mappings built from the keys the
  models know, either load or raise ConfigError (a UserError): never another exception.
- cache.digest, secrets.secret_values and Masker on random configs and specs never crash; a secret masks whole.

Deterministic (derandomize, no example database), so a failure here is a failure every time.
"""

from __future__ import annotations

import json
import math
import types
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from acceptance.cache import Cache, digest
from acceptance.config.connector import Connector
from acceptance.config.loading import CONFIG_FILE_NAME, LoadedConfig, load_config
from acceptance.config.metadata import METADATA_FILE, Metadata, load_metadata
from acceptance.config.models import SUITE_NAMES, AcceptanceTestConfig
from acceptance.config.strictness import high_strictness_problems, unconfigured_mandatory_suites
from acceptance.context import AcceptanceContext
from acceptance.errors import ConfigError, InputFileError
from acceptance.protocol.messages import MESSAGE_TYPES, loads, parse_line
from acceptance.runner.backend import Backend, network_allowed
from acceptance.secrets import LIKELY_SECRET_NAMES, MASK, Masker, secret_values

FUZZ = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- strategies ---------------------------------------------------------------------------------------------------

odd_characters = st.characters() | st.characters(categories=["Cs"]) | st.sampled_from("\x00\t\r\u2028\ufeff\U0001f600")
odd_text = st.text(odd_characters, max_size=30)
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**40), max_value=10**40)
           | st.floats() | odd_text)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(odd_text, inner, max_size=4), max_leaves=25)
# What YAML can hold besides JSON: dates, bytes, non-string keys.
yaml_scalars = scalars | st.dates() | st.datetimes() | st.binary(max_size=6)
yaml_values = st.recursive(yaml_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8) | st.integers() | st.none() | st.dates(), inner,
                                             max_size=4), max_leaves=25)
plausible_text = st.sampled_from(["secrets/config.json", "integration_tests/config.json", "latest", "1.2.3", "1.2",
                                  ".csv", "csv", "^\\d{4}$", "(", "", " ", "a\x00b", "users", "/id", "*", "high"])


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def typed(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of the annotation's type, mostly: now and then anything at all (wrong types must be reported too)."""
    return mostly(_of_type(_unwrap(annotation)), yaml_scalars)


def mostly(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` nine times in ten (one_of would pick each branch about as often)."""
    return st.sampled_from([True] * 9 + [False]).flatmap(lambda common: usual if common else rare)


def _of_type(annotation: Any) -> st.SearchStrategy[Any]:
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_mapping(annotation)
    if origin is list:
        return st.lists(typed(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(plausible_text | st.text(max_size=6), typed(args[1]), max_size=3)
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (Union, types.UnionType):
        return st.one_of([_of_type(_unwrap(arg)) for arg in args])
    simple = {bool: st.booleans(), int: st.integers(-5, 10**6) | st.integers(), float: st.floats(),
              str: plausible_text | odd_text, type(None): st.none()}
    return simple.get(annotation, yaml_scalars)


@cache
def model_mapping(model: type[BaseModel]) -> st.SearchStrategy[dict[Any, Any]]:
    """Mappings with some of the model's keys (values mostly of the right type), now and then an unknown key."""
    optional: dict[Any, st.SearchStrategy[Any]] = {name: st.deferred(lambda f=field: typed(f.annotation))
                                                   for name, field in model.model_fields.items()}
    required = {name: optional.pop(name) for name in ("acceptance_tests",) if name in optional}
    known = st.fixed_dictionaries(required, optional=optional)
    unknown = st.fixed_dictionaries({**required, "unknown_key": yaml_scalars}, optional=optional)
    return mostly(known, unknown)


def as_legacy(config: dict[Any, Any]) -> dict[Any, Any]:
    """The pre-v0.2.12 layout (`tests: {suite: [entries]}`) of a generated config, as far as its shape allows."""
    suites = config.pop("acceptance_tests", None)
    if isinstance(suites, dict):
        config["tests"] = {name: (block.get("tests") if isinstance(block, dict) else block)
                           for name, block in suites.items()}
    return config


plausible_configs = model_mapping(AcceptanceTestConfig)
configs = plausible_configs | plausible_configs.map(as_legacy) | yaml_values
metadata_files = st.fixed_dictionaries({"data": model_mapping(Metadata.model_fields["data"].annotation)}) | yaml_values
documents = st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace"))


def dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def write(path: Path, content: str | bytes) -> None:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# -- (a) protocol messages ----------------------------------------------------------------------------------------


def assert_message_or_none(result: Any) -> None:
    assert result is None or (isinstance(result, dict) and isinstance(result.get("type"), str)
                              and result["type"] in MESSAGE_TYPES), result


@FUZZ
@given(st.binary(max_size=300) | odd_text)
@example(b"\xff\xfe{")
@example("\ud800")
@example('{"type": ["RECORD"]}')
@example('{"type": {"a": 1}}')
def test_parse_line_on_random_input(line: bytes | str) -> None:
    assert_message_or_none(parse_line(line))


def nested(depth: int, opener: str, closed: bool) -> str:
    return opener * depth + "1" + ("]" if opener == "[" else "}") * depth * closed


@FUZZ
@given(st.integers(1, 200_000), st.sampled_from(["[", '{"a":', '{"type":"RECORD","x":']), st.booleans(),
       st.booleans())
@example(100_000, "[", True, True)
@example(100_000, "[", False, True)
@example(1_000, '{"a":', True, False)
def test_parse_line_on_deep_nesting(depth: int, opener: str, closed: bool, as_bytes: bool) -> None:
    line = nested(depth, opener, closed)
    assert_message_or_none(parse_line(line.encode() if as_bytes else line))


@FUZZ
@given(json_values, st.sampled_from(sorted(MESSAGE_TYPES)) | odd_text | json_values, st.booleans(), st.booleans(),
       st.integers(0, 10**6), st.sampled_from(["", " ", "\t", "\r", "\u2028"]))
def test_parse_line_on_json_documents(payload: Any, kind: Any, ensure_ascii: bool, as_bytes: bool, cut: int,
                                      padding: str) -> None:
    message = {"type": kind, "payload": payload}
    text = json.dumps(message, ensure_ascii=ensure_ascii)
    for variant in (text, text[:cut % (len(text) + 1)], padding + text + padding, json.dumps(payload)):
        raw = variant.encode("utf-8", "surrogatepass") if as_bytes else variant
        assert_message_or_none(parse_line(raw))
    if isinstance(kind, str) and kind in MESSAGE_TYPES:  # a valid message comes back whole: NaN, big integers, unicode
        assert json.dumps(parse_line(text)) == json.dumps(message)


@FUZZ
@given(st.binary(max_size=200) | st.builds(lambda n: b"[" * n, st.integers(0, 100_000)))
def test_loads_raises_only_value_error(raw: bytes) -> None:
    try:
        loads(raw)
    except ValueError:
        pass


# -- (b) acceptance-test-config.yml -------------------------------------------------------------------------------


def load_or_config_error(folder: Path) -> LoadedConfig | None:
    try:
        return load_config(folder)
    except ConfigError as error:
        assert str(error).startswith(str(folder.resolve() / CONFIG_FILE_NAME)), error
        return None


def use(loaded: LoadedConfig) -> None:
    """What the plugin reads of a loaded config: none of it may raise either."""
    assert loaded.notices is not None and loaded.test_strictness_level in ("low", "high")
    unconfigured_mandatory_suites(loaded)
    for name in SUITE_NAMES:
        for entry in loaded.entries(name):
            high_strictness_problems(loaded, name, entry)
            for path_field in ("config_path", "spec_path", "configured_catalog_path"):
                if getattr(entry, path_field, None):
                    loaded.resolve(getattr(entry, path_field))


@FUZZ
@given(documents | st.binary(max_size=200))
@example("acceptance_tests: " + "[" * 100_000)
@example("a:\n" + "- " * 100_000)
@example("a: 1" + "0" * 5000)
@example("acceptance_tests: {}\nbase_path: \"\\0\"\n")
@example("x: 2023-02-30\n")
@example("\tacceptance_tests:")
def test_config_loading_on_random_text(folder: Path, content: str | bytes) -> None:
    write(folder / CONFIG_FILE_NAME, content)
    loaded = load_or_config_error(folder)
    if loaded is not None:
        use(loaded)


@FUZZ
@given(configs)
def test_config_loading_on_random_mappings(folder: Path, config: Any) -> None:
    write(folder / CONFIG_FILE_NAME, dump(config))
    loaded = load_or_config_error(folder)
    if loaded is not None:
        use(loaded)


# -- (c) metadata.yaml --------------------------------------------------------------------------------------------


def load_metadata_or_config_error(folder: Path) -> None:
    try:
        metadata = load_metadata(folder)
    except ConfigError as error:
        assert str(error).startswith(str(folder / METADATA_FILE)), error
        return
    assert metadata is not None
    assert isinstance(metadata.certified, bool)
    assert metadata.data.pypi_package is None or isinstance(metadata.data.pypi_package, str)
    network_allowed(metadata)
    metadata.data.model_dump()


@FUZZ
@given(documents | st.binary(max_size=200))
@example("data: " + "[" * 100_000)
@example(b"\xff")
@example("data: {ab_internal: {ql: abc}}")
def test_metadata_loading_on_random_text(folder: Path, content: str | bytes) -> None:
    write(folder / METADATA_FILE, content)
    load_metadata_or_config_error(folder)


@FUZZ
@given(metadata_files)
@example({"data": {"ab_internal": 5}})
@example({"data": {"ab_internal": {"ql": "high"}}})
def test_metadata_loading_on_random_mappings(folder: Path, metadata: Any) -> None:
    write(folder / METADATA_FILE, dump(metadata))
    load_metadata_or_config_error(folder)


# -- (d) cache key and secret masking -----------------------------------------------------------------------------

# JSON as load_json gives it: string keys, no lone surrogates (see the xfail below), nesting far below 1,000.
clean_text = st.text(max_size=20)
configs_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40) | st.floats() | clean_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(sorted(LIKELY_SECRET_NAMES))
                                                                | clean_text, inner, max_size=4),
    max_leaves=25)
spec_nodes = st.recursive(
    st.fixed_dictionaries({}, optional={"type": st.sampled_from(["string", "object", "array"]),
                                        "airbyte_secret": st.booleans() | json_values}),
    lambda inner: st.fixed_dictionaries({}, optional={
        "properties": st.dictionaries(clean_text, inner, max_size=4) | json_values,
        "oneOf": st.lists(inner, max_size=3) | json_values, "anyOf": st.lists(inner, max_size=3),
        "items": inner | st.lists(inner, max_size=2) | json_values, "airbyte_secret": st.just(True)}),
    max_leaves=15)


def secrets_of(spec: Any, config: Any) -> set[str]:
    found = secret_values(spec, config)
    assert all(isinstance(value, str) and value for value in found)
    return found


@FUZZ
@given(spec_nodes | json_values, configs_json, st.text(max_size=60))
def test_secret_masking_never_crashes(spec: Any, config: Any, text: str) -> None:
    found = secrets_of(spec, config)
    masker = Masker(found)
    masker.mask(text)
    masker.mask_data(config)
    masker.mask(json.dumps(config))
    for secret in found:
        assert masker.mask(secret) == MASK  # a secret is masked whole, never partly


@FUZZ
@given(configs_json | json_values)
def test_cache_key_never_crashes_and_ignores_key_order(config: Any) -> None:
    key = digest(config)
    assert len(key) == 64
    if isinstance(config, dict):
        assert digest(dict(reversed(list(config.items())))) == key


def test_secret_with_a_lone_surrogate_is_masked() -> None:
    config = loads(b'{"password": "ab\\ud800c"}')  # a JSON \ud800 escape gives a lone surrogate
    assert Masker(secret_values({}, config)).mask("x ab\ud800c y") == f"x {MASK} y"


def test_a_config_nested_a_thousand_levels_is_refused_clearly(tmp_path: Path) -> None:
    deep = b'{"a":' * 900 + b"1" + b"}" * 900  # loads accepts it (msgspec's limit is Python's recursion limit)
    assert secret_values({}, loads(deep)) == set()  # secret search is iterative
    (tmp_path / "acceptance-test-config.yml").write_text("acceptance_tests: {}\n")
    (tmp_path / "deep.json").write_bytes(deep)
    connector = Connector.of_config(load_config(tmp_path))
    context = AcceptanceContext(connector, Backend("local", "test"), Cache(tmp_path / "c"))
    with pytest.raises(InputFileError, match="nested more than 256 levels deep"):
        context.load_json("deep.json", "acceptance_tests.spec.tests[0].config_path")


def test_nan_survives_the_round_trip() -> None:
    assert math.isnan(parse_line('{"type": "RECORD", "x": NaN}')["x"])  # type: ignore[index]
