"""The environments table: uv against pip making the same Python environment, on this machine, in one run.

Each row (an `EnvironmentCase`) is installed by both, back to back, the installers taking turns round after round
(uv, pip, uv, pip...), each install into a fresh virtualenv in a temporary folder:

- uv: the tool's own way, `acceptance.runner.environment.make_environment` (`uv venv` + `uv pip install`, a release
  held to its upload date, the environment's record written); the previous-release row goes through
  `acceptance.compat.previous_package.install_previous` and counts the environment it makes (its record's seconds:
  the release date, the venv, the install), not the `spec` check it also runs;
- pip: the old way, `python -m venv` + `<venv>/bin/pip install`.

Caches: "empty" gives each install a cache folder of its own, new and empty (uv's under the cache root given to the
tool, pip's through PIP_CACHE_DIR); "warm" gives each installer one cache folder filled by a first install before
the rounds, not counted (its venv removed). A row's seconds are the median of its rounds; whether the environment
answers (a connector's `spec`, the CDK's import) is checked after each install, untimed.

Targets: a fresh connector environment from a warm cache (the `judged` row) within MAX_WARM_SECONDS with uv and
MIN_SPEEDUP_OVER_PIP times faster than pip; every environment answers.

Rows measured elsewhere (the Docker image builds of a connector, from scratch and after a one-line code change) are
`EnvironmentRow`s too: `environments_table` and `environments_json` take them as `extra_rows` and show them after
these.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from acceptance.compat.previous_package import Unavailable, install_previous
from acceptance.errors import BuildError
from acceptance.runner.command import venv_bin
from acceptance.runner.environment import EnvironmentRecord, make_environment
from tasks.bench.process import Say
from tasks.bench.targets import Target

FAKER = "airbyte-source-faker==7.2.1"
FAKER_PREVIOUS = "airbyte-source-faker==7.2.0"
FILE = "airbyte-source-file==0.5.39"  # 0.5.40 and later pin a smart-open[all] of their own version, never published
CDK = "airbyte-cdk==6.61.6"  # the last 6.x
HARDCODED = "airbyte-source-hardcoded-records==0.0.48"  # --quick: a small connector

MAX_WARM_SECONDS = 10.0
MIN_SPEEDUP_OVER_PIP = 10.0
INSTALLERS = ("uv", "pip")
EMPTY, WARM = "empty", "warm"
PIP_TIMEOUT_SECONDS = 1800
CHECK_TIMEOUT_SECONDS = 300
TAIL_LINES = 6


@dataclass(frozen=True)
class EnvironmentCase:
    """One row to measure: `requirement` installed by uv and by pip, with an empty or a warm cache."""

    name: str  # for people: "fresh faker environment"
    requirement: str  # "name==version"
    cache: str  # EMPTY or WARM
    check: tuple[str, ...]  # run from the venv's bin folder after the install: ("source-faker", "spec")
    expect: str | None = None  # a line of the check's output must hold this ('"SPEC"')
    previous_release: bool = False  # uv's side through install_previous (the backward_compat path)
    judged: bool = False  # the targets' row: a fresh connector environment from a warm cache

    @property
    def release(self) -> tuple[str, str] | None:
        """(package, version) when the requirement pins a release."""
        name, sep, version = self.requirement.partition("==")
        return (name.strip(), version.strip()) if sep else None

    @property
    def check_label(self) -> str:
        return shlex.join(self.check)


def connector_case(name: str, requirement: str, script: str, cache: str, *, previous_release: bool = False,
                   judged: bool = False) -> EnvironmentCase:
    """A connector's row: its environment answers when `<script> spec` prints a SPEC message."""
    return EnvironmentCase(name, requirement, cache, (script, "spec"), '"SPEC"', previous_release, judged)


def environment_cases(quick: bool = False) -> list[EnvironmentCase]:
    """The rows of `nox -s bench`; with --quick only a small connector, hardcoded-records, empty and warm."""
    if quick:
        return [connector_case("fresh hardcoded-records environment", HARDCODED, "source-hardcoded-records", EMPTY),
                connector_case("fresh hardcoded-records environment", HARDCODED, "source-hardcoded-records", WARM,
                               judged=True)]
    return [
        connector_case("fresh faker environment", FAKER, "source-faker", EMPTY),
        connector_case("fresh faker environment", FAKER, "source-faker", WARM, judged=True),
        connector_case("previous release (backward_compat)", FAKER_PREVIOUS, "source-faker", EMPTY,
                       previous_release=True),
        connector_case("file source", FILE, "source-file", EMPTY),
        EnvironmentCase("declarative CDK environment", CDK, EMPTY, ("python", "-c", "import airbyte_cdk")),
    ]


