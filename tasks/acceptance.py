"""Running the acceptance suites for a connector: arguments from nox, the build it needs, the pytest command."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from acceptance.connector import resolve_command
from acceptance.errors import UserError
from acceptance.plugin import SUITES_DIR
from tasks.build import build_virtualenv, requirement_for
from tasks.connectors import connectors_root, find_connector


@dataclass
class AcceptanceArgs:
    connectors: list[Path]
    connector_command: str | None = None
    no_cache: bool = False
    cache_dir: str | None = None
    pytest_args: list[str] = field(default_factory=list)


def parse_args(posargs: list[str], *, prog: str) -> AcceptanceArgs:
    """`<connector>... [--connector-command CMD] [--no-cache] [--cache-dir DIR] [--connectors-root DIR]`;
    anything else is passed on to pytest."""
    # allow_abbrev=False: pytest options such as `--co` must reach pytest, not match --connector-command.
    parser = argparse.ArgumentParser(prog=prog, add_help=True, allow_abbrev=False)
    parser.add_argument("connectors", nargs="*", metavar="CONNECTOR", help="name under the connectors root, or path")
    parser.add_argument("--connector-command", default=None)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--connectors-root", default=None)
    known, rest = parser.parse_known_args(posargs)
    if not known.connectors:
        raise UserError(f"{prog}: name a connector, e.g. `nox -s {prog} -- source-faker`")
    root = connectors_root(known.connectors_root)
    folders = [find_connector(name, root) for name in known.connectors]
    return AcceptanceArgs(folders, known.connector_command, known.no_cache, known.cache_dir, rest)


def ensure_runnable(folder: Path, connector_command: str | None, say: object = print) -> None:
    """Build the connector's virtualenv when that is how it runs (no --connector-command, no main.py)."""
    if connector_command or (folder / "main.py").is_file():
        return
    try:
        requirement_for(folder)
    except UserError:
        return  # nothing to build: resolve_command below names the options
    build_virtualenv(folder, say=say)  # type: ignore[arg-type]
    resolve_command(folder)


def pytest_command(folder: Path, args: AcceptanceArgs, suites: list[str]) -> list[str]:
    # --rootdir: short test ids (`test_spec.py::TestSpec::…`) wherever the package is installed.
    command = ["python", "-m", "pytest", "-p", "acceptance.plugin", f"--acceptance-test-config={folder}",
               f"--rootdir={SUITES_DIR}", "-p", "no:cacheprovider", "-rfEs"]
    for suite in suites:
        command += ["--suite", suite]
    if args.connector_command:
        command += ["--connector-command", args.connector_command]
    if args.no_cache:
        command.append("--no-cache")
    if args.cache_dir:
        command += ["--cache-dir", args.cache_dir]
    return command + args.pytest_args
