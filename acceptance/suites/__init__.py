"""The acceptance suites: thin pytest modules wiring fixtures to the checks in `acceptance.checks`."""
