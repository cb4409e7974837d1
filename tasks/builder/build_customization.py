"""A connector's `build_customization.py` (generated builds only; loaded by file path): `MAIN_FILE_NAME` and the
`pre_install` / `post_install` hooks that edit the generated Dockerfile's lines."""

from __future__ import annotations

import importlib.util
import traceback
from pathlib import Path
from types import ModuleType

from acceptance.errors import BuildError
from tasks.builder.engine import tail
from tasks.builder.identity import short_hash

CUSTOMIZATION_FILE = "build_customization.py"


def load_customization(folder: Path) -> ModuleType | None:
    path = folder / CUSTOMIZATION_FILE
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_build_customization_{short_hash(str(path))}", path)
    if spec is None or spec.loader is None:
        raise BuildError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise BuildError(f"{path}: could not be loaded:\n{_exception_tail(error)}") from None
    for dagger_hook, ours in (("pre_connector_install", "pre_install"), ("post_connector_install", "post_install")):
        if hasattr(module, dagger_hook) and not hasattr(module, ours):
            raise BuildError(f"{path}: defines {dagger_hook}, airbyte-ci's dagger hook, which this tool cannot run; "
                             f"define {ours}(dockerfile: list[str]) -> list[str] instead")
    return module


def main_file(customization: ModuleType | None, folder: Path) -> str:
    main_file = getattr(customization, "MAIN_FILE_NAME", "main.py") if customization else "main.py"
    if not isinstance(main_file, str) or not main_file or main_file.startswith("/"):
        raise BuildError(f"{folder / CUSTOMIZATION_FILE}: MAIN_FILE_NAME must be a relative file name, "
                         f"got {main_file!r}")
    return main_file


def apply_hook(customization: ModuleType | None, name: str, lines: list[str]) -> list[str]:
    hook = getattr(customization, name, None) if customization else None
    if hook is None:
        return lines
    path = customization.__file__ if customization else CUSTOMIZATION_FILE
    if not callable(hook):
        raise BuildError(f"{path}: {name} must be a function (dockerfile: list[str]) -> list[str]")
    try:
        result = hook(list(lines))
    except Exception as error:
        raise BuildError(f"{path}: {name}() failed:\n{_exception_tail(error)}") from None
    if not isinstance(result, list) or not all(isinstance(line, str) for line in result):
        raise BuildError(f"{path}: {name}() must return the Dockerfile lines as a list of strings, "
                         f"got {type(result).__name__}")
    return result


def _exception_tail(error: BaseException) -> str:
    return tail("".join(traceback.format_exception(error)))
