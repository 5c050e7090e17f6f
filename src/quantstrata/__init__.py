"""quantstrata: one Python stack from market data to live trading.

The names users touch first are re-exported here; each layer's package holds the rest:
``quantstrata.data`` (catalog, samples), ``quantstrata.process`` (bars, validation, resampling,
features), ``quantstrata.indicators`` (batch and streaming indicators), ``quantstrata.strategy``
(the strategy API), ``quantstrata.backtest`` (``Backtest(bars, strategy).run()``),
``quantstrata.analytics`` (metrics).
"""

from quantstrata._version import __version__
from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.core import (
    BarValidationError,
    CatalogConflictError,
    CatalogError,
    Clock,
    ConfigError,
    DataError,
    DataIssue,
    LiveClock,
    QuantstrataError,
    SchemaError,
    Secret,
    SimulatedClock,
    TimezoneError,
    UnknownSymbolError,
)
from quantstrata.data import (
    BarFrame,
    Catalog,
    generate_bars,
    import_file,
    load_sample,
    read_bars_file,
    sample_names,
)
from quantstrata.model import BAR_SCHEMA, AssetClass, Bar, Instrument, Interval, Symbol
from quantstrata.process import (
    add_features,
    adjust_for_actions,
    align,
    resample,
    to_bars,
    validate_bars,
)

__all__ = [
    "BAR_SCHEMA",
    "AssetClass",
    "Backtest",
    "BacktestConfig",
    "BacktestResult",
    "Bar",
    "BarFrame",
    "BarValidationError",
    "Catalog",
    "CatalogConflictError",
    "CatalogError",
    "Clock",
    "ConfigError",
    "DataError",
    "DataIssue",
    "Instrument",
    "Interval",
    "LiveClock",
    "QuantstrataError",
    "SchemaError",
    "Secret",
    "SimulatedClock",
    "Symbol",
    "TimezoneError",
    "UnknownSymbolError",
    "__version__",
    "add_features",
    "adjust_for_actions",
    "align",
    "generate_bars",
    "import_file",
    "load_sample",
    "read_bars_file",
    "resample",
    "sample_names",
    "to_bars",
    "validate_bars",
]
