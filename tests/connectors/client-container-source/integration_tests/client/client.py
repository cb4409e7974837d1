"""The client container's commands: `setup` generates the connector's config and records from the secrets at
/tmp/config.json; the others print what they did (the acceptance log shows their output)."""

import json
import os
import pathlib
import sys

CONNECTOR = pathlib.Path("/connector")
GENERATED = CONNECTOR / "integration_tests" / "generated"
SECRETS = pathlib.Path("/tmp/config.json")


def secrets() -> dict:
    return json.loads(SECRETS.read_text()) if SECRETS.exists() else {}


def main(command: str, *args: str) -> int:
    if command == "setup":
        count = int(secrets().get("record_count", 2))
        GENERATED.mkdir(parents=True, exist_ok=True)
        rows = [{"id": i, "name": f"item {i}"} for i in range(1, count + 1)]
        (GENERATED / "records.json").write_text(json.dumps(rows))
        # Relative to the connector folder: the local backend runs the connector there.
        config = {"records_path": "integration_tests/generated/records.json"}
        (GENERATED / "config.json").write_text(json.dumps(config))
        print(f"setup: wrote {count} records")
    elif command in ("teardown", "between_syncs", "final_teardown"):
        print(f"{command}: done")
    elif command == "inspect":  # for the tests: what the container sees, written where setup's copy-back finds it
        files = sorted(str(p.relative_to(CONNECTOR)) for p in CONNECTOR.rglob("*"))
        report = {"argv": sys.argv, "files": files, "secrets": secrets() if SECRETS.exists() else None,
                  "cachebuster": os.environ.get("CACHEBUSTER")}
        (CONNECTOR / "integration_tests" / "inspect.json").write_text(json.dumps(report))
        (CONNECTOR / "integration_tests" / "existing.txt").write_text("changed by the container\n")
        (CONNECTOR / "main.py").write_text("# changed by the container\n")
        print("inspect: done")
    elif command == "fail":
        print("setup: starting")
        for i in range(40):
            print(f"progress line {i}")
        # Docker reads stdout and stderr through separate pipes, so their relative order is not kept: the error goes
        # to both, and the stdout copy is certain to come after the progress lines.
        refused = "setup: the service refused api key " + str(secrets().get("api_key"))
        print(refused, flush=True)
        print(refused, file=sys.stderr)
        return 3
    elif command == "sleep":
        import time

        time.sleep(float(args[0]) if args else 3600)
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
