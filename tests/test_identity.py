"""The connector's identity is made of the files its build takes: what git would track (or the Docker build context
with `.dockerignore` applied), so a log a fixture or the connector writes into an ignored folder at run time changes
neither the identity nor the cache hits; the image builds take the same files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from acceptance.runner.command import ConnectorCommand
from acceptance.runner.identity import build_files, connector_identity, context_files, tracked_files
from tasks.builder.identity import code_files, copy_code, inputs_digest
from tests.conftest import AcceptanceOutcome

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed here")
IN_GIT = pytest.param(True, id="in-git", marks=needs_git)
OUTSIDE_GIT = pytest.param(False, id="outside-git")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                    *args], cwd=cwd, check=True, capture_output=True)


def commit_all(repository: Path) -> None:
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "files")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def identity(folder: Path) -> str:
    return connector_identity(ConnectorCommand([sys.executable, "main.py"], "main.py", folder))


@pytest.fixture(params=[IN_GIT, OUTSIDE_GIT])
def connector(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A local connector whose own .gitignore lists `.run/`; in a repository (committed) or in a plain folder."""
    folder = tmp_path / "connectors" / "source-x"
    write(folder / "main.py", "print('hello')\n")
    write(folder / "manifest.yaml", "version: 1\n")
    write(folder / "metadata.yaml", "data:\n  dockerImageTag: 1.0.0\n")
    write(folder / "source_x" / "streams.py", "STREAMS = ['a']\n")
    write(folder / ".gitignore", ".run/\n")
    if request.param:
        git(tmp_path, "init", "-q")
        commit_all(tmp_path)
    return folder


def test_a_log_growing_in_an_ignored_folder_leaves_the_identity_unchanged(connector: Path) -> None:
    before = identity(connector)
    log = write(connector / ".run" / "sshd.log", "started\n")
    assert identity(connector) == before
    for line in range(3):
        with log.open("a") as handle:
            handle.write(f"accepted connection {line}\n")
        assert identity(connector) == before
    write(connector / ".run" / "sshd.pid", "1234\n")
    assert identity(connector) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda f: (f / "manifest.yaml").write_text("version: 2\n"),
        lambda f: (f / "main.py").write_text("print('changed')\n"),
        lambda f: (f / "source_x" / "streams.py").write_text("STREAMS = ['a', 'b']\n"),
        lambda f: (f / "source_x" / "streams.py").rename(f / "source_x" / "renamed.py"),
        lambda f: (f / ".gitignore").write_text(".run/\n*.tmp\n"),
    ],
    ids=["manifest", "main", "package-file", "rename", "gitignore"],
)
def test_an_edit_to_the_code_changes_the_identity(connector: Path, change: Callable[[Path], object]) -> None:
    before = identity(connector)
    change(connector)
    assert identity(connector) != before


def test_untracked_files_that_are_not_ignored_count(connector: Path) -> None:
    before = identity(connector)
    write(connector / "source_x" / "new_stream.py", "NEW = 1\n")  # never `git add`ed
    assert "source_x/new_stream.py" in build_files(connector)
    assert identity(connector) != before


@needs_git
def test_a_deleted_tracked_file_does_not_crash_and_changes_the_identity(connector: Path) -> None:
    before = identity(connector)
    (connector / "source_x" / "streams.py").unlink()  # still in git's index
    assert "source_x/streams.py" not in build_files(connector)
    assert identity(connector) != before


@needs_git
def test_git_answers_in_a_work_tree_a_forced_tracked_file_counts(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path / ".gitignore", "*.cfg\n")
    write(tmp_path / "main.py", "")
    write(tmp_path / "settings.cfg", "a = 1\n")
    git(tmp_path, "add", "-f", "settings.cfg")
    assert tracked_files(tmp_path) == [".gitignore", "main.py", "settings.cfg"]