@dataclass
class EnvironmentRow:
    """A measured row: each round's seconds per installer (empty when not measured) and whether each answered."""

    name: str
    requirement: str
    cache: str  # EMPTY, WARM, or what a row measured elsewhere says
    check: str  # what "answers" means: "source-faker spec", "python -c 'import airbyte_cdk'"
    uv_seconds: list[float] = field(default_factory=list)
    pip_seconds: list[float] = field(default_factory=list)
    uv_answers: bool | None = None  # None: not measured
    pip_answers: bool | None = None
    judged: bool = False
    problems: list[str] = field(default_factory=list)  # failed installs, checks that did not answer

    @property
    def uv(self) -> float | None:
        return statistics.median(self.uv_seconds) if self.uv_seconds else None

    @property
    def pip(self) -> float | None:
        return statistics.median(self.pip_seconds) if self.pip_seconds else None

    @property
    def speedup(self) -> float | None:
        """pip's seconds over uv's: how many times faster uv made the environment."""
        uv, pip = self.uv, self.pip
        return pip / uv if uv and pip is not None else None


@dataclass(frozen=True)
class Installed:
    venv: Path
    seconds: float


Installer = Callable[[EnvironmentCase, Path, Path], Installed]  # (case, a fresh folder, its cache root)


def install_with_uv(case: EnvironmentCase, folder: Path, cache_root: Path) -> Installed:
    """The tool's way: make_environment (or install_previous for the previous-release row), uv's cache under
    `cache_root`."""
    with _uv_cache_under(cache_root):
        if case.previous_release and case.release:
            found = install_previous(*case.release, cache_root=cache_root, say=_quiet)
            if isinstance(found, Unavailable):
                raise BuildError(found.reason)
            record = EnvironmentRecord.read(found.venv)
            if record is None:
                raise BuildError(f"{case.requirement}: install_previous left no environment record in {found.venv}")
            return Installed(found.venv, record.seconds)
        venv = folder / "venv"
        started = time.monotonic()
        make_environment(venv, [case.requirement], cache_root=cache_root, release=case.release, say=_quiet)
        return Installed(venv, time.monotonic() - started)


