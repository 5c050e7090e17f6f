"""quantstrata: one Python stack from market data to live trading.

``import quantstrata as qs`` gives what the first hour needs:

- bars: ``qs.load_bars`` (a bundled sample, a CSV/Parquet file or a catalog symbol),
  ``qs.to_bars`` (anything bar-shaped into the canonical frame), ``qs.validate_bars``,
  ``qs.Catalog``;
- strategies: ``qs.SignalStrategy`` (vectorised targets), ``qs.EventStrategy`` (bar by bar),
  ``qs.StrategyParameters``;
- research: ``qs.Backtest``/``qs.BacktestConfig``, ``qs.compute_metrics``, ``qs.optimize``;
- trading: ``qs.Live``/``qs.LiveConfig``;
- errors: ``qs.errors`` holds every public error type (all derive from ``QuantstrataError``).

Each layer's package holds the rest: ``quantstrata.data``, ``quantstrata.process``,
``quantstrata.indicators``, ``quantstrata.strategy``, ``quantstrata.backtest``,
``quantstrata.analytics``, ``quantstrata.live``. Names are imported from their layer when first
used (PEP 562), so ``import quantstrata`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantstrata._version import __version__
from quantstrata.core._lazy import lazy_exports

if TYPE_CHECKING:
    from quantstrata import errors
    from quantstrata.analytics import compute_metrics
    from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
    from quantstrata.backtest.optimize import OptimizeConfig, optimize
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
        load_bars,
        load_sample,
        read_bars_file,
        sample_names,
    )
    from quantstrata.live import Live, LiveConfig
    from quantstrata.model import BAR_SCHEMA, AssetClass, Bar, Instrument, Interval, Symbol
    from quantstrata.process import (
        add_features,
        adjust_for_actions,
        align,
        resample,
        to_bars,
        validate_bars,
    )
    from quantstrata.strategy import EventStrategy, SignalStrategy, StrategyParameters

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
    "EventStrategy",
    "Instrument",
    "Interval",
    "Live",
    "LiveClock",
    "LiveConfig",
    "OptimizeConfig",
    "QuantstrataError",
    "SchemaError",
    "Secret",
    "SignalStrategy",
    "SimulatedClock",
    "StrategyParameters",
    "Symbol",
    "TimezoneError",
    "UnknownSymbolError",
    "__version__",
    "add_features",
    "adjust_for_actions",
    "align",
    "compute_metrics",
    "errors",
    "generate_bars",
    "import_file",
    "load_bars",
    "load_sample",
    "optimize",
    "read_bars_file",
    "resample",
    "sample_names",
    "to_bars",
    "validate_bars",
]

_EXPORTS: dict[str, str] = {
    "errors": "quantstrata.errors",
    "compute_metrics": "quantstrata.analytics",
    "Backtest": "quantstrata.backtest",
    "BacktestConfig": "quantstrata.backtest",
    "BacktestResult": "quantstrata.backtest",
    "OptimizeConfig": "quantstrata.backtest.optimize",
    "optimize": "quantstrata.backtest.optimize",
    "BarValidationError": "quantstrata.core",
    "CatalogConflictError": "quantstrata.core",
    "CatalogError": "quantstrata.core",
    "Clock": "quantstrata.core",
    "ConfigError": "quantstrata.core",
    "DataError": "quantstrata.core",
    "DataIssue": "quantstrata.core",
    "LiveClock": "quantstrata.core",
    "QuantstrataError": "quantstrata.core",
    "SchemaError": "quantstrata.core",
    "Secret": "quantstrata.core",
    "SimulatedClock": "quantstrata.core",
    "TimezoneError": "quantstrata.core",
    "UnknownSymbolError": "quantstrata.core",
    "BarFrame": "quantstrata.data",
    "Catalog": "quantstrata.data",
    "generate_bars": "quantstrata.data",
    "import_file": "quantstrata.data",
    "load_bars": "quantstrata.data",
    "load_sample": "quantstrata.data",
    "read_bars_file": "quantstrata.data",
    "sample_names": "quantstrata.data",
    "Live": "quantstrata.live",
    "LiveConfig": "quantstrata.live",
    "BAR_SCHEMA": "quantstrata.model",
    "AssetClass": "quantstrata.model",
    "Bar": "quantstrata.model",
    "Instrument": "quantstrata.model",
    "Interval": "quantstrata.model",
    "Symbol": "quantstrata.model",
    "add_features": "quantstrata.process",
    "adjust_for_actions": "quantstrata.process",
    "align": "quantstrata.process",
    "resample": "quantstrata.process",
    "to_bars": "quantstrata.process",
    "validate_bars": "quantstrata.process",
    "EventStrategy": "quantstrata.strategy",
    "SignalStrategy": "quantstrata.strategy",
    "StrategyParameters": "quantstrata.strategy",
}
"""Where each top-level name lives (name -> package); a module maps to itself."""


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
