"""Connectors that misbehave (issue 7): they hang, ignore SIGTERM, flood or garble their output, exit silently or
report an error with exit code 0, or are interrupted by Ctrl-C. Each gives a clear failure, nothing of it is left
running, and the tool's memory stays bounded (measured in a subprocess: peak RSS, not tracemalloc).

| case                        | outcome                                                                      |
|-----------------------------|------------------------------------------------------------------------------|
| hangs (and a grandchild)    | killed at the timeout, "timeout of 2s", no process of its group left         |
| ignores SIGTERM             | SIGKILL after the grace period, the same                                     |
| 200 MB line, no newline     | dropped: a WARN LOG, and a note with its start in the failure report         |
| 5 MB non-JSON line          | kept as a LOG of its first 64K characters, "line truncated"                  |
| 2 million LOG messages      | all counted and spooled on disk, memory flat                                 |
| binary garbage              | LOG lines (U+FFFD for invalid UTF-8), later messages still parsed            |
| no trailing newline         | the last message still parsed                                                |
| exits 0 without output      | `spec` fails: "exactly one SPEC message, it emitted 0", "it printed nothing" |
| exits 0 with a TRACE error  | not succeeded; the report shows the TRACE message                            |
| huge stderr                 | the tail keeps 50 lines of at most 2000 characters                           |
| Ctrl-C during a run         | pytest stops, the connector's group is gone, its input files removed         |
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from acceptance.protocol.messages import NON_PROTOCOL
from acceptance.runner import local
from acceptance.runner.base import MAX_NON_PROTOCOL_CHARS, MAX_STDERR_LINE_CHARS, STDERR_TAIL_LINES, RunResult
from acceptance.runner.local import LocalRunner

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = "airbyte/python-connector-base:local"
TEST_REPOSITORY = "connector-acceptance-test/misbehaving"
HANG_TIMEOUT = 2.0
KILL_LATENCY_BOUND = 15.0  # seconds from the timeout (or Ctrl-C) to everything gone: generous on purpose
# Peak RSS of the process running the runner. One line up to the runner's limit (64 MiB) may be held while it is
# read, nothing more; before issue 7 a 200 MB line took ~290 MB. A flood of short lines holds none of them.
LONG_LINE_RSS_BOUND_MB = 200
FLOOD_RSS_BOUND_MB = 100
FLOOD_MESSAGES = 2_000_000
BIG_LINE_MB = 200
NON_JSON_LINE_BYTES = 9 * (5 * 1024 * 1024 // 9) + 1  # "not JSON " repeated to ~5 MB, and the newline

# The connector: its behaviour is chosen by the MODE environment variable (the same script runs locally and in the
# Docker image). PID_FILE, when set, receives the pids of the connector and of a grandchild it spawns.
CONNECTOR = r'''
import json, os, random, signal, subprocess, sys, time

mode = os.environ["MODE"]
out = sys.stdout.buffer


def emit(message, end=b"\n"):
    out.write(json.dumps(message).encode() + end)
    out.flush()


def record(data, end=b"\n"):
    emit({"type": "RECORD", "record": {"stream": "s", "data": data, "emitted_at": 0}}, end)


def spawn_grandchild(ignore_term):
    code = "import signal, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "time.sleep(300)\n"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if os.environ.get("PID_FILE"):
        with open(os.environ["PID_FILE"], "w") as handle:
            handle.write(f"{os.getpid()} {child.pid}")


def note_term(*_):
    if os.environ.get("TERM_FILE"):
        with open(os.environ["TERM_FILE"], "a") as handle:
            handle.write("TERM\n")


if mode == "hang":
    spawn_grandchild(ignore_term=False)
    record({"started": True})
    time.sleep(300)
elif mode == "ignore_term":
    signal.signal(signal.SIGTERM, note_term)  # noted, then ignored: only SIGKILL ends it
    spawn_grandchild(ignore_term=True)
    record({"started": True})
    while True:
        time.sleep(1)
elif mode == "long_line":
    record({"id": "before"})
    out.write(b"not JSON " * (5 * 1024 * 1024 // 9) + b"\n")  # under the line limit, far over the LOG cap
    out.write(b'{"type": "RECORD", "record": {"stream": "s", "data": {"blob": "')  # a message over the limit
    chunk = b"x" * (1024 * 1024)
    for _ in range(BIG_LINE_MB):
        out.write(chunk)
    out.flush()  # no newline, no closing quote: the connector died mid-message
elif mode == "flood":
    block = b"".join(b'{"type": "LOG", "log": {"level": "INFO", "message": "log line %d"}}\n' % i
                     for i in range(1000))
    for _ in range(FLOOD_MESSAGES // 1000):
        out.write(block)
    record({"id": "last"})
elif mode == "garbage":
    rng = random.Random(7)
    out.write(b"\x00\x00\x00\n\xff\xfe\xfd invalid \xc3\x28 utf-8\n\x1b[31mANSI\x1b[0m\n\r\r\r\n")
    out.write(b'{"type": "RECORD", "record": \x00}\n{"type": "SPEC", "spec": {"x": "\xff"}}\n')
    out.write(rng.randbytes(2 * 1024 * 1024) + b"\n")
    sys.stderr.buffer.write(rng.randbytes(256 * 1024))
    record({"id": "after garbage"})
elif mode == "no_newline":
    emit({"type": "LOG", "log": {"level": "INFO", "message": "starting"}})
    emit({"type": "SPEC", "spec": {"connectionSpecification": {"type": "object"}}}, end=b"")
elif mode == "silent":
    sys.exit(0)
elif mode == "trace_exit_0":
    emit({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 0,
          "stream_status": {"stream_descriptor": {"name": "s"}, "status": "STARTED"}}})
    emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 0, "error": {
        "message": "Something went wrong in the connector", "internal_message": "HTTP 500 from /items",
        "failure_type": "system_error"}}})
    sys.exit(0)
elif mode == "stderr_flood":
    err = sys.stderr.buffer
    for start in range(0, 300_000, 1000):
        err.write(b"".join(b"stderr line %d\n" % i for i in range(start, start + 1000)))
    chunk = b"e" * (1024 * 1024)
    for _ in range(100):  # one 100 MB line, never ended
        err.write(chunk)
    err.flush()
'''.replace("BIG_LINE_MB", str(BIG_LINE_MB)).replace("FLOOD_MESSAGES", str(FLOOD_MESSAGES))

# Runs the runner in a fresh interpreter and reports what it got and the interpreter's peak RSS (VmHWM).
PROBE = r'''
import json, os, sys
backend, target, mode, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
if backend == "docker":
    from acceptance.runner.docker import DockerRunner
    runner = DockerRunner(target, environment={"MODE": mode})
else:
    from acceptance.runner.local import LocalRunner
    runner = LocalRunner([sys.executable, target], environment={"MODE": mode})
result = runner.run(["read"], timeout=timeout)
iterated, last, logs = 0, None, []
for message in result.messages:  # read back from the spool: all of it, once
    iterated += 1
    last = message
    if message.get("type") == "LOG" and len(logs) < 5:
        text = message["log"]["message"]
        logs.append({"level": message["log"]["level"], "length": len(text), "start": text[:80], "end": text[-80:]})
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({
    "pid": os.getpid(), "peak_rss_mb": peak_kb // 1024, "exit_code": result.exit_code, "timed_out": result.timed_out,
    "succeeded": result.succeeded, "counts": dict(result.messages.counts), "iterated": iterated, "last": last,
    "logs": logs, "notes": result.notes, "failure": result.describe_failure(),
    "stderr_tail": [line[:100] for line in result.stderr_tail],
    "stderr_lengths": [len(line) for line in result.stderr_tail],
}))
'''


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("misbehaving") / "connector.py"
    path.write_text(CONNECTOR)
    return path


def local_runner(script: Path, mode: str, **environment: str) -> LocalRunner:
    return LocalRunner([sys.executable, str(script)], environment={"MODE": mode, **environment})


def probe(backend: str, target: str, mode: str, timeout: float = 120) -> dict[str, Any]:
    """Run the runner in a subprocess (its memory is measured alone) and return its report."""
    done = subprocess.run([sys.executable, "-c", PROBE, backend, target, mode, str(timeout)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout + 60)
    assert done.returncode == 0, f"the runner crashed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


def records(result: RunResult) -> list[dict[str, Any]]:
    return [m["record"]["data"] for m in result.of_type("RECORD")]


# -- processes ---------------------------------------------------------------------------------------------------------


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None when there is no such process."""
    try:
        content = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return content.rsplit(")", 1)[1].split()


