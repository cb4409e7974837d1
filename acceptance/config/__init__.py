"""acceptance-test-config.yml and metadata.yaml: the models, the loader, legacy migration."""
