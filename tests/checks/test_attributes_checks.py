"""Connector attribute checks: primary keys, allowedHosts, suggestedStreams; each passing and failing."""

from __future__ import annotations

from typing import Any

from acceptance.checks.attributes import check_allowed_hosts, check_streams_define_primary_key, check_suggested_streams
from acceptance.findings import errors, warnings_of


def catalog(**keys: Any) -> dict[str, Any]:
    """A discovered catalog: stream name -> its source_defined_primary_key (None for no key)."""
    streams = []
    for name, key in keys.items():
        body: dict[str, Any] = {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}
        if key is not None:
            body["source_defined_primary_key"] = key
        streams.append(body)
    return {"streams": streams}


SPEC: dict[str, Any] = {
    "type": "object",
    "properties": {
        "subdomain": {"type": "string"},
        "networking_options": {
            "type": "object",
            "oneOf": [
                {"properties": {"mode": {"const": "public"}}},
                {"properties": {"mode": {"const": "ssh"}, "tunnel_host": {"type": "string"}}},
            ],
        },
    },
}


def hosts(*entries: Any) -> dict[str, Any]:
    return {"allowedHosts": {"hosts": list(entries)}}


# --- primary keys ----------------------------------------------------------------------------------------------


def test_streams_with_primary_keys_pass() -> None:
    assert check_streams_define_primary_key(catalog(users=[["id"]], orders=[["id"], ["line"]]), []) == []


def test_streams_without_primary_key_must_be_listed() -> None:
    findings = check_streams_define_primary_key(catalog(users=[["id"]], report=None, stats=[]), [])
    assert [f.message for f in findings] == [
        "stream(s) without a source_defined_primary_key: report, stats; expected every stream to define a primary "
        "key, or to be listed under connector_attributes `streams_without_primary_key` (with `name` and a "
        "`bypass_reason`)"]
    assert errors(findings) == findings


def test_listed_streams_without_primary_key_pass() -> None:
    assert check_streams_define_primary_key(catalog(users=[["id"]], report=None), ["report"]) == []


def test_stale_listing_is_a_warning() -> None:
    findings = check_streams_define_primary_key(catalog(users=[["id"]], report=None), ["report", "users", "gone"])
    assert errors(findings) == []
    assert [f.message for f in warnings_of(findings)] == [
        "stream 'gone' is listed in streams_without_primary_key but is not discovered; discovered streams: "
        "report, users",
        "stream 'users' is listed in streams_without_primary_key but defines the primary key [['id']]; remove it "
        "from the list",
    ]
    assert findings[1].path == "/streams/users/source_defined_primary_key"


# --- allowedHosts ----------------------------------------------------------------------------------------------


def test_allowed_hosts_missing() -> None:
    findings = check_allowed_hosts({"name": "x", "allowedHosts": None})
    assert [f.message for f in findings] == [
        "metadata.yaml has no `data.allowedHosts`; expected `allowedHosts: {hosts: [...]}` listing the hosts the "
        "connector may reach, or `hosts: []` for no network access"]
    assert findings[0].path == "/data/allowedHosts"
    assert check_allowed_hosts(None)[0].message.startswith("no metadata.yaml `data` to read")


def test_allowed_hosts_without_a_hosts_list() -> None:
    findings = check_allowed_hosts({"allowedHosts": {"hosts": None}})
    assert [f.message for f in findings] == [
        "`data.allowedHosts.hosts` must be a list of hosts, got nothing; use `hosts: []` to prevent network access"]


def test_empty_hosts_means_no_network_and_is_valid() -> None:
    assert check_allowed_hosts(hosts(), SPEC) == []


def test_static_and_wildcard_hosts_pass() -> None:
    assert check_allowed_hosts(hosts("api.github.com", "*.hubspot.com", "10.0.0.1"), SPEC) == []


def test_empty_or_non_string_host_entries_fail() -> None:
    findings = check_allowed_hosts(hosts("api.github.com", "", 42))
    assert [f.path for f in findings] == ["/data/allowedHosts/hosts/1", "/data/allowedHosts/hosts/2"]
    assert findings[0].message.startswith("allowed host #1 is ''; expected a non-empty hostname")


