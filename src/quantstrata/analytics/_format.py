"""Text rendering of performance metrics: one aligned line per metric."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

__all__ = ["render_metrics"]

_LABELS: dict[str, str] = {
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
    "expectancy": "Expectancy (per trade)",
    "average_trade": "Average trade",
    "best_trade": "Best trade",
    "worst_trade": "Worst trade",
    "average_holding_time": "Average holding time",
    "sqn": "SQN",
    "exposure": "Exposure",
    "turnover": "Turnover (per year)",
}
_PERCENT = frozenset(
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


def render_metrics(values: dict[str, object]) -> str:
    """Return ``label  value`` lines, labels padded to one width, fractions as percentages."""
    width = max(len(_LABELS.get(name, name)) for name in values)
    return "\n".join(
        f"{_LABELS.get(name, name):<{width}}  {_format_value(name, value)}"
        for name, value in values.items()
    )


def _format_value(name: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, float):
        if name in _PERCENT:
            return f"{value * 100:.2f} %"
        return f"{value:,.1f}" if abs(value) >= 10_000 else f"{value:.4g}"
    return str(value)
