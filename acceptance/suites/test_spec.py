"""Suite `spec`: the SPEC message and the connection specification (reference §2.1)."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance.checks import spec_credentials, spec_document
from acceptance.checks.image import check_entrypoint_environment, check_image_labels
from acceptance.checks.messages import check_exactly_one
from acceptance.checks.spec import SPEC_CHECKS
from acceptance.compat.verdicts import compare_specs
from acceptance.context import AcceptanceContext, Deadline
from acceptance.protocol.messages import connector_specification_problems
from acceptance.runner.backend import docker_client
from acceptance.runner.base import RunResult
from acceptance.suites.backward_support import assert_backward_compatible, previous_release_or_skip
from acceptance.suites.support import assert_no_findings, fail_run, protocol_findings


@pytest.fixture
def image_config(acceptance: AcceptanceContext) -> dict[str, Any]:
    """The `Config` of the connector's image (labels, env, entrypoint); these tests need the Docker backend."""
    if acceptance.backend.kind != "docker" or acceptance.backend.image is None:
        pytest.skip(f"needs the Docker backend; the connector runs as a local process ({acceptance.backend.reason})")
    client = docker_client()
    if client is None:
        pytest.fail("the Docker engine stopped answering", pytrace=False)
    return client.images.get(acceptance.backend.image).attrs.get("Config") or {}


# Schema validity is part of test_spec_is_valid.
SPEC_RULES = tuple(c for c in SPEC_CHECKS if c is not spec_document.check_spec_is_valid_json_schema)


@pytest.mark.usefixtures("inputs")
class TestSpec:
    def test_spec_is_valid(self, spec_run: RunResult, acceptance: AcceptanceContext) -> None:
        """`spec` succeeds and emits exactly one valid ConnectorSpecification whose schema is valid Draft 7."""
        if not spec_run.succeeded:
            fail_run(spec_run, "`spec` failed", acceptance.masker)
        specs = spec_run.of_type("SPEC")
        assert_no_findings(check_exactly_one(specs, "SPEC"), acceptance.masker, "`spec` output is invalid")
        spec = specs[0].get("spec")
        assert_no_findings(protocol_findings("ConnectorSpecification", connector_specification_problems(spec)),
                           acceptance.masker, "the SPEC message does not follow the Airbyte protocol")
        assert_no_findings(spec_document.check_spec_is_valid_json_schema(spec), acceptance.masker,
                           "connectionSpecification is not a valid JSON schema")

    def test_config_match_spec(self, connector_spec: dict[str, Any], connector_config: Any,
                               acceptance: AcceptanceContext) -> None:
        assert_no_findings(spec_document.check_config_matches_spec(connector_spec, connector_config), acceptance.masker,
                           "the config does not match the connector's connectionSpecification")

    def test_match_expected(self, connector_spec: dict[str, Any], inputs: Any, acceptance: AcceptanceContext) -> None:
        path = acceptance.loaded.resolve(inputs.spec_path)
        if not path.exists():
            pytest.skip(f"no expected spec at {path} (spec_path)")
        expected = acceptance.load_spec_file(inputs.spec_path, f"{inputs.location}.spec_path")
        assert_no_findings(spec_document.check_spec_matches_expected(connector_spec, expected), acceptance.masker,
                           f"the emitted spec differs from {path}")

    @pytest.mark.parametrize("check", SPEC_RULES, ids=lambda c: c.__name__.removeprefix("check_"))
    def test_spec_rule(self, check: Any, connector_spec: dict[str, Any], acceptance: AcceptanceContext) -> None:
        """One rule of the connection specification (enum, oneOf, secrets, types, refs, groups, OAuth…)."""
        assert_no_findings(check(connector_spec), acceptance.masker, (check.__doc__ or check.__name__).strip()
                           .splitlines()[0])

    def test_image_labels(self, image_config: dict[str, Any], acceptance: AcceptanceContext) -> None:
        metadata = acceptance.metadata.data.model_dump() if acceptance.metadata else None
        assert_no_findings(check_image_labels(image_config.get("Labels"), metadata), acceptance.masker,
                           "the image labels must match metadata.yaml")

    def test_image_environment_variables(self, image_config: dict[str, Any], acceptance: AcceptanceContext) -> None:
        assert_no_findings(check_entrypoint_environment(image_config.get("Env"), image_config.get("Entrypoint")),
                           acceptance.masker, "the image must declare AIRBYTE_ENTRYPOINT as its entrypoint")

    def test_oauth_is_default_method(self, connector_spec: dict[str, Any], inputs: Any,
                                     acceptance: AcceptanceContext) -> None:
        auth = getattr(inputs, "auth_default_method", None)
        oauth_expected = auth.oauth if auth is not None else True
        if not oauth_expected:
            pytest.skip(f"Bypassed: {auth.bypass_reason}")
        assert_no_findings(spec_credentials.check_oauth_is_default_method(connector_spec, oauth_expected),
                           acceptance.masker, "OAuth must be the default (first) authentication method")

    @pytest.mark.backward_compatibility
    def test_backward_compatibility(self, inputs: Any, acceptance: AcceptanceContext, deadline: Deadline,
                                    request: pytest.FixtureRequest) -> None:
        """The spec does not break the previous release's users, unless the version bump declares it (§3.4):
        structural differences, plus configs generated from the previous spec that must still validate."""
        release = previous_release_or_skip(acceptance, inputs, deadline)
        connector_spec = request.getfixturevalue("connector_spec")  # only now: a skipped comparison runs nothing
        previous_run = acceptance.previous_spec_run(release, deadline.remaining())
        specs = previous_run.of_type("SPEC")
        if not previous_run.succeeded or len(specs) != 1 or not isinstance(specs[0].get("spec"), dict):
            pytest.skip(acceptance.masker.mask(f"the previous release ({release.description}) gave no usable spec: "
                                               f"{previous_run.describe_failure()}"))
        assert_backward_compatible(acceptance, release, compare_specs(specs[0]["spec"], connector_spec))