def test_urls_are_not_hosts() -> None:
    findings = check_allowed_hosts(hosts("https://api.github.com/v3"))
    assert [f.message for f in findings] == [
        "allowed host 'https://api.github.com/v3' is not a bare hostname; expected a hostname, IP address or "
        "wildcard without scheme, path or spaces (e.g. `api.vendor.com`)"]


def test_reference_to_a_spec_property_passes() -> None:
    assert check_allowed_hosts(hosts("${subdomain}.vendor.com"), SPEC) == []


def test_reference_to_an_unknown_property_fails() -> None:
    findings = check_allowed_hosts(hosts("${nope}.vendor.com"), SPEC)
    assert [f.message for f in findings] == [
        "allowed host '${nope}.vendor.com' references ${nope}, which is not a property of the connection "
        "specification; top-level properties: networking_options, subdomain"]
    assert findings[0].path == "/data/allowedHosts/hosts/0"


def test_references_are_only_resolved_when_a_spec_is_given() -> None:
    assert check_allowed_hosts(hosts("${nope}.vendor.com")) == []


def test_dotted_reference_through_one_of() -> None:
    assert check_allowed_hosts(hosts("${networking_options.tunnel_host}"), SPEC) == []
    findings = check_allowed_hosts(hosts("${networking_options.tunnel_port}"), SPEC)
    assert len(findings) == 1 and "references ${networking_options.tunnel_port}, which is not" in findings[0].message


def test_malformed_references_fail() -> None:
    assert "empty or malformed reference ${}" in check_allowed_hosts(hosts("${}.vendor.com"), SPEC)[0].message
    assert "malformed reference ${a..b}" in check_allowed_hosts(hosts("${a..b}"), SPEC)[0].message
    assert "unterminated `${` reference" in check_allowed_hosts(hosts("${subdomain.vendor.com"), SPEC)[0].message


# --- suggestedStreams ------------------------------------------------------------------------------------------


def test_suggested_streams_pass() -> None:
    data = {"suggestedStreams": {"streams": ["users", "orders"]}}
    assert check_suggested_streams(data) == []
    assert check_suggested_streams(data, catalog(users=None, orders=None, other=None)) == []


def test_suggested_streams_missing() -> None:
    findings = check_suggested_streams({"name": "x"})
    assert [f.message for f in findings] == [
        "metadata.yaml has no `data.suggestedStreams`; expected `suggestedStreams: {streams: [...]}` naming the "
        "streams most users want"]
    assert check_suggested_streams(None)[0].message == (
        "no metadata.yaml `data` to read; expected `data.suggestedStreams.streams`")


def test_suggested_streams_empty() -> None:
    findings = check_suggested_streams({"suggestedStreams": {"streams": []}})
    assert [f.message for f in findings] == [
        "`data.suggestedStreams.streams` must be a non-empty list of stream names, got []"]
    assert findings[0].path == "/data/suggestedStreams/streams"


def test_suggested_stream_not_discovered() -> None:
    findings = check_suggested_streams({"suggestedStreams": {"streams": ["users", "ghost"]}}, catalog(users=None))
    assert [f.message for f in findings] == [
        "suggested stream 'ghost' is not in the discovered catalog; discovered streams: users"]
    assert findings[0].path == "/data/suggestedStreams/streams/1"


def test_suggested_streams_read_from_a_metadata_model_dump() -> None:
    from acceptance.config.metadata import Metadata

    metadata = Metadata.model_validate({"data": {"name": "x", "suggestedStreams": {"streams": ["users"]},
                                                 "allowedHosts": {"hosts": []}}})
    data = metadata.data.model_dump()
    assert check_suggested_streams(data, catalog(users=None)) == []
    assert check_allowed_hosts(data, SPEC) == []
    assert check_allowed_hosts(Metadata.model_validate({"data": {"name": "x"}}).data.model_dump())
