"""How metrics are named and shown: one table for the text summary, the CLI and the report."""

from __future__ import annotations

__all__ = ["METRIC_LABELS", "PERCENT_METRICS", "RATIO_METRICS", "metric_label"]

METRIC_LABELS: dict[str, str] = {
    "start": "Start",
    "end": "End",
    "duration": "Duration",
    "bars": "Bars",
    "periods_per_year": "Periods per year",
    "total_return": "Total return",
    "cagr": "CAGR",
    "annual_volatility": "Annual volatility",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "calmar": "Calmar ratio",
    "max_drawdown": "Max drawdown",
    "max_drawdown_duration": "Max drawdown duration",
    "max_drawdown_duration_bars": "Max drawdown duration (bars)",
    "trades": "Trades",
    "win_rate": "Win rate",
    "profit_factor": "Profit factor",
    "expectancy": "Expectancy (P&L per trade)",
    "average_trade": "Average trade return",
    "best_trade": "Best trade return",
    "worst_trade": "Worst trade return",
    "average_holding_time": "Average holding time",
    "sqn": "SQN",
    "exposure": "Exposure",
    "turnover": "Turnover (per year)",
}
PERCENT_METRICS = frozenset(
    {
        "total_return",
        "cagr",
        "annual_volatility",
        "max_drawdown",
        "win_rate",
        "average_trade",
        "best_trade",
        "worst_trade",
        "exposure",
    }
)
RATIO_METRICS = frozenset({"sharpe", "sortino", "calmar", "profit_factor", "sqn"})


def metric_label(name: str) -> str:
    """Return the display label of metric ``name`` (a readable fallback for unknown names)."""
    return METRIC_LABELS.get(name, name.replace("_", " ").capitalize())
