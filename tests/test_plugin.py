"""The plugin's collection rules, timeouts, caching, masking and user-facing errors, on the fake connector."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import AcceptanceOutcome

Make = Callable[..., Path]
Runner = Callable[..., AcceptanceOutcome]
CANARY = "fake-canary-3f9a1c"  # the api_token in tests/connectors/fake-source/integration_tests/*.json


def drop(*suites: str) -> Callable[[dict], None]:
    """Remove suites at strictness low (the fake connector's config is high)."""

    def change(config: dict) -> None:
        config["test_strictness_level"] = "low"
        for suite in suites:
            config["acceptance_tests"].pop(suite, None)
    return change


def test_unconfigured_suite_is_skipped_at_low_strictness(fake_source: Make, run_acceptance: Runner) -> None:
    outcome = run_acceptance(fake_source(change=drop("discovery")), "--suite", "discovery")
    assert outcome.failed == set()
    assert "test_discover[not-configured]" in outcome.skipped
    assert "`discovery` not found in the config" in outcome.texts["test_discover[not-configured]"]
    assert "only enforced at test_strictness_level high" in outcome.texts["test_suite_is_configured[discovery]"]


def test_unconfigured_mandatory_suite_fails_at_high_strictness(fake_source: Make, run_acceptance: Runner) -> None:
    def change(config: dict) -> None:
        drop("discovery", "basic_read")(config)
        config["test_strictness_level"] = "high"

    outcome = run_acceptance(fake_source(change=change), "--suite", "discovery", "--suite", "basic_read")
    assert "test_discover[not-configured]" in outcome.failed
    assert "test_strictness_level high requires it" in outcome.texts["test_discover[not-configured]"]
    # Suites whose tests are not written yet are still enforced, once each.
    assert {"test_suite_is_configured[discovery]", "test_suite_is_configured[basic_read]"} <= outcome.failed
    assert "acceptance_tests.basic_read" in outcome.texts["test_suite_is_configured[basic_read]"]


def test_configured_suites_pass_the_strictness_test_at_high(fake_source: Make, run_acceptance: Runner) -> None:
    def change(config: dict) -> None:
        config["test_strictness_level"] = "high"
        config["acceptance_tests"]["basic_read"] = {"bypass_reason": "no records in the sandbox"}

    outcome = run_acceptance(fake_source(change=change), "--suite", "spec", "--suite", "basic_read")
    assert outcome.failed == set()
    assert "test_suite_is_configured[spec]" in outcome.passed
    assert "Bypassed: no records in the sandbox" in outcome.texts["test_suite_is_configured[basic_read]"]


def test_suite_bypass_skips_every_test_with_its_reason(fake_source: Make, run_acceptance: Runner) -> None:
    def change(config: dict) -> None:
        config["acceptance_tests"]["discovery"] = {"bypass_reason": "the API has no schema endpoint"}

    outcome = run_acceptance(fake_source(change=change), "--suite", "discovery")
    assert outcome.failed == set() and outcome.passed == set()
    suite_tests = {n: t for n, t in outcome.texts.items() if not n.startswith("test_suite_is_configured")}
    assert suite_tests and all("Bypassed: the API has no schema endpoint" in t for t in suite_tests.values())


def test_each_tests_entry_parametrizes_every_test_of_its_suite(fake_source: Make, run_acceptance: Runner) -> None:
    outcome = run_acceptance(fake_source(), "--suite", "connection")
    assert outcome.passed - {"test_suite_is_configured[connection]"} == {
        "test_check[inputs0]", "test_check[inputs1]", "test_check[inputs2]"
    }
    assert outcome.failed == set()


def test_empty_tests_list_skips_the_suite(fake_source: Make, run_acceptance: Runner) -> None:
    def change(config: dict) -> None:
        config["acceptance_tests"]["connection"] = {"tests": []}

    outcome = run_acceptance(fake_source(change=change), "--suite", "connection")
    assert "test_check[no-tests]" in outcome.skipped and outcome.failed == set()
    assert "`connection.tests` is empty" in outcome.texts["test_check[no-tests]"]


def test_suite_option_selects_one_suite(fake_source: Make, run_acceptance: Runner) -> None:
    outcome = run_acceptance(fake_source(), "--suite", "connection")
    names = outcome.passed | outcome.skipped | outcome.failed
    assert names and all(n.startswith(("test_check", "test_suite_is_configured[connection]")) for n in names)


def test_legacy_tests_format_runs(fake_source: Make, run_acceptance: Runner) -> None:
    def to_legacy(config: dict) -> None:
        suites = config.pop("acceptance_tests")
        config["tests"] = {name: block["tests"] for name, block in suites.items()}

    outcome = run_acceptance(fake_source(change=to_legacy), "--suite", "connection", "--suite", "spec")
    assert outcome.failed == set()
    assert "test_check[inputs2]" in outcome.passed


def _pids(pidfile: Path) -> list[int]:
    return [int(line) for line in pidfile.read_text().split()] if pidfile.exists() else []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_entry_timeout_kills_a_hung_connector_and_fails_the_test(fake_source: Make, run_acceptance: Runner,
                                                                 tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"

    def change(config: dict) -> None:
        config["custom_environment_variables"]["FAKE_SOURCE_PIDFILE"] = str(pidfile)
        config["acceptance_tests"]["connection"]["tests"] = [
            {"config_path": "integration_tests/config.json", "status": "succeed", "timeout_seconds": 2}
        ]

    started = time.monotonic()
    outcome = run_acceptance(fake_source("hang", change=change), "--suite", "connection")
    assert time.monotonic() - started < 30
    text = outcome.texts["test_check[inputs0]"]
    assert "did not finish within its timeout of 2s" in text and "check --config config.json" in text
    assert _pids(pidfile), "the connector never started"
    assert not [pid for pid in _pids(pidfile) if _alive(pid)], "a killed connector is still running"


def test_secrets_are_masked_in_everything_printed_and_cached(fake_source: Make, pytester: pytest.Pytester,
                                                             tmp_path: Path) -> None:
    from acceptance.plugin import SUITES_DIR

    folder = fake_source("print_secret,check_always_fails")
    cache_dir = tmp_path / "cache"
    result = pytester.runpytest_subprocess(
        "-p", "acceptance.plugin", "--backend=local", f"--acceptance-test-config={folder}", f"--rootdir={SUITES_DIR}",
        f"--cache-dir={cache_dir}", "-p", "no:cacheprovider", "-rA", "--suite", "connection", "--suite", "discovery",
    )
    output = result.stdout.str() + result.stderr.str()
    assert "Unable to connect: invalid credentials **********" in output  # the failure is shown, masked
    assert CANARY not in output
    cached = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert cached, "discover should have been cached"
    assert not [p for p in cached if CANARY.encode() in p.read_bytes()]


def test_cache_is_shared_between_runs_and_bypassed_by_no_cache(fake_source: Make, run_acceptance: Runner,
                                                               tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"

    def change(config: dict) -> None:
        config["custom_environment_variables"] = {"FAKE_SOURCE_PIDFILE": str(pidfile)}

    folder = fake_source(change=change)
    cache_dir = f"--cache-dir={tmp_path / 'cache'}"
    assert run_acceptance(folder, "--suite", "discovery", cache_dir).failed == set()
    first = len(_pids(pidfile))
    assert first == 2  # one spec (for secret masking), one discover for every discovery test
    assert run_acceptance(folder, "--suite", "discovery", "--suite", "spec", cache_dir).failed == set()
    assert len(_pids(pidfile)) == first, "a warm cache must not run spec or discover again"
    run_acceptance(folder, "--suite", "discovery", cache_dir, "--no-cache")
    assert len(_pids(pidfile)) == first + 2, "--no-cache runs each command again, once per session"
    # A change to the connector's code makes its cached outputs stale.
    main = folder / "main.py"
    main.write_text(main.read_text() + "\n# changed\n")
    run_acceptance(folder, "--suite", "discovery", cache_dir)
    assert len(_pids(pidfile)) == first + 4


def test_cached_discovered_catalog_false_runs_discover_for_every_test(fake_source: Make, run_acceptance: Runner,
                                                                      tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"

    def change(config: dict) -> None:
        config["custom_environment_variables"] = {"FAKE_SOURCE_PIDFILE": str(pidfile)}
        config["cached_discovered_catalog"] = False

    outcome = run_acceptance(fake_source(change=change), "--suite", "discovery", f"--cache-dir={tmp_path / 'c'}")
    assert outcome.failed == set()
    discovery_tests = [n for n in outcome.passed if not n.startswith("test_suite_is_configured")]
    assert len(_pids(pidfile)) == 1 + len(discovery_tests)  # one spec, then one discover per test


def test_missing_connector_config_names_the_file_and_key(fake_source: Make, run_acceptance: Runner) -> None:
    def change(config: dict) -> None:
        config["acceptance_tests"]["connection"]["tests"][0]["config_path"] = "secrets/nope.json"

    outcome = run_acceptance(fake_source(change=change), "--suite", "connection")
    text = outcome.texts["test_check[inputs0]"]
    assert "secrets/nope.json" in text and "acceptance_tests.connection.tests[0].config_path" in text
    assert "file not found" in text and "Traceback" not in text
    assert outcome.passed - {"test_suite_is_configured[connection]"} == {"test_check[inputs1]", "test_check[inputs2]"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("acceptance_tests: [unclosed", "YAML syntax error at line 2"),
        ("connector_image: x\nacceptance_tests:\n  spec:\n    tests:\n      - spec_paht: a.json\n", "spec_paht"),
        ("connector_image: x\ntest_strictness_level: extreme\nacceptance_tests: {}\n", "test_strictness_level"),
    ],
    ids=["yaml-syntax", "unknown-key", "bad-enum"],
)
def test_invalid_config_file_is_a_usage_error_without_traceback(content: str, expected: str, tmp_path: Path,
                                                                pytester: pytest.Pytester) -> None:
    (tmp_path / "acceptance-test-config.yml").write_text(content)
    (tmp_path / "main.py").write_text("")
    result = pytester.runpytest_subprocess(
        "-p", "acceptance.plugin", "--backend=local", f"--acceptance-test-config={tmp_path}")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert expected in output and "acceptance-test-config.yml" in output
    assert "Traceback" not in output


def test_connector_that_cannot_be_run_is_a_usage_error(tmp_path: Path, pytester: pytest.Pytester) -> None:
    (tmp_path / "acceptance-test-config.yml").write_text("acceptance_tests: {spec: {tests: [{}]}}\n")
    result = pytester.runpytest_subprocess(
        "-p", "acceptance.plugin", "--backend=local", f"--acceptance-test-config={tmp_path}")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--connector-command" in output and "main.py" in output and "Traceback" not in output


def test_connector_command_option_wins(fake_source: Make, run_acceptance: Runner, tmp_path: Path) -> None:
    folder = fake_source()
    (folder / "main.py").rename(folder / "source.py")  # no main.py: only the option can run it
    outcome = run_acceptance(folder, "--suite", "spec", f"--connector-command=python {folder / 'source.py'}")
    assert outcome.failed == set() and outcome.passed
    assert os.path.exists(folder / "source.py")


def test_the_session_reports_its_commands_and_shares_the_first_incremental_read(
        fake_source: Make, run_acceptance: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    timings = tmp_path / "timings.jsonl"
    monkeypatch.setenv("CONNECTOR_ACCEPTANCE_TIMINGS", str(timings))
    outcome = run_acceptance(fake_source(), "--suite", "incremental", f"--cache-dir={tmp_path / 'c'}")
    assert outcome.failed == set()
    session = json.loads(timings.read_text())
    # users is the one incremental stream: its first read serves both test_two_sequential_reads and
    # test_read_sequential_slices; then the read from its state, one resumed from a checkpoint, the future state.
    assert {verb: c["count"] for verb, c in session["commands"].items()} == {"spec": 1, "discover": 1, "read": 4}
    assert 0 < session["connector_seconds"] <= session["wall_seconds"]


def test_a_failing_spec_runs_once_per_session_not_once_per_test(
        fake_source: Make, run_acceptance: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    timings = tmp_path / "timings.jsonl"
    monkeypatch.setenv("CONNECTOR_ACCEPTANCE_TIMINGS", str(timings))
    outcome = run_acceptance(fake_source("spec_missing"), "--suite", "spec", f"--cache-dir={tmp_path / 'c'}")
    assert len(outcome.failed) > 5  # every spec test needs the SPEC message
    assert json.loads(timings.read_text())["commands"]["spec"]["count"] == 1
