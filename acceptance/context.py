"""One acceptance run's shared state: the loaded config, the connector command, the cache and the secret masker.

The suites reach the connector only through this object, so every run is cached, timed and masked the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from acceptance.cache import Cache, digest
from acceptance.config.connector import Connector
from acceptance.config.loading import LoadedConfig
from acceptance.config.metadata import Metadata
from acceptance.errors import InputFileError, UserError
from acceptance.protocol import catalog as catalogs
from acceptance.protocol.messages import Message, loads
from acceptance.runner import ConnectorRunner, LocalRunner, RunResult
from acceptance.runner import base as commands
from acceptance.runner.backend import Backend
from acceptance.runner.spool import MessageSpool
from acceptance.runner.timing import RunLog, TimedRunner
from acceptance.secrets import Masker, secret_values

if TYPE_CHECKING:  # imported where used: only the spec and discovery suites look for the previous release
    from acceptance.compat.previous_release import PreviousRelease, Unavailable

T = TypeVar("T")


@dataclass
class Deadline:
    """A test's time budget; every connector command it runs gets what is left of it."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return max(0.1, self.seconds - (time.monotonic() - self.started))

    def restart(self) -> None:
        """Start the budget again, e.g. after installing the previous release (not the connector's time)."""
        self.started = time.monotonic()


# Inputs nested deeper than this are refused: no real config, catalog or state comes near, and hashing, masking and
# comparing them must not run out of stack.
MAX_INPUT_DEPTH = 256


def nesting_depth(document: Any) -> int:
    """How deep lists and objects nest in `document` (a scalar is 0), computed without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def read_input(path: Path, key: str, expected: str) -> bytes:
    """The bytes of an input file named by the config at `key`; an InputFileError saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        problem = "file not found"
    except IsADirectoryError:
        problem = f"is a folder, expected {expected}"
    except PermissionError:
        problem = "permission denied"
    except OSError as error:  # e.g. a name too long
        problem = f"cannot be read ({error.strerror or error})"
    except ValueError:  # a NUL character in the path (shown escaped: it would garble the terminal)
        path, problem = Path(str(path).replace("\0", "\\0")), "not a usable path (it contains a NUL character)"
    raise InputFileError(path, problem, key)


@dataclass(frozen=True)
class _Failed:
    """A memoized computation that stopped on the user's input."""

    error: UserError


@dataclass(frozen=True)
class PreviousOptions:
    """How the user named the previous release, if they did (--previous-image / --previous-command)."""

    image: str | None = None
    command: str | None = None
    command_version: str | None = None  # --previous-version: what release --previous-command runs


