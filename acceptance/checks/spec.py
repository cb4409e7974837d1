"""The `spec` command: a ConnectorSpecification whose connectionSpecification the platform's UI can render.

Every check takes `spec`, the whole ConnectorSpecification object as the connector emits it (with
`connectionSpecification` inside), plus other arguments where named, and returns findings; an empty list means the
check passed. The checks live by theme in spec_document (the spec as one document: schema validity, the
expected spec, the config), spec_schema_rules (the shape of connectionSpecification) and spec_credentials
(secrets, OAuth); this module lists the ones the suite runs on the spec alone.

Paths: checks about the connection schema report pointers *inside connectionSpecification*
(`/properties/credentials/oneOf/0`); checks about the whole object (`check_spec_matches_expected`,
`check_no_refs`, the two OAuth checks) report pointers inside the whole spec (`/advanced_auth/predicate_key`).
`check_config_matches_spec` reports pointers inside the config. Config values never appear in messages.
"""

from __future__ import annotations

from collections.abc import Callable

from acceptance.checks.spec_credentials import check_oauth_flow_parameters, check_secrets_marked
from acceptance.checks.spec_document import check_spec_is_valid_json_schema
from acceptance.checks.spec_json import Spec
from acceptance.checks.spec_schema_rules import (
    check_additional_properties_true,
    check_array_items,
    check_date_formats,
    check_date_patterns,
    check_display_type,
    check_enum_values_unique,
    check_group_top_level_only,
    check_no_forbidden_keywords,
    check_no_refs,
    check_objects_not_empty,
    check_oneof_usage,
    check_order_unique,
    check_property_types_not_arrays,
)
from acceptance.findings import Finding

SpecCheck = Callable[[Spec], list[Finding]]

# The checks that need nothing but the spec, in the order the suite runs them. check_oauth_is_default_method is
# left out on purpose: whether it applies depends on the suite config (auth_default_method.oauth), so callers must
# pass that.
SPEC_CHECKS: tuple[SpecCheck, ...] = (
    check_spec_is_valid_json_schema,
    check_enum_values_unique,
    check_oneof_usage,
    check_secrets_marked,
    check_property_types_not_arrays,
    check_objects_not_empty,
    check_array_items,
    check_no_forbidden_keywords,
    check_date_patterns,
    check_date_formats,
    check_order_unique,
    check_group_top_level_only,
    check_display_type,
    check_no_refs,
    check_oauth_flow_parameters,
    check_additional_properties_true,
)
