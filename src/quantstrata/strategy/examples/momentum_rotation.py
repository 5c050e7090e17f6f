"""Momentum rotation: at each month end, hold the top N symbols by trailing return, equally.

On the last trading session of every month the symbols with a bar that day are ranked by their
return over the last ``lookback`` bars (ties broken by symbol name); the ``top`` best get
``1 / top`` of equity each and every other symbol 0. The targets are held until the next
month end. Month ends come from the exchange calendar (known in advance, so no look-ahead):
a bar is a rebalance bar when its date is the last session of its month. Written for daily bars
labelled at the session date, as the catalog stores them.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field, field_validator

from quantstrata.process import canonical_calendar_code, session_table
from quantstrata.strategy import SignalStrategy, StrategyParameters

__all__ = ["MomentumRotation"]


class MomentumRotation(SignalStrategy):
    """Rotate monthly into the strongest symbols of a multi-symbol frame."""

    class Parameters(StrategyParameters):
        """The ranking window, how many symbols to hold and the calendar of month ends."""

        lookback: int = Field(63, ge=1, le=2520, description="bars of trailing return to rank by")
        top: int = Field(2, ge=1, le=500, description="symbols held, each at 1 / top of equity")
        calendar: str | None = Field(
            "XNYS", description="exchange-calendars code for sessions; None = every UTC day"
        )

        @field_validator("calendar")
        @classmethod
        def _known_calendar(cls, code: str | None) -> str | None:
            return None if code is None else canonical_calendar_code(code)

    parameters: Parameters

    def warmup_bars(self) -> int:
        """Return the bars before the first trailing return exists."""
        return self.parameters.lookback

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return every bar's target: the decision of the latest month end at or before it.

        ``bars`` arrive sorted by time (the runner's contract), as the as-of join needs.
        """
        if bars.is_empty():
            return bars.select("ts", "symbol", target=pl.lit(None, dtype=pl.Float64))
        decisions = self._decisions(bars)
        held = bars.select("ts", "symbol").join_asof(
            decisions.sort("ts"), on="ts", by="symbol", strategy="backward", check_sortedness=False
        )
        return held.select("ts", "symbol", "target")

    def _decisions(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return ``ts, symbol, target`` at every month end, for every symbol seen so far."""
        top = self.parameters.top
        momentum = bars.select(
            "ts",
            "symbol",
            momentum=pl.col("close")
            / pl.col("close").shift(self.parameters.lookback).over("symbol")
            - 1.0,
        )
        month_ends = momentum.filter(
            pl.col("ts").dt.date().is_in(self._month_end_dates(bars).implode())
        )
        ranked = (
            month_ends.drop_nulls("momentum")
            .sort("ts", "momentum", "symbol", descending=[False, True, False])
            .with_columns(rank=pl.int_range(1, pl.len() + 1).over("ts"))
        )
        chosen = ranked.filter(pl.col("rank") <= top).select(
            "ts", "symbol", target=pl.lit(1.0 / top)
        )
        grid = month_ends.select("ts").unique().join(bars.select("symbol").unique(), how="cross")
        return grid.join(chosen, on=["ts", "symbol"], how="left").with_columns(
            pl.col("target").fill_null(0.0)
        )

    def _month_end_dates(self, bars: pl.DataFrame) -> pl.Series:
        """Return the last session date of every month the bars touch."""
        first, last = bars.select(
            first=pl.col("ts").min().dt.date(), last=pl.col("ts").max().dt.month_end().dt.date()
        ).row(0)
        sessions = session_table(self.parameters.calendar, first, last)
        months = sessions.group_by(month=pl.col("session").dt.month_start())
        return months.agg(pl.col("session").max())["session"]
