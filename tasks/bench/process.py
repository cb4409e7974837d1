"""A measurement in its own fresh Python process, so that its peak RSS (VmHWM) is its own and its timings exclude
start-up: running one and reading its JSON answer, the child's own peak RSS. Also what every bench module shares:
BenchError, the progress callback type `Say` and MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acceptance.errors import UserError

REPO = Path(__file__).resolve().parents[2]

CHILD_TIMEOUT_SECONDS = 3600
MB = 1024 * 1024

Say = Callable[[str], None]


class BenchError(UserError):
    """The benchmark could not run: bad options, a failed recording, a measurement process that crashed."""


def peak_rss_bytes() -> int:
    """This process's peak resident set size (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def child_json(argv: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(argv, capture_output=True, env=env, timeout=CHILD_TIMEOUT_SECONDS, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-15:]
        raise BenchError(f"bench: a measurement process failed (exit {done.returncode}):\n" + "\n".join(tail))
    return json.loads(done.stdout.decode().strip().splitlines()[-1])
