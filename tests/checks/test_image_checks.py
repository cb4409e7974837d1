from __future__ import annotations

from acceptance.checks.image import check_entrypoint_environment, check_image_labels

METADATA = {"dockerRepository": "airbyte/source-x", "dockerImageTag": "1.2.3"}


def test_labels_matching_metadata_pass() -> None:
    assert check_image_labels({"io.airbyte.name": "airbyte/source-x", "io.airbyte.version": "1.2.3"}, METADATA) == []


def test_wrong_and_missing_labels_are_named() -> None:
    findings = check_image_labels({"io.airbyte.name": "airbyte/source-y"}, METADATA)
    assert len(findings) == 2
    assert "'airbyte/source-y'" in findings[0].message and "dockerRepository" in findings[0].message
    assert "no such label" in findings[1].message and "'1.2.3'" in findings[1].message


def test_labels_without_metadata_fail() -> None:
    assert check_image_labels({}, None)[0].message.startswith("no metadata.yaml")


def test_entrypoint_environment_equal_passes() -> None:
    env = ["PATH=/usr/bin", "AIRBYTE_ENTRYPOINT=python /airbyte/integration_code/main.py"]
    assert check_entrypoint_environment(env, ["python", "/airbyte/integration_code/main.py"]) == []


def test_entrypoint_environment_missing_or_different_fails() -> None:
    entrypoint = ["source-x"]
    assert "no AIRBYTE_ENTRYPOINT" in check_entrypoint_environment(["PATH=/bin"], entrypoint)[0].message
    different = check_entrypoint_environment(["AIRBYTE_ENTRYPOINT=python main.py"], entrypoint)
    assert "'python main.py'" in different[0].message and "'source-x'" in different[0].message
    assert "no ENTRYPOINT" in check_entrypoint_environment(["AIRBYTE_ENTRYPOINT=x"], None)[0].message
