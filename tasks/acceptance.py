"""Running the acceptance suites for a connector: arguments from nox, the build it needs, the pytest command."""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from acceptance.cache import default_cache_dir
from acceptance.config.connector import Connector
from acceptance.errors import UserError
from acceptance.plugin import SUITES_DIR
from acceptance.runner.backend import BACKENDS, docker_client
from acceptance.runner.command import resolve_command
from tasks.builder.image import build_image
from tasks.builder.virtualenv import build_virtualenv
from tasks.connectors import connectors_root, find_connector, list_connectors, modified_connectors

# One id per nox invocation (noxfile imports this module once): every suite session of the run writes into the same
# report folder, and the sessions a previous run left there are dropped.
REPORT_RUN = f"{os.getpid()}-{time.time_ns()}"
REPORT_DIR_ENV = "CONNECTOR_ACCEPTANCE_REPORT_DIR"  # where reports go when --report-dir is not given


def default_report_dir() -> str:
    """$CONNECTOR_ACCEPTANCE_REPORT_DIR, else `reports` (under the current directory)."""
    return os.environ.get(REPORT_DIR_ENV) or "reports"


DEFAULT_BASE_REF = "origin/main"  # what --modified compares with


@dataclass
class AcceptanceArgs:
    connectors: list[Path]
    connector_command: str | None = None
    no_cache: bool = False
    cache_dir: str | None = None
    pytest_args: list[str] = field(default_factory=list)
    backend: str = "auto"
    jobs: int = 2  # connectors at a time when there are several
    report_dir: str = field(default_factory=default_report_dir)  # reports: <report_dir>/<connector>/acceptance/


def parse_args(posargs: list[str], *, prog: str) -> AcceptanceArgs:
    """`<connector>... [--backend auto|local|docker] [--connector-command CMD] [--no-cache] [--cache-dir DIR]
    [--connectors-root DIR] [--report-dir DIR]`; anything else is passed on to pytest."""
    # allow_abbrev=False: pytest options such as `--co` must reach pytest, not match --connector-command.
    parser = argparse.ArgumentParser(prog=prog, add_help=True, allow_abbrev=False)
    parser.add_argument("connectors", nargs="*", metavar="CONNECTOR", help="name under the connectors root, or path")
    parser.add_argument("--connector-command", default=None)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--connectors-root", default=None)
    parser.add_argument("--backend", default="auto", choices=BACKENDS)
    parser.add_argument("--all", action="store_true", help="every connector under the connectors root")
    parser.add_argument("--modified", action="store_true", help="connectors changed against --base")
    parser.add_argument("--base", default=DEFAULT_BASE_REF, help=f"git ref for --modified (default {DEFAULT_BASE_REF})")
    parser.add_argument("--jobs", type=int, default=2, help="connectors at a time when there are several")
    parser.add_argument("--report-dir", default=default_report_dir(),
                        help=f"reports go to DIR/<connector>/acceptance/ (default ${REPORT_DIR_ENV}, else reports)")
    known, rest = parser.parse_known_args(posargs)
    root = connectors_root(known.connectors_root)
    names = selected_connectors(known.connectors, root, every=known.all, modified=known.modified, base=known.base)
    if not names and not (known.all or known.modified):
        raise UserError(f"{prog}: name a connector, e.g. `nox -s {prog} -- source-faker` (or --all, --modified)")
    folders = [find_connector(name, root) for name in names]
    return AcceptanceArgs(folders, known.connector_command, known.no_cache, known.cache_dir, rest, known.backend,
                          max(1, known.jobs), known.report_dir)


def check_inputs(folder: Path) -> Connector:
    """The connector, read once: the files every suite reads first (metadata.yaml, acceptance-test-config.yml) are
    loaded here, so a mistake in them is one ConfigError before anything is built or run, instead of the same pytest
    usage error once per suite."""
    connector = Connector.read(folder)
    connector.loaded  # noqa: B018  (loaded now: its errors are said before any build)
    return connector


