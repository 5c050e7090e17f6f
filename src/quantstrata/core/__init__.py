"""Shared by every layer: errors, the injected clock, configuration, logging and secrets.

The re-exports are lazy (:mod:`quantstrata.core._lazy`): importing one core module, such as
:mod:`quantstrata.core.errors`, does not load pydantic for :mod:`quantstrata.core.config`.
"""

from typing import TYPE_CHECKING

from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
    from quantstrata.core.clock import (
        Clock,
        LiveClock,
        SimulatedClock,
        datetime_from_ns,
        ns_from_datetime,
    )
    from quantstrata.core.config import FrozenConfig, load_config
    from quantstrata.core.errors import (
        BarValidationError,
        CatalogConflictError,
        CatalogError,
        ConfigError,
        DataError,
        DataIssue,
        MissingDependencyError,
        QuantstrataError,
        SchemaError,
        TimezoneError,
        UnknownSymbolError,
    )
    from quantstrata.core.logging import RedactingFilter, configure_logging, get_logger
    from quantstrata.core.secrets import Secret, looks_like_secret_name, redact

_EXPORTS = {
    "BarValidationError": "quantstrata.core.errors",
    "CatalogConflictError": "quantstrata.core.errors",
    "CatalogError": "quantstrata.core.errors",
    "Clock": "quantstrata.core.clock",
    "ConfigError": "quantstrata.core.errors",
    "DataError": "quantstrata.core.errors",
    "DataIssue": "quantstrata.core.errors",
    "FrozenConfig": "quantstrata.core.config",
    "LiveClock": "quantstrata.core.clock",
    "MissingDependencyError": "quantstrata.core.errors",
    "QuantstrataError": "quantstrata.core.errors",
    "RedactingFilter": "quantstrata.core.logging",
    "SchemaError": "quantstrata.core.errors",
    "Secret": "quantstrata.core.secrets",
    "SimulatedClock": "quantstrata.core.clock",
    "TimezoneError": "quantstrata.core.errors",
    "UnknownSymbolError": "quantstrata.core.errors",
    "configure_logging": "quantstrata.core.logging",
    "datetime_from_ns": "quantstrata.core.clock",
    "get_logger": "quantstrata.core.logging",
    "load_config": "quantstrata.core.config",
    "looks_like_secret_name": "quantstrata.core.secrets",
    "ns_from_datetime": "quantstrata.core.clock",
    "redact": "quantstrata.core.secrets",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "BarValidationError",
    "CatalogConflictError",
    "CatalogError",
    "Clock",
    "ConfigError",
    "DataError",
    "DataIssue",
    "FrozenConfig",
    "LiveClock",
    "MissingDependencyError",
    "QuantstrataError",
    "RedactingFilter",
    "SchemaError",
    "Secret",
    "SimulatedClock",
    "TimezoneError",
    "UnknownSymbolError",
    "configure_logging",
    "datetime_from_ns",
    "get_logger",
    "load_config",
    "looks_like_secret_name",
    "ns_from_datetime",
    "redact",
]