def make_tree(folder: Path) -> None:
    """Rules at three levels, negations, and what never counts."""
    write(folder / ".gitignore", ".run/\n*.log\n!keep.log\n/local-only.txt\n")
    write(folder / "main.py", "")
    write(folder / "keep.log", "")
    write(folder / "debug.log", "")
    write(folder / "local-only.txt", "")
    write(folder / "docs" / "local-only.txt", "")  # anchored pattern: only the top one is ignored
    write(folder / ".run" / "server.log", "")
    write(folder / "source_x" / ".gitignore", "generated/\n!*.log\n")
    write(folder / "source_x" / "streams.py", "")
    write(folder / "source_x" / "trace.log", "")  # re-included by the deeper .gitignore
    write(folder / "source_x" / "generated" / "models.py", "")
    write(folder / "source_x" / "__pycache__" / "streams.cpython-311.pyc", "")
    write(folder / ".venv" / "lib" / "python3.11" / "site-packages" / "x.py", "")
    write(folder / "pkg.egg-info" / "PKG-INFO", "")


EXPECTED = [".gitignore", "docs/local-only.txt", "keep.log", "main.py", "source_x/.gitignore", "source_x/streams.py",
            "source_x/trace.log"]


@needs_git
def test_git_and_the_gitignore_files_give_the_same_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repository = tmp_path / "repo"
    folder = repository / "connectors" / "source-x"
    make_tree(folder)
    write(repository / ".gitignore", "*.secret\n")  # a parent's rules reach the folder
    write(folder / "token.secret", "")
    git(repository, "init", "-q")
    asked_git = tracked_files(folder)
    assert asked_git == EXPECTED
    monkeypatch.setenv("PATH", "")  # no git: the .gitignore files are applied here
    assert tracked_files(folder) == asked_git
    # The same folder outside any repository: its own rules only (the parent's are not there).
    monkeypatch.undo()
    alone = tmp_path / "alone" / "source-x"
    shutil.copytree(folder, alone)
    assert tracked_files(alone) == sorted([*EXPECTED, "token.secret"])
    git(alone, "init", "-q")
    assert tracked_files(alone) == sorted([*EXPECTED, "token.secret"])


@needs_git
def test_a_folder_its_repository_ignores_is_read_by_its_own_rules(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path / ".gitignore", "scratch/\n")
    folder = tmp_path / "scratch" / "source-x"
    write(folder / "main.py", "")
    write(folder / ".gitignore", ".run/\n")
    write(folder / ".run" / "server.log", "")
    assert tracked_files(folder) == [".gitignore", "main.py"]
    before = identity(folder)
    write(folder / "main.py", "print('changed')\n")
    assert identity(folder) != before


# -- a Dockerfile folder: the build context, .dockerignore applied -------------------------------------------------


@pytest.fixture
def dockerfile_connector(tmp_path: Path) -> Path:
    folder = tmp_path / "source-d"
    write(folder / "Dockerfile", "FROM python:3.11-slim\nCOPY . /app\n")
    write(folder / ".dockerignore", "# what the image never needs\n\n*.md\ndocs/**\n!docs/keep.md\n/.run\n**/*.log\n")
    write(folder / ".gitignore", "generated.py\n")  # not what Docker reads
    write(folder / "main.py", "print('hello')\n")
    write(folder / "generated.py", "X = 1\n")
    write(folder / "README.md", "# source-d\n")
    write(folder / "docs" / "guide.txt", "guide\n")
    write(folder / "docs" / "keep.md", "kept\n")
    write(folder / "source_d" / "debug.log", "")
    write(folder / ".run" / "server.log", "")
    return folder


def test_the_context_is_the_folder_with_dockerignore_applied(dockerfile_connector: Path) -> None:
    assert context_files(dockerfile_connector) == [".dockerignore", ".gitignore", "Dockerfile", "docs/keep.md",
                                                   "generated.py", "main.py"]
    assert build_files(dockerfile_connector) == context_files(dockerfile_connector)


