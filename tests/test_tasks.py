"""The build tooling: finding connectors, what a build would install, and the acceptance session's arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from acceptance.config.connector import Connector, Requirement
from acceptance.errors import ConnectorNotFoundError, UserError
from tasks import connectors
from tasks.acceptance import AcceptanceArgs, parse_args, pytest_command
from tasks.builder.virtualenv import BuildError
from tasks.connectors import CONNECTORS_ROOT_ENV, connectors_root, find_connector, list_connectors


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "connectors"
    for name, marker in (("source-faker", "metadata.yaml"), ("source-pokeapi", "acceptance-test-config.yml"),
                         ("destination-duckdb", "acceptance-test-config.yaml")):
        (root / name).mkdir(parents=True)
        (root / name / marker).write_text("data: {}\n")
    (root / "not-a-connector").mkdir()
    (root / "not-a-connector" / "README.md").write_text("")
    (root / "source-file.txt").write_text("")
    (root / "source-dir-marker" / "metadata.yaml").mkdir(parents=True)  # a folder named like a marker is not one
    return root


# -- connectors -----------------------------------------------------------------------------------------------------


def test_list_connectors(root: Path, tmp_path: Path) -> None:
    assert list_connectors(root) == ["destination-duckdb", "source-faker", "source-pokeapi"]
    assert list_connectors(tmp_path / "missing") == []


def test_find_connector_by_name(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing named source-faker here: the root is used
    assert find_connector("source-faker", root) == (root / "source-faker").resolve()
    assert find_connector("destination-duckdb", root) == (root / "destination-duckdb").resolve()


def test_find_connector_by_path(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "work" / "my-source"
    elsewhere.mkdir(parents=True)
    (elsewhere / "metadata.yaml").write_text("data: {}\n")
    assert find_connector(str(elsewhere), root) == elsewhere.resolve()
    monkeypatch.chdir(tmp_path / "work")
    assert find_connector("my-source", root) == elsewhere.resolve()
    assert find_connector("./my-source", root) == elsewhere.resolve()
    assert find_connector(str(root / "source-pokeapi"), tmp_path / "unrelated") == (root / "source-pokeapi").resolve()


def test_unknown_connector_names_the_root_and_suggests_close_matches(root: Path) -> None:
    with pytest.raises(ConnectorNotFoundError) as raised:
        find_connector("source-fakr", root)
    message = str(raised.value)
    assert "'source-fakr'" in message
    assert str(root) in message
    assert "did you mean source-faker" in message
    assert isinstance(raised.value, UserError)


def test_unknown_connector_without_close_match_lists_known_ones(root: Path, tmp_path: Path) -> None:
    with pytest.raises(ConnectorNotFoundError) as raised:
        find_connector("zzz", root)
    assert "known: destination-duckdb, source-faker, source-pokeapi" in str(raised.value)
    with pytest.raises(ConnectorNotFoundError) as raised:
        find_connector("not-a-connector", root)  # a folder without markers is not a connector
    with pytest.raises(ConnectorNotFoundError) as raised:
        find_connector("source-faker", tmp_path / "empty-root")
    assert "known:" not in str(raised.value) and "did you mean" not in str(raised.value)


def test_connectors_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONNECTORS_ROOT_ENV, str(tmp_path / "from-env"))
    assert connectors_root(str(tmp_path / "from-option")) == (tmp_path / "from-option").resolve()
    assert connectors_root(None) == (tmp_path / "from-env").resolve()
    monkeypatch.delenv(CONNECTORS_ROOT_ENV)
    assert connectors_root(None) == (connectors.PROJECT_ROOT / "connectors").resolve()
    assert connectors.PROJECT_ROOT == Path(__file__).resolve().parent.parent
    monkeypatch.chdir(tmp_path)
    assert connectors_root("relative") == (tmp_path / "relative").resolve()


# -- requirement_for ------------------------------------------------------------------------------------------------


PYPI_METADATA = "data:\n  remoteRegistries:\n    pypi:\n      packageName: airbyte-source-x\n"


def connector(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "source-x"
    folder.mkdir()
    for name, content in files.items():
        (folder / name.replace("_", ".", 1) if name != "metadata" else folder / "metadata.yaml").write_text(content)
    return folder


def test_requirement_from_pep621_pyproject(tmp_path: Path) -> None:
    folder = connector(tmp_path, pyproject_toml='[project]\nname = "source-x-pkg"\nversion = "1.0"\n')
    assert Connector.read(folder).python_requirement() == Requirement(str(folder), "source-x-pkg", local=True)


def test_requirement_from_poetry_pyproject(tmp_path: Path) -> None:
    folder = connector(tmp_path, pyproject_toml='[tool.poetry]\nname = "source-x-poetry"\nversion = "0.1.0"\n')
    assert Connector.read(folder).python_requirement() == Requirement(str(folder), "source-x-poetry", local=True)


def test_local_pyproject_wins_over_pypi_metadata(tmp_path: Path) -> None:
    folder = connector(
        tmp_path,
        pyproject_toml='[project]\nname = "local-name"\n',
        metadata=PYPI_METADATA.replace("data:\n", "data:\n  dockerImageTag: 1.2.3\n"),
    )
    assert Connector.read(folder).python_requirement() == Requirement(str(folder), "local-name", local=True)


def test_requirement_from_metadata_is_pinned_to_the_image_tag(tmp_path: Path) -> None:
    folder = connector(
        tmp_path,
        metadata="data:\n  dockerImageTag: 6.2.1\n  remoteRegistries:\n    pypi:\n      enabled: true\n"
                 "      packageName: airbyte-source-faker\n",
    )
    expected = Requirement("airbyte-source-faker==6.2.1", "airbyte-source-faker", local=False)
    assert Connector.read(folder).python_requirement() == expected


def test_requirement_from_metadata_without_tag_is_unpinned(tmp_path: Path) -> None:
    folder = connector(tmp_path, metadata=PYPI_METADATA)
    expected = Requirement("airbyte-source-x", "airbyte-source-x", local=False)
    assert Connector.read(folder).python_requirement() == expected


def test_requirement_from_setup_py(tmp_path: Path) -> None:
    folder = connector(tmp_path, setup_py="from setuptools import setup\nsetup()\n")
    assert Connector.read(folder).python_requirement() == Requirement(str(folder), "source-x", local=True)


def test_setup_py_with_a_build_system_only_pyproject(tmp_path: Path) -> None:
    # the common setuptools layout: pyproject.toml names only the build backend, setup.py holds the metadata
    folder = connector(
        tmp_path,
        pyproject_toml='[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
        setup_py="from setuptools import setup\nsetup(name='source-x')\n",
    )
    assert Connector.read(folder).python_requirement() == Requirement(str(folder), "source-x", local=True)


def test_pyproject_without_a_name_is_a_build_error(tmp_path: Path) -> None:
    folder = connector(tmp_path, pyproject_toml="[tool.ruff]\nline-length = 100\n")
    with pytest.raises(BuildError) as raised:
        Connector.read(folder).python_requirement()
    assert str(folder / "pyproject.toml") in str(raised.value)
    assert "name" in str(raised.value)


def test_invalid_pyproject_is_a_build_error_naming_the_file(tmp_path: Path) -> None:
    folder = connector(tmp_path, pyproject_toml='[project\nname = "x"\n')
    with pytest.raises(BuildError) as raised:
        Connector.read(folder).python_requirement()
    assert str(folder / "pyproject.toml") in str(raised.value)


def test_nothing_to_build_names_the_folder_and_what_to_add(tmp_path: Path) -> None:
    folder = connector(tmp_path, metadata="data:\n  dockerImageTag: 1.0.0\n")
    with pytest.raises(BuildError) as raised:
        Connector.read(folder).python_requirement()
    message = str(raised.value)
    assert str(folder) in message
    assert "pyproject.toml" in message
    assert "setup.py" in message
    assert "remoteRegistries.pypi.packageName" in message
    assert isinstance(raised.value, UserError)


# -- the acceptance session's arguments -----------------------------------------------------------------------------


def test_parse_args_without_connector_is_a_user_error(root: Path) -> None:
    with pytest.raises(UserError, match="name a connector"):
        parse_args([], prog="acceptance")
    with pytest.raises(UserError, match="nox -s acceptance"):
        parse_args(["--no-cache", f"--connectors-root={root}"], prog="acceptance")


def test_parse_args_known_and_pass_through_options(root: Path) -> None:
    args = parse_args(
        ["source-faker", "source-pokeapi", "--connectors-root", str(root), "--connector-command", "python main.py",
         "--no-cache", "--cache-dir", "/tmp/c", "-k", "spec", "-x", "--maxfail=2"],
        prog="acceptance",
    )
    assert args.connectors == [(root / "source-faker").resolve(), (root / "source-pokeapi").resolve()]
    assert args.connector_command == "python main.py"
    assert args.no_cache is True
    assert args.cache_dir == "/tmp/c"
    assert args.pytest_args == ["-k", "spec", "-x", "--maxfail=2"]


def test_parse_args_uses_the_connectors_root_from_the_environment(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONNECTORS_ROOT_ENV, str(root))
    args = parse_args(["source-faker"], prog="acceptance")
    assert args.connectors == [(root / "source-faker").resolve()]
    assert args.no_cache is False
    assert args.connector_command is None
    assert args.pytest_args == []


@pytest.mark.parametrize("pytest_option", ["--co", "--conn", "--no", "--cache"])
def test_pytest_options_that_prefix_ours_are_passed_through(root: Path, pytest_option: str) -> None:
    # argparse must not read `--co` (pytest's --collect-only) as an abbreviation of --connector-command
    args = parse_args(["source-faker", f"--connectors-root={root}", pytest_option], prog="acceptance")
    assert args.pytest_args == [pytest_option]
    assert args.no_cache is False
    assert args.connector_command is None


def test_parse_args_unknown_connector(root: Path) -> None:
    with pytest.raises(ConnectorNotFoundError, match="did you mean source-faker"):
        parse_args(["source-fakr", f"--connectors-root={root}"], prog="acceptance")


def test_pytest_command(tmp_path: Path) -> None:
    folder = tmp_path / "source-x"
    args = AcceptanceArgs([folder], connector_command="python main.py", no_cache=True, cache_dir="/tmp/c",
                          pytest_args=["-k", "spec"])
    command = pytest_command(folder, args, ["spec", "connection"])
    assert command[:5] == ["python", "-m", "pytest", "-p", "acceptance.plugin"]
    assert f"--acceptance-test-config={folder}" in command
    assert command[command.index("--suite") : command.index("--suite") + 4] == ["--suite", "spec", "--suite",
                                                                                 "connection"]
    assert command[command.index("--connector-command") + 1] == "python main.py"
    assert "--no-cache" in command
    assert command[command.index("--cache-dir") + 1] == "/tmp/c"
    assert command[-2:] == ["-k", "spec"]


def test_pytest_command_defaults_leave_options_out(tmp_path: Path) -> None:
    folder = tmp_path / "source-x"
    command = pytest_command(folder, AcceptanceArgs([folder]), [])
    for option in ("--suite", "--connector-command", "--no-cache", "--cache-dir"):
        assert option not in command
