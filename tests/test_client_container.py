"""The client (setup/teardown) container of `client_container_config` (reference §1.8), on the real Docker engine.

`tests/connectors/client-container-source` has no config or records of its own: its client container's setup
generates them (from the secrets at /tmp/config.json) into `integration_tests/generated/`, which is copied back to
the host. Its teardown, between-syncs and final-teardown commands print a line; the plugin logs every command it
runs (with its output) on the `acceptance.runner.client_container` logger, which is how these tests count them.

The Docker tests skip with a reason when no engine answers; the base image is built when missing (about a minute).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import yaml

from acceptance.config.models import ClientContainerConfig
from acceptance.errors import InputFileError, UserError
from acceptance.plugin import SUITES_DIR
from acceptance.runner.client_container import (
    CLIENT_ROLE_LABEL,
    ClientContainer,
    ClientContainerError,
    ClientContainers,
    context_digest,
)
from acceptance.runner.docker import CONTAINER_LABEL, OWNER_PID_LABEL
from acceptance.secrets import MASK, Masker

SOURCE = Path(__file__).parent / "connectors" / "client-container-source"
CLIENT_DOCKERFILE = SOURCE / "integration_tests" / "client" / "Dockerfile"
SECRET = "client-secret-key-1234"  # the api_key of the source's integration_tests/client_secrets.json
SUITE_MODULES = ("test_basic_read.", "test_full_refresh.", "test_incremental.")
NO_ENGINE = "unix:///nonexistent/connector-acceptance-test/docker.sock"


# -- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except Exception as error:
        pytest.skip(f"no Docker engine answers on this machine ({type(error).__name__})")
    from tasks.builder.base_image import DEFAULT_TAGS, build_base_image

    try:
        build_base_image(DEFAULT_TAGS, say=lambda _: None)  # reused when present
    except UserError as error:
        pytest.skip(f"no base image airbyte/python-connector-base:local and it cannot be built here: {error}")
    yield client
    client.close()


@pytest.fixture
def no_leftovers(engine: docker.DockerClient) -> Iterator[None]:
    """After the test, no client container is left, running or stopped."""
    yield
    left = engine.containers.list(all=True, filters={"label": CLIENT_ROLE_LABEL})
    assert left == [], f"client containers left behind: {[c.name for c in left]}"


def connector_folder(tmp_path: Path, change: Any = None) -> Path:
    """A private copy of the client-container source; `change(config)` edits its acceptance-test-config.yml."""
    folder = tmp_path / "client-container-source"
    shutil.copytree(SOURCE, folder, ignore=shutil.ignore_patterns("__pycache__", "generated"))
    if change is not None:
        config_file = folder / "acceptance-test-config.yml"
        config = yaml.safe_load(config_file.read_text())
        change(config)
        config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def entries(config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for suite in ("basic_read", "full_refresh", "incremental"):
        yield from config["acceptance_tests"][suite]["tests"]


class Run:
    """One plugin run in a subprocess: its output, and each test's outcome and message from the JUnit report."""

    def __init__(self, result: pytest.RunResult, junit: Path, log: Path) -> None:
        self.output = result.stdout.str() + result.stderr.str()
        self.log = log.read_text() if log.exists() else ""  # each log record once (the output repeats some)
        self.ret = result.ret
        self.outcomes: dict[str, str] = {}  # "test_basic_read.TestBasicRead.test_read[inputs0]" -> outcome
        self.messages: dict[str, str] = {}
        for case in ElementTree.parse(junit).iter("testcase"):
            name = f"{case.get('classname')}.{case.get('name')}"
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error"):
                    outcome = "failed"
                elif child.tag == "skipped" and outcome == "passed":
                    outcome = "skipped"
                if child.tag in ("failure", "error", "skipped"):
                    self.messages[name] = self.messages.get(name, "") + (child.get("message") or "") + "\n" + (
                        child.text or "")
            self.outcomes[name] = outcome

    def ran(self, what: str) -> int:
        """How many times a client container command (e.g. "teardown_command") finished successfully."""
        return len(re.findall(rf"client container: {what} `[^`]*` finished \(exit 0", self.log))

    def started(self, what: str) -> int:
        return len(re.findall(rf"client container: running {what} `", self.log))

    def suite_tests(self) -> list[str]:
        """The tests of basic_read, full_refresh and incremental that ran for their (configured) entry."""
        return [name for name in self.outcomes if name.startswith(SUITE_MODULES) and "[inputs0" in name]

    def outcome(self, suffix: str) -> str:
        return next(value for name, value in self.outcomes.items() if name.endswith(suffix))


