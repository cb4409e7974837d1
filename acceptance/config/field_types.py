"""The field types of `acceptance-test-config.yml` (text that YAML may give as a number, non-negative integers,
regular expressions, versions, the literal choices) and the small validation helpers the models share."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError


def rule(message: str) -> PydanticCustomError:
    """A validation error whose message is shown verbatim (the template indirection keeps braces safe)."""
    return PydanticCustomError("config_rule", "{message}", {"message": message})


def has_text(value: str | None) -> bool:
    """True when a free-text field (a bypass_reason) actually says something."""
    return bool(value and value.strip())


def number_to_str(value: object) -> object:
    # Upstream used pydantic v1, which turned YAML numbers into strings; v2 refuses them. Without this,
    # an unquoted `disable_for_version: 1.2` or a stream named `2023` would stop loading.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _reject_bool(value: object) -> object:
    # pydantic v2 takes `true` as the integer 1 in lax mode; `timeout_seconds: true` is a mistake, not 1 s.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def default_when_null(factory: Callable[[], Any]) -> BeforeValidator:
    """Treat an explicit YAML null (`key:` with nothing after it) like an absent key for defaulted fields."""
    return BeforeValidator(lambda value: factory() if value is None else value)


Text = Annotated[str, BeforeValidator(number_to_str)]
NonNegativeInt = Annotated[int, BeforeValidator(_reject_bool), Field(ge=0)]
DeploymentMode = Literal["cloud", "oss"]
StrictnessLevel = Literal["low", "high"]
ConnectionStatus = Literal["succeed", "failed", "exception"]

# Upstream's version grammar: MAJOR[.MINOR[.PATCH]][-PRERELEASE] (prerelease needs at least MINOR).
# Upstream matched it as a prefix (so "1abc" passed); we require the whole string to match.
_VERSION = re.compile(r"(0|[1-9]\d*)(\.(0|[1-9]\d*)(\.(0|[1-9]\d*))?(-\w[\w.\-]*)?)?")


def check_version(value: str, *, allow_latest: bool) -> str:
    if allow_latest and value == "latest":
        return value
    if not _VERSION.fullmatch(value):
        expected = "'latest' or a version like 1.2.3" if allow_latest else "a version like 1.2.3"
        raise rule(f"expected {expected}, got {value!r}")
    return value


def _check_regex(value: str) -> str:
    """Cursor formats are regular expressions; a broken one should fail at load time, not mid-test."""
    try:
        re.compile(value)
    except re.error as exc:
        raise rule(f"not a valid regular expression ({exc}): {value!r}") from None
    except (RecursionError, OverflowError):  # e.g. a thousand nested groups: too deep for the regex parser
        raise rule(f"not a valid regular expression (too deeply nested or too large): {value[:40]!r}") from None
    return value


Regex = Annotated[Text, AfterValidator(_check_regex)]
