"""A connector's identity, the key of the on-disk cache: a hash of its command, the files that command names, the
files its build takes, and the distributions installed in its virtualenv.

"The files its build takes" is defined here once, for the cache and for the image builds (`tasks.builder.identity`):
- a folder with a Dockerfile: the Docker build context, `.dockerignore` applied by the Docker SDK's own matcher (the
  one that packs the context `nox -s build` sends: patterns relative to the folder, `**`, `!` exceptions, comments);
- any other folder: the files git would track there, tracked or untracked-but-not-ignored, `.gitignore` files
  respected (the folder's, its parents' within the repository, nested ones). In a git work tree git answers; outside
  one (a tarball, a temporary folder) the `.gitignore` files are applied here, with the same answer for the same
  files. A folder its repository ignores as a whole is read by its own `.gitignore` files only.
The tool's caches, virtualenvs and build leftovers (`IGNORED_ANYWHERE`) never count. So a log that a test fixture or
the connector writes into an ignored folder at run time leaves the identity (and the cache hits) as they were."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from acceptance.runner.command import VENV_DIR, ConnectorCommand

# Never part of a build: virtualenvs and tool caches, at any depth (and `*.egg-info` folders, `*.pyc` files).
IGNORED_ANYWHERE = {VENV_DIR, ".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".nox"}
IGNORED_SUFFIXES = (".egg-info", ".pyc", ".pyo")
# Not part of what the connector does: top-level folders and files whose change must not invalidate cached specs and
# catalogs, and which a generated image or the connector's wheel leaves out.
IGNORED_AT_TOP = {
    "build", "dist", "secrets", "integration_tests", "unit_tests", "acceptance-test-config.yml",
    "acceptance-test-config.yaml", "acceptance_tests_logs",
}
GIT_TIMEOUT_SECONDS = 60
# Variables that would point git at another repository than the folder's own.
_GIT_LOCATION_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")


def connector_identity(command: ConnectorCommand) -> str:
    """A hash of everything that decides the connector's behaviour: the command, the files it names, the code its
    build takes (less tests, secrets and its acceptance config), and the packages installed in its virtualenv. Any
    change gives a new identity; a file written into an ignored place does not."""
    h = hashlib.sha256()
    h.update(orjson.dumps(command.argv))
    executable = shutil.which(command.argv[0], path=os.environ.get("PATH")) if command.argv else None
    for arg in [executable or "", *command.argv[1:]]:
        path = Path(arg) if os.path.isabs(arg) else command.cwd / arg
        if arg and path.is_file():
            _hash_file(h, path.resolve())
    if command.cwd.is_dir():
        hash_files(h, command.cwd, connector_code(build_files(command.cwd)))
    _hash_installed_packages(h, command.cwd / VENV_DIR)
    return h.hexdigest()


def build_files(folder: Path) -> list[str]:
    """The files a build of the connector in `folder` takes, as sorted POSIX paths relative to it: its Docker build
    context when it has a Dockerfile, else the files git would track."""
    return context_files(folder) if (folder / "Dockerfile").is_file() else tracked_files(folder)


def connector_code(files: Iterable[str]) -> list[str]:
    """`files` less those that are not part of what the connector does (`IGNORED_AT_TOP`)."""
    return [f for f in files if f.split("/", 1)[0] not in IGNORED_AT_TOP]


def context_files(folder: Path) -> list[str]:
    """The files of `folder`'s Docker build context: `.dockerignore` applied as the Docker SDK applies it when it packs
    the context (the Dockerfile and `.dockerignore` always in), less what never counts."""
    from docker.utils.build import exclude_paths  # the SDK only for a Dockerfile folder

    patterns: list[str] = []
    dockerignore = folder / ".dockerignore"
    if dockerignore.is_file():  # read as the SDK's build() reads it: stripped lines, no blanks, no comments
        lines = [line.strip() for line in dockerignore.read_text(errors="replace").splitlines()]
        patterns = [line for line in lines if line and not line.startswith("#")]
    # Appended, so they win over the user's exceptions; they also keep the walk out of virtualenvs and caches.
    patterns += [f"**/{name}" for name in sorted(IGNORED_ANYWHERE)] + [f"**/*{s}" for s in IGNORED_SUFFIXES]
    included = exclude_paths(str(folder), patterns, dockerfile="Dockerfile")
    return sorted(
        path.replace(os.sep, "/") for path in included
        if (folder / path).is_file() and not never_counted(path.replace(os.sep, "/"))
    )


def tracked_files(folder: Path) -> list[str]:
    """The files git would track in `folder`: tracked ones that still exist and untracked ones no `.gitignore`
    ignores. git answers in a work tree; elsewhere (or if git cannot) the `.gitignore` files are applied here."""
    listed = _git_files(folder) if _repository_root(folder.resolve()) is not None else None
    if listed:
        return sorted(path for path in listed if not never_counted(path) and (folder / path).is_file())
    # Not a work tree, no git, or nothing listed (the repository ignores the whole folder, or it is empty).
    return _gitignored_walk(folder)


def never_counted(path: str) -> bool:
    """A virtualenv, a tool's cache or a build leftover, at any depth (`path`: POSIX, relative to the folder)."""
    return any(part in IGNORED_ANYWHERE or part.endswith(IGNORED_SUFFIXES) for part in path.split("/"))


