"""A canary secret in the config; every suite run against the good fake connector and against connectors that leak
it everywhere they can (logs, stderr, records, failure messages, crashes); then every byte the tool printed or wrote
(console, JUnit XML, cache, reports, temp files) is searched for the canary in all its common encodings: zero hits."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from acceptance.plugin import SUITES_DIR
from tasks.backward_compat import run_backward_compat
from tasks.comparison import parse_args
from tasks.regression import run_regression

CANARY = "fake-canary-3f9a1c"  # the api_token in tests/connectors/fake-source/integration_tests/config.json
FORMS = {CANARY, urllib.parse.quote(CANARY, safe=""), base64.b64encode(CANARY.encode()).decode().rstrip("="),
         base64.urlsafe_b64encode(CANARY.encode()).decode().rstrip("=")}
VARIANTS = {
    "good": "",
    "leaks everywhere": "print_secret,secret_in_record,check_always_fails",
    "crashes with the secret": "print_secret,crash_without_trace",
}


def hits(data: bytes) -> list[str]:
    return [form for form in FORMS if form.encode() in data]


def scan(root: Path, skip: Path) -> dict[str, list[str]]:
    """Every file under `root` (but the connector's own folder, whose config holds the canary) with a hit."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and skip not in path.parents:
            leaked = hits(path.read_bytes())
            if leaked:
                found[str(path.relative_to(root))] = leaked
    return found


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_canary_never_leaves_the_config(variant: str, fake_source: Callable[..., Path], tmp_path: Path) -> None:
    folder = fake_source(VARIANTS[variant])
    out = tmp_path / "out"
    temp = out / "tmp"  # the runners' temporary files land here: leftovers are scanned too
    temp.mkdir(parents=True)
    env = {**os.environ, "TMPDIR": str(temp)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "acceptance.plugin", f"--acceptance-test-config={folder}",
         f"--rootdir={SUITES_DIR}", "-p", "no:cacheprovider", "--backend=local", f"--cache-dir={out / 'cache'}",
         f"--junitxml={out / 'junit.xml'}", "-rA", "-v", "--log-level=DEBUG",
         f"--previous-command=env FAKE_SOURCE_MUTATION= {sys.executable} main.py", "--previous-version=0.0.9"],
        capture_output=True, env=env, timeout=300, check=False)
    said: list[str] = []
    for session in (run_backward_compat, run_regression):
        args = parse_args([str(folder), "--backend", "local", "--previous-command",
                           f"env FAKE_SOURCE_MUTATION= {sys.executable} main.py", "--report-dir", str(out / "reports"),
                           "--cache-dir", str(out / "cache")], prog=session.__name__)
        try:
            session(folder, args, say=said.append)
        except Exception as error:  # a failing read is a user error here; its message is output too
            said.append(str(error))
    assert result.returncode in (0, 1), result.stderr.decode()[-2000:]
    if variant != "good":
        assert b"test_secret_never_in_the_output" in result.stdout and result.returncode == 1
        assert b"**********" in result.stdout, "the leaked secret should show up masked"
    assert hits(result.stdout) == [] and hits(result.stderr) == []
    assert hits("\n".join(said).encode()) == []
    assert (out / "junit.xml").is_file() and any((out / "cache").rglob("*.json"))
    assert scan(out, skip=folder) == {}
