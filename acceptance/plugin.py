"""The pytest plugin: `pytest -p acceptance.plugin --acceptance-test-config=DIR`.

It loads the connector's acceptance-test-config.yml once, collects the suites in `acceptance/suites/`, decides for
each suite test whether it runs (once per `tests` entry), is skipped, bypassed or fails (strictness), gives each
test its time budget, and masks secrets in every report.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from acceptance import registry
from acceptance.cache import Cache, default_cache_dir
from acceptance.config.connector import Connector
from acceptance.config.loading import load_config
from acceptance.config.strictness import strictness
from acceptance.context import AcceptanceContext, Deadline, PreviousOptions
from acceptance.errors import ConfigError, InputFileError, UserError
from acceptance.report.files import ReportDir
from acceptance.report.progress import ProgressRunner
from acceptance.report.reporter import Reporter, session_name
from acceptance.report.results import SUITE_ATTRIBUTE
from acceptance.runner.backend import BACKENDS, choose_backend
from acceptance.runner.timing import TIMINGS_ENV
from acceptance.secrets import Masker
from acceptance.suites.support import context_key, timeout_key

SUITES_DIR = Path(__file__).parent / "suites"
# Each suite's tests live in `test_<name>.py`.
SUITE_MODULES = {f"test_{suite.name}.py": suite.name for suite in registry.SUITES}
CONFIG_OPTION = "--acceptance-test-config"
HOOKS_FILE = "integration_tests/acceptance.py"
first_reported_key = pytest.StashKey[dict[str, str]]()  # input problem -> the first test it stopped (this process)
INPUT_ERROR = "acceptance_input_error"  # the user property marking a report of an input error


class Unconfigured:
    """The `inputs` of a mandatory suite that high strictness requires but the config lacks: the test fails."""

    def __init__(self, message: str) -> None:
        self.message = message


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("connector-acceptance", "connector acceptance tests")
    group.addoption(CONFIG_OPTION, metavar="DIR", default=None,
                    help="connector folder holding acceptance-test-config.yml; enables the acceptance suites")
    group.addoption("--connector-command", metavar="CMD", default=None,
                    help="command that runs the connector (e.g. 'python main.py'); default: the folder's "
                         ".venv console script from `nox -s build`, else `python main.py` in the folder")
    group.addoption("--backend", default="auto", choices=BACKENDS,
                    help="run the connector's Docker image or a local process; auto: the image when Docker answers "
                         "and it is built (and no --connector-command), else local")
    group.addoption("--image", metavar="NAME", default=None,
                    help="the connector image for the Docker backend (default: connector_image, else "
                         "<dockerRepository>:dev)")
    group.addoption("--previous-image", metavar="NAME", default=None,
                    help="the previous release to compare against, as an image (default: <repository>:latest with "
                         "the Docker backend, the previous PyPI release with the local backend)")
    group.addoption("--previous-command", metavar="CMD", default=None,
                    help="the previous release to compare against, as a command (e.g. another checkout's "
                         "'python main.py')")
    group.addoption("--previous-version", metavar="VERSION", default=None,
                    help="the version of --previous-command's release; without it the version is unknown and any "
                         "breaking difference fails")
    group.addoption("--fail-fast", action="store_true", default=False,
                    help="stop at the first failing test (pytest's -x); with `--lf` only what failed last time runs")
    group.addoption("--suite", action="append", default=[], choices=registry.names(), metavar="NAME",
                    help=f"run only this suite (repeatable): {', '.join(registry.names())}")
    group.addoption("--no-cache", action="store_true", default=False,
                    help="always run spec/discover again instead of reusing the shared on-disk cache")
    group.addoption("--cache-dir", metavar="DIR", default=None,
                    help=f"shared cache folder (default {default_cache_dir()}; env CONNECTOR_ACCEPTANCE_CACHE_DIR)")
    group.addoption("--report-dir", metavar="DIR", default=None,
                    help="write report.json, report.html and junit.xml here (combined across the sessions of a run)")
    group.addoption("--report-run", metavar="ID", default=None,
                    help="the run this session belongs to: --report-dir drops the sessions of other runs")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    # The suites live in this package: collect them whenever the plugin is asked to test a connector. They must be
    # the run's paths before pytest picks its initial conftests, or it would fall back to the `testpaths` of
    # whatever project the command runs in and load that project's conftest.py into the acceptance run.
    if any(a == CONFIG_OPTION or a.startswith(CONFIG_OPTION + "=") for a in args):
        args.append(str(SUITES_DIR))
        paths = early_config.known_args_namespace.file_or_dir
        if str(SUITES_DIR) not in paths:
            paths.append(str(SUITES_DIR))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With --suite, the other suites' modules are not even imported: each nox session starts faster."""
    selected = config.getoption("suite", default=None)
    if not selected or collection_path.parent != SUITES_DIR:
        return None
    suite = SUITE_MODULES.get(collection_path.name)
    return True if suite is not None and suite not in selected else None


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("fail_fast", default=False):
        config.option.maxfail = 1
    config.addinivalue_line("markers", "backward_compatibility: compares against the previous connector release")
    config.addinivalue_line("markers", "acceptance_suite(name): the acceptance suite a test belongs to")
    directory = config.getoption("acceptance_test_config", default=None)
    if directory is None:
        return
    try:
        connector = Connector.of_config(load_config(Path(directory)))
        backend = choose_backend(connector, config.getoption("backend"), image=config.getoption("image"),
                                 connector_command=config.getoption("connector_command"))
    except UserError as error:
        raise pytest.UsageError(str(error)) from None
    cache_dir = config.getoption("cache_dir")
    cache = Cache(Path(cache_dir) if cache_dir else None, enabled=not config.getoption("no_cache"))
    config.stash[context_key] = AcceptanceContext(
        connector, backend, cache,
        previous=PreviousOptions(config.getoption("previous_image"), config.getoption("previous_command"),
                                 config.getoption("previous_version")),
    )
    config.pluginmanager.register(InputErrors(config.stash[context_key].masker), name="acceptance-input-errors")
    register_reporter(config, config.stash[context_key])
    hooks = load_connector_hooks(connector.folder)
    if hooks is not None:
        config.pluginmanager.register(hooks, name=f"connector-hooks:{connector.folder}")


