"""The command for scripts: classified differences between two specs or two catalogs, as JSON or a table::

    python -m acceptance.compat spec PREVIOUS.json CURRENT.json [--table] [--examples N]
    python -m acceptance.compat catalog PREVIOUS.json CURRENT.json [--table]

`spec` also generates N configs (default 100) from the previous spec and reports those the current one rejects
(rule "previous config rejected"): what structure alone cannot see, such as a lowered maximum.

Exit status: 1 when any difference is breaking, 0 otherwise, 2 on unreadable or invalid input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from acceptance.compat.differences import (
    CompatInputError,
    breaking,
    catalog_streams,
    connection_specification,
    diff_catalogs,
    diff_specs,
    render_table,
    to_json,
)


def _load(path: str, kind: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise CompatInputError(f"{path}: cannot read {kind} file: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise CompatInputError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CompatInputError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: "
                               f"{error.msg})") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acceptance.compat",
                                     description="Classify differences between two specs or two catalogs.")
    parser.add_argument("kind", choices=["spec", "catalog"])
    parser.add_argument("previous", help="previous release's document (JSON file)")
    parser.add_argument("current", help="current release's document (JSON file)")
    parser.add_argument("--table", action="store_true", help="print a table instead of JSON")
    parser.add_argument("--examples", type=int, default=100, metavar="N",
                        help="spec: configs generated from the previous spec and checked against the current one "
                             "(0: structure only)")
    args = parser.parse_args(argv)
    documents: list[Any] = []
    try:
        for path in (args.previous, args.current):
            document = _load(path, args.kind)
            try:  # validate the shape now, so the error names the file
                connection_specification(document) if args.kind == "spec" else catalog_streams(document)
            except CompatInputError as error:
                raise CompatInputError(f"{path}: invalid {args.kind}: {error}") from None
            documents.append(document)
    except CompatInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.kind == "spec":
        differences = diff_specs(documents[0], documents[1])
        if args.examples > 0:
            from acceptance.compat.config_examples import (
                previous_configs_rejected,  # hypothesis: imported only when used
            )

            differences += previous_configs_rejected(connection_specification(documents[0]),
                                                     connection_specification(documents[1]),
                                                     examples=args.examples).differences
    else:
        differences = diff_catalogs(documents[0], documents[1])
    if args.table:
        print(render_table(differences))
    else:
        print(json.dumps(to_json(differences), indent=2))
    return 1 if breaking(differences) else 0


if __name__ == "__main__":
    sys.exit(main())
