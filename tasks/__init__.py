"""Build and orchestration on top of the `acceptance` package: find connectors, build them, run the suites.

Also the Invoke collection (`invoke --list` at the project root): Invoke loads this package as its `tasks` module and
takes its `ns`, built on first use by tasks/invoke_tasks.py, so importing `tasks` (noxfile.py does) does not import
Invoke. Every nox session has its Invoke task of the same name, a thin call of the same function in tasks/commands.py:

    invoke acceptance -- source-faker --backend local        # as nox -s acceptance -- source-faker --backend local
    invoke acceptance --suite spec -- source-faker           # as nox -s "acceptance(suite='spec')" -- source-faker

The arguments after `--` are Invoke's parser remainder: Invoke (3.0+) hands every task of the run its
`Context.remainder`, the words after the first standalone `--`, joined with spaces. tasks.invoke_tasks.posargs takes
them back as the list nox's posargs would be: the command line's own words after `--` when they join to that
remainder (so `--connector-command "python main.py"` stays one argument), else the remainder split as a shell would.
"""

import os
import sys

# Invoke puts the folder of this package itself at the front of sys.path (for `import sibling`), where
# tasks/acceptance.py would hide the `acceptance` package: put the project root there instead, as noxfile.py does.
_FOLDER = os.path.dirname(os.path.abspath(__file__))
if _FOLDER in sys.path:
    sys.path[sys.path.index(_FOLDER)] = os.path.dirname(_FOLDER)


def __getattr__(name: str) -> object:
    """`ns`, the Invoke collection, imported on first use (Invoke asks for it by name)."""
    if name == "ns":
        from tasks.invoke_tasks import ns

        return ns
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
