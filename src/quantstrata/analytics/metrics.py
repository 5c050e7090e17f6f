"""The performance summary of an equity curve: :func:`compute_metrics` and its result.

>>> import polars as pl
>>> from datetime import datetime, UTC
>>> curve = pl.DataFrame({
...     "ts": [datetime(2024, 1, day, tzinfo=UTC) for day in (1, 2, 3, 4)],
...     "equity": [100.0, 110.0, 99.0, 121.0],
... })
>>> metrics = compute_metrics(curve, interval="1d")
>>> round(metrics.total_return, 2), round(metrics.max_drawdown, 2)
(0.21, 0.1)

Every formula, the annualisation and the handling of degenerate cases are in
``docs/metrics.md``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import polars as pl

from quantstrata.analytics import _ratios
from quantstrata.analytics._activity import exposure, read_positions, traded_notional
from quantstrata.analytics._format import render_metrics
from quantstrata.analytics._html import card_html, metrics_html
from quantstrata.analytics._inputs import EquityCurve, read_equity, to_polars_frame
from quantstrata.analytics.annualization import (
    interval_of_ordered,
    periods_per_year,
    periods_per_year_of_ordered,
)
from quantstrata.analytics.config import MetricsConfig
from quantstrata.analytics.drawdown import DrawdownDuration, underwater_summary
from quantstrata.analytics.returns import simple_returns_array
from quantstrata.analytics.trades import TradeStatistics, trade_statistics
from quantstrata.core.clock import datetime_from_ns
from quantstrata.core.errors import DataError
from quantstrata.model.interval import Interval

__all__ = [
    "PerformanceMetrics",
    "compute_checked_metrics",
    "compute_metrics",
    "resolve_periods_per_year",
]

_NAN = float("nan")


@dataclass(frozen=True, slots=True)
class PerformanceMetrics:
    """Performance of one equity curve; NaN (or ``None``) marks an undefined value.

    Fractions are decimals (``0.12`` is 12 %); ``max_drawdown`` is a positive fraction.
    Trade fields are ``None``/NaN when no trades frame was given, ``exposure`` when no
    positions were given, ``turnover`` when neither priced positions nor trade legs were.
    """

    start: datetime
    end: datetime
    duration: timedelta
    bars: int
    periods_per_year: float
    total_return: float
    cagr: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_duration: timedelta
    max_drawdown_duration_bars: int
    trades: int | None
    win_rate: float
    profit_factor: float
    expectancy: float
    average_trade: float
    best_trade: float
    worst_trade: float
    average_holding_time: timedelta | None
    sqn: float
    exposure: float
    turnover: float

    def __post_init__(self) -> None:
        """Check the invariants every summary satisfies."""
        problems = []
        if self.end < self.start or self.duration != self.end - self.start:
            problems.append("end must follow start and duration equal end - start")
        if self.bars < 1 or not 0 <= self.max_drawdown_duration_bars < self.bars:
            problems.append("bars must be positive and exceed the drawdown duration in bars")
        if not (math.isnan(self.max_drawdown) or 0.0 <= self.max_drawdown <= 1.0):
            problems.append(f"max_drawdown {self.max_drawdown} is outside [0, 1]")
        if not (math.isnan(self.exposure) or 0.0 <= self.exposure <= 1.0):
            problems.append(f"exposure {self.exposure} is outside [0, 1]")
        if self.trades is not None and self.trades < 0:
            problems.append(f"trades {self.trades} is negative")
        if problems:
            raise DataError("inconsistent performance metrics: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as a dictionary in field order."""
        return asdict(self)

    def to_frame(self) -> pl.DataFrame:
        """Return the metrics as a one-row Polars frame, one typed column per field."""
        values = self.to_dict()
        schema = {
            field.name: _polars_type(field.name, values[field.name]) for field in fields(self)
        }
        return pl.DataFrame([values], schema=schema, orient="row")

    def __str__(self) -> str:
        """Show the metrics as an aligned two-column table."""
        return render_metrics(self.to_dict())

    def _repr_html_(self) -> str:
        """Show the metrics as an HTML table in a notebook (labels and formats as the report)."""
        return card_html("Performance metrics", metrics_html(self.to_dict()))


def compute_metrics(
    equity: pl.DataFrame | pd.Series,
    *,
    trades: pl.DataFrame | pd.DataFrame | None = None,
    positions: pl.DataFrame | pd.Series | pd.DataFrame | None = None,
    config: MetricsConfig | None = None,
    interval: Interval | str | None = None,
) -> PerformanceMetrics:
    """Summarise an equity curve, and optionally its trades and positions.

    ``equity`` is a Polars frame with ``ts`` and ``equity`` or a pandas Series with a
    timezone-aware DatetimeIndex; values must be positive. ``trades`` follows
    :mod:`quantstrata.analytics.trades`; ``positions`` has ``ts`` and ``position`` (optionally
    ``symbol`` and ``price``). The annualisation factor comes from
    :func:`resolve_periods_per_year`.
    """
    settings = config if config is not None else MetricsConfig()
    curve = read_equity(equity)
    trades_frame = None if trades is None else to_polars_frame(trades, "trades")
    positions_frame = None if positions is None else read_positions(positions)
    return compute_checked_metrics(
        curve, trades=trades_frame, positions=positions_frame, config=settings, interval=interval
    )


