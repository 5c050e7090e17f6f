"""Where the catalog lives: its root and the options of the filesystem behind it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from pydantic import Field, field_validator

from quantstrata.core.config import FrozenConfig
from quantstrata.core.secrets import MASK, redact

__all__ = ["CATALOG_ENVIRONMENT_VARIABLE", "CatalogConfig", "default_catalog_root"]

CATALOG_ENVIRONMENT_VARIABLE = "QUANTSTRATA_CATALOG"


def default_catalog_root() -> str:
    """Return the root used when none is given.

    ``$QUANTSTRATA_CATALOG`` when set (read at each call, so a catalog built later sees a changed
    environment), otherwise ``catalog`` under the user data directory of the platform, e.g.
    ``~/.local/share/quantstrata/catalog`` on Linux.
    """
    configured = os.environ.get(CATALOG_ENVIRONMENT_VARIABLE, "").strip()
    if configured:
        return configured
    return str(Path(user_data_dir("quantstrata", appauthor=False)) / "catalog")


class CatalogConfig(FrozenConfig):
    """The catalog's root (a local path or any fsspec URL) and the filesystem's options.

    ``storage_options`` go to fsspec unchanged (credentials for ``s3://`` and the like); their
    values never appear in the repr.
    """

    root: str
    storage_options: dict[str, Any] = Field(default_factory=dict, repr=False)

    @field_validator("root", mode="before")
    @classmethod
    def _normalise_root(cls, value: object) -> object:
        """Accept ``Path`` objects and expand ``~`` in local paths."""
        if isinstance(value, Path):
            return str(value.expanduser())
        if isinstance(value, str) and value.startswith("~"):
            return str(Path(value).expanduser())
        return value

    @field_validator("root")
    @classmethod
    def _require_root(cls, value: str) -> str:
        """Refuse an empty root."""
        if not value.strip():
            msg = "the catalog root cannot be empty"
            raise ValueError(msg)
        return value

    @classmethod
    def resolve(
        cls,
        root: str | Path | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> CatalogConfig:
        """Build the config, falling back to :func:`default_catalog_root` when ``root`` is None."""
        return cls.build(
            root=default_catalog_root() if root is None else root,
            storage_options=dict(storage_options or {}),
        )

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        """Show the root (with key-like URL parts masked) and only the names of the options."""
        masked = dict.fromkeys(self.storage_options, MASK)
        return [("root", redact(self.root)), ("storage_options", masked)]
