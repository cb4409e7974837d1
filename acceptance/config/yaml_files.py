"""Reading a YAML file into plain data, safely: anything wrong (unreadable, not UTF-8, bad syntax, nested too
deeply) is a `ConfigError` naming the file and the line."""

from __future__ import annotations

from pathlib import Path

import yaml

from acceptance.errors import ConfigError

TOO_DEEP = "nested too deeply to read (hundreds of levels or more)"
# libyaml recurses in C: a document nested some 30,000 levels deep overflows the stack and kills the process (a
# segfault, no exception). Every level needs one of these characters, so a text with few of them is safe for it;
# the rare text with many goes to the pure-Python loader, which raises RecursionError instead.
_NESTING_CHARACTERS = "[{-?:"
_C_LOADER_MAX_NESTING = 5_000


def read_yaml(file: Path) -> object:
    """The plain data of a YAML file (safe loader); anything wrong is a ConfigError naming the file and line."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(file, [("", f"cannot read the file: {reason}")]) from None
    try:
        return yaml.load(text, Loader=_loader_for(text))  # a safe loader: plain data only
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(file, [("", _yaml_syntax_problem(exc, text))]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses (NUL, other control characters)
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)  # libyaml gives the code
        problem = f"YAML syntax error at line {line}: the character U+{code:04X} is not allowed (a control character?)"
        raise ConfigError(file, [("", problem)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, [("", f"YAML syntax error: {exc}")]) from None
    except RecursionError:
        raise ConfigError(file, [("", TOO_DEEP)]) from None
    except ValueError as exc:  # a value YAML accepts but Python cannot build: 2023-02-30, a 5,000-digit number
        raise ConfigError(file, [("", f"a value cannot be read: {exc}")]) from None


def _loader_for(text: str) -> type:
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None and sum(text.count(c) for c in _NESTING_CHARACTERS) <= _C_LOADER_MAX_NESTING:
        return fast  # type: ignore[no-any-return]
    return yaml.SafeLoader


def _yaml_syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> str:
    """'YAML syntax error at line L, column C: <problem>', with the likely cause when it is a tab or an unclosed
    bracket."""
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    if mark and mark.line < len(lines) and lines[mark.line][mark.column:mark.column + 1] == "\t":
        problem += " (a tab: YAML indents with spaces only)"
    elif exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        opened = exc.context_mark
        problem += f" ({exc.context} started at line {opened.line + 1}, column {opened.column + 1})"
    return f"YAML syntax error{where}: {problem}"
