"""The local-process runner, the message spool and the shared RunResult, driven by tiny stdlib connectors."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from acceptance.protocol.messages import NON_PROTOCOL, is_non_protocol
from acceptance.runner import base, local, spool
from acceptance.runner.base import MAX_STDERR_LINE_CHARS, STDERR_TAIL_LINES, RunResult
from acceptance.runner.local import LocalRunner
from acceptance.runner.spool import MessageSpool
from acceptance.secrets import MASK, Masker

# One connector script, its behaviour chosen by its first argument; the runner appends the protocol args after it.
CONNECTOR = r'''
import json, os, stat, subprocess, sys, time

mode, args = sys.argv[1], sys.argv[2:]


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def record(data):
    emit({"type": "RECORD", "record": {"stream": "s", "data": data, "emitted_at": 0}})


if mode == "messages":
    emit({"type": "SPEC", "spec": {"connectionSpecification": {}}})
    emit({"type": "LOG", "log": {"level": "INFO", "message": "a protocol log"}})
    sys.stdout.write("\n   \n")
    sys.stdout.write("plain text, not JSON\n")
    sys.stdout.write("[1]\n")
    sys.stdout.write('{"no_type": 1}\n')
    sys.stdout.write('{"type": "NOT_A_TYPE"}\n')
    sys.stdout.write('{"type": "RECORD", broken\n')
    record({"id": 1, "name": "caf\u00e9"})
    emit({"type": "STATE", "state": {"data": {"cursor": 1}}})
    record({"id": 2})
    sys.exit(3)
elif mode == "stderr":
    for i in range(200):
        sys.stderr.write(f"line {i}\n")
    sys.stderr.write("x" * 5000 + "\n")
    sys.stderr.flush()
    sys.exit(0)
elif mode == "echo":
    listing = {}
    for flag, path in zip(args, args[1:]):
        if flag in ("--config", "--catalog", "--state"):
            with open(path) as handle:
                content = json.load(handle)
            listing[flag] = {"path": path, "content": content, "mode": stat.S_IMODE(os.stat(path).st_mode),
                             "siblings": sorted(os.listdir(os.path.dirname(path)))}
    record({"args": args, "files": listing, "cwd": os.getcwd(), "env": os.environ.get("MY_VAR")})
elif mode == "secret_stderr":
    sys.stderr.write("token is " + os.environ["THE_SECRET"] + "\n")
    sys.stderr.write("a" * 1995 + os.environ["THE_SECRET"] + "\n")
    sys.exit(1)
elif mode == "grandchild":
    # not holding our pipes: only the group kill can end it, the runner's EOF would not wait for it
    child = subprocess.Popen(["sleep", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.environ["PID_FILE"], "w") as handle:
        handle.write(f"{os.getpid()} {child.pid}")
    record({"started": True})
    time.sleep(300)
elif mode == "ignore_term":
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(os.environ["PID_FILE"], "w") as handle:
        handle.write(f"{os.getpid()}")
    record({"started": True})
    time.sleep(300)
elif mode == "background":
    child = subprocess.Popen(["sleep", "300"])  # inherits stdout and keeps it open after we exit
    with open(os.environ["PID_FILE"], "w") as handle:
        handle.write(f"{child.pid}")
    record({"parent": "done"})
    sys.exit(0)
elif mode == "longline":
    record({"id": "before"})
    sys.stdout.write("y" * 5000 + "\n")
    record({"id": "after"})
    sys.stdout.write("z" * 3000 + "\n")
    record({"id": "last"})
elif mode == "no_newline":
    record({"id": 1})
    sys.stdout.write(json.dumps({"type": "RECORD", "record": {"stream": "s", "data": {"id": 2}, "emitted_at": 0}}))
elif mode == "many":
    for i in range(int(args[0]) if args else 500):
        record({"id": i, "padding": "p" * 50})
elif mode == "trace":
    emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 0,
          "error": {"message": "bad credentials", "internal_message": "401 from API", "failure_type": "config_error"}}})
    sys.stderr.write("Traceback: boom\n")
    sys.exit(2)
'''


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "connector.py"
    path.write_text(CONNECTOR)
    return path


def runner_for(script: Path, mode: str, **kwargs: object) -> LocalRunner:
    return LocalRunner([sys.executable, str(script), mode], **kwargs)  # type: ignore[arg-type]


def records(result: RunResult) -> list[dict]:
    return [m["record"]["data"] for m in result.of_type("RECORD")]


def is_gone(pid: int) -> bool:
    """True when the process no longer exists or is a zombie (dead, waiting to be reaped by its new parent)."""
    try:
        content = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return content.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_gone(pid: int, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_gone(pid):
            return True
        time.sleep(0.05)
    return is_gone(pid)


def kill_if_alive(*pids: int) -> None:
    for pid in pids:
        if not is_gone(pid):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


# -- stdout parsing -------------------------------------------------------------------------------------------------


def test_messages_are_parsed_in_order_and_non_protocol_lines_kept_as_logs(script: Path) -> None:
    result = runner_for(script, "messages").run([])

    messages = list(result.messages)
    assert [m["type"] for m in messages] == [
        "SPEC", "LOG", "LOG", "LOG", "LOG", "LOG", "LOG", "RECORD", "STATE", "RECORD"
    ]
    # a real LOG message is not marked; every other line is kept verbatim with the marker
    assert messages[1]["log"]["message"] == "a protocol log"
    assert not is_non_protocol(messages[1])
    kept = [(m["log"]["message"], m["log"]["level"]) for m in messages[2:7]]
    assert kept == [
        ("plain text, not JSON", "INFO"),
        ("[1]", "INFO"),
        ('{"no_type": 1}', "INFO"),
        ('{"type": "NOT_A_TYPE"}', "INFO"),
        ('{"type": "RECORD", broken', "INFO"),
    ]
    assert all(m[NON_PROTOCOL] is True for m in messages[2:7])
    assert records(result) == [{"id": 1, "name": "café"}, {"id": 2}]
    assert result.messages.counts == {"SPEC": 1, "LOG": 6, "RECORD": 2, "STATE": 1}
    assert len(result.messages) == 10


def test_exit_code_and_duration_are_reported(script: Path) -> None:
    result = runner_for(script, "messages").run([])
    assert result.exit_code == 3
    assert not result.succeeded
    assert not result.timed_out
    assert result.backend == "local"
    assert 0 < result.duration < 30
    assert "exited with code 3" in result.describe_failure()


def test_successful_run(script: Path) -> None:
    result = runner_for(script, "echo").run(["spec"])
    assert result.exit_code == 0
    assert result.succeeded
    assert records(result)[0]["args"] == ["spec"]


def test_output_without_trailing_newline_still_parses_its_last_line(script: Path) -> None:
    result = runner_for(script, "no_newline").run([])
    assert records(result) == [{"id": 1}, {"id": 2}]
    assert result.messages.counts == {"RECORD": 2}


def test_overlong_line_is_dropped_with_a_warning_and_later_lines_still_parse(
    script: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "MAX_LINE_BYTES", 1024)
    result = runner_for(script, "longline").run([])

    messages = list(result.messages)
    assert [m["type"] for m in messages] == ["RECORD", "LOG", "RECORD", "LOG", "RECORD"]
    assert records(result) == [{"id": "before"}, {"id": "after"}, {"id": "last"}]
    for warning, size in ((messages[1], 5001), (messages[3], 3001)):
        assert warning["log"]["level"] == "WARN"
        assert is_non_protocol(warning)
        assert f"{size} bytes" in warning["log"]["message"]
        assert "1024" in warning["log"]["message"]
        assert "y" * 100 not in warning["log"]["message"]  # the line itself is not kept


def test_output_larger_than_memory_budget_spills_and_iterates(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "IN_MEMORY_BYTES", 4096)
    result = runner_for(script, "many").run(["700"])
    assert [r["id"] for r in records(result)] == list(range(700))
    assert result.messages._file._rolled  # type: ignore[attr-defined]
    assert result.messages.counts == {"RECORD": 700}


# -- stderr ---------------------------------------------------------------------------------------------------------


def test_stderr_tail_is_bounded_and_long_lines_truncated(script: Path) -> None:
    result = runner_for(script, "stderr").run([])
    tail = result.stderr_tail
    assert len(tail) == STDERR_TAIL_LINES
    expected = [f"line {i}" for i in range(200 - STDERR_TAIL_LINES + 1, 200)]
    assert tail[:-1] == expected
    assert tail[-1] == "x" * MAX_STDERR_LINE_CHARS + "…"


def test_describe_failure_shows_trace_error_and_stderr(script: Path) -> None:
    result = runner_for(script, "trace").run(["check"])
    text = result.describe_failure()
    assert text.splitlines()[0].startswith("`")
    assert "exited with code 2" in text
    assert "TRACE config_error: bad credentials" in text
    assert "internal: 401 from API" in text
    assert "Traceback: boom" in text


# -- inputs, environment, working folder ----------------------------------------------------------------------------


def test_inputs_are_written_as_private_json_files_and_removed_afterwards(script: Path, tmp_path: Path) -> None:
    config = {"api_key": "k", "nested": {"list": [1, 2.5, None, True]}, "text": "quote\" brace {x}"}
    catalog = {"streams": [{"stream": {"name": "s"}}]}
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "s"}}}]
    result = runner_for(script, "echo", cwd=tmp_path).run(
        ["read", "--config", "{config}", "--catalog", "{catalog}", "--state", "{state}"],
        config=config, catalog=catalog, state=state,
    )
    assert result.succeeded, result.describe_failure()
    data = records(result)[0]
    files = data["files"]
    assert files["--config"]["content"] == config
    assert files["--catalog"]["content"] == catalog
    assert files["--state"]["content"] == state
    assert {f["mode"] for f in files.values()} == {0o600}
    assert Path(files["--config"]["path"]).name == "config.json"
    assert Path(data["cwd"]).resolve() == tmp_path.resolve()
    # the displayed command names the files, not the private temp paths
    assert result.command.endswith("read --config config.json --catalog catalog.json --state state.json")
    workdir = Path(files["--config"]["path"]).parent
    assert workdir != tmp_path
    assert not workdir.exists()


def test_only_inputs_named_in_args_are_written(script: Path) -> None:
    result = runner_for(script, "echo").run(["check", "--config", "{config}"], config={"a": 1}, catalog={"b": 2})
    files = records(result)[0]["files"]
    assert files["--config"]["siblings"] == ["config.json"]


def test_protocol_helpers_build_the_commands(script: Path) -> None:
    runner = runner_for(script, "echo")
    assert records(base.spec(runner))[0]["args"] == ["spec"]

    check = records(base.check(runner, {"c": 1}))[0]
    assert check["args"][:2] == ["check", "--config"]
    assert check["files"]["--config"]["content"] == {"c": 1}

    discover = records(base.discover(runner, {"d": 1}))[0]
    assert discover["args"][:2] == ["discover", "--config"]

    without_state = records(base.read(runner, {"c": 1}, {"streams": []}))[0]
    assert [a for a in without_state["args"] if a.startswith("--")] == ["--config", "--catalog"]

    with_state = records(base.read(runner, {"c": 1}, {"streams": []}, state=[]))[0]
    assert [a for a in with_state["args"] if a.startswith("--")] == ["--config", "--catalog", "--state"]
    assert with_state["files"]["--state"]["content"] == []


def test_custom_environment_is_passed_and_inherits_the_rest(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_VAR", "from-parent")
    assert records(runner_for(script, "echo").run([]))[0]["env"] == "from-parent"
    result = runner_for(script, "echo", environment={"MY_VAR": "custom value"}).run([])
    assert records(result)[0]["env"] == "custom value"


# -- secret masking -------------------------------------------------------------------------------------------------


def test_stderr_tail_is_masked(script: Path) -> None:
    secret = "SECRETVALUE123456789"
    runner = runner_for(script, "secret_stderr", environment={"THE_SECRET": secret}, masker=Masker({secret}))
    result = runner.run([])
    assert result.stderr_tail[0] == f"token is {MASK}"
    joined = "\n".join(result.stderr_tail) + result.describe_failure()
    assert secret not in joined
    # the second line is truncated right inside the secret: no prefix of it may survive the truncation
    assert "SECRE" not in joined


def test_displayed_command_is_masked(script: Path) -> None:
    secret = "hunter2-secret"
    runner = LocalRunner([sys.executable, str(script), "echo", f"--token={secret}"], masker=Masker({secret}))
    result = runner.run(["check", "--config", "{config}"], config={})
    assert secret not in result.command
    assert f"--token={MASK}" in result.command
    assert result.command.endswith("check --config config.json")
    assert secret not in runner.describe()


def test_displayed_command_is_masked_even_when_shell_quoting_splits_the_secret(script: Path) -> None:
    secret = "it's a secret"
    runner = LocalRunner([sys.executable, str(script), "echo", secret], masker=Masker({secret}))
    result = runner.run(["spec"])
    for fragment in ("'it'", "s a secret"):
        assert fragment not in result.command
    assert MASK in result.command


# -- failures: missing command, timeouts ----------------------------------------------------------------------------


def test_missing_command_gives_127_and_a_fatal_log(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-connector"
    result = LocalRunner([str(missing)]).run(["spec"])
    assert result.exit_code == 127
    assert not result.succeeded
    assert not result.timed_out
    (fatal,) = list(result.messages)
    assert fatal["type"] == "LOG"
    assert fatal["log"]["level"] == "FATAL"
    assert is_non_protocol(fatal)
    assert str(missing) in fatal["log"]["message"]
    assert "exited with code 127" in result.describe_failure()


def test_timeout_kills_the_whole_process_group_including_grandchildren(script: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    runner = runner_for(script, "grandchild", environment={"PID_FILE": str(pid_file)})
    started = time.monotonic()
    result = runner.run(["read"], timeout=1.0)
    elapsed = time.monotonic() - started
    connector_pid, grandchild_pid = (int(p) for p in pid_file.read_text().split())
    try:
        assert result.timed_out
        assert result.exit_code is None
        assert result.timeout == 1.0
        assert not result.succeeded
        assert elapsed < 1.0 + local.KILL_GRACE_SECONDS + 2
        assert records(result) == [{"started": True}]  # what came before the kill is kept
        assert wait_gone(connector_pid)
        assert wait_gone(grandchild_pid)
        text = result.describe_failure()
        assert result.command in text
        assert "read" in text
        assert "timeout of 1s" in text
    finally:
        kill_if_alive(connector_pid, grandchild_pid)


def test_timeout_escalates_to_sigkill_when_sigterm_is_ignored(
    script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "KILL_GRACE_SECONDS", 0.5)
    pid_file = tmp_path / "pids"
    started = time.monotonic()
    result = runner_for(script, "ignore_term", environment={"PID_FILE": str(pid_file)}).run([], timeout=1.0)
    elapsed = time.monotonic() - started
    pid = int(pid_file.read_text())
    try:
        assert result.timed_out
        assert result.exit_code is None
        assert elapsed < 5
        assert wait_gone(pid)
    finally:
        kill_if_alive(pid)


def test_background_child_holding_stdout_does_not_hang_the_runner(script: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    started = time.monotonic()
    result = runner_for(script, "background", environment={"PID_FILE": str(pid_file)}).run([], timeout=1.0)
    elapsed = time.monotonic() - started
    child = int(pid_file.read_text())
    try:
        assert elapsed < 1.0 + local.KILL_GRACE_SECONDS + 2
        assert records(result) == [{"parent": "done"}]
        assert wait_gone(child)
    finally:
        kill_if_alive(child)


def test_exited_connector_with_a_child_holding_stdout_ends_after_the_grace_period(
    script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "EXIT_GRACE_SECONDS", 0.5)
    pid_file = tmp_path / "pids"
    started = time.monotonic()
    result = runner_for(script, "background", environment={"PID_FILE": str(pid_file)}).run([], timeout=60)
    child = int(pid_file.read_text())
    try:
        assert time.monotonic() - started < 10, "the runner waited for the child instead of the connector"
        assert result.exit_code == 0 and not result.timed_out  # the connector itself finished fine
        assert records(result) == [{"parent": "done"}]
        assert wait_gone(child)
    finally:
        kill_if_alive(child)


def test_no_timeout_means_no_watchdog(script: Path) -> None:
    result = runner_for(script, "many").run(["3"], timeout=None)
    assert result.succeeded
    assert result.timeout is None
    assert len(records(result)) == 3


# -- the spool ------------------------------------------------------------------------------------------------------


def sample_messages(n: int) -> list[dict]:
    kinds = ["RECORD", "RECORD", "STATE", "LOG"]
    return [{"type": kinds[i % 4], "n": i} for i in range(n)]


def test_spool_iterates_twice_in_order_and_counts() -> None:
    messages = sample_messages(10)
    spooled = MessageSpool.of(messages)
    assert list(spooled) == messages
    assert list(spooled) == messages
    assert spooled.counts == {"RECORD": 6, "STATE": 2, "LOG": 2}
    assert len(spooled) == 10
    assert spooled.of_type("STATE") == [m for m in messages if m["type"] == "STATE"]
    assert spooled.of_type("SPEC") == []


def test_spool_watcher_sees_each_message_of_the_first_spool_made_inside_as_it_is_appended() -> None:
    seen: list[dict] = []
    outside = MessageSpool()
    with spool.watching(seen.append) as watcher:
        watched = MessageSpool()
        other = MessageSpool.of(sample_messages(2))  # a second spool in the same command is not watched
        for message in sample_messages(4):
            watched.append(message)
            assert seen[-1] is message  # fed at the append, before anything is read back
        outside.append({"type": "LOG", "n": -1})
    after = MessageSpool.of(sample_messages(1))
    assert watcher.spool is watched and watcher.spool is not other
    assert seen == sample_messages(4) == list(watched)
    assert (len(outside), len(after)) == (1, 1)


def test_a_read_is_watched_while_the_connector_runs(script: Path) -> None:
    seen: list[dict] = []
    with spool.watching(seen.append) as watcher:
        result = runner_for(script, "messages").run([])
    assert watcher.spool is result.messages
    assert seen == list(result.messages) and len(seen) == 10  # non-protocol lines too, as the LOGs they become


def test_spool_nested_iteration() -> None:
    messages = sample_messages(6)
    spooled = MessageSpool.of(messages)
    pairs = [(a["n"], b["n"]) for a in spooled for b in spooled]
    assert pairs == [(a, b) for a in range(6) for b in range(6)]


def test_spool_append_after_iteration() -> None:
    spooled = MessageSpool.of(sample_messages(3))
    assert len(list(spooled)) == 3
    spooled.append({"type": "TRACE", "n": 99})
    assert [m["n"] for m in spooled] == [0, 1, 2, 99]
    assert spooled.of_type("TRACE") == [{"type": "TRACE", "n": 99}]


def test_spool_spills_to_disk_beyond_memory_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "IN_MEMORY_BYTES", 1024)
    monkeypatch.setattr(spool, "WRITE_BYTES", 100)  # a write every two lines or so
    messages = [{"type": "RECORD", "record": {"data": {"i": i, "text": "t" * 40}}} for i in range(300)]
    spooled = MessageSpool()
    for message in messages[:5]:
        spooled.append(message)
    assert not spooled._file._rolled  # type: ignore[attr-defined]
    for message in messages[5:]:
        spooled.append(message)
    assert spooled._file._rolled  # type: ignore[attr-defined]
    assert list(spooled) == messages
    assert list(spooled) == messages
    outer = 0
    for first in spooled:
        if first["record"]["data"]["i"] % 100 == 0:
            assert sum(1 for _ in spooled) == 300
        outer += 1
    assert outer == 300
    assert spooled.counts == {"RECORD": 300}
    spooled.close()


@pytest.mark.parametrize(("read_bytes", "write_bytes"), [(1, 1), (7, 50), (64, 10_000), (1024 * 1024, 256 * 1024)])
def test_spool_lines_longer_than_a_read_and_appends_while_iterating(monkeypatch: pytest.MonkeyPatch,
                                                                     read_bytes: int, write_bytes: int) -> None:
    monkeypatch.setattr(spool, "READ_BYTES", read_bytes)
    monkeypatch.setattr(spool, "WRITE_BYTES", write_bytes)
    messages = [{"type": "LOG", "log": {"level": "INFO", "message": "ü" * (i * 13)}} for i in range(20)]
    spooled = MessageSpool.of(messages)
    assert list(spooled) == messages
    assert [(a["log"]["message"], b["log"]["message"]) for a in spooled for b in spooled] == [
        (a["log"]["message"], b["log"]["message"]) for a in messages for b in messages]
    reading = iter(spooled)
    assert next(reading) == messages[0]
    extra = {"type": "TRACE", "n": 99}
    spooled.append(extra)  # between two steps of a read: it comes last, nothing is overwritten
    assert list(reading) == [*messages[1:], extra]
    assert list(spooled) == [*messages, extra]


def test_spool_keeps_non_protocol_marker_and_unicode() -> None:
    message = {"type": "LOG", "log": {"level": "INFO", "message": "ünïcode ✓"}, NON_PROTOCOL: True}
    assert list(MessageSpool.of([message])) == [message]


def test_run_result_of_type_and_succeeded() -> None:
    messages = MessageSpool.of([{"type": "SPEC", "spec": {}}, {"type": "RECORD"}])
    ok = RunResult("cmd", 0, 0.1, messages)
    assert ok.succeeded
    assert ok.of_type("SPEC") == [{"type": "SPEC", "spec": {}}]
    assert not RunResult("cmd", 1, 0.1, messages).succeeded
    assert not RunResult("cmd", 0, 0.1, messages, timed_out=True, timeout=2).succeeded
    assert json.dumps(ok.of_type("RECORD")) == '[{"type": "RECORD"}]'


def test_is_gone_sees_a_live_process() -> None:
    # is_gone must report a live process as alive, or the kill tests above would prove nothing
    assert not is_gone(os.getpid())