def register_reporter(config: pytest.Config, context: AcceptanceContext) -> None:
    """The progress lines, the summary table and the --report-dir files (not on xdist workers: the controller
    gets every report). Without --junitxml, pytest's JUnit file goes to the report folder."""
    if hasattr(config, "workerinput"):
        return
    folder = config.getoption("report_dir", default=None)
    report_dir = None
    if folder:
        report_dir = ReportDir(Path(folder), session_name(config.getoption("suite") or []),
                               config.getoption("report_run", default=None), context.masker)
        if not config.option.xmlpath:
            report_dir.session_junit.parent.mkdir(parents=True, exist_ok=True)
            config.option.xmlpath = str(report_dir.session_junit)
            report_dir.owns_junit = True
    reporter = Reporter(config, context.masker, report_dir, f"Acceptance tests: {context.loaded.base_path.name}",
                        f"connector {context.loaded.base_path}; backend {context.backend.kind}"
                        + (f"; environment: {environment}" if (environment := context.environment_summary) else ""))
    config.pluginmanager.register(reporter, name="acceptance-reporter")
    # Every connector command of the connector under test, said as it starts and ends.
    runner = context.runner
    context.runner = (  # type: ignore[method-assign]
        lambda: ProgressRunner(runner(), reporter.say, lambda: reporter.current_suite))