def run_plugin(pytester: pytest.Pytester, folder: Path, *args: str) -> Run:
    name = uuid.uuid4().hex[:8]
    junit, log = pytester.path / f"junit-{name}.xml", pytester.path / f"log-{name}.txt"
    result = pytester.runpytest_subprocess(
        "-p", "acceptance.plugin", "--backend=local", f"--acceptance-test-config={folder}", f"--rootdir={SUITES_DIR}",
        "--no-cache", "-p", "no:cacheprovider", f"--log-file={log}", "--log-file-level=INFO",
        f"--junitxml={junit}", "-o", "junit_family=xunit1", *args, timeout=600,
    )
    return Run(result, junit, log)


# -- ClientContainer on its own -------------------------------------------------------------------------------------


def make_connector(tmp_path: Path) -> Path:
    """A connector folder with every kind of file the copy leaves out, plus ones it keeps."""
    folder = tmp_path / "connector"
    files = {
        "main.py": "print('the connector')\n",
        "integration_tests/existing.txt": "original\n",
        "integration_tests/keep.txt": "untouched\n",
        "sub/keep.py": "",
        "sub/__pycache__/x.pyc": "",
        "secrets.json": json.dumps({"record_count": 2, "api_key": SECRET, "host": "db.example"}),
        ".git/HEAD": "ref: refs/heads/main\n",
        "build/out.txt": "",
        ".venv/bin/python": "",
        "__pycache__/main.pyc": "",
        "pkg.egg-info/PKG-INFO": "",
        ".vscode/settings.json": "{}",
        ".pytest_cache/v": "",
        ".eggs/e": "",
        ".mypy_cache/m": "",
        ".DS_Store": "",
        ".gradle/g": "",
    }
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def client_for(folder: Path, engine: docker.DockerClient | None = None, masker: Masker | None = None,
               **commands: Any) -> ClientContainer:
    config = ClientContainerConfig(client_container_dockerfile_path=str(CLIENT_DOCKERFILE),
                                   secrets_path="secrets.json", **commands)
    return ClientContainer(config, folder, masker or Masker(), engine)


def inspect_report(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "integration_tests" / "inspect.json").read_text())


@pytest.mark.usefixtures("no_leftovers")
def test_the_container_sees_the_connector_copy_and_the_secrets(tmp_path: Path, engine: docker.DockerClient) -> None:
    folder = make_connector(tmp_path)
    container = client_for(folder, engine, setup_command=["inspect"])
    container.setup()  # inspect writes what it sees into /connector/integration_tests: setup copies it back
    report = inspect_report(folder)
    files = set(report["files"])
    assert {"main.py", "sub/keep.py", "secrets.json", "integration_tests/keep.txt"} <= files
    for excluded in (".git", "build", ".venv", "__pycache__", "pkg.egg-info", ".vscode", ".pytest_cache", ".eggs",
                     ".mypy_cache", ".DS_Store", ".gradle", "sub/__pycache__"):
        assert excluded not in files, excluded
        assert not any(f.startswith(excluded + "/") for f in files), excluded
    assert report["secrets"] == {"record_count": 2, "api_key": SECRET, "host": "db.example"}  # at /tmp/config.json
    assert report["argv"] == ["/client/client.py", "inspect"]  # the image's ENTRYPOINT is kept
    assert uuid.UUID(report["cachebuster"])
    first = report["cachebuster"]
    container.setup()
    assert inspect_report(folder)["cachebuster"] != first  # a fresh one every run


@pytest.mark.usefixtures("no_leftovers")
def test_setup_copies_integration_tests_back_and_nothing_else(tmp_path: Path, engine: docker.DockerClient) -> None:
    folder = make_connector(tmp_path)
    container = client_for(folder, engine, setup_command=["inspect"], teardown_command=["inspect"])
    container.teardown()  # the same command, but only setup's changes come back (as upstream)
    assert not (folder / "integration_tests" / "inspect.json").exists()
    assert (folder / "integration_tests" / "existing.txt").read_text() == "original\n"
    container.setup()
    assert (folder / "integration_tests" / "inspect.json").is_file()  # created in the container
    assert (folder / "integration_tests" / "existing.txt").read_text() == "changed by the container\n"
    assert (folder / "integration_tests" / "keep.txt").read_text() == "untouched\n"
    assert (folder / "main.py").read_text() == "print('the connector')\n"  # changed in the container only
    assert (folder / ".git" / "HEAD").is_file()
    stat = (folder / "integration_tests" / "inspect.json").stat()
    assert (stat.st_uid, stat.st_gid) == (os.getuid(), os.getgid())


