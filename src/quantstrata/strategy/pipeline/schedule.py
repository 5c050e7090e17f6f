"""Rebalance schedules: which bar times decide new weights, without looking ahead.

A ``*_end`` schedule asks the exchange calendar for the last session of each week or month
(known in advance); a ``*_start`` schedule marks the first bar time of a new week or month among
the bars, which needs only earlier bars.
"""

from __future__ import annotations

import polars as pl

from quantstrata.process import session_table
from quantstrata.strategy.pipeline.config import PipelineConfig, Rebalance

__all__ = ["rebalance_times"]

_PERIODS = {
    Rebalance.WEEK_START: "1w",
    Rebalance.WEEK_END: "1w",
    Rebalance.MONTH_START: "1mo",
    Rebalance.MONTH_END: "1mo",
}


def rebalance_times(times: pl.Series, config: PipelineConfig) -> pl.Series:
    """Return the rebalance times among ``times`` (bar open times, any order, repeats allowed)."""
    unique = times.unique().sort()
    if unique.is_empty() or config.rebalance is Rebalance.DAILY:
        return unique
    period = _PERIODS[config.rebalance]
    if config.rebalance in {Rebalance.WEEK_START, Rebalance.MONTH_START}:
        starts = unique.dt.truncate(period)
        return unique.filter((starts != starts.shift(1)).fill_null(value=True))
    return unique.filter(unique.dt.date().is_in(_period_ends(unique, config.calendar, period)))


def _period_ends(times: pl.Series, calendar: str | None, period: str) -> pl.Series:
    """Return the last session date of every period ``times`` touch, by ``calendar``."""
    first = times.min().date()  # type: ignore[union-attr]
    last_period = times.max()
    end = pl.select(
        pl.lit(last_period).dt.truncate(period).dt.offset_by(period).dt.offset_by("-1d")
    ).item()
    sessions = session_table(calendar, first, end.date())
    ends = sessions.group_by(pl.col("session").dt.truncate(period).alias("period")).agg(
        pl.col("session").max()
    )
    return ends.get_column("session").implode()
