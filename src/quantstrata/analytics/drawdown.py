"""Drawdowns of an equity curve: the series, the deepest one, the longest, and each period.

The drawdown at bar ``t`` is ``1 - equity[t] / max(equity[0..t])``: a fraction in ``[0, 1)``,
0 at a new high. An *underwater period* starts at a peak (the last bar at the running high
before the curve falls below it) and ends at the first bar back at or above that peak, or at
the last bar when the curve never recovers. Its duration is counted from the peak to that end,
in bars (``end - peak``) and in time (``ts[end] - ts[peak]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
import polars as pl

from quantstrata.analytics._inputs import EquityCurve, FloatArray, read_equity
from quantstrata.analytics._nb import underwater_periods_nb
from quantstrata.core.errors import DataError

__all__ = [
    "DrawdownDuration",
    "drawdown_series",
    "max_drawdown",
    "max_drawdown_duration",
    "underwater_periods",
    "underwater_summary",
]

_UTC_NS = pl.Datetime("ns", "UTC")


@dataclass(frozen=True, slots=True)
class DrawdownDuration:
    """How long the curve stayed below a previous peak: in bars and as a time span.

    The two are maximised separately: with gaps in the data the longest period in bars need
    not be the longest in time.
    """

    bars: int
    span: timedelta

    def __post_init__(self) -> None:
        """Refuse negative durations."""
        if self.bars < 0 or self.span < timedelta(0):
            raise DataError(f"a drawdown duration cannot be negative: {self.bars}, {self.span}")


def drawdown_series(equity: pl.DataFrame | pd.Series) -> pl.DataFrame:
    """Return ``ts``, ``equity``, ``peak`` (running high) and ``drawdown`` for every bar."""
    curve = read_equity(equity)
    peak = np.maximum.accumulate(curve.equity)
    return pl.DataFrame(
        [
            curve.timestamps(),
            pl.Series("equity", curve.equity),
            pl.Series("peak", peak),
            pl.Series("drawdown", drawdown_array(curve.equity)),
        ]
    )


def max_drawdown(equity: pl.DataFrame | pd.Series) -> float:
    """Return the deepest drawdown of ``equity`` as a positive fraction (0 if it never fell)."""
    return float(drawdown_array(read_equity(equity).equity).max())


def max_drawdown_duration(equity: pl.DataFrame | pd.Series) -> DrawdownDuration:
    """Return the longest underwater period, in bars and in time (zero if never underwater)."""
    return longest_underwater(read_equity(equity))


def underwater_periods(equity: pl.DataFrame | pd.Series) -> pl.DataFrame:
    """Return one row per underwater period, in time order.

    Columns: ``peak``, ``trough`` and ``end`` timestamps (``end`` is the recovery bar, or the
    last bar when ``recovered`` is false), ``depth`` (the period's deepest drawdown, a positive
    fraction), ``bars`` (``end - peak`` in bars), ``duration`` (``end - peak`` in time) and
    ``recovered``.
    """
    curve = read_equity(equity)
    peaks, troughs, ends, depths, recovered = underwater_periods_nb(curve.equity)
    ts = curve.ts

    def times(name: str, rows: np.ndarray) -> pl.Series:
        return pl.Series(name, ts[rows], dtype=pl.Int64).cast(_UTC_NS)

    frame = pl.DataFrame(
        [
            times("peak", peaks),
            times("trough", troughs),
            times("end", ends),
            pl.Series("depth", depths, dtype=pl.Float64),
            pl.Series("bars", ends - peaks, dtype=pl.Int64),
            pl.Series("recovered", recovered, dtype=pl.Boolean),
        ]
    )
    duration = (pl.col("end") - pl.col("peak")).alias("duration")
    return frame.with_columns(duration).select(
        "peak", "trough", "end", "depth", "bars", "duration", "recovered"
    )


def drawdown_array(equity: FloatArray) -> FloatArray:
    """Return ``1 - equity / running maximum`` for an array of positive equity values."""
    values = np.asarray(equity, dtype=np.float64)
    return 1.0 - values / np.maximum.accumulate(values)


def longest_underwater(curve: EquityCurve) -> DrawdownDuration:
    """Return the longest underwater period of a checked curve, in bars and in time."""
    return underwater_summary(curve)[0]


def underwater_summary(curve: EquityCurve) -> tuple[DrawdownDuration, float]:
    """Return the longest underwater period and the deepest drawdown, from one pass.

    The deepest period's depth is the maximum drawdown: the same ``1 - equity / peak`` of
    the same running peak (0.0 when the curve never fell), so the metrics need no second pass.
    """
    peaks, _, ends, depths, _ = underwater_periods_nb(curve.equity)
    if peaks.shape[0] == 0:
        return DrawdownDuration(0, timedelta(0)), 0.0
    spans = curve.ts[ends] - curve.ts[peaks]
    longest = DrawdownDuration(
        bars=int((ends - peaks).max()),
        span=timedelta(microseconds=int(spans.max()) // 1_000),
    )
    return longest, float(depths.max())