@pytest.mark.parametrize(
    ("change", "counts"),
    [
        (lambda f: (f / "README.md").write_text("# changed\n"), False),
        (lambda f: (f / "docs" / "guide.txt").write_text("changed\n"), False),
        (lambda f: write(f / ".run" / "server.log", "more\n"), False),
        (lambda f: write(f / "source_d" / "debug.log", "more\n"), False),
        (lambda f: (f / "main.py").write_text("print('changed')\n"), True),
        (lambda f: (f / "docs" / "keep.md").write_text("changed\n"), True),  # a `!` exception
        (lambda f: (f / "generated.py").write_text("X = 2\n"), True),  # .gitignore'd, but in the context
        (lambda f: (f / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n"), True),
    ],
    ids=["ignored-md", "ignored-folder", "ignored-run", "ignored-anywhere", "main", "exception", "gitignored",
         "dockerfile"],
)
def test_only_a_change_in_the_context_changes_the_identity_and_the_image_inputs(
    dockerfile_connector: Path, change: Callable[[Path], object], counts: bool,
) -> None:
    def image_inputs() -> str:
        return inputs_digest(dockerfile_connector, "dockerfile", ["python:3.11-slim"], ["sha256:1"], "none")

    before, image_before = identity(dockerfile_connector), image_inputs()
    change(dockerfile_connector)
    assert (identity(dockerfile_connector) != before) is counts
    assert (image_inputs() != image_before) is counts


# -- the image builds take the same files ---------------------------------------------------------------------------


def test_a_generated_image_copies_and_digests_the_code_git_would_track(connector: Path, tmp_path: Path) -> None:
    write(connector / "unit_tests" / "test_streams.py", "")
    write(connector / "secrets" / "config.json", "{}")

    def image_inputs() -> str:
        return inputs_digest(connector, "generated", ["base:1"], ["sha256:1"], "none")

    assert code_files(connector) == [".gitignore", "main.py", "manifest.yaml", "metadata.yaml", "source_x/streams.py"]
    before = image_inputs()
    write(connector / ".run" / "sshd.log", "a line\n")
    assert image_inputs() == before
    copy_code(connector, tmp_path / "code")
    copied = sorted(p.relative_to(tmp_path / "code").as_posix() for p in (tmp_path / "code").rglob("*") if p.is_file())
    assert copied == code_files(connector)
    (connector / "main.py").write_text("print('changed')\n")
    assert image_inputs() != before


# -- end to end: the cache stays warm ---------------------------------------------------------------------------------


@pytest.mark.parametrize("in_git", [IN_GIT, OUTSIDE_GIT])
def test_a_log_the_connector_writes_in_an_ignored_folder_keeps_the_cache_warm(
    in_git: bool, fake_source: Callable[..., Path], run_acceptance: Callable[..., AcceptanceOutcome], tmp_path: Path,
) -> None:
    """The connector itself appends to `.run/pids` (listed in its folder's .gitignore) each time it starts."""
    folder_name = "fake-source"
    pidfile = tmp_path / folder_name / ".run" / "pids"

    def change(config: dict) -> None:
        config["custom_environment_variables"] = {"FAKE_SOURCE_PIDFILE": str(pidfile)}

    folder = fake_source(change=change)
    assert folder.name == folder_name
    write(folder / ".gitignore", ".run/\n")
    pidfile.parent.mkdir()
    if in_git:
        git(folder, "init", "-q")
        commit_all(folder)
    cache_dir = f"--cache-dir={tmp_path / 'cache'}"

    def starts() -> int:
        return len(pidfile.read_text().split())

    assert run_acceptance(folder, "--suite", "discovery", cache_dir).failed == set()
    assert starts() == 2  # one spec (for secret masking), one discover
    with pidfile.open("a") as handle:  # a fixture's server logging between sessions
        handle.write("not-a-pid-but-a-log-line\n")
    assert run_acceptance(folder, "--suite", "discovery", cache_dir).failed == set()
    assert starts() == 3, "the second session must hit the cache for spec and discover"
