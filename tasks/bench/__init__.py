"""`nox -s bench`: validation throughput, read memory and whole-run overhead, measured."""