def is_gone(pid: int) -> bool:
    """No such process, or a zombie (dead, waiting for its new parent to reap it)."""
    fields = proc_stat(pid)
    return fields is None or fields[0] in ("Z", "X")


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = proc_stat(int(entry.name))
            if fields and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                members.append(int(entry.name))
    return members


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def kill_if_alive(*pids: int) -> None:
    for pid in pids:
        if not is_gone(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_process_helpers_see_a_live_process() -> None:
    # the "nothing left" assertions below would prove nothing if a live process looked gone
    assert not is_gone(os.getpid())
    assert os.getpid() in group_members(os.getpgid(0))


# -- hanging connectors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hang", "ignore_term"])
def test_hanging_connector_is_killed_at_its_timeout_with_its_whole_group(
    script: Path, tmp_path: Path, mode: str
) -> None:
    pid_file, term_file = tmp_path / "pids", tmp_path / "term"
    runner = local_runner(script, mode, PID_FILE=str(pid_file), TERM_FILE=str(term_file))
    started = time.monotonic()
    result = runner.run(["read", "--config", "{config}"], config={"k": "v"}, timeout=HANG_TIMEOUT)
    elapsed = time.monotonic() - started
    connector, grandchild = (int(pid) for pid in pid_file.read_text().split())
    try:
        assert result.timed_out and result.exit_code is None and not result.succeeded
        assert elapsed < HANG_TIMEOUT + local.KILL_GRACE_SECONDS + KILL_LATENCY_BOUND
        assert records(result) == [{"started": True}]  # what came before the kill is kept
        text = result.describe_failure()
        assert f"`{result.command}`" in text
        assert result.command.endswith("connector.py read --config config.json")
        assert "timeout of 2s" in text and "killed" in text
        assert wait_until(lambda: is_gone(connector) and is_gone(grandchild), 5)
        assert group_members(connector) == []  # the connector led its own group
        if mode == "ignore_term":  # SIGTERM came, was ignored, and SIGKILL ended it anyway
            assert term_file.read_text() == "TERM\n"
    finally:
        kill_if_alive(connector, grandchild)


def test_hanging_check_fails_the_suite_naming_the_command_and_the_timeout(
    fake_source: Callable[..., Path], run_acceptance: Callable[..., Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the user-facing suites: the connector answers `spec`, then hangs in `check` until killed."""
    def one_quick_entry(config: dict[str, Any]) -> None:
        entry = config["acceptance_tests"]["connection"]["tests"][0]
        config["acceptance_tests"]["connection"]["tests"] = [{**entry, "timeout_seconds": 2}]

    pid_file = tmp_path / "connector-pids"
    monkeypatch.setenv("FAKE_SOURCE_PIDFILE", str(pid_file))
    outcome = run_acceptance(fake_source("hang", change=one_quick_entry), "--suite=connection")
    assert outcome.failed == {"test_check[inputs0]"}, outcome.outcomes
    text = outcome.texts["test_check[inputs0]"]
    assert "`" in text and "main.py check --config config.json` did not finish within its timeout of 2s" in text
    pids = [int(pid) for pid in pid_file.read_text().split()]
    assert pids and all(is_gone(pid) and group_members(pid) == [] for pid in pids)


# -- floods and garbage on stdout --------------------------------------------------------------------------------------


def test_200_mb_line_without_newline_is_dropped_with_a_clear_note_and_bounded_memory(script: Path) -> None:
    report = probe("local", str(script), "long_line")
    print(f"peak RSS with a {BIG_LINE_MB} MB line: {report['peak_rss_mb']} MB")
    assert report["peak_rss_mb"] < LONG_LINE_RSS_BOUND_MB, report["peak_rss_mb"]
    assert report["exit_code"] == 0 and not report["timed_out"]
    assert report["counts"] == {"RECORD": 1, "LOG": 2} and report["iterated"] == 3
    truncated, dropped = report["logs"]
    # a non-JSON line under the limit: kept as a LOG, cut to the cap, saying so
    assert truncated["level"] == "INFO"
    assert truncated["start"].startswith("not JSON not JSON")
    assert MAX_NON_PROTOCOL_CHARS < truncated["length"] < MAX_NON_PROTOCOL_CHARS + 100
    assert truncated["end"].endswith(f"… [line truncated: {NON_JSON_LINE_BYTES} bytes, not JSON]")
    # the message over the limit: not kept, not mis-parsed into something else, and said in the failure report
    size = BIG_LINE_MB * 1024 * 1024 + len('{"type": "RECORD", "record": {"stream": "s", "data": {"blob": "')
    assert dropped == {"level": "WARN", "length": dropped["length"], "start": dropped["start"], "end": dropped["end"]}
    assert dropped["start"] == f"connector printed a line of {size} bytes; dropped (limit {local.MAX_LINE_BYTES})"
    (note,) = report["notes"]
    assert note.startswith(f"a stdout line of {size} bytes was over the limit of {local.MAX_LINE_BYTES} bytes")
    assert 'it began: {"type": "RECORD", "record": {"stream": "s", "data": {"blob": "xxx' in note
    assert len(note) < 500
    assert note in report["failure"]


def test_two_million_log_messages_are_spooled_with_bounded_memory(script: Path) -> None:
    report = probe("local", str(script), "flood")
    print(f"peak RSS with {FLOOD_MESSAGES:,} LOG messages: {report['peak_rss_mb']} MB")
    assert report["peak_rss_mb"] < FLOOD_RSS_BOUND_MB, report["peak_rss_mb"]
    assert report["succeeded"]
    assert report["counts"] == {"LOG": FLOOD_MESSAGES, "RECORD": 1}
    assert report["iterated"] == FLOOD_MESSAGES + 1
    assert report["logs"][0] == {"level": "INFO", "length": 10, "start": "log line 0", "end": "log line 0"}
    assert report["last"]["record"]["data"] == {"id": "last"}


def test_binary_garbage_becomes_log_lines_and_later_messages_still_parse(script: Path) -> None:
    result = local_runner(script, "garbage").run(["read"], timeout=60)
    assert result.succeeded, result.describe_failure()
    messages = list(result.messages)
    assert len(messages) == len(result.messages)  # everything spooled reads back
    *garbage, last = messages
    assert last["type"] == "RECORD" and records(result) == [{"id": "after garbage"}]
    assert all(m["type"] == "LOG" and m[NON_PROTOCOL] is True for m in garbage)
    texts = [m["log"]["message"] for m in garbage]
    assert texts[:6] == ["\x00\x00\x00", "\ufffd\ufffd\ufffd invalid \ufffd( utf-8", "\x1b[31mANSI\x1b[0m",
                         '{"type": "RECORD", "record": \x00}', '{"type": "SPEC", "spec": {"x": "\ufffd"}}',
                         texts[5]]  # "\r\r\r" is blank: no message
    assert not result.of_type("SPEC")  # a message with invalid UTF-8 is not a message
    assert len(result.stderr_tail) <= STDERR_TAIL_LINES
    assert all(len(line) <= MAX_STDERR_LINE_CHARS + 1 for line in result.stderr_tail)
    assert any("\ufffd" in line for line in result.stderr_tail)


def test_last_message_without_trailing_newline_is_parsed(script: Path) -> None:
    result = local_runner(script, "no_newline").run(["spec"])
    assert result.succeeded
    assert [m["type"] for m in result.messages] == ["LOG", "SPEC"]
    assert result.of_type("SPEC")[0]["spec"] == {"connectionSpecification": {"type": "object"}}


# -- silent exits and errors reported with exit code 0 -----------------------------------------------------------------


def test_exit_0_without_output_fails_spec_saying_no_spec_message_came(
    script: Path, fake_source: Callable[..., Path], run_acceptance: Callable[..., Any]
) -> None:
    def silent(config: dict[str, Any]) -> None:
        config.setdefault("custom_environment_variables", {})["MODE"] = "silent"

    outcome = run_acceptance(fake_source(change=silent), f"--connector-command={sys.executable} {script}",
                             "--suite=spec")
    spec_test = "test_spec_is_valid[inputs0]"
    assert spec_test in outcome.failed, outcome.outcomes
    assert "expected exactly one SPEC message, got 0" in outcome.texts[spec_test]
    needing_the_spec = [name for name in outcome.failed if name != spec_test]
    assert needing_the_spec, outcome.outcomes
    for name in needing_the_spec:
        text = outcome.texts[name]
        assert "`spec` must emit exactly one SPEC message, it emitted 0" in text, text
        assert f"{script.name} spec` exited with code 0" in text
        assert "it printed nothing (no message on stdout, nothing on stderr)" in text


def test_exit_0_with_a_trace_error_is_a_failure_that_shows_the_error(script: Path) -> None:
    result = local_runner(script, "trace_exit_0").run(["read"])
    assert result.exit_code == 0 and not result.timed_out
    assert not result.succeeded
    text = result.describe_failure()
    assert "exited with code 0 after" in text and "but reported an error" in text
    assert "TRACE system_error: Something went wrong in the connector" in text
    assert "internal: HTTP 500 from /items" in text


def test_stream_status_traces_alone_do_not_make_a_failure(script: Path) -> None:
    result = local_runner(script, "no_newline").run(["spec"])
    result.messages.append({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "stream_status": {}}})
    assert result.succeeded


# -- stderr ------------------------------------------------------------------------------------------------------------


def test_huge_stderr_keeps_a_bounded_tail_and_bounded_memory(script: Path) -> None:
    report = probe("local", str(script), "stderr_flood")
    print(f"peak RSS with 300,000 stderr lines and a 100 MB one: {report['peak_rss_mb']} MB")
    assert report["peak_rss_mb"] < FLOOD_RSS_BOUND_MB, report["peak_rss_mb"]
    assert report["succeeded"]
    assert len(report["stderr_tail"]) == STDERR_TAIL_LINES
    assert report["stderr_tail"][:-1] == [f"stderr line {i}" for i in range(300_000 - STDERR_TAIL_LINES + 1, 300_000)]
    assert report["stderr_lengths"][-1] == MAX_STDERR_LINE_CHARS + 1  # the 100 MB line: its start, then "…"
    assert report["stderr_tail"][-1] == "e" * 100


# -- Ctrl-C ------------------------------------------------------------------------------------------------------------


def test_ctrl_c_during_a_run_leaves_no_process_and_no_input_file(
    fake_source: Callable[..., Path], tmp_path: Path
) -> None:
    """The user-facing command, interrupted while the connector hangs in `check`: SIGINT to pytest only."""
    folder = fake_source("hang")
    secret = json.loads((folder / "integration_tests" / "config.json").read_text())["credentials"]["api_token"]
    pid_file, temp = tmp_path / "connector-pids", tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "FAKE_SOURCE_PIDFILE": str(pid_file), "TMPDIR": str(temp)}
    command = [sys.executable, "-m", "pytest", "-p", "acceptance.plugin", f"--acceptance-test-config={folder}",
               f"--rootdir={ROOT / 'acceptance' / 'suites'}", "-p", "no:cacheprovider", "-p", "no:xdist",
               "--backend=local", "--suite", "connection", "-q"]
    session = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    connector = 0
    try:
        assert wait_until(lambda: bool(hanging_check(pid_file)) or session.poll() is not None, 60)
        assert session.poll() is None, session.communicate()[0].decode()[-3000:]
        connector, workdir = hanging_check(pid_file)  # type: ignore[misc]
        assert (workdir / "config.json").is_file()
        session.send_signal(signal.SIGINT)
        started = time.monotonic()
        output = session.communicate(timeout=KILL_LATENCY_BOUND)[0].decode()
        assert time.monotonic() - started < KILL_LATENCY_BOUND
        assert session.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
        assert "KeyboardInterrupt" in output
        assert is_gone(connector) and group_members(connector) == []
        assert not workdir.exists()
        left = [path for path in temp.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]
        assert left == [], "files holding the config were left behind"
        assert not list(temp.glob("connector-acceptance-*"))
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()
        if connector:
            kill_if_alive(*group_members(connector))


def hanging_check(pid_file: Path) -> tuple[int, Path] | None:
    """The fake connector's pid and input folder once a `check` of it runs (its pid file also lists `spec` runs)."""
    if not pid_file.exists():
        return None
    for pid in (int(line) for line in pid_file.read_text().split()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if "check" in argv and "--config" in argv:
            return pid, Path(argv[argv.index("--config") + 1]).parent
    return None


# -- the Docker backend: a few of the same connectors in a container ---------------------------------------------------


@pytest.fixture(scope="module")
def image(docker_engine: Any) -> str:
    """A tiny image of the connector script on the local base image; skipped when the base image is not there."""
    import docker.errors

    try:
        base = docker_engine.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"the base image {BASE_IMAGE} is not in the Docker engine (tests/test_base_image.py builds it)")
    dockerfile = f"FROM {BASE_IMAGE}\nCOPY main.py /airbyte/integration_code/main.py\n"
    tag = f"{TEST_REPOSITORY}:{hashlib.sha256((base.id + dockerfile + CONNECTOR).encode()).hexdigest()[:12]}"
    try:
        docker_engine.images.get(tag)
    except docker.errors.ImageNotFound:
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            for name, text in (("Dockerfile", dockerfile), ("main.py", CONNECTOR)):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        context.seek(0)
        docker_engine.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True,
                                   network_mode="none")
        for stale in docker_engine.images.list(name=TEST_REPOSITORY):  # built from an older script or base
            if tag not in stale.tags:
                try:
                    docker_engine.images.remove(stale.id, force=True)
                except docker.errors.APIError:
                    pass
    return tag


def containers_of(client: Any, owner_pid: int) -> list[Any]:
    """Containers, running or not, that the runner in process `owner_pid` started."""
    from acceptance.runner.docker import OWNER_PID_LABEL

    return client.containers.list(all=True, filters={"label": f"{OWNER_PID_LABEL}={owner_pid}"})


@pytest.fixture
def no_container_left(docker_engine: Any) -> Iterator[None]:
    yield
    assert containers_of(docker_engine, os.getpid()) == [], "a container was left behind"


@pytest.mark.parametrize("mode", ["hang", "ignore_term"])
def test_docker_hanging_connector_is_killed_and_its_container_removed(
    docker_engine: Any, image: str, no_container_left: None, mode: str
) -> None:
    from acceptance.runner import docker as docker_runner

    runner = docker_runner.DockerRunner(image, environment={"MODE": mode}, client=docker_engine, network=False)
    started = time.monotonic()
    result = runner.run(["read", "--config", "{config}"], config={}, timeout=HANG_TIMEOUT)
    assert time.monotonic() - started < HANG_TIMEOUT + docker_runner.KILL_GRACE_SECONDS + KILL_LATENCY_BOUND
    assert result.timed_out and result.exit_code is None and not result.succeeded
    assert records(result) == [{"started": True}]
    text = result.describe_failure()
    assert f"`docker run {image} read --config /data/config.json`" in text and "timeout of 2s" in text


def test_docker_200_mb_line_is_dropped_with_bounded_memory(docker_engine: Any, image: str) -> None:
    report = probe("docker", image, "long_line")
    print(f"peak RSS with a {BIG_LINE_MB} MB line (Docker): {report['peak_rss_mb']} MB")
    assert report["peak_rss_mb"] < LONG_LINE_RSS_BOUND_MB, report["peak_rss_mb"]
    assert report["exit_code"] == 0
    assert report["counts"] == {"RECORD": 1, "LOG": 2}
    assert report["logs"][0]["end"].endswith(f"… [line truncated: {NON_JSON_LINE_BYTES} bytes, not JSON]")
    assert report["logs"][1]["start"].startswith("connector printed a line of ")
    (note,) = report["notes"]
    assert 'it began: {"type": "RECORD"' in note and note in report["failure"]
    assert containers_of(docker_engine, report["pid"]) == [], "a container was left behind"


def test_docker_exit_0_with_a_trace_error_is_a_failure(docker_engine: Any, image: str, no_container_left: None) -> None:
    from acceptance.runner.docker import DockerRunner

    result = DockerRunner(image, environment={"MODE": "trace_exit_0"}, client=docker_engine, network=False).run(
        ["read"], timeout=60)
    assert result.exit_code == 0 and not result.succeeded
    assert "TRACE system_error: Something went wrong in the connector" in result.describe_failure()

