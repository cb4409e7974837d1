"""Connector attributes (certified connectors): primary keys declared, metadata allowedHosts and suggestedStreams.

Every check takes parsed data (a discovered catalog, the `data` mapping of metadata.yaml as a plain dict, e.g.
``metadata.data.model_dump()``, the spec's connectionSpecification) and returns findings; [] means it passed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from acceptance.findings import Finding
from acceptance.protocol.jsonschema_helpers import find_property, pointer

_REFERENCE = re.compile(r"\$\{([^}]*)\}")


def check_streams_define_primary_key(discovered: dict[str, Any],
                                     streams_without_primary_key: Collection[str]) -> list[Finding]:
    """Every discovered stream has a source-defined primary key, or is listed in `streams_without_primary_key`.

    A listed stream that does have a primary key, or that the connector does not discover, is stale configuration
    and is reported as a warning.
    """
    raw = discovered.get("streams") if isinstance(discovered, dict) else None
    raw = raw if isinstance(raw, list) else []
    streams = [s for s in raw if isinstance(s, dict) and isinstance(s.get("name"), str)]
    listed = set(streams_without_primary_key)
    with_key = {s["name"] for s in streams if s.get("source_defined_primary_key")}
    missing = sorted({s["name"] for s in streams} - with_key - listed)
    findings: list[Finding] = []
    if missing:
        findings.append(Finding(
            "streams_define_primary_key",
            f"stream(s) without a source_defined_primary_key: {', '.join(missing)}; expected every stream to define "
            "a primary key, or to be listed under connector_attributes `streams_without_primary_key` "
            "(with `name` and a `bypass_reason`)",
            "/streams"))
    discovered_names = {s["name"] for s in streams}
    for name in sorted(listed):
        if name in with_key:
            findings.append(Finding(
                "streams_define_primary_key",
                f"stream {name!r} is listed in streams_without_primary_key but defines the primary key "
                f"{_key_words(_stream(streams, name))}; remove it from the list",
                pointer(("streams", name, "source_defined_primary_key")), "warning"))
        elif name not in discovered_names:
            findings.append(Finding(
                "streams_define_primary_key",
                f"stream {name!r} is listed in streams_without_primary_key but is not discovered; discovered "
                f"streams: {', '.join(sorted(discovered_names)) or '(none)'}",
                "", "warning"))
    return findings


def check_allowed_hosts(metadata_data: dict[str, Any] | None,
                        connection_specification: dict[str, Any] | None = None) -> list[Finding]:
    """metadata.yaml declares `allowedHosts.hosts`: a list of hostnames (wildcards allowed), `[]` for no network.

    `${a.b}` references must name properties of the connection specification (through nested properties and
    oneOf/anyOf branches) when one is given.
    """
    name = "allowed_hosts"
    if not isinstance(metadata_data, dict):
        return [Finding(name, "no metadata.yaml `data` to read; expected `data.allowedHosts.hosts` to be declared")]
    allowed = metadata_data.get("allowedHosts")
    if not isinstance(allowed, dict):
        got = "" if allowed is None else f" (got {type(allowed).__name__})"
        return [Finding(name, "metadata.yaml has no `data.allowedHosts`" + got + "; expected `allowedHosts: {hosts: "
                        "[...]}` listing the hosts the connector may reach, or `hosts: []` for no network access",
                        "/data/allowedHosts")]
    hosts = allowed.get("hosts")
    if not isinstance(hosts, list):
        got = "nothing" if hosts is None else repr(hosts)
        return [Finding(name, f"`data.allowedHosts.hosts` must be a list of hosts, got {got}; use `hosts: []` to "
                        "prevent network access", "/data/allowedHosts/hosts")]
    findings: list[Finding] = []
    for index, host in enumerate(hosts):
        where = pointer(("data", "allowedHosts", "hosts", index))
        if not isinstance(host, str) or not host.strip():
            findings.append(Finding(name, f"allowed host #{index} is {host!r}; expected a non-empty hostname, IP "
                                    "address, wildcard (`*.vendor.com`) or `${config.field}` reference", where))
            continue
        findings += _host_shape(host, where)
        if connection_specification is not None:
            findings += _host_references(host, connection_specification, where)
    return findings


def check_suggested_streams(metadata_data: dict[str, Any] | None,
                            discovered: dict[str, Any] | None = None) -> list[Finding]:
    """metadata.yaml declares a non-empty `suggestedStreams.streams`, each one a stream the connector discovers."""
    name = "suggested_streams"
    if not isinstance(metadata_data, dict):
        return [Finding(name, "no metadata.yaml `data` to read; expected `data.suggestedStreams.streams`")]
    suggested = metadata_data.get("suggestedStreams")
    if not isinstance(suggested, dict):
        return [Finding(name, "metadata.yaml has no `data.suggestedStreams`; expected `suggestedStreams: {streams: "
                        "[...]}` naming the streams most users want", "/data/suggestedStreams")]
    streams = suggested.get("streams")
    if not isinstance(streams, list) or not streams:
        got = "nothing" if streams is None else repr(streams)
        return [Finding(name, f"`data.suggestedStreams.streams` must be a non-empty list of stream names, got {got}",
                        "/data/suggestedStreams/streams")]
    findings: list[Finding] = []
    known = None
    if isinstance(discovered, dict):
        raw = discovered.get("streams")
        known = {s["name"] for s in raw if isinstance(s, dict) and "name" in s} if isinstance(raw, list) else set()
    for index, stream in enumerate(streams):
        where = pointer(("data", "suggestedStreams", "streams", index))
        if not isinstance(stream, str) or not stream:
            findings.append(Finding(name, f"suggested stream #{index} is {stream!r}; expected a stream name", where))
        elif known is not None and stream not in known:
            findings.append(Finding(name, f"suggested stream {stream!r} is not in the discovered catalog; discovered "
                                    f"streams: {', '.join(sorted(known)) or '(none)'}", where))
    return findings


# --- private helpers -------------------------------------------------------------------------------------------


def _stream(streams: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(s for s in streams if s["name"] == name)


def _key_words(stream: dict[str, Any]) -> str:
    return repr(stream.get("source_defined_primary_key"))


def _host_shape(host: str, where: str) -> list[Finding]:
    """A host is a bare name: no scheme, path or whitespace (outside `${...}` references)."""
    bare = _REFERENCE.sub("x", host)
    if "://" in bare or "/" in bare or any(c.isspace() for c in bare):
        return [Finding("allowed_hosts", f"allowed host {host!r} is not a bare hostname; expected a hostname, IP "
                        "address or wildcard without scheme, path or spaces (e.g. `api.vendor.com`)", where)]
    if "${" in bare:
        return [Finding("allowed_hosts", f"allowed host {host!r} has an unterminated `${{` reference; expected "
                        "`${field}`", where)]
    return []


def _host_references(host: str, specification: dict[str, Any], where: str) -> list[Finding]:
    findings: list[Finding] = []
    for reference in _REFERENCE.findall(host):
        parts = reference.strip().split(".")
        if not reference.strip() or not all(parts):
            findings.append(Finding("allowed_hosts", f"allowed host {host!r} has an empty or malformed reference "
                                    f"${{{reference}}}; expected a dot path such as `${{subdomain}}` or "
                                    "`${networking_options.tunnel_host}`", where))
        elif find_property(specification, parts) is None:
            findings.append(Finding("allowed_hosts", f"allowed host {host!r} references ${{{reference}}}, which is "
                                    f"not a property of the connection specification; top-level properties: "
                                    f"{_top_properties(specification)}", where))
    return findings


def _top_properties(specification: dict[str, Any]) -> str:
    properties = specification.get("properties")
    names = sorted(properties) if isinstance(properties, dict) else []
    return ", ".join(names) or "(none)"
