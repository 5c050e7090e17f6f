"""quantstrata: one Python stack from market data to live trading.

The names users touch first are re-exported here; each layer's package holds the rest:
``quantstrata.data`` (catalog, samples), ``quantstrata.process`` (bars, validation, resampling,
features), ``quantstrata.indicators`` (batch and streaming indicators), ``quantstrata.strategy``
(the strategy API), ``quantstrata.backtest`` (``Backtest(bars, strategy).run()``),
``quantstrata.analytics`` (metrics).

The re-exports are lazy (:mod:`quantstrata.core._lazy`): ``import quantstrata`` loads nothing
heavy, and each name imports its module on first use.
"""

from typing import TYPE_CHECKING

from quantstrata._version import __version__
from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
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

# Each public name and the module it comes from; a name is imported on first use.
_EXPORTS = {
    "BAR_SCHEMA": "quantstrata.model",
    "AssetClass": "quantstrata.model",
    "Backtest": "quantstrata.backtest",
    "BacktestConfig": "quantstrata.backtest",
    "BacktestResult": "quantstrata.backtest",
    "Bar": "quantstrata.model",
    "BarFrame": "quantstrata.data",
    "BarValidationError": "quantstrata.core",
    "Catalog": "quantstrata.data",
    "CatalogConflictError": "quantstrata.core",
    "CatalogError": "quantstrata.core",
    "Clock": "quantstrata.core",
    "ConfigError": "quantstrata.core",
    "DataError": "quantstrata.core",
    "DataIssue": "quantstrata.core",
    "Instrument": "quantstrata.model",
    "Interval": "quantstrata.model",
    "LiveClock": "quantstrata.core",
    "QuantstrataError": "quantstrata.core",
    "SchemaError": "quantstrata.core",
    "Secret": "quantstrata.core",
    "SimulatedClock": "quantstrata.core",
    "Symbol": "quantstrata.model",
    "TimezoneError": "quantstrata.core",
    "UnknownSymbolError": "quantstrata.core",
    "add_features": "quantstrata.process",
    "adjust_for_actions": "quantstrata.process",
    "align": "quantstrata.process",
    "generate_bars": "quantstrata.data",
    "import_file": "quantstrata.data",
    "load_sample": "quantstrata.data",
    "read_bars_file": "quantstrata.data",
    "resample": "quantstrata.process",
    "sample_names": "quantstrata.data",
    "to_bars": "quantstrata.process",
    "validate_bars": "quantstrata.process",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

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
