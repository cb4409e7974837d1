"""How a connector runs. The runner is the only place that starts processes or containers.

Every backend returns the same `RunResult`: parsed messages (spooled, streamed), exit code, stderr tail, duration.
"""

from acceptance.runner.base import ConnectorRunner, RunResult
from acceptance.runner.local import LocalRunner

__all__ = ["ConnectorRunner", "LocalRunner", "RunResult"]
