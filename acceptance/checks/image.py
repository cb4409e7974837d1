"""Checks on a connector's Docker image: labels and the entrypoint environment (reference §2.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from acceptance.findings import Finding


def check_image_labels(labels: Mapping[str, str] | None, metadata_data: Mapping[str, Any] | None) -> list[Finding]:
    """Image labels io.airbyte.name and io.airbyte.version equal metadata dockerRepository and dockerImageTag."""
    if metadata_data is None:
        return [Finding("image_labels", "no metadata.yaml to compare the image labels with")]
    labels = labels or {}
    findings = []
    for label, field in (("io.airbyte.name", "dockerRepository"), ("io.airbyte.version", "dockerImageTag")):
        expected, actual = metadata_data.get(field), labels.get(label)
        if actual != expected:
            got = "no such label" if actual is None else repr(actual)
            findings.append(Finding("image_labels", f"label {label} is {got}; expected {expected!r} "
                                                    f"(metadata.yaml data.{field})", f"/Config/Labels/{label}"))
    return findings


def check_entrypoint_environment(environment: Sequence[str] | None, entrypoint: Sequence[str] | None) -> list[Finding]:
    """The image sets AIRBYTE_ENTRYPOINT, equal to its ENTRYPOINT joined by spaces (the platform runs it)."""
    values = dict(item.split("=", 1) for item in environment or [] if "=" in item)
    declared = values.get("AIRBYTE_ENTRYPOINT")
    expected = " ".join(entrypoint or [])
    if declared is None:
        return [Finding("entrypoint_environment", f"the image has no AIRBYTE_ENTRYPOINT environment variable; "
                                                  f"expected {expected!r} (its ENTRYPOINT)", "/Config/Env")]
    if not entrypoint:
        return [Finding("entrypoint_environment", "the image has no ENTRYPOINT", "/Config/Entrypoint")]
    if declared.strip() != expected:
        return [Finding("entrypoint_environment", f"AIRBYTE_ENTRYPOINT is {declared!r}; expected {expected!r}, "
                                                  "the image's ENTRYPOINT joined by spaces", "/Config/Env")]
    return []
