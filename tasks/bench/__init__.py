"""`nox -s bench`: validation throughput, read memory, whole-run overhead and environment installs (uv against
pip), measured."""
