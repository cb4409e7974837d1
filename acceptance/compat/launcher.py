"""The launcher script written into a previous release's virtualenv when the release declares no console script:
it finds the connector in the installed package and starts it (see `_LAUNCHER`)."""

from __future__ import annotations

DESCRIBE = "--connector-acceptance-describe"  # launcher argument: say what would run, and exit


def launcher_source(distribution: str) -> str:
    """The launcher script for `distribution`, a release without a console script (see `_LAUNCHER`)."""
    return _LAUNCHER.replace("__DISTRIBUTION__", repr(distribution)).replace("__DESCRIBE__", repr(DESCRIBE))


# Runs in the release's venv, with whatever Python and CDK it has: plain, old-fashioned code, no imports of ours.
_LAUNCHER = '''\
"""Starts a connector release that declares no console script (written by connector-acceptance).

It imports the distribution's top-level packages (the one named like the distribution first) and runs the first of:
a `run()` function (`pkg.run` or `pkg.run.run`), else the package's Source class through
`airbyte_cdk.entrypoint.launch`, else its Destination class through `.run(argv)`.
"""

import importlib
import importlib.metadata
import inspect
import sys

DISTRIBUTION = __DISTRIBUTION__
DESCRIBE = __DESCRIBE__
CONNECTOR_BASES = [
    ("airbyte_cdk.sources", "Source"),
    ("airbyte_cdk.sources.source", "Source"),
    ("airbyte_cdk.sources.abstract_source", "AbstractSource"),
    ("airbyte_cdk.destinations", "Destination"),
]


class LaunchError(Exception):
    pass


def main():
    try:
        description, start = find_connector()
    except LaunchError as error:
        print(f"connector-acceptance launcher: {DISTRIBUTION}: {error}", file=sys.stderr)
        return 1
    if sys.argv[1:2] == [DESCRIBE]:
        print(description)
        return 0
    start()
    return 0


def find_connector():
    problems = []
    names = top_level_packages()
    for name in names:
        try:
            package = importlib.import_module(name)
            found = find_run(package) or find_class(package)
        except LaunchError:
            raise
        except Exception as error:  # an old release may ship packages that no longer import (its tests)
            problems.append(f"{name}: {type(error).__name__}: {error}")
            continue
        if found:
            return found
    cdk = "" if connector_bases() else " (and airbyte_cdk, to start a class, is not installed)"
    problems.append(f"no run() function and no Source or Destination class in {', '.join(names)}{cdk}")
    raise LaunchError("; ".join(problems))


def top_level_packages():
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise LaunchError("the distribution is not installed") from None
    names = set((dist.read_text("top_level.txt") or "").split())
    if not names:  # wheels built by Poetry have no top_level.txt: take the first folder of each installed file
        for path in dist.files or ():
            top = path.parts[0] if path.parts else ""
            if len(path.parts) > 1 and not top.endswith((".dist-info", ".data")):
                names.add(top)
            elif len(path.parts) == 1 and top.endswith(".py"):
                names.add(top[:-3])
    names = [name for name in names if name.isidentifier()]
    if not names:
        raise LaunchError("it installs no importable package")
    return sorted(names, key=lambda name: (squash(name) != squash(short_name()), name))


def short_name():
    name = DISTRIBUTION.lower()
    return name[len("airbyte-"):] if name.startswith("airbyte-") else name


def squash(name):
    return name.lower().replace("-", "").replace("_", "").replace(".", "")


def find_run(package):
    run = getattr(package, "run", None)
    if inspect.isfunction(run):
        return f"{package.__name__}.run()", run
    module = run if inspect.ismodule(run) else optional_submodule(package, "run")
    run = getattr(module, "run", None)
    if inspect.isfunction(run):
        return f"{package.__name__}.run:run", run
    return None


def find_class(package):
    bases = connector_bases()
    candidates = {}
    for submodule in [None, "source", "destination"]:  # the package's namespace, else where classes usually live
        module = optional_submodule(package, submodule) if submodule else package
        for value in list(vars(module).values()) if module else []:
            if is_connector_class(value, bases):
                candidates.setdefault(value, f"{module.__name__}.{value.__name__}")
        if candidates:
            break
    if not candidates:
        return None
    best = sorted(candidates, key=lambda cls: rank(cls, package))
    if len(best) > 1 and rank(best[0], package) == rank(best[1], package):
        names = ", ".join(sorted(candidates.values()))
        raise LaunchError(f"several connector classes and none named like the package: {names}")
    chosen = best[0]
    return candidates[chosen], lambda: start_class(chosen)


def connector_bases():
    bases = []
    for module_name, attribute in CONNECTOR_BASES:
        try:
            bases.append(getattr(importlib.import_module(module_name), attribute))
        except (ImportError, AttributeError):
            pass
    return tuple(bases)


def is_connector_class(value, bases):
    return (inspect.isclass(value) and issubclass(value, bases) and not inspect.isabstract(value)
            and not value.__module__.startswith("airbyte_cdk"))


def rank(cls, package):
    named_like_package = squash(cls.__name__) == squash(package.__name__)
    defined_in_package = cls.__module__ == package.__name__ or cls.__module__.startswith(package.__name__ + ".")
    return (not named_like_package, not defined_in_package)


def start_class(cls):
    try:
        instance = cls()
    except TypeError as error:
        message = f"connector-acceptance launcher: {DISTRIBUTION}: cannot create {cls.__name__}() ({error})"
        raise SystemExit(message) from None
    destination = optional_module("airbyte_cdk.destinations")
    if destination and isinstance(instance, getattr(destination, "Destination", ())):
        instance.run(sys.argv[1:])
        return
    from airbyte_cdk.entrypoint import launch

    launch(instance, sys.argv[1:])


def optional_submodule(package, name):
    if not hasattr(package, "__path__"):  # a plain module has no submodules
        return None
    return optional_module(f"{package.__name__}.{name}")


def optional_module(name):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is not None and (name == error.name or name.startswith(error.name + ".")):
            return None
        raise


if __name__ == "__main__":
    sys.exit(main())
'''
