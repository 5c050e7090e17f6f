"""Performance analytics: returns, drawdowns, trade statistics and the metrics summary.

Below the backtester and the live runtime, which both call it; it imports only ``core`` and
``model`` (calendars come straight from exchange-calendars). ``docs/metrics.md`` gives every
formula and convention.
"""

from quantstrata.analytics.annualization import (
    infer_interval,
    infer_periods_per_year,
    periods_per_year,
)
from quantstrata.analytics.config import MetricsConfig
from quantstrata.analytics.drawdown import (
    DrawdownDuration,
    drawdown_series,
    max_drawdown,
    max_drawdown_duration,
    underwater_periods,
)
from quantstrata.analytics.metrics import (
    PerformanceMetrics,
    compute_metrics,
    resolve_periods_per_year,
)
from quantstrata.analytics.returns import equity_log_returns, equity_simple_returns
from quantstrata.analytics.trades import TradeStatistics, trade_statistics

__all__ = [
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
]
