"""`nox -s pre_merge -- <connector>`: the one command a connector author runs before merging.

Steps, in order, each reported (the later ones still run after a failure, except what needs a build):
metadata (the Airbyte fields a release needs, with clear errors), allowed hosts (required for generally available
and beta connectors; `${…}` references must name spec properties), strictness (`high` for generally available), the
version increased over the previous release, build, the connector's own unit tests, every acceptance suite, and
backward compatibility. One summary table, one exit code.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tabulate import tabulate

from acceptance import registry
from acceptance.checks.attributes import check_allowed_hosts
from acceptance.compat.previous_release import Unavailable
from acceptance.compat.versioning import parse_version
from acceptance.config.connector import Connector
from acceptance.config.metadata import METADATA_FILE
from acceptance.config.problems import validation_problems
from acceptance.config.yaml_files import read_yaml
from acceptance.context import AcceptanceContext
from acceptance.errors import UserError
from acceptance.findings import render_findings
from acceptance.runner.command import VENV_DIR, venv_bin
from tasks.backward_compat import judge
from tasks.comparison import ComparisonArgs, open_context, previous_settings
from tasks.parallel import run_suites

Say = Callable[[str], None]
Outcome = Literal["passed", "failed", "skipped"]
NEEDS_ALLOWED_HOSTS = {"generally_available", "beta"}
UNIT_TEST_TIMEOUT_SECONDS = 1800
AFTER_BUILD = ("allowed hosts", "strictness", "version", "unit tests", "acceptance", "backward compatibility")


class _ReleaseData(BaseModel):
    """The metadata.yaml `data` fields a release needs; the rest is the platform's business (allowed)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    connectorType: Literal["source", "destination"]
    dockerRepository: str = Field(pattern=r"^[a-z0-9][a-z0-9._/-]*$")
    dockerImageTag: str
    releaseStage: Literal["alpha", "beta", "generally_available", "custom"]
    supportLevel: Literal["community", "certified", "archived"] | None = None
    documentationUrl: str | None = None


class _ReleaseMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    data: _ReleaseData


@dataclass(frozen=True)
class Step:
    name: str
    outcome: Outcome
    detail: str
    seconds: float = 0.0


def metadata_problems(folder: Path) -> list[str]:
    """What keeps metadata.yaml from describing a release (missing or malformed fields, a tag that is not semver)."""
    path = folder / METADATA_FILE
    if not path.is_file():
        return [f"{path}: missing; a release needs its metadata.yaml"]
    raw = read_yaml(path)
    try:
        parsed = _ReleaseMetadata.model_validate(raw)
    except ValidationError as error:
        return [f"{path}: {key or 'data'}: {problem}" for key, problem in validation_problems(error, raw)]
    if parse_version(parsed.data.dockerImageTag) is None:
        return [f"{path}: data.dockerImageTag: {parsed.data.dockerImageTag!r} is not a semantic version (X.Y.Z)"]
    return []


def run_pre_merge(folder: Path, args: ComparisonArgs, say: Say = print) -> list[Step]:
    steps: list[Step] = []

    def step(name: str, action: Callable[[], tuple[Outcome, str]]) -> bool:
        started = time.monotonic()
        try:
            outcome, detail = action()
        except UserError as error:
            outcome, detail = "failed", str(error)
        steps.append(Step(name, outcome, detail, time.monotonic() - started))
        say(f"{folder.name}: {name}: {outcome}" + (f" — {detail.splitlines()[0]}" if detail else ""))
        return outcome != "failed"

    metadata_ok = step("metadata", lambda: _verdict(metadata_problems(folder)))
    connectors: list[Connector] = []  # read once, by the step that loads acceptance-test-config.yml
    config_ok = step("acceptance-test-config.yml", lambda: _config_loads(folder, connectors))
    if not (metadata_ok and config_ok):
        return steps + [Step(name, "skipped", "metadata.yaml and acceptance-test-config.yml must load first")
                        for name in ("build", *AFTER_BUILD)]
    contexts: list[AcceptanceContext] = []

    def build() -> tuple[Outcome, str]:
        contexts.append(open_context(connectors[0], args, say))
        return "passed", contexts[0].describe()

    built = step("build", build)
    if not built:
        return steps + [Step(name, "skipped", "the build failed") for name in AFTER_BUILD]
    context = contexts[0]
    step("allowed hosts", lambda: _allowed_hosts(context))
    step("strictness", lambda: _strictness(context))
    step("version", lambda: _version(context))
    step("unit tests", lambda: _unit_tests(folder, context))
    step("acceptance", lambda: _acceptance(folder, args, context))
    step("backward compatibility", lambda: _backward_compat(folder, context))
    return steps


