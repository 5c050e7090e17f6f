"""Pin the public API: a change to what users import is a deliberate, reviewed edit of this file.

Each package's ``__all__`` must name only things that exist and must equal the list below
(ruff's RUF022 keeps it sorted). Private names (``_name``) are never re-exported.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC_API: dict[str, tuple[str, ...]] = {
    "quantstrata.analytics": (
        "DrawdownDuration",
        "MetricsConfig",
        "PerformanceMetrics",
        "TradeStatistics",
        "compute_metrics",
        "drawdown_series",
        "infer_interval",
        "infer_periods_per_year",
        "log_returns",
        "max_drawdown",
        "max_drawdown_duration",
        "periods_per_year",
        "resolve_periods_per_year",
        "simple_returns",
        "trade_statistics",
        "underwater_periods",
    ),
    "quantstrata": (
        "BAR_SCHEMA",
        "AssetClass",
        "Bar",
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
    ),
    "quantstrata.core": (
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
        "ns_from_datetime",
        "redact",
    ),
    "quantstrata.model": (
        "BAR_COLUMNS",
        "BAR_SCHEMA",
        "PRICE_COLUMNS",
        "TIMESTAMP_DTYPE",
        "AssetClass",
        "Bar",
        "Instrument",
        "Interval",
        "IntervalUnit",
        "Symbol",
    ),
    "quantstrata.data": (
        "Catalog",
        "CatalogConfig",
        "FileLayout",
        "OnConflict",
        "SampleInfo",
        "WriteSummary",
        "generate_bars",
        "import_file",
        "load_sample",
        "load_samples_into",
        "read_bars_file",
        "sample_info",
        "sample_names",
    ),
    "quantstrata.process": (
        "ACTION_COLUMNS",
        "ALWAYS_OPEN",
        "ActionKind",
        "FeatureSet",
        "FillMethod",
        "Gap",
        "GapPolicy",
        "ResampleAnchor",
        "ValidationConfig",
        "ValidationPolicy",
        "ValidationReport",
        "ValidationResult",
        "add_features",
        "adjust_for_actions",
        "align",
        "canonical_calendar_code",
        "compute_feature",
        "expected_bar_opens",
        "get_calendar",
        "high_low_range",
        "log_returns",
        "resample",
        "returns",
        "rolling_mean",
        "rolling_std",
        "rolling_zscore",
        "session_table",
        "to_bars",
        "to_wide",
        "to_wide_pandas",
        "validate_bars",
        "volume_weighted_return",
    ),
}

INDICATOR_FUNCTIONS = (
    "ad",
    "adf_pvalue",
    "adosc",
    "adx",
    "aroon",
    "aroonosc",
    "atr",
    "bbands",
    "beta",
    "cci",
    "cmo",
    "correl",
    "dema",
    "dmi",
    "donchian",
    "ema",
    "half_life",
    "hurst",
    "kama",
    "keltner",
    "linearreg_slope",
    "macd",
    "mfi",
    "minus_di",
    "mom",
    "natr",
    "obv",
    "plus_di",
    "roc",
    "rsi",
    "sar",
    "sma",
    "stddev",
    "stoch",
    "stochrsi",
    "tema",
    "trange",
    "var",
    "vwap",
    "willr",
    "wma",
    "zscore",
)


@pytest.mark.parametrize("module_name", sorted(PUBLIC_API))
def test_public_names_are_pinned_sorted_and_exist(module_name: str):
    module = importlib.import_module(module_name)
    exported = tuple(module.__all__)
    assert len(exported) == len(set(exported))
    assert set(exported) == set(PUBLIC_API[module_name])
    for name in exported:
        assert hasattr(module, name), name
        assert not name.startswith("_") or name == "__version__"


def test_every_registered_indicator_has_a_lower_case_batch_function_and_a_streaming_class():
    indicators = importlib.import_module("quantstrata.indicators")
    assert indicators.indicator_names() == INDICATOR_FUNCTIONS
    for name in INDICATOR_FUNCTIONS:
        assert name in indicators.__all__
        item = indicators.definition(name)
        assert getattr(indicators, name) is item.batch
        assert item.streaming.__name__ in indicators.__all__
        assert issubclass(item.streaming, indicators.StreamingIndicator)
