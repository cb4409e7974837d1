"""A connector folder, read once: its metadata.yaml, its acceptance-test-config.yml and what its packaging says.

Every entry point (a nox or Invoke task, the pytest plugin) makes one `Connector` and hands it down; the layers below
take it instead of a path, so no layer reads or validates the folder's files again.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from acceptance.config.loading import LoadedConfig, load_config
from acceptance.config.metadata import METADATA_FILE, Metadata, load_metadata
from acceptance.errors import BuildError

DEV_TAG = "dev"  # `<dockerRepository>:dev`: the tag of the image built from the folder


@dataclass(frozen=True)
class Requirement:
    spec: str  # what the installer installs: a folder path or "name==version"
    distribution: str  # the distribution name whose console script runs the connector
    local: bool


@dataclass(eq=False)
class Connector:
    folder: Path
    metadata: Metadata | None
    _loaded: LoadedConfig | None = field(default=None, repr=False)

    @classmethod
    def read(cls, folder: Path) -> Connector:
        """The connector in `folder`; metadata.yaml is read now (a mistake in it is a ConfigError here), the
        acceptance-test-config.yml when first asked for (`nox -s build` needs none)."""
        return cls(folder, load_metadata(folder))

    @classmethod
    def of_config(cls, loaded: LoadedConfig) -> Connector:
        """The connector an acceptance-test-config.yml describes: the folder is its `base_path`."""
        return cls(loaded.base_path, load_metadata(loaded.base_path), loaded)

    @property
    def loaded(self) -> LoadedConfig:
        """The folder's acceptance-test-config.yml, loaded and validated once (ConfigError when absent or wrong)."""
        if self._loaded is None:
            self._loaded = load_config(self.folder)
        return self._loaded

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def version(self) -> str | None:
        """metadata.yaml `dockerImageTag`."""
        return self.metadata.data.dockerImageTag if self.metadata else None

    @property
    def pypi_package(self) -> str | None:
        return self.metadata.data.pypi_package if self.metadata else None

    @property
    def has_dockerfile(self) -> bool:
        return (self.folder / "Dockerfile").is_file()

    def image_repository(self) -> str:
        """metadata.yaml `dockerRepository`: the image the folder builds (a BuildError naming the file when absent)."""
        if self.metadata is None:
            raise BuildError(f"{self.folder}: no {METADATA_FILE}: its data.dockerRepository names the image to build")
        if not self.metadata.data.dockerRepository:
            raise BuildError(
                f"{self.folder / METADATA_FILE}: data.dockerRepository is missing: it names the image to build")
        return self.metadata.data.dockerRepository

    def dev_image(self) -> str:
        """`<dockerRepository>:dev`, the tag the image build gives the connector's image."""
        return f"{self.image_repository()}:{DEV_TAG}"

    def python_requirement(self) -> Requirement:
        """What the installer installs for the connector: the folder itself when it has Python packaging
        (pyproject.toml / setup.py), else the PyPI package metadata.yaml names, pinned to `dockerImageTag`."""
        folder = self.folder
        pyproject = folder / "pyproject.toml"
        has_setup_py = (folder / "setup.py").is_file()
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text())
            except tomllib.TOMLDecodeError as error:
                raise BuildError(f"{pyproject}: not valid TOML ({error})") from None
            name = data.get("project", {}).get("name") or data.get("tool", {}).get("poetry", {}).get("name")
            if name:
                return Requirement(str(folder), name, local=True)
            if not has_setup_py:  # a pyproject.toml naming only the build backend leaves the name to setup.py
                raise BuildError(f"{pyproject}: no [project] name or [tool.poetry] name to install")
        if has_setup_py:
            return Requirement(str(folder), self.pypi_package or folder.name, local=True)
        if self.pypi_package:
            spec = f"{self.pypi_package}=={self.version}" if self.version else self.pypi_package
            return Requirement(spec, self.pypi_package, local=False)
        raise BuildError(
            f"{folder}: nothing to build: add a pyproject.toml or setup.py, or set "
            "data.remoteRegistries.pypi.packageName in metadata.yaml"
        )

    def is_python_package(self) -> bool:
        """Whether the folder is (or names) a Python package to install."""
        return any((self.folder / name).is_file() for name in ("pyproject.toml", "setup.py")) or bool(
            self.pypi_package)