def selected_connectors(names: list[str], root: Path, *, every: bool = False, modified: bool = False,
                        base: str = "") -> list[str]:
    """The names given, plus every connector (`--all`) or the changed ones (`--modified`), in order, once each."""
    chosen = list(names)
    if every:
        chosen += list_connectors(root)
    if modified:
        chosen += modified_connectors(root, base or DEFAULT_BASE_REF)
    return list(dict.fromkeys(chosen))


def ensure_runnable(connector: Connector, connector_command: str | None, say: Callable[[str], None] = print,
                    cache_dir: str | None = None) -> None:
    """Build the connector's virtualenv when that is how it runs (no --connector-command, no main.py); its packages
    come through uv's cache under `cache_dir` (--cache-dir; default: the tool's cache folder)."""
    if connector_command or (connector.folder / "main.py").is_file():
        return
    try:
        connector.python_requirement()
    except UserError:
        return  # nothing to build: resolve_command below names the options
    build_virtualenv(connector, say=say, cache_root=Path(cache_dir) if cache_dir else None)
    resolve_command(connector)


def prepare_backend(connector: Connector, args: AcceptanceArgs, say: Callable[[str], None] = print) -> list[str]:
    """Build what the run needs — the image when Docker answers (and no local run is asked for), else the
    virtualenv — say which backend is used, and return the pytest options that select it."""
    if args.backend == "local" or args.connector_command:
        ensure_runnable(connector, args.connector_command, say, args.cache_dir)
        return ["--backend", "local"]
    client = docker_client()
    problem = "no Docker engine answers" if client is None else None
    if client is not None:
        try:
            built = build_image(connector, say=say, client=client,
                                cache_root=Path(args.cache_dir) if args.cache_dir else None)
        except UserError as error:
            problem = f"the image could not be built: {str(error).splitlines()[0]}"
        else:
            say(f"{connector.name}: running the suites against the Docker image {built.tag}")
            return ["--backend", "docker", "--image", built.tag]
    if args.backend == "docker":
        raise UserError(f"--backend docker: {problem}")
    say(f"{connector.name}: {problem}; running the connector as a local process")
    ensure_runnable(connector, None, say, args.cache_dir)
    return ["--backend", "local"]


def pytest_cache_dir(folder: Path, cache_dir: str | None) -> Path:
    """pytest's cache for one connector folder: `<cache>/pytest/<name>-<hash of its path>`."""
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    return root / "pytest" / f"{folder.name}-{hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]}"


def report_dir(folder: Path, args: AcceptanceArgs) -> Path:
    """Where a run's reports go: `<report-dir>/<connector>/acceptance/`, beside backward_compat's
    `<report-dir>/<connector>/backward_compat.json`. Always written: CI and people look there after a run."""
    return Path(args.report_dir) / folder.name / "acceptance"


def pytest_command(folder: Path, args: AcceptanceArgs, suites: list[str], backend_options: Sequence[str] = ()
                   ) -> list[str]:
    # --rootdir: short test ids (`test_spec.py::TestSpec::…`) wherever the package is installed.
    # --assert=plain: the suites fail with their own messages, so pytest need not rewrite (recompile) every module
    # of the package at each session start; hypothesis's pytest plugin is not used by the suites and costs ~1 s.
    # pytest's own cache (what `--lf`, `--ff` and `--sw` read) lives per connector under the tool's cache folder, so
    # "re-run only what failed last time" works across the suites' sessions without writing into the package.
    command = ["python", "-m", "pytest", "-p", "acceptance.plugin", f"--acceptance-test-config={folder}",
               f"--rootdir={SUITES_DIR}", "-o", f"cache_dir={pytest_cache_dir(folder, args.cache_dir)}",
               "-p", "no:hypothesispytest", "--assert=plain", "-rfEs"]
    command += list(backend_options)
    for suite in suites:
        command += ["--suite", suite]
    if args.connector_command:
        command += ["--connector-command", args.connector_command]
    if args.no_cache:
        command.append("--no-cache")
    if args.cache_dir:
        command += ["--cache-dir", args.cache_dir]
    command += ["--report-dir", str(report_dir(folder, args)), "--report-run", REPORT_RUN]
    return command + args.pytest_args
