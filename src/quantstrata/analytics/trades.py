"""Statistics of round-trip trades: how often a strategy wins, by how much, and how steadily.

A trades frame (Polars, or pandas) has one row per closed round trip with at least

- ``pnl``: the trade's profit or loss in account currency, costs included;
- ``return``: the trade's return as a fraction of the capital it committed;

and optionally ``entry_time`` and ``exit_time`` (timezone-aware; needed for the average
holding time) and ``r_multiple`` (Van Tharp's R: the P&L in units of the initial risk; used for
the SQN when present). A trade wins when ``pnl > 0`` and loses when ``pnl < 0``; a trade with
``pnl == 0`` counts in the total but is neither. ``docs/metrics.md`` gives every formula.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from quantstrata.analytics._inputs import FloatArray, to_polars_frame
from quantstrata.core.errors import DataError, DataIssue, SchemaError, TimezoneError

__all__ = ["REQUIRED_TRADE_COLUMNS", "TradeStatistics", "trade_statistics"]

REQUIRED_TRADE_COLUMNS = ("pnl", "return")
"""Columns every trades frame must have."""

_NAN = float("nan")


@dataclass(frozen=True, slots=True)
class TradeStatistics:
    """Summary of round-trip trades; NaN (or ``None``) where a statistic is undefined.

    ``expectancy`` is the mean P&L per trade in currency, ``average_trade`` the mean return
    per trade; ``best_trade`` and ``worst_trade`` are returns; ``profit_factor`` is gross
    profit over gross loss.
    """

    trades: int
    win_rate: float
    profit_factor: float
    expectancy: float
    average_trade: float
    average_win: float
    average_loss: float
    best_trade: float
    worst_trade: float
    total_pnl: float
    average_holding_time: timedelta | None
    sqn: float

    def __post_init__(self) -> None:
        """Check the count and the rates are in range."""
        if self.trades < 0:
            raise DataError(f"a trade count cannot be negative: {self.trades}")
        if not (math.isnan(self.win_rate) or 0.0 <= self.win_rate <= 1.0):
            raise DataError(f"a win rate must lie in [0, 1]: {self.win_rate}")

    def to_dict(self) -> dict[str, Any]:
        """Return the statistics as a plain dictionary, in field order."""
        return asdict(self)


def trade_statistics(
    trades: pl.DataFrame | pd.DataFrame, *, sqn_trade_cap: int | None = None
) -> TradeStatistics:
    """Summarise the round trips in ``trades``; an empty frame gives zero trades and NaNs.

    ``sqn_trade_cap`` caps the trade count in the SQN's ``sqrt(N)`` (Van Tharp uses 100).
    """
    frame = to_polars_frame(trades, "trades")
    pnl, returns = _required_columns(frame)
    count = int(pnl.shape[0])
    if count == 0:
        return _no_trades()
    wins, losses = pnl > 0.0, pnl < 0.0
    r_values = _float_values(frame, "r_multiple") if "r_multiple" in frame.columns else pnl
    return TradeStatistics(
        trades=count,
        win_rate=float(np.count_nonzero(wins)) / count,
        profit_factor=_ratio(float(pnl[wins].sum()), -float(pnl[losses].sum())),
        expectancy=float(pnl.mean()),
        average_trade=float(returns.mean()),
        average_win=_mean(returns[wins]),
        average_loss=_mean(returns[losses]),
        best_trade=float(returns.max()),
        worst_trade=float(returns.min()),
        total_pnl=float(pnl.sum()),
        average_holding_time=_average_holding_time(frame),
        sqn=system_quality_number(r_values, trade_cap=sqn_trade_cap),
    )


def system_quality_number(r_values: FloatArray, *, trade_cap: int | None = None) -> float:
    """Return Van Tharp's SQN: ``sqrt(min(N, cap)) · mean(R) / std(R, ddof=1)``.

    NaN for fewer than two trades or when every R is the same (no spread to scale by).
    """
    count = int(r_values.shape[0])
    if count < 2 or float(r_values.max()) == float(r_values.min()):
        return _NAN
    effective = count if trade_cap is None else min(count, trade_cap)
    return math.sqrt(effective) * float(r_values.mean()) / float(r_values.std(ddof=1))


def _required_columns(frame: pl.DataFrame) -> tuple[FloatArray, FloatArray]:
    missing = [name for name in REQUIRED_TRADE_COLUMNS if name not in frame.columns]
    if missing:
        raise SchemaError(
            f"the trades frame lacks column(s) {missing}; it has {frame.columns}",
            tuple(DataIssue("missing_column", "column is required", column=c) for c in missing),
        )
    return _float_values(frame, "pnl"), _float_values(frame, "return")


def _float_values(frame: pl.DataFrame, name: str) -> FloatArray:
    column = frame.get_column(name)
    if not column.dtype.is_numeric():
        raise SchemaError(f"trades column {name!r} must be numeric, not {column.dtype}")
    values = np.ascontiguousarray(column.cast(pl.Float64).fill_null(np.nan).to_numpy())
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.shape[0]:
        raise DataError(
            f"trades column {name!r} has missing or non-finite values",
            tuple(
                DataIssue("finite_trade_value", "must be finite", int(r), name, values[r].item())
                for r in bad
            ),
        )
    return values


def _average_holding_time(frame: pl.DataFrame) -> timedelta | None:
    if "entry_time" not in frame.columns or "exit_time" not in frame.columns:
        return None
    for name in ("entry_time", "exit_time"):
        dtype = frame.schema[name]
        if not isinstance(dtype, pl.Datetime):
            raise SchemaError(f"trades column {name!r} must hold datetimes, not {dtype}")
        if dtype.time_zone is None:
            raise TimezoneError(f"trades column {name!r} has no timezone")
    held = frame.get_column("exit_time") - frame.get_column("entry_time")
    issues = tuple(
        DataIssue("exit_after_entry", "missing, or before entry_time", int(r), "exit_time")
        for r in np.flatnonzero((held.is_null() | (held < timedelta(0))).to_numpy())
    )
    if issues:
        raise DataError("trades have missing times or exits before entries", issues)
    nanoseconds = held.dt.total_nanoseconds().cast(pl.Float64).mean()
    return timedelta(microseconds=round(float(nanoseconds) / 1_000))  # type: ignore[arg-type]


def _no_trades() -> TradeStatistics:
    return TradeStatistics(
        trades=0,
        win_rate=_NAN,
        profit_factor=_NAN,
        expectancy=_NAN,
        average_trade=_NAN,
        average_win=_NAN,
        average_loss=_NAN,
        best_trade=_NAN,
        worst_trade=_NAN,
        total_pnl=0.0,
        average_holding_time=None,
        sqn=_NAN,
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0.0 else _NAN


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if values.shape[0] else _NAN
