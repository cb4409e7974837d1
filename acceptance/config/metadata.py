"""`metadata.yaml`: the Airbyte connector metadata fields this tool reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from acceptance.config.problems import validation_problems
from acceptance.config.yaml_files import TOO_DEEP, read_yaml
from acceptance.errors import ConfigError

METADATA_FILE = "metadata.yaml"


class _Open(BaseModel):
    # metadata.yaml carries many fields owned by the Airbyte platform; only the ones read here are modelled.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class PyPiRegistry(_Open):
    enabled: bool = True
    packageName: str | None = None


class RemoteRegistries(_Open):
    pypi: PyPiRegistry | None = None


class AllowedHosts(_Open):
    hosts: list[str] | None = None


class ConnectorBuildOptions(_Open):
    baseImage: str | None = None


class BreakingChange(_Open):
    message: str | None = None
    upgradeDeadline: str | None = None


class Releases(_Open):
    breakingChanges: dict[str, BreakingChange] = Field(default_factory=dict)


class AbInternal(_Open):
    ql: int | None = None  # quality level; 400 and above is certified


class MetadataData(_Open):
    name: str | None = None
    dockerRepository: str | None = None
    dockerImageTag: str | None = None
    connectorType: str | None = None
    connectorSubtype: str | None = None
    releaseStage: str | None = None
    supportLevel: str | None = None
    allowedHosts: AllowedHosts | None = None
    connectorBuildOptions: ConnectorBuildOptions | None = None
    remoteRegistries: RemoteRegistries | None = None
    releases: Releases | None = None
    ab_internal: AbInternal | None = None

    @property
    def pypi_package(self) -> str | None:
        pypi = self.remoteRegistries.pypi if self.remoteRegistries else None
        return pypi.packageName if pypi else None


class Metadata(_Open):
    data: MetadataData

    @property
    def certified(self) -> bool:
        """Certified connectors get stricter defaults (upstream: `ab_internal.ql` >= 400)."""
        quality = self.data.ab_internal.ql if self.data.ab_internal else None
        return self.data.supportLevel == "certified" or (quality or 0) >= 400


def load_metadata(folder: Path) -> Metadata | None:
    """The connector's metadata, or None when the folder has no metadata.yaml. Invalid files are errors."""
    path = folder / METADATA_FILE
    if not path.is_file():
        return None
    raw: Any = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(path, [("", "expected a mapping with a `data:` key")])
    try:
        return Metadata.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(path, validation_problems(error, raw)) from None
    except RecursionError:  # validating extra values nested thousands deep
        raise ConfigError(path, [("", TOO_DEEP)]) from None