class AcceptanceContext:
    def __init__(self, connector: Connector, backend: Backend, cache: Cache,
                 previous: PreviousOptions = PreviousOptions()) -> None:
        self.connector = connector
        self.loaded: LoadedConfig = connector.loaded
        self.metadata: Metadata | None = connector.metadata
        self.backend = backend
        self.cache = cache
        self.previous_options = previous
        self.run_log = RunLog()  # the connector commands this session ran, timed
        self.masker = Masker()  # grows with the secrets of every config the run loads
        self.environment = {k: str(v) for k, v in (self.loaded.config.custom_environment_variables or {}).items()}
        self._identity: str | None = None
        self._connection_specification: Any = None
        self._spec_looked_up = False
        self._memo: dict[tuple[str, str], Any] = {}
        self._failed_runs: dict[tuple[str, str, str], RunResult] = {}
        self._previous: dict[tuple[str, str, str | None], PreviousRelease | Unavailable] = {}

    @property
    def identity(self) -> str:
        if self._identity is None:
            self._identity = self.backend.identity()
        return self._identity

    def runner(self) -> ConnectorRunner:
        """The connector's runner; every command it runs is timed in `run_log`."""
        if self.backend.kind == "docker":
            from acceptance.runner.docker import DockerRunner  # the Docker SDK is only imported when used

            assert self.backend.image is not None
            return TimedRunner(DockerRunner(self.backend.image, environment=self.environment, masker=self.masker,
                                            network=self.backend.network), self.run_log)
        command = self.backend.command
        assert command is not None
        return TimedRunner(LocalRunner(command.argv, cwd=command.cwd, environment=self.environment,
                                       masker=self.masker), self.run_log)

    # -- inputs -------------------------------------------------------------------------------------------------

    def load_json(self, relative_path: str, key: str) -> Any:
        """A JSON input file named by the config at `key` (e.g. acceptance_tests.connection.tests[0].config_path)."""
        path = self.loaded.resolve(relative_path)
        data = read_input(path, key, "a JSON file")
        try:
            document = loads(data)
        except ValueError as error:
            raise InputFileError(path, f"not valid JSON ({error})", key) from None
        if nesting_depth(document) > MAX_INPUT_DEPTH:
            raise InputFileError(path, f"nested more than {MAX_INPUT_DEPTH} levels deep", key)
        return document

    def configured_catalog(self, inputs: Any, discovered: dict[str, Any], *, from_file: bool,
                           exclude: tuple[str, ...] = ()) -> dict[str, Any]:
        """The catalog an entry reads with: its `configured_catalog_path` (checked, with the discovered schemas)
        when `from_file`, else every discovered stream but `exclude` (reference §7)."""
        if not from_file:
            return catalogs.configured_from_discovered(discovered, exclude=exclude)
        key = f"{inputs.location}.configured_catalog_path"
        loaded = self.load_json(inputs.configured_catalog_path, key)
        problems = catalogs.configured_catalog_problems(loaded)
        if problems:
            raise InputFileError(self.loaded.resolve(inputs.configured_catalog_path),
                                 "not a valid ConfiguredAirbyteCatalog: " + "; ".join(problems[:5]), key)
        try:
            return catalogs.configured_from_file(loaded, discovered)
        except catalogs.CatalogError as error:
            raise InputFileError(self.loaded.resolve(inputs.configured_catalog_path), str(error), key) from None

    def basic_read_catalog(self, entry: Any, discovered: dict[str, Any]) -> dict[str, Any]:
        """The catalog a basic_read entry reads with (test_basic_read, update_expected_records): its configured
        catalog file at low strictness; at high strictness or without a file, every discovered stream minus the
        entry's empty streams."""
        from_file = bool(entry.configured_catalog_path) and not self.loaded.config.is_high_strictness
        return self.configured_catalog(entry, discovered, from_file=from_file,
                                       exclude=tuple(stream.name for stream in entry.empty_streams or []))

    def load_spec_file(self, relative_path: str, key: str) -> Any:
        """An expected spec: JSON or YAML; a low-code `manifest.yaml` yields its `spec.connection_specification`."""
        path = self.loaded.resolve(relative_path)
        if path.suffix == ".json":
            return self.load_json(relative_path, key)
        if path.suffix not in (".yaml", ".yml"):
            raise InputFileError(path, "expected a .json, .yaml or .yml spec file", key)
        data = read_input(path, key, "a YAML file")
        try:
            document = yaml.safe_load(data.decode("utf-8"))
        except (yaml.YAMLError, ValueError) as error:  # ValueError: not UTF-8, or a date such as 2023-02-30
            raise InputFileError(path, f"not valid YAML ({error})", key) from None
        except RecursionError:
            raise InputFileError(path, "not valid YAML (nested too deeply)", key) from None
        if path.stem == "manifest" and isinstance(document, dict):
            spec = document.get("spec")
            connection_specification = spec.get("connection_specification") if isinstance(spec, dict) else None
            return {"connectionSpecification": connection_specification}
        return document

    def load_connector_config(self, entry: Any, timeout: float, field_name: str = "config_path") -> Any:
        """The connector config an entry names; its secrets are masked from here on."""
        config = self.load_json(getattr(entry, field_name), f"{entry.location}.{field_name}")
        self.learn_secrets(config, timeout)
        return config

    def learn_secrets(self, config: Any, timeout: float) -> None:
        try:
            spec = self.connection_specification_or_none(timeout)
        except Exception:  # a broken `spec` must not stop us masking the config's obviously secret keys
            spec = None
        self.masker.add(secret_values(spec or {}, config))

    # -- connector commands, cached where the result only depends on the connector and its inputs ----------------

    def spec_run(self, timeout: float) -> RunResult:
        return self._cached_run("spec", None, lambda: commands.spec(self.runner(), timeout), expect="SPEC")

    def discover_run(self, config: Any, timeout: float) -> RunResult:
        if not self.loaded.config.cached_discovered_catalog:  # the config asks for a fresh discover every time
            return commands.discover(self.runner(), config, timeout)
        return self._cached_run(
            "discover", config, lambda: commands.discover(self.runner(), config, timeout), expect="CATALOG"
        )

    def check_run(self, config: Any, timeout: float) -> RunResult:
        return commands.check(self.runner(), config, timeout)

    def read_run(self, config: Any, catalog: Any, timeout: float, state: Any = None) -> RunResult:
        """A fresh read: output spooled to disk, never held whole in memory."""
        return commands.read(self.runner(), config, catalog, state, timeout)

    def memo(self, kind: str, inputs: Any, compute: Callable[[], T]) -> T:
        """Compute once per session for the same inputs (e.g. one basic read shared by the basic_read tests)."""
        key = (kind, digest(inputs))
        if key not in self._memo:
            try:
                self._memo[key] = compute()
            except UserError as error:  # a broken input file stays broken: the next test must not run it all again
                self._memo[key] = _Failed(error)
        value = self._memo[key]
        if isinstance(value, _Failed):
            raise value.error.with_traceback(None)
        return value  # type: ignore[no-any-return]

    # -- the previous release, for backward compatibility ---------------------------------------------------------

    def previous_release(self, previous_connector_version: str, disable_for_version: str | None = None
                         ) -> PreviousRelease | Unavailable:
        """The previous release (resolved once per session and version), or why it is not there."""
        from acceptance.compat.previous_release import find_previous_release

        key = ("previous", previous_connector_version, disable_for_version)
        if key not in self._previous:
            self._previous[key] = find_previous_release(
                self.connector, self.backend, previous_connector_version,
                disable_for_version=disable_for_version,
                previous_image=self.previous_options.image, previous_command=self.previous_options.command,
                previous_command_version=self.previous_options.command_version, cache_root=self.cache.root,
            )
        return self._previous[key]

    def previous_spec_run(self, release: PreviousRelease, timeout: float) -> RunResult:
        runner = TimedRunner(release.runner(self.environment, self.masker, self.backend.network), self.run_log)
        return self._cached_run("spec", None, lambda: commands.spec(runner, timeout), expect="SPEC",
                                identity=release.identity)

    def previous_discover_run(self, release: PreviousRelease, config: Any, timeout: float) -> RunResult:
        runner = TimedRunner(release.runner(self.environment, self.masker, self.backend.network), self.run_log)
        return self._cached_run("discover", config, lambda: commands.discover(runner, config, timeout),
                                expect="CATALOG", identity=release.identity)

    def connection_specification_or_none(self, timeout: float) -> Any:
        """The connector's connectionSpecification when `spec` works (used for masking), else None."""
        if not self._spec_looked_up:
            self._spec_looked_up = True  # once per session, even when `spec` is broken
            result = self.spec_run(timeout)
            specs = result.of_type("SPEC")
            if len(specs) == 1 and isinstance(specs[0].get("spec"), dict):
                self._connection_specification = specs[0]["spec"].get("connectionSpecification")
        return self._connection_specification

    def _cached_run(self, kind: str, config: Any, run: Callable[[], RunResult], expect: str,
                    identity: str | None = None) -> RunResult:
        inputs = {"config": config, "environment": self.environment}

        def usable(result: RunResult) -> bool:
            return result.succeeded and bool(result.messages.counts.get(expect))

        def encode(result: RunResult) -> Any | None:
            if not usable(result):
                return None  # failures are never cached: the next session retries
            kept = [m for m in result.messages if m.get("type") != "LOG"]
            return {
                "command": result.command,
                "exit_code": result.exit_code,
                "duration": result.duration,
                "stderr_tail": result.stderr_tail,
                "messages": self.masker.mask_data(kept),
            }

        def decode(raw: dict[str, Any]) -> RunResult:
            messages: list[Message] = raw["messages"]
            return RunResult(raw["command"], raw["exit_code"], raw["duration"], MessageSpool.of(messages),
                             raw["stderr_tail"], backend="cache")

        # A failed run is not cached on disk (the next session retries), but within this session it is not run
        # again by every test that needs it: a hanging `spec` would otherwise cost its timeout once per test.
        failed_key = (identity or self.identity, kind, digest(inputs))
        if failed_key in self._failed_runs:
            return self._failed_runs[failed_key]
        result = self.cache.get_or_compute(identity or self.identity, kind, inputs, run, encode=encode,
                                           decode=decode)
        if not usable(result):
            self._failed_runs[failed_key] = result
        return result

    @cached_property
    def environment_summary(self) -> str | None:
        """What the local connector's virtualenv holds, from the record its build wrote (None: no such record); read
        once a session (the report header and report.json both say it)."""
        from acceptance.runner.environment import environment_of

        command = self.backend.command
        record = environment_of(command.argv) if command and self.backend.kind == "local" else None
        return record.summary() if record else None

    def describe(self) -> str:
        how = f"chosen by {self.backend.command.origin}" if self.backend.command else "Docker backend"
        return f"{self.runner().describe()} ({how}: {self.backend.reason}); config {self.loaded.file}"
