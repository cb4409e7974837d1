"""What `nox -s backward_compat` and `nox -s regression` share: arguments, the run context, the report file."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acceptance.cache import Cache
from acceptance.compat.previous_image import DEFAULT_PREVIOUS_VERSION
from acceptance.config.loading import load_config
from acceptance.context import AcceptanceContext, PreviousOptions
from acceptance.errors import UserError
from acceptance.files import write_atomically
from acceptance.runner.backend import choose_backend
from tasks.acceptance import AcceptanceArgs, default_report_dir, prepare_backend
from tasks.acceptance import parse_args as parse_acceptance_args

Say = Callable[[str], None]


@dataclass
class ComparisonArgs:
    run: AcceptanceArgs
    previous: PreviousOptions
    report_dir: Path


def parse_args(posargs: list[str], *, prog: str) -> ComparisonArgs:
    """The acceptance arguments (connectors, --backend, --connector-command, cache options) plus
    `--previous-image NAME`, `--previous-command CMD`, `--previous-version V` and `--report-dir DIR`."""
    parser = argparse.ArgumentParser(prog=prog, add_help=False, allow_abbrev=False)
    parser.add_argument("--previous-image", default=None)
    parser.add_argument("--previous-command", default=None)
    parser.add_argument("--previous-version", default=None)
    parser.add_argument("--report-dir", default=default_report_dir())
    known, rest = parser.parse_known_args(posargs)
    run = parse_acceptance_args(rest, prog=prog)
    if run.pytest_args:
        raise UserError(f"{prog}: unknown arguments {' '.join(run.pytest_args)} (expected a connector, --backend, "
                        "--connector-command, --previous-image, --previous-command, --previous-version, "
                        "--report-dir, --no-cache, --cache-dir, --connectors-root)")
    previous = PreviousOptions(known.previous_image, known.previous_command, known.previous_version)
    return ComparisonArgs(run, previous, Path(known.report_dir))


def open_context(folder: Path, args: ComparisonArgs, say: Say = print) -> AcceptanceContext:
    """Build what the current release needs (image or virtualenv), then the same context the suites use."""
    options = prepare_backend(folder, args.run, say=say)
    kind = options[options.index("--backend") + 1]
    image = options[options.index("--image") + 1] if "--image" in options else None
    loaded = load_config(folder)
    backend = choose_backend(loaded, kind, image=image, connector_command=args.run.connector_command)
    cache = Cache(Path(args.run.cache_dir) if args.run.cache_dir else None, enabled=not args.run.no_cache)
    return AcceptanceContext(loaded, backend, cache, previous=args.previous)


def first_entry(context: AcceptanceContext, suites: tuple[str, ...]) -> Any | None:
    """The first configured entry with a config file, in the order of `suites`."""
    for suite in suites:
        for entry in context.loaded.entries(suite):
            if getattr(entry, "config_path", None):
                return entry
    return None


def previous_settings(context: AcceptanceContext) -> tuple[str, str | None]:
    """previous_connector_version and disable_for_version, from the first spec (else discovery) entry."""
    for suite in ("spec", "discovery"):
        for entry in context.loaded.entries(suite):
            settings = entry.backward_compatibility_tests_config
            return settings.previous_connector_version, settings.disable_for_version
    return DEFAULT_PREVIOUS_VERSION, None


def write_report(report_dir: Path, folder: Path, name: str, data: Any) -> Path:
    """`<report_dir>/<connector>/<name>.json`, written whole (never a half file)."""
    target = report_dir / folder.name / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return target
