"""Pin the public API: a change to what users import is a deliberate, reviewed edit of this file.

Each package's ``__all__`` must name only things that exist and must equal the list below
(ruff's RUF022 keeps it sorted). Private names (``_name``) are never re-exported.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import quantstrata
from quantstrata.core.errors import QuantstrataError

PUBLIC_API: dict[str, tuple[str, ...]] = {
    "quantstrata.backtest": (
        "Backtest",
        "BacktestConfig",
        "BacktestResult",
        "RunRecord",
        "StreamedBacktest",
        "StreamedBacktestError",
        "StreamedResult",
    ),
    "quantstrata.model.orders": (
        "IGNORED",
        "NOT_FOUND_AT_VENUE",
        "QUANTITY_TOLERANCE",
        "TRANSITIONS",
        "Accepted",
        "Bracket",
        "CancelRejected",
        "CancelRequested",
        "Cancelled",
        "EventOutcome",
        "Expired",
        "Fill",
        "FillEvent",
        "InvalidOrderError",
        "InvalidTransitionError",
        "Liquidity",
        "OneCancelsOther",
        "Order",
        "OrderEvent",
        "OrderEventKind",
        "OrderRequest",
        "OrderSide",
        "OrderStateError",
        "OrderStatus",
        "OrderType",
        "OrderUpdate",
        "OverfillError",
        "Rejected",
        "Resolved",
        "Submitted",
        "TimeInForce",
        "TimedOut",
        "is_ignored",
        "next_status",
    ),
    "quantstrata.strategy.pipeline": (
        "Classifier",
        "Factor",
        "Filter",
        "Pipeline",
        "PipelineConfig",
        "PipelineParameters",
        "PipelineStrategy",
        "Rebalance",
        "RebalanceName",
        "Term",
        "average_dollar_volume",
        "custom_factor",
        "equal_weight",
        "expression_classifier",
        "expression_factor",
        "expression_filter",
        "has_history",
        "indicator_factor",
        "latest",
        "long_short",
        "membership",
        "momentum",
        "proportional",
        "rebalance_times",
        "symbol_groups",
        "symbols_in",
        "trailing_return",
        "volatility",
    ),
    "quantstrata.strategy": (
        "TARGET_COLUMNS",
        "TARGET_SCHEMA",
        "BarSnapshot",
        "EventStrategy",
        "IndicatorHandle",
        "LookAheadError",
        "ParameterSpec",
        "SignalStrategy",
        "Strategy",
        "StrategyContext",
        "StrategyParameters",
        "StreamingIndicatorHandle",
        "TargetUnit",
        "check_no_lookahead",
        "check_targets",
        "fixed_units",
        "parameter_space",
        "realised_volatility",
        "sma_crossover_targets",
        "targets_from_signals",
        "targets_per_symbol",
        "units_for_fraction",
        "units_for_weights",
        "volatility_target",
    ),
    "quantstrata.execution": (
        "BracketLeg",
        "BracketStep",
        "CommissionCharge",
        "CommissionConfig",
        "FillConfig",
        "FillModel",
        "FillPolicy",
        "FillResult",
        "IntrabarPolicy",
        "OrderStep",
        "PriceBar",
        "SlippageConfig",
        "WorkingBracket",
        "WorkingOrder",
        "commission",
        "slipped_price",
    ),
    "quantstrata.analytics": (
        "DrawdownDuration",
        "MetricsConfig",
        "PerformanceMetrics",
        "TradeStatistics",
        "compute_metrics",
        "drawdown_series",
        "equity_log_returns",
        "equity_simple_returns",
        "infer_interval",
        "infer_periods_per_year",
        "max_drawdown",
        "max_drawdown_duration",
        "periods_per_year",
        "resolve_periods_per_year",
        "trade_statistics",
        "underwater_periods",
    ),
    "quantstrata": (
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
    ),
    "quantstrata.errors": (
        "AuthenticationError",
        "BarValidationError",
        "BrokerError",
        "BrokerUnavailableError",
        "CatalogConflictError",
        "CatalogError",
        "CcxtAuthenticationError",
        "ConfigError",
        "ControlError",
        "DataError",
        "InvalidOrderError",
        "InvalidTransitionError",
        "JournalError",
        "LookAheadError",
        "MissingDependencyError",
        "MissingRateError",
        "OrderRejectedError",
        "OrderStateError",
        "OverfillError",
        "PositionError",
        "ProviderError",
        "ProviderUnavailableError",
        "QuantstrataError",
        "RateLimitedError",
        "RequestRejectedError",
        "RiskViolation",
        "SchemaError",
        "StreamClosedError",
        "StreamProtocolError",
        "StreamedBacktestError",
        "SubmitOutcomeUnknownError",
        "TimezoneError",
        "UnknownSymbolError",
        "WebhookDeliveryError",
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
    ),
    "quantstrata.model": (
        "BAR_COLUMNS",
        "BAR_SCHEMA",
        "PRICE_COLUMNS",
        "REG_T",
        "TIMESTAMP_DTYPE",
        "AssetClass",
        "Bar",
        "Bracket",
        "ClientOrderId",
        "Fill",
        "Instrument",
        "Interval",
        "IntervalUnit",
        "Margin",
        "MarginBasis",
        "OneCancelsOther",
        "Order",
        "OrderRequest",
        "OrderSide",
        "OrderStatus",
        "OrderType",
        "Position",
        "Symbol",
        "TimeInForce",
        "TradeId",
        "VenueOrderId",
    ),
    "quantstrata.data": (
        "BarFrame",
        "Catalog",
        "CatalogConfig",
        "FileLayout",
        "LoadedBars",
        "OnConflict",
        "SampleInfo",
        "WriteSummary",
        "fetch_alpaca_bars",
        "fetch_alpaca_to_catalog",
        "fetch_ccxt_bars",
        "fetch_ccxt_to_catalog",
        "fetch_tickdb_bars",
        "fetch_tickdb_to_catalog",
        "fetch_yfinance_bars",
        "fetch_yfinance_to_catalog",
        "generate_bars",
        "import_file",
        "load_bars",
        "load_named_bars",
        "load_sample",
        "load_samples_into",
        "read_bars_file",
        "sample_info",
        "sample_names",
    ),
    "quantstrata.data.sources": (
        "API_KEY_VARIABLE",
        "PLAN_REQUESTS_PER_MINUTE",
        "AsyncTickDBClient",
        "AuthenticationError",
        "HttpConfig",
        "ProviderError",
        "ProviderUnavailableError",
        "RateLimitedError",
        "RateLimiter",
        "RequestRejectedError",
        "RetryPolicy",
        "TickDBClient",
        "TickDBConfig",
        "backoff_delay",
        "ccxt_public_exchange",
        "fetch_alpaca_bars",
        "fetch_alpaca_to_catalog",
        "fetch_ccxt_bars",
        "fetch_ccxt_to_catalog",
        "fetch_tickdb_bars",
        "fetch_tickdb_to_catalog",
        "fetch_yfinance_bars",
        "fetch_yfinance_to_catalog",
        "parse_reset_at",
        "parse_retry_after",
        "server_wait",
        "shared_limiter",
    ),
    "quantstrata.data.stream": (
        "Backfill",
        "BarBuilder",
        "BuiltBar",
        "KlinePoller",
        "LatestTracker",
        "MalformedFrame",
        "Reconnect",
        "StreamClosedError",
        "StreamConfig",
        "StreamCounters",
        "StreamGap",
        "StreamSession",
        "SubscriptionBook",
        "TickDBStream",
        "canonical_symbol",
        "parse_frame",
    ),
    "quantstrata.live": (
        "AccountSnapshot",
        "Broker",
        "BrokerError",
        "BrokerUnavailableError",
        "Feed",
        "Live",
        "LiveConfig",
        "LiveSummary",
        "OrderManager",
        "OrderRejectedError",
        "SubmitOutcomeUnknownError",
        "VenueOrder",
    ),
    "quantstrata.live.brokers": (
        "CcxtAuthenticationError",
        "CcxtBroker",
        "CcxtConfig",
        "PaperBroker",
        "VenueBroker",
        "VenueFeed",
    ),
    "quantstrata.live.dashboard": (
        "CSRF_HEADER",
        "ControlAction",
        "ControlError",
        "ControlOutcome",
        "ControlQueue",
        "ControlRequest",
        "DashboardConfig",
        "DashboardServer",
        "Progress",
        "RuntimeView",
        "create_dashboard_app",
    ),
    "quantstrata.live.feeds": ("CcxtFeed", "ReplayFeed", "TickDBFeed", "VenueFeed"),
    "quantstrata.exchange": (
        "EPSILON",
        "LIQUIDATION_TAG",
        "ExchangeConfig",
        "FundingRates",
        "FxRates",
        "Listener",
        "MarginCall",
        "MarginCallPolicy",
        "MissingRateError",
        "Prices",
        "SimulatedExchange",
        "funding_payment",
    ),
    "quantstrata.venue": (
        "API_KEY_HEADER",
        "DEFAULT_HOST",
        "FaultConfig",
        "ReplayMode",
        "Venue",
        "VenueBook",
        "VenueConfig",
        "VenueServer",
        "create_venue_app",
        "load_venue_config",
        "parse_speed",
    ),
    "quantstrata.backtest.optimize": (
        "Backend",
        "OptimizationResult",
        "OptimizeConfig",
        "SearchMethod",
        "SearchSpace",
        "WalkForwardConfig",
        "WalkForwardResult",
        "optimize",
        "parse_range",
        "walk_forward",
    ),
    "quantstrata.process": (
        "ACTION_COLUMNS",
        "ALWAYS_OPEN",
        "ROLL_SCHEMA",
        "ActionKind",
        "Adjustment",
        "ContinuousFutures",
        "FeatureSet",
        "FillMethod",
        "GapPolicy",
        "ResampleAnchor",
        "RollMethod",
        "RollRule",
        "SessionGap",
        "ValidationConfig",
        "ValidationPolicy",
        "ValidationReport",
        "ValidationResult",
        "add_features",
        "adjust_for_actions",
        "align",
        "canonical_calendar_code",
        "compute_feature",
        "continuous_futures",
        "expected_bar_opens",
        "front_contract",
        "get_calendar",
        "high_low_range",
        "log_returns",
        "resample",
        "returns",
        "roll_session",
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


def test_no_public_name_means_two_different_things():
    # A name two packages export must be the same object in both; otherwise a user who imports
    # it from the other package silently gets something else (``Gap``, ``create_app`` once).
    first_owner: dict[str, tuple[str, object]] = {}
    clashes: list[str] = []
    for module_name in [*sorted(PUBLIC_API), "quantstrata.indicators"]:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            owner, seen = first_owner.setdefault(name, (module_name, value))
            if seen is not value:
                clashes.append(f"{name}: {owner} and {module_name}")
    assert clashes == []


def _public_modules() -> list[str]:
    """Every importable quantstrata module outside the CLI with no underscore part in its name."""
    found = pkgutil.walk_packages(quantstrata.__path__, prefix="quantstrata.")
    return sorted(
        info.name
        for info in found
        if not any(part.startswith("_") for part in info.name.split("."))
        and not info.name.startswith("quantstrata.cli")
    )


def test_every_public_error_type_is_in_quantstrata_errors():
    errors = importlib.import_module("quantstrata.errors")
    public: dict[str, type] = {}
    for module_name in [*PUBLIC_API, *_public_modules()]:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value) and issubclass(value, QuantstrataError):
                public[name] = value
    missing = sorted(name for name in public if getattr(errors, name, None) is not public[name])
    assert missing == []
    assert all(issubclass(getattr(errors, name), QuantstrataError) for name in errors.__all__)


def test_import_quantstrata_errors_loads_no_server_or_network_package():
    heavy = "{'fastapi', 'httpx', 'websockets', 'psycopg', 'plotly', 'uvicorn'}"
    code = (
        "import sys, quantstrata.errors as errors; "
        "assert issubclass(errors.ConfigError, errors.QuantstrataError); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert completed.stdout.strip() == "[]"


def test_the_first_hour_names_are_one_import_away():
    import quantstrata as qs

    strategy = importlib.import_module("quantstrata.strategy")
    optimize = importlib.import_module("quantstrata.backtest.optimize")
    live = importlib.import_module("quantstrata.live")
    assert qs.SignalStrategy is strategy.SignalStrategy
    assert qs.StrategyParameters is strategy.StrategyParameters
    assert qs.optimize is optimize.optimize
    assert qs.Live is live.Live
    assert qs.errors is importlib.import_module("quantstrata.errors")
    assert set(qs.__all__) <= set(dir(qs))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = qs.Nope  # type: ignore[attr-defined]
