"""String formats checked in records: the draft-7 formats the acceptance-test reference names, stdlib only.

`FORMAT_CHECKER` knows email, hostname, idn-hostname, ipv4, ipv6, time, date and date-time; any other `format`
stays an annotation (not checked), and non-string values (null included) always pass, as jsonschema does.

`date-time` follows the published reference, not RFC 3339: a value passes if a BigQuery TIMESTAMP / SQL
"timestamp with time zone" column would take it, i.e. ``YYYY-[M]M-[D]D[( |T)[H]H:[M]M[:[S]S[.F{1,12}]]][zone]``
with zone ``Z``, ``UTC``, ``±HH``, ``±HHMM`` or ``±HH:MM`` (optionally after a space). A date alone and a value
without a zone pass (source-faker's ``2012-04-10T00:14:07.596313`` must); the calendar values must be real.
Lowercase ``t``/``z`` are accepted too, so that every RFC 3339 date-time passes.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable

from jsonschema import FormatChecker

_ZONE = r"(?:\ ?(?:[Zz]|UTC|(?P<offset_hour>[+-][0-9]{2})(?::?(?P<offset_minute>[0-9]{2}))?))?"
_DATE_TIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?:[ Tt](?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{1,2})(?::(?P<second>[0-9]{1,2})(?:\.[0-9]{1,12})?)?)?"
    + _ZONE
)
_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
_TIME = re.compile(r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.[0-9]{1,12})?" + _ZONE)
_HOSTNAME_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_HOSTNAME = 253


def is_date_time(value: str) -> bool:
    """A timestamp a BigQuery TIMESTAMP column accepts: date, optional time, optional zone; real calendar values."""
    match = _DATE_TIME.fullmatch(value)
    if match is None or not _real_date(match):
        return False
    if match["hour"] is not None and not _real_time(match):
        return False
    return _real_offset(match)


def is_date(value: str) -> bool:
    """`YYYY-MM-DD`, a real calendar date (leap years included)."""
    match = _DATE.fullmatch(value)
    return match is not None and _real_date(match)


def is_time(value: str) -> bool:
    """`HH:MM:SS[.f][zone]` with hour < 24, minute and second < 60 (no leap second)."""
    match = _TIME.fullmatch(value)
    return match is not None and _real_time(match) and _real_offset(match)


def is_email(value: str) -> bool:
    """`local@domain`: both parts non-empty; the domain has no whitespace and no empty label."""
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return False
    quoted = len(local) >= 2 and local.startswith('"') and local.endswith('"')
    if not quoted and ("@" in local or any(c.isspace() for c in local)):
        return False
    if domain.startswith("[") and domain.endswith("]"):  # address literal: [192.0.2.1] or [IPv6:…]
        literal = domain[1:-1]
        return is_ipv6(literal[5:]) if literal[:5].lower() == "ipv6:" else is_ipv4(literal)
    return not any(c.isspace() for c in domain) and all(domain.split("."))


def is_hostname(value: str) -> bool:
    """An RFC 1123 host name: dot-separated labels of 1-63 letters, digits and inner hyphens; 253 chars at most."""
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > _MAX_HOSTNAME:
        return False
    return all(_HOSTNAME_LABEL.fullmatch(label) for label in name.split("."))


def is_idn_hostname(value: str) -> bool:
    """A host name that may hold Unicode labels: valid once IDNA-encoded (the stdlib codec)."""
    try:
        encoded = value.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return is_hostname(encoded)


def is_ipv4(value: str) -> bool:
    """A dotted-quad IPv4 address (no leading zeros, no surrounding spaces)."""
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def is_ipv6(value: str) -> bool:
    """An RFC 4291 IPv6 address (no `%zone` suffix)."""
    if "%" in value:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


FORMAT_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "email": is_email,
    "hostname": is_hostname,
    "idn-hostname": is_idn_hostname,
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "time": is_time,
    "date": is_date,
    "date-time": is_date_time,
}


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())  # empty: not jsonschema's own checks, which depend on optional packages
    for name, validate in FORMAT_VALIDATORS.items():
        checker.checks(name)(_strings_only(validate))
    return checker


def _strings_only(validate: Callable[[str], bool]) -> Callable[[object], bool]:
    def check(instance: object) -> bool:
        return not isinstance(instance, str) or validate(instance)

    return check


FORMAT_CHECKER: FormatChecker = _format_checker()


# --- calendar checks on regex matches --------------------------------------------------------------------------


def _real_date(match: re.Match[str]) -> bool:
    try:
        datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return False
    return True


def _real_time(match: re.Match[str]) -> bool:
    second = match["second"]
    return int(match["hour"]) < 24 and int(match["minute"]) < 60 and (second is None or int(second) < 60)


def _real_offset(match: re.Match[str]) -> bool:
    hour, minute = match["offset_hour"], match["offset_minute"]
    if hour is None:
        return True
    return abs(int(hour)) < 24 and (minute is None or int(minute) < 60)
