"""Configured catalogs: built from discovery, loaded from a file, narrowed to one sync mode.

Plain functions over dicts. A catalog is ``{"streams": [stream, ...]}`` as `discover` prints it; a configured
catalog is ``{"streams": [{"stream": {...}, "sync_mode": ..., "destination_sync_mode": ..., "cursor_field": [...],
"primary_key": [[...]]}, ...]}`` as `read` takes it. Nothing here mutates its inputs: every result is a copy.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator
from typing import Any

from pydantic import ValidationError

Catalog = dict[str, Any]
Stream = dict[str, Any]

FULL_REFRESH = "full_refresh"
INCREMENTAL = "incremental"
DEFAULT_DESTINATION_SYNC_MODE = "append"
INVALID_STREAM_NAME = "__AIRBYTE__stream_that_does_not_exist"


class CatalogError(ValueError):
    """A configured catalog that cannot be used: unknown streams, missing names, a malformed file."""


def configured_from_discovered(
    discovered: Catalog, *, exclude: Collection[str] = (), sync_mode: str | None = None
) -> Catalog:
    """Configure every discovered stream except `exclude`, the way upstream does when no catalog file is given.

    sync_mode is the given one (streams that do not support it are left out) or else the stream's first supported
    mode; destination_sync_mode is "append"; cursor_field is the stream's default cursor and primary_key its
    source-defined key, each only when the stream declares one.
    """
    configured: list[Stream] = []
    for stream in _discovered_streams(discovered):
        if stream.get("name") in exclude:
            continue
        supported = supported_sync_modes(stream)
        if sync_mode is not None and sync_mode not in supported:
            continue
        entry: Stream = {
            "stream": copy.deepcopy(stream),
            "sync_mode": sync_mode if sync_mode is not None else supported[0],
            "destination_sync_mode": DEFAULT_DESTINATION_SYNC_MODE,
        }
        if stream.get("default_cursor_field"):
            entry["cursor_field"] = list(stream["default_cursor_field"])
        if stream.get("source_defined_primary_key"):
            entry["primary_key"] = copy.deepcopy(stream["source_defined_primary_key"])
        configured.append(entry)
    return {"streams": configured}


def configured_from_file(configured: Catalog, discovered: Catalog) -> Catalog:
    """The file's configured streams, each `stream` object replaced by the discovered stream of the same name.

    The file's sync_mode, destination_sync_mode, cursor_field and primary_key are kept; its schemas are not (the
    connector's discovery is the truth). A file stream without a namespace matches the discovered stream of that
    name whatever its namespace. Raises CatalogError for a stream the connector does not discover.
    """
    file_streams = configured.get("streams") if isinstance(configured, dict) else None
    if not isinstance(file_streams, list):
        raise CatalogError("the configured catalog has no `streams` list; expected {\"streams\": [...]}")
    available = list(_discovered_streams(discovered))
    result: list[Stream] = []
    for index, entry in enumerate(file_streams):
        stream = entry.get("stream") if isinstance(entry, dict) else None
        name = stream.get("name") if isinstance(stream, dict) else None
        if not isinstance(name, str) or not name:
            raise CatalogError(f"configured stream #{index} has no `stream.name`; expected every configured "
                               "stream to name a discovered stream")
        match = _match_discovered(name, stream.get("namespace"), available)
        replaced = copy.deepcopy(entry)
        replaced["stream"] = copy.deepcopy(match)
        result.append(replaced)
    return {**copy.deepcopy({k: v for k, v in configured.items() if k != "streams"}), "streams": result}


def only_supporting(configured: Catalog, sync_mode: str) -> Catalog:
    """A copy keeping only the streams that support `sync_mode`, with their sync_mode forced to it.

    For incremental, a stream without a cursor_field gets the stream's default_cursor_field; when it has neither
    the cursor is left missing (a check reports it).
    """
    kept: list[Stream] = []
    for entry in _configured_streams(configured):
        stream = entry.get("stream")
        if not isinstance(stream, dict) or sync_mode not in supported_sync_modes(stream):
            continue
        narrowed = copy.deepcopy(entry)
        narrowed["sync_mode"] = sync_mode
        if sync_mode == INCREMENTAL and not narrowed.get("cursor_field") and stream.get("default_cursor_field"):
            narrowed["cursor_field"] = list(stream["default_cursor_field"])
        kept.append(narrowed)
    rest = {k: v for k, v in configured.items() if k != "streams"} if isinstance(configured, dict) else {}
    return {**copy.deepcopy(rest), "streams": kept}


def invalid_catalog_for_trace_test() -> Catalog:
    """Upstream's deliberately invalid catalog: a stream that does not exist, with sync modes "INVALID".

    Built as a plain dict, so no validation stands in the way; a well-behaved connector answers with an error TRACE.
    """
    return {
        "streams": [
            {
                "stream": {
                    "name": INVALID_STREAM_NAME,
                    "json_schema": {"type": "object", "properties": {"f1": {"type": "string"}}},
                    "supported_sync_modes": [FULL_REFRESH],
                },
                "sync_mode": "INVALID",
                "destination_sync_mode": "INVALID",
            }
        ]
    }


def supported_sync_modes(stream: Stream) -> list[str]:
    """The stream's supported_sync_modes; full_refresh when it declares none (a discovery check reports that)."""
    modes = stream.get("supported_sync_modes")
    if isinstance(modes, list) and modes:
        return [mode for mode in modes if isinstance(mode, str)] or [FULL_REFRESH]
    return [FULL_REFRESH]


