"""Secret masking: every value the spec marks `airbyte_secret` is replaced before anything is shown or written."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

MASK = "**********"
WILDCARD = "*"  # a path step that matches every element of an array

# Property names that hold a credential even when a (broken) spec forgets to mark them: masking them too
# costs nothing and protects users from exactly the connectors this tool exists to catch.
LIKELY_SECRET_NAMES = frozenset(
    {"client_token", "access_token", "api_token", "token", "secret", "client_secret", "password", "key", "api_key",
     "service_account_info", "service_account", "certificate", "jwt", "credentials_json", "refresh_token",
     "private_key", "secret_key", "access_key", "session_token", "passphrase", "tunnel_user_password"}
)


def secret_paths(connection_specification: Any) -> set[tuple[str, ...]]:
    """Config paths whose values are secrets: property names, with `*` for array elements."""
    found: set[tuple[str, ...]] = set()
    _collect_secret_paths(connection_specification, (), found)
    return found


def _collect_secret_paths(node: Any, path: tuple[str, ...], found: set[tuple[str, ...]]) -> None:
    if not isinstance(node, dict):
        return
    if node.get("airbyte_secret") is True and path:
        found.add(path)
    for name, sub in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ():
        _collect_secret_paths(sub, (*path, name), found)
    for keyword in ("oneOf", "anyOf", "allOf"):  # branches describe the same object: same config path
        for branch in node.get(keyword) or [] if isinstance(node.get(keyword), list) else []:
            _collect_secret_paths(branch, path, found)
    items = node.get("items")
    for item_schema in items if isinstance(items, list) else [items]:  # list: tuple-style arrays
        _collect_secret_paths(item_schema, (*path, WILDCARD), found)


def values_at(document: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        yield document
        return
    head, rest = path[0], path[1:]
    if head == WILDCARD and isinstance(document, list):
        for item in document:
            yield from values_at(item, rest)
    elif isinstance(document, dict) and head in document:
        yield from values_at(document[head], rest)


def secret_values(connection_specification: Any, config: Any) -> set[str]:
    """The config's secret values as strings: marked by the spec, or under a key that obviously names one."""
    values: set[str] = set()
    for path in secret_paths(connection_specification):
        for value in values_at(config, path):
            values.update(_scalars(value))
    for key, value in _iter_items(config):
        if key.lower() in LIKELY_SECRET_NAMES:
            values.update(_scalars(value))
    return {v for v in values if v}


def _scalars(value: Any) -> Iterator[str]:
    """Every leaf of a secret as a string; a secret object (e.g. a service-account JSON) gives all its leaves.
    Iterative: a config may nest as deep as the JSON parser allows."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, bool) or node is None:
            continue
        if isinstance(node, (str, int, float)):
            yield str(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _iter_items(document: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair at any depth, iteratively."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                yield str(key), value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def encodings(secret: str) -> set[str]:
    """The forms a secret commonly takes in output: as is, JSON-escaped, URL-encoded, base64."""
    # surrogatepass: a JSON "\ud800" escape gives a lone surrogate, which strict UTF-8 cannot encode
    forms = {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe="", errors="surrogatepass"),
             urllib.parse.quote_plus(secret, errors="surrogatepass")}
    raw = secret.encode("utf-8", "surrogatepass")
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    forms.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    return {f for f in forms if f}


class Masker:
    """Replaces secrets (and their common encodings) in text and in JSON-like data. Cheap when there are none."""

    def __init__(self, secrets: set[str] | None = None) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets or set())

    @classmethod
    def from_spec_and_config(cls, connection_specification: Any, config: Any) -> Masker:
        return cls(secret_values(connection_specification, config))

    def add(self, secrets: set[str]) -> None:
        for secret in secrets:
            self._secrets |= encodings(secret)
        if self._secrets:
            ordered = sorted(self._secrets, key=len, reverse=True)  # longest first: no partial leftovers
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def mask(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def mask_data(self, data: Any) -> Any:
        """A copy of a JSON-like structure with every string (keys included) masked."""
        if self._pattern is None:
            return data
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, dict):
            return {self.mask(str(k)): self.mask_data(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.mask_data(v) for v in data]
        if isinstance(data, (int, float)) and not isinstance(data, bool) and str(data) in self._secrets:
            return MASK
        return data
