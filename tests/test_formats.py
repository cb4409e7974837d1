"""The record format checks: a table of valid and invalid values per format."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft7Validator

from acceptance.protocol.formats import FORMAT_CHECKER, FORMAT_VALIDATORS, is_date_time

VALID: dict[str, list[str]] = {
    "date-time": [
        "2012-04-10T00:14:07.596313",  # source-faker purchases.created_at: no zone
        "2026-11-25T14:16:23+00:00",  # source-faker state cursor
        "2020-01-01T00:00:00Z",
        "2020-01-01t00:00:00z",  # RFC 3339 allows lowercase
        "2020-01-01 12:30:45",
        "2020-01-01 12:30",
        "2020-1-2 3:04:05",
        "2020-01-01",  # BigQuery takes a date alone
        "2020-02-29T23:59:59.123456789012",
        "2020-01-01T10:00:00+0530",
        "2020-01-01T10:00:00-05",
        "2020-01-01 10:00:00 UTC",
        "2020-01-01 10:00:00 +05:30",
        "2020-01-01 UTC",
    ],
    "date": ["2020-01-01", "2020-02-29", "2000-02-29", "9999-12-31"],
    "time": ["00:00:00", "23:59:59", "12:30:45.123", "12:30:45Z", "12:30:45+02:00", "12:30:45-0800"],
    "email": ["user@example.com", "first.last+tag@sub.example.org", '"with space"@example.com', "a@[192.0.2.1]",
              "a@[IPv6:2001:db8::1]", "ünïcode@bücher.ch"],
    "hostname": ["example.com", "localhost", "a-b.c-d.example", "example.com.", "x" * 63 + ".com", "1.2.3.4"],
    "idn-hostname": ["bücher.ch", "xn--bcher-kva.ch", "example.com", "例え.テスト"],
    "ipv4": ["0.0.0.0", "192.168.1.1", "255.255.255.255"],
    "ipv6": ["::1", "2001:db8::8a2e:370:7334", "::ffff:192.0.2.1", "fe80::"],
}

INVALID: dict[str, list[str]] = {
    "date-time": [
        "yesterday",
        "2020-13-01",
        "2020-01-01T25:00",
        "2020-02-30T00:00:00",
        "2021-02-29",  # not a leap year
        "2020-00-10",
        "2020-01-01T12:60:00",
        "2020-01-01T12:00:60",  # no leap second
        "2020-01-01T12:00:00+25:00",
        "2020-01-01T12:00:00 Europe/Paris",
        "2020-01-01T12",
        "2020-01-01T12:00:00.",
        "2020-01-01T12:00:00.1234567890123",  # 13 fraction digits
        "0000-01-01",
        "20-01-01",
        "2020/01/01",
        "1700000000",
        "",
        " 2020-01-01",
        "2020-01-01\n",
        "٢٠٢٠-01-01",  # non-ASCII digits
    ],
    "date": ["2020-1-01", "2020-02-30", "2020-01-01T00:00:00", "yesterday", "2020-13-01", ""],
    "time": ["24:00:00", "12:60:00", "12:00:60", "12:00", "1:00:00", "noon", "12:00:00 Europe/Paris"],
    "email": ["no-at-sign", "@example.com", "user@", "user@exa mple.com", "a b@example.com", "user@example..com",
              "user@[300.1.1.1]"],
    "hostname": ["-leading.com", "trailing-.com", "a..b", "", "under_score.com", "x" * 64 + ".com",
                 "a." * 127 + "ab", "bücher.ch", "has space.com"],
    "idn-hostname": ["a..b", "-bad.com", "", "x" * 64 + ".com", "has space.com"],
    "ipv4": ["256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4 ", "::1", "a.b.c.d"],
    "ipv6": ["1.2.3.4", "::1::2", "fe80::1%eth0", "12345::", "gggg::1", ""],
}


def _cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, values in table.items() for value in values]


@pytest.mark.parametrize(("format_name", "value"), _cases(VALID))
def test_valid_values_pass(format_name: str, value: str) -> None:
    assert FORMAT_VALIDATORS[format_name](value)
    assert FORMAT_CHECKER.conforms(value, format_name)


@pytest.mark.parametrize(("format_name", "value"), _cases(INVALID))
def test_invalid_values_fail(format_name: str, value: str) -> None:
    assert not FORMAT_VALIDATORS[format_name](value)
    assert not FORMAT_CHECKER.conforms(value, format_name)


def test_every_named_format_is_covered() -> None:
    expected = {"email", "hostname", "idn-hostname", "ipv4", "ipv6", "time", "date", "date-time"}
    assert set(FORMAT_VALIDATORS) == expected
    assert set(FORMAT_CHECKER.checkers) == expected


@pytest.mark.parametrize("value", [None, 1, 1.5, True, [], {}])
@pytest.mark.parametrize("format_name", sorted(FORMAT_VALIDATORS))
def test_non_string_values_are_not_checked(format_name: str, value: Any) -> None:
    assert FORMAT_CHECKER.conforms(value, format_name)


def test_unknown_formats_are_annotations() -> None:
    assert FORMAT_CHECKER.conforms("not a uri", "uri")


def test_checker_plugs_into_a_draft7_validator() -> None:
    validator = Draft7Validator({"type": ["null", "string"], "format": "date-time"}, format_checker=FORMAT_CHECKER)
    assert validator.is_valid("2012-04-10T00:14:07.596313")
    assert validator.is_valid(None)
    [error] = validator.iter_errors("yesterday")
    assert error.validator == "format"


def test_is_date_time_exported() -> None:
    assert is_date_time("2026-11-25T14:16:23+00:00")
    assert not is_date_time("yesterday")
