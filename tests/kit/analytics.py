"""Equity curves, returns and trade frames for the analytics tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl

from quantstrata.data.samples import load_sample

START = datetime(2024, 1, 1, tzinfo=UTC)


def daily_times(count: int, start: datetime = START) -> list[datetime]:
    """Return ``count`` consecutive UTC midnights from ``start``."""
    return [start + timedelta(days=day) for day in range(count)]


def equity_frame(
    values: list[float] | np.ndarray, times: list[datetime] | None = None
) -> pl.DataFrame:
    """Return an equity curve frame (``ts``, ``equity``) on consecutive days unless times given."""
    values = [float(value) for value in values]
    ts = times if times is not None else daily_times(len(values))
    return pl.DataFrame(
        {"ts": ts, "equity": values}, schema={"ts": pl.Datetime("ns", "UTC"), "equity": pl.Float64}
    )


def equity_from_returns(
    returns: np.ndarray, times: pd.DatetimeIndex, start: float = 100.0
) -> pl.DataFrame:
    """Return the curve that starts at ``start`` one bar before ``times`` and earns ``returns``.

    ``times`` labels the returns; the starting point gets the time one median step earlier.
    """
    step = pd.Series(times).diff().median()
    ts = pd.DatetimeIndex(pd.DatetimeIndex([times[0] - step]).append(times))
    values = start * np.concatenate([[1.0], np.cumprod(1.0 + np.asarray(returns))])
    return pl.DataFrame({"ts": pl.Series(ts.as_unit("ns")), "equity": values}).with_columns(
        pl.col("ts").dt.convert_time_zone("UTC")
    )


def spx_close_returns() -> pd.Series:
    """Return the S&P 500 daily close-to-close returns 1999–2018 (real data), UTC index."""
    bars = load_sample("SPX_1d").to_pandas().set_index("ts")
    return bars["close"].pct_change().dropna()


def spx_equity() -> pl.DataFrame:
    """Return the S&P 500 daily closes as an equity curve (``ts``, ``equity``)."""
    return load_sample("SPX_1d").select("ts", pl.col("close").alias("equity"))


def random_returns(count: int, *, seed: int, mean: float, scale: float, freq: str) -> pd.Series:
    """Return Student-t returns (fat tails, like markets) on a UTC index of frequency ``freq``."""
    rng = np.random.default_rng(seed)
    values = mean + scale * rng.standard_t(df=4, size=count) / np.sqrt(2.0)
    index = pd.date_range("2010-01-01", periods=count, freq=freq, tz="UTC")
    return pd.Series(np.clip(values, -0.9, None), index=index)