@pytest.mark.usefixtures("no_leftovers")
def test_a_failing_command_names_itself_its_exit_code_and_its_masked_output(tmp_path: Path,
                                                                           engine: docker.DockerClient) -> None:
    folder = make_connector(tmp_path)
    container = client_for(folder, engine, setup_command=["fail"])
    with pytest.raises(ClientContainerError) as raised:
        container.setup()
    message = str(raised.value)
    assert "setup_command `fail`" in message
    assert "exit code 3" in message
    assert "progress line 39" in message and "progress line 0\n" not in message  # the last lines only
    assert "the service refused api key " + MASK in message
    assert SECRET not in message
    assert not (folder / "integration_tests" / "generated").exists()
    assert isinstance(raised.value, UserError)


@pytest.mark.usefixtures("no_leftovers")
def test_a_command_past_its_timeout_is_stopped(tmp_path: Path, engine: docker.DockerClient) -> None:
    container = client_for(make_connector(tmp_path), engine, teardown_command=["sleep", "120"])
    container.image()
    seen: list[dict[str, str]] = []

    def watch() -> None:  # while it sleeps: the container carries the labels leftovers are found by
        for _ in range(50):
            found = engine.containers.list(filters={"label": CLIENT_ROLE_LABEL})
            if found:
                seen.append(found[0].labels)
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with pytest.raises(ClientContainerError, match=r"teardown_command `sleep 120`.* did not finish within 2s"):
        container.teardown(timeout=2)
    watcher.join()
    assert seen and seen[0][CONTAINER_LABEL] == "1" and seen[0][OWNER_PID_LABEL] == str(os.getpid())


@pytest.mark.usefixtures("no_leftovers")
def test_a_broken_dockerfile_fails_with_the_build_log(tmp_path: Path, engine: docker.DockerClient) -> None:
    folder = make_connector(tmp_path)
    dockerfile = folder / "client" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text(f"FROM airbyte/python-connector-base:local\nRUN echo broken-{uuid.uuid4().hex} && exit 7\n")
    config = ClientContainerConfig(client_container_dockerfile_path="client/Dockerfile", setup_command=["x"])
    with pytest.raises(ClientContainerError, match=r"(?s)building the client container image from .*Dockerfile.*"
                                                   r"broken-"):
        ClientContainer(config, folder, Masker(), engine).setup()


def test_commands_that_are_not_set_do_nothing(tmp_path: Path) -> None:
    config = ClientContainerConfig(client_container_dockerfile_path="missing/Dockerfile")
    container = ClientContainer(config, tmp_path, Masker(), client=object())  # type: ignore[arg-type]
    container.setup()
    container.teardown()
    container.between_syncs()
    container.final_teardown()


def test_a_missing_dockerfile_names_the_key(tmp_path: Path) -> None:
    config = ClientContainerConfig(client_container_dockerfile_path="missing/Dockerfile", setup_command=["x"])
    container = ClientContainer(config, tmp_path, Masker(), client=object(),  # type: ignore[arg-type]
                                where="acceptance_tests.basic_read.tests[0].client_container_config")
    with pytest.raises(InputFileError, match=r"missing/Dockerfile \(from acceptance_tests\.basic_read\.tests\[0\]"
                                             r"\.client_container_config\.client_container_dockerfile_path\)"):
        container.setup()
    with pytest.raises(ClientContainerError, match="client_container_dockerfile_path is not set"):
        ClientContainer(ClientContainerConfig(setup_command=["x"]), tmp_path, Masker()).setup()


def test_without_a_docker_engine_the_error_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    container = ClientContainer(ClientContainerConfig(client_container_dockerfile_path=str(CLIENT_DOCKERFILE),
                                                      setup_command=["setup"]), tmp_path, Masker())
    with pytest.raises(UserError, match="the Docker engine does not answer"):
        container.setup()


