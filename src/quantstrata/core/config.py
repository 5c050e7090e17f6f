"""The base of every configuration object: frozen, typed, unknown fields rejected.

Configuration comes from keyword arguments or TOML files; a mistake in either is a
:class:`~quantstrata.core.errors.ConfigError` that names the field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from quantstrata.core.errors import ConfigError

__all__ = ["DEFAULT_CASH", "FrozenConfig", "StartingCash", "load_config"]

DEFAULT_CASH = 100_000.0
"""The starting cash of every job that does not name one: backtests, pipelines, sweeps, paper."""

StartingCash = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""A starting cash amount: positive and finite (the one rule every config and command uses)."""

ConfigT = TypeVar("ConfigT", bound="FrozenConfig")


class FrozenConfig(BaseModel):
    """Base for configuration models: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def build(cls: type[ConfigT], **values: Any) -> ConfigT:
        """Validate ``values`` into this model, raising :class:`ConfigError` on a bad field."""
        try:
            return cls(**values)
        except PydanticValidationError as error:
            raise ConfigError(_describe(cls.__name__, error)) from None


def load_config(path: str | Path, model: type[ConfigT], section: str | None = None) -> ConfigT:
    """Read a TOML file (optionally one ``[section]`` of it) into ``model``."""
    file = Path(path)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {file} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {file} is not valid TOML: {error}") from None
    if section is not None:
        if section not in document:
            raise ConfigError(f"config file {file} has no [{section}] section")
        document = document[section]
    return model.build(**document)


def _describe(name: str, error: PydanticValidationError) -> str:
    lines = [f"invalid {name}:"]
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "(model)"
        lines.append(f"  {field}: {problem['msg']}")
    return "\n".join(lines)
