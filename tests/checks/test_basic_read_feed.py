"""The basic_read suite's checks see the same messages whether they are fed while the connector writes (the spool
watched as it fills) or in one pass over the spool afterwards (a runner whose spool was not made inside the read)."""

from __future__ import annotations

from typing import Any

from acceptance.config.models import BasicReadTestConfig
from acceptance.runner.base import RunResult
from acceptance.runner.spool import MessageSpool
from acceptance.secrets import Masker
from acceptance.suites.test_basic_read import read_and_check

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
CATALOG = {"streams": [{"stream": {"name": "users", "json_schema": SCHEMA, "supported_sync_modes": ["full_refresh"]},
                        "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "primary_key": [["id"]]}]}
SECRET = "hunter2-very-secret"


def output() -> list[dict[str, Any]]:
    def record(data: dict[str, Any]) -> dict[str, Any]:
        return {"type": "RECORD", "record": {"stream": "users", "data": data, "emitted_at": 1}}

    return [record({"id": 1, "name": "Ann"}), {"type": "STATE", "state": {"type": "STREAM", "n": 1}},
            record({"id": "2", "name": 3}), record({"id": None, "name": SECRET}), record({"id": 4})]


class CountingSpool(MessageSpool):
    passes = 0

    def __iter__(self) -> Any:
        self.passes += 1
        return super().__iter__()


class FakeAcceptance:
    """What read_and_check uses of the session's context; `read_run` makes its spool inside the read, as the
    runners do, or hands over one made before."""

    def __init__(self, spool_made_before: bool) -> None:
        self.masker = Masker({SECRET})
        self.metadata = None
        self.before = CountingSpool.of(output()) if spool_made_before else None

    def read_run(self, config: Any, catalog: Any, timeout: float) -> RunResult:
        spool = self.before if self.before is not None else CountingSpool.of(output())
        return RunResult("source-x read", 0, 0.1, spool)


def test_checks_fed_while_reading_equal_one_pass_afterwards() -> None:
    inputs = BasicReadTestConfig(config_path="secrets/config.json")
    watched = read_and_check(FakeAcceptance(spool_made_before=False), inputs, {}, CATALOG, 10)  # type: ignore[arg-type]
    afterwards = read_and_check(FakeAcceptance(spool_made_before=True), inputs, {}, CATALOG, 10)  # type: ignore[arg-type]
    assert watched.record_counts == afterwards.record_counts == {"users": 4}
    assert watched.states == afterwards.states == [{"type": "STREAM", "n": 1}]
    assert watched.findings == afterwards.findings
    assert (watched.run.messages.passes, afterwards.run.messages.passes) == (0, 1)  # type: ignore[attr-defined]
    found = {name: len(findings) for name, findings in watched.findings.items()}
    assert found["schema"] and found["primary_keys"] and found["secrets"]  # each check saw the broken records