def test_the_image_tag_follows_the_build_context(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    first = context_digest(tmp_path, "Dockerfile")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_text("ignored")
    assert context_digest(tmp_path, "Dockerfile") == first
    assert context_digest(tmp_path, "Other.Dockerfile") != first
    (tmp_path / "script.py").write_text("print(1)")
    assert context_digest(tmp_path, "Dockerfile") != first


def test_one_container_per_distinct_config(tmp_path: Path) -> None:
    containers = ClientContainers(tmp_path, Masker())
    a = ClientContainerConfig(client_container_dockerfile_path="Dockerfile", setup_command=["a"])
    same = ClientContainerConfig(client_container_dockerfile_path="Dockerfile", setup_command=["a"])
    other = ClientContainerConfig(client_container_dockerfile_path="Dockerfile", setup_command=["b"])
    assert containers.get(a) is containers.get(same)
    assert containers.get(a) is not containers.get(other)


# -- through the plugin ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_leftovers")
def test_setup_generates_the_data_the_suites_read(pytester: pytest.Pytester, tmp_path: Path,
                                                  engine: docker.DockerClient) -> None:
    folder = connector_folder(tmp_path)
    run = run_plugin(pytester, folder)
    suite_tests = run.suite_tests()
    assert len(suite_tests) >= 10, run.output[-3000:]
    failed = {name: run.messages.get(name) for name in suite_tests if run.outcomes[name] == "failed"}
    assert not failed, run.output[-5000:]
    for name in ("TestBasicRead.test_read[inputs0]", "TestFullRefresh.test_sequential_reads[inputs0]",
                 "TestIncremental.test_two_sequential_reads[inputs0]"):
        assert run.outcome(name) == "passed", (name, run.outcomes)
    # setup and teardown once per test of an entry with the config; between syncs once; final teardown once
    assert run.ran("setup_command") == len(suite_tests)
    assert run.ran("teardown_command") == len(suite_tests)
    assert run.ran("between_syncs_command") == 1
    assert run.ran("final_teardown_command") == 1
    assert "final_teardown: done" in run.log and "between_syncs: done" in run.log  # their output is logged
    assert (folder / "integration_tests" / "generated" / "config.json").is_file()  # copied back to the host
    assert json.loads((folder / "integration_tests" / "generated" / "records.json").read_text())[2]["id"] == 3
    assert SECRET not in run.output
    assert run.ret == 0, run.output[-3000:]


def test_without_the_client_container_the_data_is_missing(pytester: pytest.Pytester, tmp_path: Path) -> None:
    def drop_client(config: dict[str, Any]) -> None:
        for entry in entries(config):
            del entry["client_container_config"]
        del config["acceptance_tests"]["client_container_config"]

    folder = connector_folder(tmp_path, drop_client)
    run = run_plugin(pytester, folder, "--suite=basic_read")
    name = next(n for n in run.outcomes if n.endswith("TestBasicRead.test_read[inputs0]"))
    assert run.outcome("TestBasicRead.test_read[inputs0]") == "failed"
    assert "integration_tests/generated/config.json" in run.messages[name]
    assert "file not found" in run.messages[name]
    assert run.started("setup_command") == 0


@pytest.mark.usefixtures("no_leftovers")
def test_a_failing_setup_fails_the_test_with_the_command_and_its_output(pytester: pytest.Pytester, tmp_path: Path,
                                                                        engine: docker.DockerClient) -> None:
    def failing_setup(config: dict[str, Any]) -> None:
        for entry in entries(config):
            entry["client_container_config"] = {**entry["client_container_config"], "setup_command": ["fail"]}

    folder = connector_folder(tmp_path, failing_setup)
    run = run_plugin(pytester, folder, "--suite=full_refresh")
    tests = run.suite_tests()
    assert tests and all(run.outcomes[name] == "failed" for name in tests), run.outcomes
    for name in tests:
        message = run.messages[name]
        assert "client container setup_command `fail`" in message
        assert "acceptance_tests.full_refresh.tests[0].client_container_config" in message
        assert "exit code 3" in message and "progress line 39" in message
        assert "the service refused api key " + MASK in message
    assert SECRET not in run.output
    assert run.ran("teardown_command") == len(tests)  # still cleans up after a failed setup
    assert run.ran("final_teardown_command") == 1
    assert run.ret != 0


def test_without_docker_the_configured_tests_fail_clearly(pytester: pytest.Pytester, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    folder = connector_folder(tmp_path)
    run = run_plugin(pytester, folder, "--suite=full_refresh")
    tests = run.suite_tests()
    assert tests and all(run.outcomes[name] == "failed" for name in tests), run.outcomes
    assert all("the Docker engine does not answer" in run.messages[name] for name in tests)
    assert "errors during collection" not in run.output.lower()  # collection itself is fine


def test_nothing_runs_where_no_command_is_configured(pytester: pytest.Pytester, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Docker and with a root config that has no final_teardown_command, the session is unaffected."""
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)

    def only_root(config: dict[str, Any]) -> None:
        config["acceptance_tests"] = {"client_container_config": config["acceptance_tests"]["client_container_config"]}
        config["acceptance_tests"]["client_container_config"].pop("final_teardown_command")

    run = run_plugin(pytester, connector_folder(tmp_path, only_root))
    assert run.ret == 0, run.output[-3000:]
    assert run.started("setup_command") == 0 and run.started("final_teardown_command") == 0
