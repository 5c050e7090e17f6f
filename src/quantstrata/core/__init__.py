"""Shared by every layer: errors, the injected clock, configuration, logging and secrets."""

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
    QuantstrataError,
    SchemaError,
    TimezoneError,
    UnknownSymbolError,
)
from quantstrata.core.logging import RedactingFilter, configure_logging, get_logger
from quantstrata.core.secrets import Secret, looks_like_secret_name, redact

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