def install_with_pip(case: EnvironmentCase, folder: Path, cache_root: Path) -> Installed:
    """The old way: `python -m venv`, then the venv's pip, its cache in `cache_root`."""
    venv = folder / "venv"
    env = {**_clean_env(), "PIP_CACHE_DIR": str(cache_root / "pip"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", str(venv)], env, PIP_TIMEOUT_SECONDS, f"python -m venv {venv}")
    _run([str(venv_bin(venv) / "pip"), "install", "-q", case.requirement], env, PIP_TIMEOUT_SECONDS,
         f"pip install {case.requirement}")
    return Installed(venv, time.monotonic() - started)


INSTALL: Mapping[str, Installer] = {"uv": install_with_uv, "pip": install_with_pip}


def answers(case: EnvironmentCase, venv: Path) -> str | None:
    """None when the environment answers its check, else why not."""
    argv = [str(venv_bin(venv) / case.check[0]), *case.check[1:]]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, errors="replace", env=_clean_env(),
                                timeout=CHECK_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`{case.check_label}` did not run: {error}"
    if result.returncode != 0:
        return f"`{case.check_label}` exit {result.returncode}: {_tail(result.stderr or result.stdout)}"
    if case.expect and not any(case.expect in line for line in result.stdout.splitlines()):
        return f"`{case.check_label}` printed no {case.expect}: {_tail(result.stdout)}"
    return None


def measure_case(case: EnvironmentCase, rounds: int, root: Path, say: Say,
                 install: Mapping[str, Installer] = INSTALL) -> EnvironmentRow:
    """The row: `rounds` installs per installer, taking turns (uv, pip, uv, pip...), each into a fresh folder under
    `root`; a warm cache is filled first, once per installer, not counted."""
    row = EnvironmentRow(case.name, case.requirement, case.cache, case.check_label, judged=case.judged)
    answered: dict[str, list[bool]] = {name: [] for name in INSTALLERS}
    warm_roots: dict[str, Path] = {}
    if case.cache == WARM:
        for name in INSTALLERS:
            warm_roots[name] = root / f"{name}-warm-cache"
            say(f"bench: environments: {case.requirement} with {name}: filling its cache (not counted)")
            try:
                _remove(install[name](case, root / f"{name}-warm-up", warm_roots[name]).venv)
            except BuildError as error:
                row.problems.append(f"{name}, filling the cache: {error}")
    for turn in range(1, rounds + 1):
        for name in INSTALLERS:
            folder = root / f"{name}-{turn}"
            cache_root = warm_roots.get(name) or folder / "cache"
            say(f"bench: environments: {case.requirement}, {case.cache} cache, {name} (round {turn} of {rounds})")
            try:
                installed = install[name](case, folder, cache_root)
            except BuildError as error:
                row.problems.append(f"{name}, round {turn}: {error}")
                answered[name].append(False)
                continue
            (row.uv_seconds if name == "uv" else row.pip_seconds).append(round(installed.seconds, 2))
            problem = answers(case, installed.venv)
            answered[name].append(problem is None)
            if problem:
                row.problems.append(f"{name}, round {turn}: {problem}")
            _remove(installed.venv)
            _remove(folder)
    row.uv_answers, row.pip_answers = (all(answered[n]) if answered[n] else None for n in INSTALLERS)
    return row


def bench_environments(cases: Sequence[EnvironmentCase], rounds: int, say: Say,
                       install: Mapping[str, Installer] = INSTALL) -> list[EnvironmentRow]:
    """Every case measured, each in its own temporary folder (removed after)."""
    rows = []
    for case in cases:
        root = Path(tempfile.mkdtemp(prefix=f"bench-environment-{_slug(case.requirement)}-{case.cache}-"))
        try:
            rows.append(measure_case(case, rounds, root, say, install))
        finally:
            _remove(root)
    return rows


def environments_targets(rows: Sequence[EnvironmentRow]) -> list[Target]:
    targets = []
    for row in (r for r in rows if r.judged):
        uv, speedup = row.uv, row.speedup
        label = f"{row.name} from a warm cache ({row.requirement})"
        targets += [
            Target(f"{label}: uv", "failed" if uv is None else f"{uv:.1f} s", f"≤ {MAX_WARM_SECONDS:g} s",
                   uv is not None and uv <= MAX_WARM_SECONDS),
            Target(f"{label}: uv against pip", "—" if speedup is None else f"{speedup:.1f}× faster",
                   f"≥ {MIN_SPEEDUP_OVER_PIP:g}×", speedup is not None and speedup >= MIN_SPEEDUP_OVER_PIP),
        ]
    sides = [(row, name, ok) for row in rows for name, ok in (("uv", row.uv_answers), ("pip", row.pip_answers))
             if ok is not None]
    silent = [f"{row.requirement} ({row.cache}, {name})" for row, name, ok in sides if not ok]
    if sides:
        targets.append(Target("every environment answers (spec; the CDK's import)",
                              f"{len(sides) - len(silent)} of {len(sides)}"
                              + (f"; not: {', '.join(silent)}" if silent else ""), "all", not silent))
    return targets


def environments_table(rows: Sequence[EnvironmentRow], rounds: int, extra_rows: Sequence[EnvironmentRow] = ()
                       ) -> str:
    """Our rows, then `extra_rows` (measured elsewhere: the Docker image builds), one table; the problems below."""
    table = []
    for row in [*rows, *extra_rows]:
        uv, pip, speedup = row.uv, row.pip, row.speedup
        table.append([row.name, row.requirement, row.cache, _seconds(uv, row.uv_answers),
                      _seconds(pip, row.pip_answers), "" if speedup is None else f"{speedup:.1f}×",
                      f"{row.check}: {_yes(row.uv_answers)} / {_yes(row.pip_answers)}"])
    headers = ["environment", "requirement", "cache", "uv s", "pip s", "uv faster", "answers (uv / pip)"]
    text = tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)
    caption = (f"environments: uv (the tool's make_environment) against pip (python -m venv + pip install), each "
               f"into a fresh venv, the median of {rounds} round{'' if rounds == 1 else 's'} taking turns")
    problems = [f"  {row.name} ({row.cache} cache), {problem}" for row in [*rows, *extra_rows]
                for problem in row.problems]
    return "\n".join([caption, text, *(["problems:", *problems] if problems else [])])


def environments_json(rows: Sequence[EnvironmentRow], rounds: int, extra_rows: Sequence[EnvironmentRow] = ()
                      ) -> dict[str, Any]:
    return {"rounds": rounds, "max_warm_seconds": MAX_WARM_SECONDS, "min_speedup_over_pip": MIN_SPEEDUP_OVER_PIP,
            "rows": [{**asdict(row), "uv_median_seconds": row.uv, "pip_median_seconds": row.pip,
                      "speedup": None if row.speedup is None else round(row.speedup, 2)}
                     for row in [*rows, *extra_rows]]}


@contextmanager
def _uv_cache_under(cache_root: Path) -> Iterator[None]:
    """uv's cache at `<cache_root>/uv` for the install, whatever UV_CACHE_DIR the machine sets."""
    saved = os.environ.pop("UV_CACHE_DIR", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["UV_CACHE_DIR"] = saved


def _seconds(seconds: float | None, answered: bool | None) -> str:
    if seconds is None:
        return "—" if answered is None else "failed"
    return f"{seconds:.1f}"


def _yes(answered: bool | None) -> str:
    return "—" if answered is None else "yes" if answered else "NO"


def _run(argv: list[str], env: dict[str, str], timeout: float, what: str) -> None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, errors="replace", env=env, timeout=timeout,
                                check=False)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{what}: did not finish within {timeout:g}s") from None
    if result.returncode != 0:
        raise BuildError(f"{what}: exit {result.returncode}: {_tail(result.stderr or result.stdout)}")


def _clean_env() -> dict[str, str]:
    """This process's environment without what would point a venv's Python elsewhere (the worktree's PYTHONPATH)."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _quiet(_text: str) -> None:
    pass


def _slug(requirement: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", requirement).strip("-")


def _tail(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-TAIL_LINES:]) or "(no output)"
