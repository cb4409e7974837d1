"""Build and orchestration on top of the `acceptance` package: find connectors, build them, run the suites."""
