"""The connector folder read once (`connector.Connector`), acceptance-test-config.yml (models, loading, legacy
migration, strictness rules) and metadata.yaml."""
