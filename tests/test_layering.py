"""The package layout keeps its promises: imports point down the layers (README "How it is built"), no module imports
itself back through others, and the low layers stay free of pytest, Docker and the build tooling.

Every import counts, including the ones inside functions (lazy on purpose) and under TYPE_CHECKING: a lazy import
still ties the two modules together."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each unit of the layout, and the units it may import (besides itself). The order is the README's table.
FOUNDATION = {"acceptance.errors", "acceptance.files", "acceptance.findings", "acceptance.secrets"}
MAY_IMPORT: dict[str, set[str]] = {
    "acceptance.errors": set(),
    "acceptance.files": set(),
    "acceptance.findings": set(),
    "acceptance.secrets": set(),
    "acceptance.config": FOUNDATION,
    "acceptance.protocol": FOUNDATION,
    "acceptance.cache": FOUNDATION | {"acceptance.protocol"},
    "acceptance.checks": FOUNDATION | {"acceptance.protocol"},
    "acceptance.registry": FOUNDATION | {"acceptance.config"},
    "acceptance.runner": FOUNDATION | {"acceptance.config", "acceptance.protocol", "acceptance.cache"},
    "acceptance.report": FOUNDATION | {"acceptance.protocol", "acceptance.runner"},
    "acceptance.compat": FOUNDATION | {"acceptance.config", "acceptance.protocol", "acceptance.cache",
                                       "acceptance.runner"},
    "acceptance.context": FOUNDATION | {"acceptance.config", "acceptance.protocol", "acceptance.cache",
                                        "acceptance.runner", "acceptance.compat"},
    "acceptance.suites": FOUNDATION | {"acceptance.config", "acceptance.protocol", "acceptance.cache",
                                       "acceptance.checks", "acceptance.registry", "acceptance.runner",
                                       "acceptance.compat", "acceptance.context"},
    "acceptance.plugin": FOUNDATION | {"acceptance.config", "acceptance.protocol", "acceptance.cache",
                                       "acceptance.registry", "acceptance.runner", "acceptance.report",
                                       "acceptance.context", "acceptance.suites"},
}
# Third-party packages a unit must not import: the checks are plain functions, the models know nothing of how the
# connector runs, and nothing in acceptance/ depends on the build tooling.
MUST_NOT_IMPORT: dict[str, set[str]] = {
    "acceptance.checks": {"pytest", "docker", "nox", "invoke", "_pytest"},
    "acceptance.protocol": {"pytest", "docker", "nox", "invoke", "_pytest"},
    "acceptance.config": {"pytest", "docker", "nox", "invoke", "_pytest"},
    "acceptance.compat": {"pytest", "nox", "invoke", "_pytest"},
    "acceptance.runner": {"pytest", "nox", "invoke", "_pytest"},
}
BUILD_TOOLING = {"tasks", "nox", "invoke", "noxfile"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """`acceptance.protocol.catalog` -> `acceptance.protocol`; a top-level module is its own unit."""
    parts = module.split(".")
    return module if parts[0] != "acceptance" else ".".join(parts[:2])


def project_modules() -> dict[str, Path]:
    files = [*(ROOT / "acceptance").rglob("*.py"), *(ROOT / "tasks").rglob("*.py")]
    return {module_name(path): path for path in sorted(files)}


def imported(path: Path) -> Iterator[tuple[str, int]]:
    """Every module name an import statement in `path` names (for `from a import b`, `a` and `a.b`), with its line."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


MODULES = project_modules()


def project_imports(module: str) -> set[str]:
    """The project modules `module` imports (names that are not modules, e.g. `from a import function`, dropped)."""
    return {name for name, _ in imported(MODULES[module]) if name in MODULES and name != module}


def test_every_acceptance_unit_has_a_layer() -> None:
    units = {unit_of(module) for module in MODULES if module.startswith("acceptance.")}
    assert units - set(MAY_IMPORT) == set(), "a new package or top-level module: give it a row in MAY_IMPORT"


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("acceptance.")])
def test_imports_point_down(module: str) -> None:
    unit = unit_of(module)
    wrong = []
    for name, line in imported(MODULES[module]):
        top = name.split(".")[0]
        if top in BUILD_TOOLING:
            wrong.append(f"line {line}: {name} (acceptance/ never imports the build tooling)")
        elif top in MUST_NOT_IMPORT.get(unit, set()):
            wrong.append(f"line {line}: {name} ({unit} must not import {top})")
        elif top == "acceptance" and name in MODULES or name == "acceptance":
            target = unit_of(name)
            if target not in (unit, "acceptance") and target not in MAY_IMPORT[unit]:
                wrong.append(f"line {line}: {name} ({unit} may import {', '.join(sorted(MAY_IMPORT[unit]))})")
    assert wrong == [], f"{MODULES[module].relative_to(ROOT)} imports upwards:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph = {module: project_imports(module) for module in MODULES}
    # A package's __init__ importing its own modules is not a cycle of ideas: leave those edges out.
    graph = {m: {t for t in targets if not t.startswith(m + ".")} for m, targets in graph.items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_layering_test_sees_an_upward_import(tmp_path: Path) -> None:
    """The checks above can fail: an import of the runner from the protocol layer is found and named."""
    source = tmp_path / "bad.py"
    source.write_text("def f():\n    from acceptance.runner.local import LocalRunner\n")
    names = [name for name, _ in imported(source)]
    assert "acceptance.runner.local" in names
    assert unit_of("acceptance.runner.local") not in MAY_IMPORT["acceptance.protocol"]


@pytest.mark.parametrize("package", [m for m, path in MODULES.items() if path.name == "__init__.py"])
def test_each_package_says_what_it_offers(package: str) -> None:
    init = MODULES[package]
    docstring = ast.get_docstring(ast.parse(init.read_text()))
    assert docstring, f"{init.relative_to(ROOT)}: a docstring naming what the package offers"
