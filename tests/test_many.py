"""Many connectors: --all, --modified against a git ref, the CI matrix, and isolated runs with one summary."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from acceptance.errors import UserError
from tasks.acceptance import parse_args, selected_connectors
from tasks.connectors import modified_connectors
from tasks.many import matrix, render_many, run_many

FAKE = Path(__file__).parent / "connectors" / "fake-source"


def git(cwd: Path, *argv: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *argv], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository with three connectors, `main` at the first commit."""
    root = tmp_path / "repo" / "connectors"
    for name in ("source-a", "source-b", "source-c"):
        (root / name).mkdir(parents=True)
        (root / name / "metadata.yaml").write_text("data: {name: x}\n")
    git(root.parent, "init", "-q", "-b", "main")
    git(root.parent, "add", ".")
    git(root.parent, "commit", "-q", "-m", "base")
    git(root.parent, "checkout", "-q", "-b", "change")
    return root


def test_modified_finds_committed_staged_and_untracked_changes(repository: Path) -> None:
    (repository / "source-a" / "main.py").write_text("# committed\n")
    git(repository.parent, "add", ".")
    git(repository.parent, "commit", "-q", "-m", "a")
    (repository / "source-b" / "notes.txt").write_text("untracked\n")
    (repository.parent / "README.md").write_text("not a connector\n")
    assert modified_connectors(repository, "main") == ["source-a", "source-b"]
    assert selected_connectors(["source-c"], repository, modified=True, base="main") == [
        "source-c", "source-a", "source-b"]
    assert selected_connectors([], repository, every=True) == ["source-a", "source-b", "source-c"]


def test_an_unknown_base_ref_is_a_clear_error(repository: Path) -> None:
    with pytest.raises(UserError, match="is 'origin/nowhere' a known ref"):
        modified_connectors(repository, "origin/nowhere")


def test_the_matrix_is_json_for_ci_runners() -> None:
    assert json.loads(matrix(["source-a", "source-b"])) == {
        "include": [{"connector": "source-a"}, {"connector": "source-b"}]}


def copy_fake(root: Path, name: str, change: Callable[[dict], None] | None = None) -> Path:
    folder = root / name
    shutil.copytree(FAKE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    if change:
        config_file = folder / "acceptance-test-config.yml"
        config = yaml.safe_load(config_file.read_text())
        change(config)
        config_file.write_text(yaml.safe_dump(config))
    return folder


def test_connectors_run_isolated_with_one_summary(tmp_path: Path) -> None:
    root = tmp_path / "connectors"
    copy_fake(root, "source-good")
    copy_fake(root, "source-typo", lambda config: config.update(colour="blue"))
    args = parse_args(["--all", "--connectors-root", str(root), "--backend", "local", "--jobs", "2",
                       "--cache-dir", str(tmp_path / "cache")], prog="acceptance")
    said: list[str] = []
    runs = run_many(args, ["connection"], args.jobs, say=said.append)
    assert [(r.connector, r.outcome) for r in runs] == [("source-good", "passed"), ("source-typo", "error")]
    assert "colour: unknown key 'colour'" in runs[1].summary
    summary = render_many(runs, 3.0)
    assert "2 connectors in 3.0 s: 1 passed, 1 failed" in summary and "| source-good" in summary
    headers = [text for text in said if text.startswith("── ")]
    assert sorted(h.split()[1] for h in headers) == ["source-good", "source-typo"]
