"""The previous release (image or package) and all compared with it: spec/catalog differences, generated configs,
semver, verdicts, regression."""