def hash_files(h: Any, folder: Path, files: Iterable[str]) -> None:
    """Each file's relative path and the digest of its content, in the order given."""
    for relative in files:
        h.update(f"{relative}\0".encode())
        try:
            h.update(hashlib.sha256((folder / relative).read_bytes()).digest())
        except OSError:  # gone or unreadable since it was listed
            h.update(b"unreadable")


def _git_files(folder: Path) -> list[str] | None:
    """`git ls-files` of the folder (tracked + untracked-not-ignored), or None when git cannot answer."""
    git = shutil.which("git")
    if git is None:
        return None
    # Untracked virtualenvs and caches are not even walked (tracked ones are filtered by the caller).
    excludes = [f"--exclude={name}" for name in sorted(IGNORED_ANYWHERE)]
    excludes += [f"--exclude=*{suffix}" for suffix in IGNORED_SUFFIXES]
    env = {key: value for key, value in os.environ.items() if key not in _GIT_LOCATION_VARIABLES}
    try:
        result = subprocess.run(
            [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z", *excludes, "--", "."],
            cwd=folder, env=env, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:  # not a work tree, a repository git refuses (ownership), ...
        return None
    return sorted({path for path in os.fsdecode(result.stdout).split("\0") if path})


# -- .gitignore files applied without git ------------------------------------------------------------------------------

_Rules = list[tuple[Path, Any]]  # (the folder a .gitignore is in, its GitIgnoreSpec), outermost first


def _gitignored_walk(folder: Path) -> list[str]:
    """The files under `folder` that no `.gitignore` (or the repository's info/exclude) ignores, as git decides:
    the deepest file's last matching pattern wins, and nothing under an ignored folder comes back."""
    folder = folder.resolve()
    rules = _outer_rules(folder)
    inherited: dict[Path, _Rules] = {folder: rules}
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(folder):
        here = Path(directory)
        rules = inherited.pop(here) + _own_rules(here)
        kept = []
        for name in sorted(dirnames):
            path = here / name
            if not never_counted(name) and not _ignored(rules, path, directory=True):
                kept.append(name)
                inherited[path] = rules
        dirnames[:] = kept
        for name in filenames:
            path = here / name
            if not never_counted(name) and not _ignored(rules, path, directory=False) and path.is_file():
                found.append(path.relative_to(folder).as_posix())
    return sorted(found)


def _outer_rules(folder: Path) -> _Rules:
    """The rules of the repository around `folder` that reach it (info/exclude, the parents' .gitignore files), or
    none when there is no repository or it ignores the folder as a whole."""
    root = _repository_root(folder)
    if root is None or root == folder:
        return []
    rules: _Rules = []
    exclude = root / ".git" / "info" / "exclude"
    if exclude.is_file():
        rules += _spec(root, exclude)
    chain = [root, *reversed(folder.relative_to(root).parents[:-1]), folder.relative_to(root)]
    for level, directory in enumerate(chain[:-1]):
        rules += _own_rules(root / directory)
        if _ignored(rules, root / chain[level + 1], directory=True):
            return []  # the repository ignores the folder: its own .gitignore files decide
    return rules


def _repository_root(folder: Path) -> Path | None:
    """The nearest folder, `folder` or above, that holds a `.git` (a repository's, or a worktree's file)."""
    return next((p for p in [folder, *folder.parents] if (p / ".git").exists()), None)


def _own_rules(directory: Path) -> _Rules:
    gitignore = directory / ".gitignore"
    return _spec(directory, gitignore) if gitignore.is_file() else []


def _spec(base: Path, file: Path) -> _Rules:
    from pathspec import GitIgnoreSpec  # only when git cannot answer

    try:
        lines = file.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [(base, GitIgnoreSpec.from_lines(lines))]


def _ignored(rules: _Rules, path: Path, *, directory: bool) -> bool:
    for base, spec in reversed(rules):  # a deeper .gitignore overrides the ones above it
        relative = path.relative_to(base).as_posix() + ("/" if directory else "")
        decided = spec.check_file(relative).include
        if decided is not None:
            return bool(decided)
    return False


def _hash_file(h: Any, path: Path) -> None:
    stat = path.stat()
    h.update(f"{path}\0{stat.st_size}\0".encode())
    if stat.st_size <= 4 * 1024 * 1024:
        h.update(path.read_bytes())
    else:  # a large binary (an interpreter): its size and mtime are enough to notice a change
        h.update(str(stat.st_mtime_ns).encode())


def _hash_installed_packages(h: Any, venv: Path) -> None:
    # A reinstall rewrites each distribution's dist-info folder: names, versions and mtimes capture any change.
    for dist_info in sorted(venv.glob("lib/python*/site-packages/*.dist-info")):
        h.update(f"{dist_info.name}\0{dist_info.stat().st_mtime_ns}\0".encode())
