"""`nox -s regression -- <connector>`: the same config read with the previous and the current release, compared
record by record (counts, added / removed / changed by primary key, fields that appeared or disappeared).

Both releases read in full refresh every stream the current release discovers that supports it (a stream the
previous release lacks is reported as only in the current read). Informational: the exit status is non-zero only when
a read fails. Report: `<report-dir>/<connector>/regression.json`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from acceptance import registry
from acceptance.compat.previous_release import PreviousRelease, Unavailable
from acceptance.compat.regression import RegressionReport, compare_reads
from acceptance.config.connector import Connector
from acceptance.config.models import ignored_field_paths
from acceptance.context import AcceptanceContext
from acceptance.errors import UserError
from acceptance.protocol import catalog as catalogs
from acceptance.protocol.records import remove_fields
from acceptance.runner import base as commands
from acceptance.runner.base import RunResult
from tasks.comparison import ComparisonArgs, Say, first_entry, open_context, previous_settings, write_report


def run_regression(folder: Path, args: ComparisonArgs, say: Say = print) -> RegressionReport | None:
    context = open_context(Connector.read(folder), args, say)
    try:
        report, summary = compare(context, say)
    except UserError as error:
        raise UserError(context.masker.mask(str(error))) from None
    if report is None:
        say(f"{folder.name}: regression skipped: {summary['skipped']}")
    else:
        say(context.masker.mask(report.table()))
    path = write_report(args.report_dir, folder, "regression", context.masker.mask_data(summary))
    say(f"report: {path}")
    return report


def compare(context: AcceptanceContext, say: Say = print) -> tuple[RegressionReport | None, dict[str, Any]]:
    """Read with both releases and compare; (None, why) when there is no previous release to read with."""
    version, _ = previous_settings(context)
    release = context.previous_release(version)  # disable_for_version is about the spec and catalog, not records
    if isinstance(release, Unavailable):
        return None, {"skipped": release.reason, "previous": release.name}
    entry = first_entry(context, ("basic_read", "full_refresh", "incremental", "discovery", "spec", "connection"))
    if entry is None:
        raise UserError(f"{context.loaded.file}: no test entry names a config_path to read with")
    timeout = registry.get("basic_read").default_timeout
    config = context.load_connector_config(entry, timeout)
    excluded = tuple(s.name for s in getattr(entry, "empty_streams", None) or [])
    catalog = _catalog(context.discover_run(config, timeout), "the current release", excluded)
    # The previous release reads only the streams it knows, as it discovers them; the rest are "only in current".
    previous_run = context.previous_discover_run(release, config, timeout)
    wanted = {s["stream"]["name"] for s in catalog["streams"]}
    previous_catalog = _catalog(previous_run, release.description, ())
    previous_catalog["streams"] = [s for s in previous_catalog["streams"] if s["stream"]["name"] in wanted]
    say(f"reading {len(catalog['streams'])} stream(s) with the current release and "
        f"{len(previous_catalog['streams'])} with {release.description}")
    current = _succeeded(context.read_run(config, catalog, timeout), "the current release")
    previous = _succeeded(_previous_read(context, release, config, previous_catalog, timeout), release.description)
    ignored = ignored_field_paths(entry)
    report = compare_reads(without_fields(previous.messages, ignored), without_fields(current.messages, ignored),
                           catalog)
    summary = {"previous": {"release": release.description, "version": release.version},
               "config": entry.config_path, "ignored_fields": ignored, **report.to_json()}
    if ignored:
        say("ignored_fields (not compared): " + "; ".join(f"{s}: {', '.join(p)}" for s, p in ignored.items()))
    return report, summary


def without_fields(messages: Iterable[Mapping[str, Any]], ignored: Mapping[str, list[str]]
                   ) -> Iterator[Mapping[str, Any]]:
    """The messages, with the ignored fields taken out of each RECORD's data (others pass untouched)."""
    for message in messages:
        record = message.get("record") if message.get("type") == "RECORD" else None
        paths = ignored.get(record.get("stream")) if isinstance(record, dict) else None
        if paths and isinstance(record.get("data"), dict):
            message = {**message, "record": {**record, "data": remove_fields(record["data"], paths)}}
        yield message


def _catalog(run: RunResult, who: str, excluded: tuple[str, ...]) -> dict[str, Any]:
    """Every discovered stream that supports full refresh, but `excluded`."""
    found = run.of_type("CATALOG")
    if not run.succeeded or not found:
        raise UserError(f"{who}: discover failed:\n{run.describe_failure()}")
    return catalogs.configured_from_discovered(found[-1]["catalog"], exclude=excluded, sync_mode="full_refresh")


def _previous_read(context: AcceptanceContext, release: PreviousRelease, config: Any, catalog: dict[str, Any],
                   timeout: float) -> RunResult:
    runner = release.runner(context.environment, context.masker, context.backend.network)
    return commands.read(runner, config, catalog, None, timeout)


def _succeeded(run: RunResult, who: str) -> RunResult:
    if not run.succeeded:
        raise UserError(f"{who}: the read failed:\n{run.describe_failure()}")
    return run
