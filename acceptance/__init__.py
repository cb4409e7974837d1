"""connector-acceptance: acceptance tests for Airbyte-protocol connectors.

The package works alone under pytest (`pytest -p acceptance.plugin --acceptance-test-config=DIR`);
the build tooling in `tasks/` sits on top of it and is never imported from here.
"""