def load_connector_hooks(base_path: Path) -> ModuleType | None:
    """The connector's `integration_tests/acceptance.py`, imported as a pytest plugin so its fixtures (e.g. a
    session fixture starting a service the connector reads from) run around the suites, as upstream documents."""
    path = base_path / HOOKS_FILE
    if not path.is_file():
        return None
    name = f"connector_acceptance_hooks_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise pytest.UsageError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's code: say where it broke, briefly
        sys.modules.pop(name, None)
        raise pytest.UsageError(f"{path}: importing it failed: {type(error).__name__}: {error}") from None
    # Upstream files often say `pytest_plugins = ("connector_acceptance_test.plugin",)`: this plugin replaces it.
    module.pytest_plugins = ()  # type: ignore[attr-defined]
    return module


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Where the session's time went: the connector's own commands against the whole session."""
    context = config.stash.get(context_key, None)
    if context is None:
        return
    terminalreporter.write_line(context.run_log.render())
    timings = os.environ.get(TIMINGS_ENV)
    if timings:
        context.run_log.append_to(timings, connector=str(context.loaded.base_path),
                                  suites=config.getoption("suite") or [])


def pytest_report_header(config: pytest.Config) -> list[str]:
    context = config.stash.get(context_key, None)
    if context is None:
        return []
    lines = [f"connector: {context.describe()}",
             f"strictness: {strictness(context.loaded)}; cache: "
             + (str(context.cache.root) if context.cache.enabled else "off (--no-cache)")]
    environment = context.environment_summary
    lines += [f"environment: {environment}"] if environment else []
    lines += [f"notice: {notice}" for notice in context.loaded.notices]
    return lines



def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "inputs" not in metafunc.fixturenames or metafunc.cls is None:
        return
    context = metafunc.config.stash.get(context_key, None)
    suite = registry.by_test_class(metafunc.cls.__name__)
    if context is None or suite is None:
        return
    name = f"{metafunc.cls.__name__}.{metafunc.function.__name__}"
    generic = context.loaded.suite(suite.name)
    if generic is None:
        if suite.mandatory_at_high and strictness(context.loaded) == "high":
            message = (f"{name}: the `{suite.name}` suite is not configured, but test_strictness_level high "
                       f"requires it: add `acceptance_tests.{suite.name}.tests` or a `bypass_reason`")
            params = [pytest.param(Unconfigured(message), id="not-configured")]
        else:
            params = [_skipped(f"Skipping {name}: `{suite.name}` not found in the config.", "not-configured")]
    elif generic.is_bypassed:
        params = [_skipped(f"Bypassed: {generic.bypass_reason}", "bypassed")]
    elif not generic.tests:
        params = [_skipped(f"Skipping {name}: `{suite.name}.tests` is empty.", "no-tests")]
    else:
        params = [pytest.param(entry, id=f"inputs{i}") for i, entry in enumerate(generic.tests)]
    # indirect: the `inputs` fixture turns an Unconfigured marker into a failure with its message.
    metafunc.parametrize("inputs", params, indirect=True)


def _skipped(reason: str, id: str) -> object:
    return pytest.param(None, id=id, marks=pytest.mark.skip(reason=reason))


def pytest_collection_finish(session: pytest.Session) -> None:
    """What exists now (modules, plugins, the collected tests) lives until the session ends: keeping it out of
    the garbage collector's sight makes each full collection during the reads, and pytest's at the end, cheaper."""
    gc.freeze()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    context = config.stash.get(context_key, None)
    if context is None:
        return
    selected_suites = set(config.getoption("suite") or [])
    keep, drop = [], []
    for item in items:
        suite = _suite_of(item)
        if suite is None:
            keep.append(item)
            continue
        if selected_suites and suite.name not in selected_suites:
            drop.append(item)
            continue
        keep.append(item)
        item.stash[timeout_key] = float(_timeout_of(item, suite))
        if not item.get_closest_marker("acceptance_suite"):
            item.add_marker(pytest.mark.acceptance_suite(suite.name))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _suite_of(item: pytest.Item) -> registry.Suite | None:
    marker = item.get_closest_marker("acceptance_suite")
    if marker:
        return registry.get(marker.args[0])
    return registry.by_test_class(item.cls.__name__) if getattr(item, "cls", None) else None


def _timeout_of(item: pytest.Item, suite: registry.Suite) -> float:
    inputs = getattr(item, "callspec", None) and item.callspec.params.get("inputs")
    configured = getattr(inputs, "timeout_seconds", None)
    if configured:
        return configured
    if item.get_closest_marker("backward_compatibility"):
        return registry.BACKWARD_COMPATIBILITY_TIMEOUT
    return suite.default_timeout


@pytest.fixture(scope="session")
def acceptance(request: pytest.FixtureRequest) -> AcceptanceContext:
    """The shared run context: config, connector command, cache and masker."""
    context = request.config.stash.get(context_key, None)
    if context is None:
        pytest.fail(f"the acceptance suites need {CONFIG_OPTION}=DIR", pytrace=False)
    return context


@pytest.fixture
def deadline(request: pytest.FixtureRequest) -> Deadline:
    """This test's time budget (suite default, or the entry's timeout_seconds)."""
    return Deadline(request.node.stash.get(timeout_key, 600.0))


@pytest.fixture
def inputs(request: pytest.FixtureRequest) -> Any:
    """The `tests` entry of the suite this test runs for."""
    value = request.param
    if isinstance(value, Unconfigured):
        pytest.fail(value.message, pytrace=False)
    return value


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    context = item.config.stash.get(context_key, None)
    if context is None:
        return
    report: pytest.TestReport = outcome.get_result()
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, (InputFileError, ConfigError)):  # a broken input file: said in full once
        report.longrepr = _input_error_text(item, report, error)
    elif isinstance(error, UserError):
        report.longrepr = str(error)  # a user mistake: the message, not a traceback
    marker = item.get_closest_marker("acceptance_suite")
    setattr(report, SUITE_ATTRIBUTE, str(marker.args[0]) if marker else "")  # the reports' suite column
    _mask_report(report, context)


def _problem_of(error: InputFileError | ConfigError) -> tuple[str, str | None]:
    """(what is wrong, the config key that named the file): tests reading one broken file share the problem even
    when different entries name it."""
    if isinstance(error, InputFileError) and error.key:
        return str(error).replace(f" (from {error.key})", "", 1), error.key
    return str(error), None


def _input_error_text(item: pytest.Item, report: pytest.TestReport, error: InputFileError | ConfigError) -> str:
    """The whole message for the first test an input file stops; a pointer to it for every later one. (Other user
    errors, such as a failing client container command or no Docker engine, are said in full by every test.)"""
    problem, key = _problem_of(error)
    problem = item.config.stash[context_key].masker.mask(problem)  # the user properties may end in a JUnit file
    report.user_properties.append((INPUT_ERROR, {"problem": problem, "key": key}))
    first = item.config.stash.setdefault(first_reported_key, {})
    if problem not in first:
        first[problem] = item.nodeid.split("::", 1)[-1]
        return str(error)
    return f"{error.file.name}: the same input error as {first[problem]} (said once, under “input errors” below)"


class InputErrors:
    """Collects the input errors of the run (on the xdist controller too) and says each one once at the end,
    with the keys that named the file and how many tests it stopped."""

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self.problems: dict[str, tuple[list[str], set[str]]] = {}  # problem -> (keys, test node ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == INPUT_ERROR:
                keys, tests = self.problems.setdefault(value["problem"], ([], set()))
                if value["key"] and value["key"] not in keys:
                    keys.append(value["key"])
                tests.add(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.problems:
            return
        terminalreporter.section("input errors", red=True, bold=True)
        for problem, (keys, tests) in self.problems.items():
            terminalreporter.write_line(self.masker.mask(problem))
            named = f"named by {', '.join(keys)}; " if keys else ""
            terminalreporter.write_line(f"  {named}stopped {len(tests)} test{'s' if len(tests) != 1 else ''}")


def _mask_report(report: pytest.TestReport, context: AcceptanceContext) -> None:
    masker = context.masker
    if not masker.secrets:
        return
    if report.longrepr is not None:
        text = str(report.longrepr) if not isinstance(report.longrepr, tuple) else str(report.longrepr[2])
        masked = masker.mask(text)
        if masked != text:
            report.longrepr = masked
    report.sections = [(title, masker.mask(content)) for title, content in report.sections]
