"""Shared fixtures for this project's own tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydantic.root_model  # noqa: F401  (see below)
import pytest
import yaml

pytest_plugins = ["pytester"]
# pytester's in-process runs drop the modules first imported inside them when they end. pydantic imports
# `pydantic.root_model` lazily and keeps RootModel: after a run dropped the module, the next run's import of the
# protocol models fails (KeyError 'pydantic.root_model', pydantic 2.13). Imported here, it outlives every run.

TESTS_DIR = Path(__file__).parent
FAKE_SOURCE = TESTS_DIR / "connectors" / "fake-source"
# Reports of the runs the tests start go to a temporary folder, never into the checkout (subprocesses inherit it).
os.environ.setdefault("CONNECTOR_ACCEPTANCE_REPORT_DIR", tempfile.mkdtemp(prefix="connector-acceptance-reports-"))


@pytest.fixture
def fake_source(tmp_path: Path) -> Callable[..., Path]:
    """A private copy of the fake connector: FAKE_SOURCE_MUTATION set to `mutation`, its acceptance-test-config.yml
    edited by `change(config)` and its metadata.yaml by `change_metadata(data)`."""

    def make(mutation: str = "", change: Callable[[dict], None] | None = None,
             change_metadata: Callable[[dict], None] | None = None) -> Path:
        folder = tmp_path / "fake-source"
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(FAKE_SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
        config_file = folder / "acceptance-test-config.yml"
        config = yaml.safe_load(config_file.read_text())
        if mutation:
            config.setdefault("custom_environment_variables", {})["FAKE_SOURCE_MUTATION"] = mutation
        if change:
            change(config)
        config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        if change_metadata:
            metadata_file = folder / "metadata.yaml"
            metadata = yaml.safe_load(metadata_file.read_text())
            change_metadata(metadata["data"])
            metadata_file.write_text(yaml.safe_dump(metadata, sort_keys=False))
        return folder

    return make


class AcceptanceOutcome:
    """What one inline acceptance run reported: outcome and failure text per short test name."""

    def __init__(self, outcomes: dict[str, str], texts: dict[str, str], ret: int) -> None:
        self.outcomes = outcomes
        self.texts = texts
        self.ret = ret

    def with_outcome(self, outcome: str) -> set[str]:
        return {name for name, value in self.outcomes.items() if value == outcome}

    @property
    def failed(self) -> set[str]:
        return self.with_outcome("failed")

    @property
    def passed(self) -> set[str]:
        return self.with_outcome("passed")

    @property
    def skipped(self) -> set[str]:
        return self.with_outcome("skipped")


def short_name(nodeid: str) -> str:
    """`test_spec.py::TestSpec::test_spec_rule[inputs0-enum_values_unique]` -> `test_spec_rule[enum_values_unique]`."""
    name = nodeid.split("::")[-1]
    return name.replace("[inputs0-", "[")


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Any]:
    """A client for the machine's Docker engine; the test is skipped, with the reason, when none answers."""
    from acceptance.runner.backend import docker_client

    found = docker_client()
    if found is None:
        pytest.skip("no Docker engine answers on this machine")
    yield found
    found.close()


@pytest.fixture(scope="session")
def shared_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("acceptance-cache")


@pytest.fixture
def run_acceptance(pytester: pytest.Pytester, shared_cache_dir: Path) -> Callable[..., AcceptanceOutcome]:
    """Run the acceptance plugin in-process against a connector folder and collect every test's outcome."""
    from acceptance.plugin import SUITES_DIR

    def run(folder: Path, *args: str) -> AcceptanceOutcome:
        # The local backend unless a test asks otherwise: a built image of the fake connector must not be picked
        # up (these tests edit the copy's code and read pid files it writes on the host).
        backend = () if any(a.startswith("--backend") for a in args) else ("--backend=local",)
        recorder = pytester.inline_run(
            "-p", "acceptance.plugin", f"--acceptance-test-config={folder}", f"--rootdir={SUITES_DIR}",
            f"--cache-dir={shared_cache_dir}", "-p", "no:cacheprovider", *backend, *args,
        )
        outcomes: dict[str, str] = {}
        texts: dict[str, str] = {}
        for report in recorder.getreports("pytest_runtest_logreport"):
            name = short_name(report.nodeid)
            if report.failed:
                outcomes[name] = "failed"
                texts[name] = texts.get(name, "") + str(report.longrepr)
            elif report.skipped and report.when == "setup" or (report.skipped and report.when == "call"):
                outcomes[name] = "skipped"
                texts[name] = str(report.longrepr)
            elif report.when == "call" and outcomes.get(name) != "failed":
                outcomes[name] = "passed"
        return AcceptanceOutcome(outcomes, texts, int(recorder.ret))

    return run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After the whole run (the xdist controller, or a plain run), no container of ours may be left, running or
    stopped: every timeout, crash and Ctrl-C path must have removed its container. Containers of other live
    sessions on a shared engine are theirs (their owner process still runs) and are not counted."""
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller checks once all are done
        return
    try:
        from acceptance.runner.docker import CONTAINER_LABEL, docker_client, is_leftover

        client = docker_client()
    except Exception:  # no Docker here: nothing can be left
        return
    leftovers = [c for c in client.containers.list(all=True, filters={"label": CONTAINER_LABEL}) if is_leftover(c)]
    if leftovers:
        names = ", ".join(f"{c.short_id} ({c.status}, {c.image.tags or c.image.short_id})" for c in leftovers)
        session.config.get_terminal_writer().line(f"containers left behind by the tests: {names}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