def stream_names(configured: Catalog) -> list[str]:
    """The names of the configured streams, in catalog order."""
    return [name for name, _ in _named(configured)]


def primary_keys(configured: Catalog) -> dict[str, list[list[str]]]:
    """Stream name -> primary key: the configured primary_key, else the source-defined one, else []."""
    keys: dict[str, list[list[str]]] = {}
    for name, entry in _named(configured):
        key = entry.get("primary_key") or entry["stream"].get("source_defined_primary_key") or []
        keys[name] = copy.deepcopy(key)
    return keys


def schemas(configured: Catalog) -> dict[str, dict[str, Any]]:
    """Stream name -> json_schema of every configured stream ({} when a stream has none)."""
    return {name: entry["stream"].get("json_schema") or {} for name, entry in _named(configured)}


def configured_stream(configured: Catalog, name: str) -> Stream:
    """The configured stream called `name`; CatalogError listing the configured names when there is none."""
    for found, entry in _named(configured):
        if found == name:
            return entry
    raise CatalogError(f"stream {name!r} is not in the configured catalog; configured streams: "
                       f"{_names_list(stream_names(configured))}")


def configured_catalog_problems(configured: Any) -> list[str]:
    """Why a configured catalog is not a valid ConfiguredAirbyteCatalog per the official protocol models ([] if valid).

    Locations name streams by name (`streams[users].sync_mode`) when they have one.
    """
    from airbyte_protocol.models import ConfiguredAirbyteCatalog  # ~40 ms to import: only where a catalog is checked

    try:
        ConfiguredAirbyteCatalog.model_validate(configured)
    except ValidationError as error:
        return [f"{_location(configured, e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)]
    return []


# --- private helpers -------------------------------------------------------------------------------------------


def _discovered_streams(discovered: Catalog) -> Iterator[Stream]:
    streams = discovered.get("streams") if isinstance(discovered, dict) else None
    if isinstance(streams, list):
        yield from (s for s in streams if isinstance(s, dict) and isinstance(s.get("name"), str))


def _configured_streams(configured: Catalog) -> Iterator[Stream]:
    streams = configured.get("streams") if isinstance(configured, dict) else None
    if isinstance(streams, list):
        yield from (s for s in streams if isinstance(s, dict))


def _named(configured: Catalog) -> Iterator[tuple[str, Stream]]:
    """(name, configured stream) for every configured stream whose `stream` object has a name."""
    for entry in _configured_streams(configured):
        stream = entry.get("stream")
        if isinstance(stream, dict) and isinstance(stream.get("name"), str):
            yield stream["name"], entry


def _match_discovered(name: str, namespace: Any, available: list[Stream]) -> Stream:
    same_name = [s for s in available if s["name"] == name]
    if namespace is not None:
        same_name = [s for s in same_name if s.get("namespace") == namespace]
    elif len(same_name) > 1:
        # The file omits the namespace: a stream without one wins, otherwise the name must be unambiguous.
        without = [s for s in same_name if s.get("namespace") is None]
        if len(without) == 1:
            return without[0]
        namespaces = sorted(str(s.get("namespace")) for s in same_name)
        raise CatalogError(f"configured stream {name!r} has no namespace and the connector discovers it in several "
                           f"namespaces ({', '.join(namespaces)}); set `stream.namespace` in the configured catalog")
    if not same_name:
        label = f"{name!r}" + (f" (namespace {namespace!r})" if namespace is not None else "")
        raise CatalogError(f"configured stream {label} is not part of the discovered catalog; discovered streams: "
                           f"{_names_list(_labels(available))}")
    return same_name[0]


def _labels(streams: list[Stream]) -> list[str]:
    return [s["name"] if s.get("namespace") is None else f"{s['namespace']}.{s['name']}" for s in streams]


def _names_list(names: list[str]) -> str:
    return ", ".join(sorted(names)) if names else "(none)"


def _location(configured: Any, loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for index, part in enumerate(loc):
        if index == 1 and loc[0] == "streams" and isinstance(part, int):
            name = _stream_name_at(configured, part)
            parts[-1] = f"streams[{name}]" if name else f"streams[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(root)"


def _stream_name_at(configured: Any, index: int) -> str | None:
    try:
        name = configured["streams"][index]["stream"]["name"]
    except (KeyError, IndexError, TypeError):
        return None
    return name if isinstance(name, str) and name else None
