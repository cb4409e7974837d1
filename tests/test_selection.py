"""Selecting what runs: one suite, one test (-k), --fail-fast, and only what failed last time (--lf), through the
command `nox -s acceptance` runs."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from tasks.acceptance import AcceptanceArgs, pytest_cache_dir, pytest_command

Make = Callable[..., Path]


def run(folder: Path, tmp_path: Path, *pytest_args: str) -> tuple[int, str]:
    args = AcceptanceArgs([folder], cache_dir=str(tmp_path / "cache"), pytest_args=list(pytest_args))
    result = subprocess.run(pytest_command(folder, args, ["spec"], ["--backend", "local"]), capture_output=True,
                            text=True, timeout=300, check=False)
    return result.returncode, result.stdout


def counts(output: str) -> dict[str, int]:
    summary = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|deselected)", summary)}


def test_only_what_failed_last_time_runs_again(fake_source: Make, tmp_path: Path) -> None:
    folder = fake_source("enum_duplicate")  # fails test_spec_rule[enum_values_unique] and test_match_expected
    code, output = run(folder, tmp_path)
    assert code == 1 and counts(output)["failed"] == 2 and counts(output)["passed"] > 10
    code, output = run(folder, tmp_path, "--lf")
    assert code == 1 and counts(output)["failed"] == 2 and "passed" not in counts(output)
    assert "run-last-failure: rerun previous 2 failures" in output
    assert pytest_cache_dir(folder, str(tmp_path / "cache")).is_dir()
    assert not (Path(__file__).parent.parent / "acceptance" / "suites" / ".pytest_cache").exists()


def test_fail_fast_stops_at_the_first_failure(fake_source: Make, tmp_path: Path) -> None:
    code, output = run(fake_source("enum_duplicate"), tmp_path, "--fail-fast")
    assert code == 1 and counts(output)["failed"] == 1
    assert "stopping after 1 failures" in output


def test_one_test_by_name(fake_source: Make, tmp_path: Path) -> None:
    code, output = run(fake_source("enum_duplicate"), tmp_path, "-k", "enum_values_unique")
    assert code == 1 and counts(output)["failed"] == 1 and "passed" not in counts(output)