def _config_loads(folder: Path, connectors: list[Connector]) -> tuple[Outcome, str]:
    connector = Connector.read(folder)
    connector.loaded  # noqa: B018  (a ConfigError, a UserError, names the file and key)
    connectors.append(connector)
    return "passed", ""


def _verdict(problems: list[str]) -> tuple[Outcome, str]:
    return ("failed", "\n".join(problems)) if problems else ("passed", "")


def _allowed_hosts(context: AcceptanceContext) -> tuple[Outcome, str]:
    metadata = context.metadata
    stage = metadata.data.releaseStage if metadata else None
    if stage not in NEEDS_ALLOWED_HOSTS and not (metadata and metadata.data.allowedHosts):
        needed = ", ".join(sorted(NEEDS_ALLOWED_HOSTS))
        return "skipped", f"not required for release stage {stage!r} (only for {needed})"
    spec = context.connection_specification_or_none(registry.get("spec").default_timeout)
    findings = check_allowed_hosts(metadata.model_dump(by_alias=True)["data"] if metadata else None, spec)
    return ("failed", render_findings(findings)) if findings else ("passed", "")


def _strictness(context: AcceptanceContext) -> tuple[Outcome, str]:
    metadata = context.metadata
    level = context.loaded.config.test_strictness_level
    level = str(getattr(level, "value", level))
    if metadata and metadata.data.releaseStage == "generally_available" and level != "high":
        return "failed", (f"a generally available connector needs test_strictness_level: high in "
                          f"acceptance-test-config.yml (it is {level})")
    return "passed", f"test_strictness_level {level}"


def _version(context: AcceptanceContext) -> tuple[Outcome, str]:
    metadata = context.metadata
    current = metadata.data.dockerImageTag if metadata else None
    version, _ = previous_settings(context)
    release = context.previous_release(version, None)
    if isinstance(release, Unavailable):
        return "skipped", f"no previous release to compare with: {release.reason}"
    before, after = parse_version(release.version), parse_version(current)
    if before is None or after is None:
        return "skipped", f"cannot compare versions {release.version!r} → {current!r}"
    if after <= before:
        return "failed", f"dockerImageTag {current} is not greater than the previous release's {release.version}"
    return "passed", f"{release.version} → {current}"


def _unit_tests(folder: Path, context: AcceptanceContext) -> tuple[Outcome, str]:
    tests = folder / "unit_tests"
    if not tests.is_dir():
        return "skipped", "no unit_tests/ folder"
    python = venv_bin(folder / VENV_DIR) / "python"
    if not python.is_file():
        return "skipped", f"no virtualenv at {folder / VENV_DIR} to run them in (nox -s build -- {folder.name} " \
                          "--backend local)"
    probe = subprocess.run([str(python), "-c", "import pytest"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "skipped", "pytest is not installed in the connector's virtualenv (add it to its dev dependencies)"
    result = subprocess.run([str(python), "-m", "pytest", "-q", str(tests)], cwd=folder, capture_output=True,
                            text=True, timeout=UNIT_TEST_TIMEOUT_SECONDS, check=False)
    tail = "\n".join(result.stdout.strip().splitlines()[-15:])
    masked = context.masker.mask(tail)
    return ("passed" if result.returncode == 0 else "failed"), masked


def _acceptance(folder: Path, args: ComparisonArgs, context: AcceptanceContext) -> tuple[Outcome, str]:
    backend = context.backend
    options = ["--backend", backend.kind] + (["--image", backend.image] if backend.image else [])
    runs = run_suites(folder, args.run, registry.names(), options, jobs=1, say=lambda _: None)
    failed = [run.suite for run in runs if not run.passed]
    detail = "; ".join(f"{run.suite}: {run.summary}" for run in runs)
    return ("failed" if failed else "passed"), detail


def _backward_compat(folder: Path, context: AcceptanceContext) -> tuple[Outcome, str]:
    verdict = judge(context, folder.name, say=lambda _: None)
    if verdict.skipped:
        return "skipped", verdict.skipped
    return ("failed" if verdict.exit_code else "passed"), verdict.render()


def render_steps(folder: Path, steps: list[Step]) -> str:
    rows = [(s.name, s.outcome if s.outcome != "failed" else "FAILED", f"{s.seconds:.1f}",
             (s.detail.splitlines() or [""])[0][:100]) for s in steps]
    verdict = "ready to merge" if all(s.outcome != "failed" for s in steps) else "NOT ready to merge"
    return tabulate(rows, headers=["step", "outcome", "seconds", "detail"], tablefmt="github") + \
        f"\n{folder.name}: {verdict}"


def exit_code(steps: list[Step]) -> int:
    return 1 if any(s.outcome == "failed" for s in steps) else 0