def compute_checked_metrics(
    curve: EquityCurve,
    *,
    trades: pl.DataFrame | None,
    positions: pl.DataFrame | None,
    config: MetricsConfig,
    interval: Interval | str | None = None,
) -> PerformanceMetrics:
    """Summarise inputs already checked: what :func:`compute_metrics` does after reading them.

    ``curve`` comes from :func:`~quantstrata.analytics._inputs.read_equity` or
    :func:`~quantstrata.analytics._inputs.ordered_equity`, ``positions`` from
    :func:`~quantstrata.analytics._activity.read_positions` or
    :func:`~quantstrata.analytics._activity.ordered_positions`. A backtest calls this directly:
    its curve and positions are ordered by construction, so reading them would only repeat
    checks its engine already guarantees.
    """
    periods = resolve_periods_per_year(curve, config, interval)
    statistics = (
        None if trades is None else trade_statistics(trades, sqn_trade_cap=config.sqn_trade_cap)
    )
    longest, deepest = underwater_summary(curve)
    return PerformanceMetrics(
        **_time_fields(curve, periods, longest),
        **_return_fields(curve, periods, config, deepest),
        **_trade_fields(statistics),
        exposure=_NAN if positions is None else exposure(curve, positions),
        turnover=_turnover(curve, periods, traded_notional(trades, positions)),
    )


def resolve_periods_per_year(
    curve: EquityCurve | pl.DataFrame | pd.Series,
    config: MetricsConfig,
    interval: Interval | str | None,
) -> float:
    """Return the bars a year: the configured override, else from the interval, else inferred.

    With an ``interval``, ``config.calendar`` decides (``None`` is 24/7). Without one, a
    configured calendar is used with the interval inferred from the timestamps, and without
    either everything is inferred by
    :func:`~quantstrata.analytics.annualization.infer_periods_per_year`. A single equity point
    with nothing to go by gives NaN.
    """
    if config.periods_per_year is not None:
        return config.periods_per_year
    if interval is not None:
        return periods_per_year(interval, config.calendar)
    checked = curve if isinstance(curve, EquityCurve) else read_equity(curve)
    if len(checked) < 2:
        return _NAN
    if config.calendar is not None:
        return periods_per_year(interval_of_ordered(checked.ts), config.calendar)
    return periods_per_year_of_ordered(checked.ts)


def _time_fields(curve: EquityCurve, periods: float, longest: DrawdownDuration) -> dict[str, Any]:
    start, end = datetime_from_ns(int(curve.ts[0])), datetime_from_ns(int(curve.ts[-1]))
    return {
        "start": start,
        "end": end,
        "duration": end - start,
        "bars": len(curve),
        "periods_per_year": periods,
        "max_drawdown_duration": longest.span,
        "max_drawdown_duration_bars": longest.bars,
    }


def _return_fields(
    curve: EquityCurve, periods: float, config: MetricsConfig, deepest: float
) -> dict[str, Any]:
    returns = simple_returns_array(curve.equity)
    total_return = float(curve.equity[-1] / curve.equity[0] - 1.0)
    growth = _ratios.cagr(total_return, returns.shape[0], periods)
    known = not math.isnan(periods)
    rf = _ratios.per_period_rate(config.risk_free_rate, periods) if known else _NAN
    mar = _ratios.per_period_rate(config.sortino_threshold, periods) if known else _NAN
    stats = _ratios.moments(returns)
    return {
        "total_return": total_return,
        "cagr": growth,
        "annual_volatility": _ratios.volatility_of(stats, periods),
        "sharpe": _ratios.sharpe_of(stats, rf, periods) if known else _NAN,
        "sortino": _ratios.sortino_of(stats, mar, periods) if known else _NAN,
        "calmar": _ratios.calmar(growth, deepest),
        "max_drawdown": deepest,
    }


def _trade_fields(statistics: TradeStatistics | None) -> dict[str, Any]:
    if statistics is None:
        return {
            "trades": None,
            **dict.fromkeys(
                ("win_rate", "profit_factor", "expectancy", "average_trade", "sqn"), _NAN
            ),
            "best_trade": _NAN,
            "worst_trade": _NAN,
            "average_holding_time": None,
        }
    return {
        "trades": statistics.trades,
        "win_rate": statistics.win_rate,
        "profit_factor": statistics.profit_factor,
        "expectancy": statistics.expectancy,
        "average_trade": statistics.average_trade,
        "best_trade": statistics.best_trade,
        "worst_trade": statistics.worst_trade,
        "average_holding_time": statistics.average_holding_time,
        "sqn": statistics.sqn,
    }


def _turnover(curve: EquityCurve, periods: float, notional: float) -> float:
    """Return ``traded notional / mean equity`` per year (``years = N / P``)."""
    bars = len(curve) - 1
    if bars == 0 or math.isnan(notional) or math.isnan(periods):
        return _NAN
    return notional / float(curve.equity.mean()) / (bars / periods)


def _polars_type(name: str, value: object) -> pl.DataType:
    if isinstance(value, datetime):
        return pl.Datetime("us", "UTC")
    if isinstance(value, timedelta) or name == "average_holding_time":
        return pl.Duration("us")
    if name in {"bars", "trades", "max_drawdown_duration_bars"}:
        return pl.Int64()
    return pl.Float64()
