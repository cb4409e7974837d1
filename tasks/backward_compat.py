"""`nox -s backward_compat -- <connector>`: the spec and catalog against the previous release, judged with semver.

Prints one table per document and the version verdict, writes `<report-dir>/<connector>/backward_compat.json`, and
exits non-zero when a breaking difference is not declared by the version bump, or the version did not increase.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acceptance import registry
from acceptance.compat.previous_release import PreviousRelease, Unavailable, current_version
from acceptance.compat.verdicts import Comparison, Verdict, compare_catalogs, compare_specs, version_findings
from acceptance.config.connector import Connector
from acceptance.context import AcceptanceContext
from acceptance.errors import UserError
from acceptance.runner.base import RunResult
from tasks.comparison import ComparisonArgs, Say, first_entry, open_context, previous_settings, write_report


def run_backward_compat(folder: Path, args: ComparisonArgs, say: Say = print) -> int:
    context = open_context(Connector.read(folder), args, say)
    try:
        verdict = judge(context, folder.name, say)
    except UserError as error:
        raise UserError(context.masker.mask(str(error))) from None
    say(context.masker.mask(verdict.render()))
    path = write_report(args.report_dir, folder, "backward_compat", context.masker.mask_data(verdict.to_json()))
    say(f"report: {path}")
    return verdict.exit_code


def judge(context: AcceptanceContext, name: str, say: Say = print) -> Verdict:
    metadata = context.metadata
    current = current_version(context.backend, metadata)
    version, disabled = previous_settings(context)
    release = context.previous_release(version, disabled)
    if isinstance(release, Unavailable):
        return Verdict(name, release.name, None, current, [], [], skipped=release.reason)
    say(f"{name}: comparing {current or 'the current release'} ({context.backend.kind}) with {release.description}")
    comparisons = [_compare_spec(context, release)]
    entry = first_entry(context, ("discovery", "spec", "connection", "basic_read"))
    if entry is not None:
        comparisons.append(_compare_catalog(context, release, entry))
    differences = [d for c in comparisons for d in c.differences]
    breaking_changes = metadata.data.releases.breakingChanges if metadata and metadata.data.releases else None
    findings = version_findings(release.version, current, differences, breaking_changes)
    return Verdict(name, release.description, release.version, current, comparisons, findings)


def _compare_spec(context: AcceptanceContext, release: PreviousRelease) -> Comparison:
    timeout = registry.get("spec").default_timeout
    current = _only(context.spec_run(timeout), "SPEC", "spec", "the current release")
    previous = _only(context.previous_spec_run(release, timeout), "SPEC", "spec", release.description)
    return compare_specs(previous, current)


def _compare_catalog(context: AcceptanceContext, release: PreviousRelease, entry: Any) -> Comparison:
    timeout = registry.get("discovery").default_timeout
    config = context.load_connector_config(entry, timeout)
    current = _only(context.discover_run(config, timeout), "CATALOG", "catalog", "the current release")
    previous_run = context.previous_discover_run(release, config, timeout)
    if not previous_run.succeeded or not previous_run.of_type("CATALOG"):
        # As upstream: a config the old version cannot discover with is not the new version's fault.
        note = f"the previous release could not discover with {entry.config_path}: {_first_line(previous_run)}"
        return Comparison("catalog", note=context.masker.mask(note))
    return compare_catalogs(_only(previous_run, "CATALOG", "catalog", release.description), current)


def _only(run: RunResult, message_type: str, key: str, who: str) -> Any:
    found = run.of_type(message_type)
    if not run.succeeded or not found or not isinstance(found[-1].get(key), dict):
        raise UserError(f"{who}: `{run.command}` gave no {message_type}:\n{run.describe_failure()}")
    return found[-1][key]


def _first_line(run: RunResult) -> str:
    return run.describe_failure().splitlines()[0]
