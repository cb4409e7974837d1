"""Errors meant for people: each names the file, the key or the command at fault, never a traceback."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in what the user gave us (config, paths, options). Printed as one clear message."""


class ConfigError(UserError):
    """`acceptance-test-config.yml` (or another input file) is unreadable or invalid.

    `problems` are (key path, message) pairs, e.g. ("acceptance_tests.spec.tests[0].spec_path", "expected a string").
    """

    def __init__(self, file: Path | str, problems: list[tuple[str, str]]) -> None:
        self.file = Path(file)
        self.problems = problems
        lines = [f"{self.file}: invalid configuration"]
        lines += [f"  - {key}: {message}" if key else f"  - {message}" for key, message in problems]
        super().__init__("\n".join(lines))


class InputFileError(UserError):
    """A file the config points to (connector config, catalog, spec, state…) is missing or unreadable."""

    def __init__(self, file: Path | str, problem: str, key: str | None = None) -> None:
        self.file = Path(file)
        self.key = key
        where = f" (from {key})" if key else ""
        super().__init__(f"{self.file}{where}: {problem}")


class ConnectorNotFoundError(UserError):
    """The connector name or folder given on the command line does not exist."""


class BuildError(UserError):
    """A connector (or a previous release of it) could not be installed; the message carries pip's output tail."""
