"""Building a connector: its virtualenv, its Docker image, the local base images."""
