"""Put several symbols on one clock, without ever reading a bar from the future.

:func:`align` returns a long bar frame with one row per clock tick and symbol. The value of a
symbol at tick ``t`` comes from the *latest bar of that symbol with* ``ts <= t`` (an as-of
backward join on the bar labels), so no value is taken from a bar that opens after ``t``.
Recomputing an aligned row from the data up to ``t`` gives the same row.

- A bar whose ``ts`` equals the tick is used as is.
- Otherwise, with ``fill="forward"``, the tick carries the last bar's ``close`` into
  ``open``/``high``/``low``/``close``, has ``volume`` (and ``quote_volume``) 0, keeps the last
  value of every other extra column, and is marked ``filled=True``; ``max_fill`` caps how many
  consecutive ticks one bar may fill, later ticks are null. With ``fill="none"`` the tick is
  null (and the frame has no ``filled`` column).
- Ticks before a symbol's first bar are always null: nothing is ever filled backwards.

The clock is the union of all the bars' timestamps (default), an explicit Series of UTC
timestamps, or an interval (``"1h"``, ``"1d"``) laid out between the first and last bar by
:func:`quantstrata.process.calendar.expected_bar_opens`, on ``calendar``'s sessions if given.

:func:`to_wide` and :func:`to_wide_pandas` turn a long frame into one column per symbol.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

import pandas as pd
import polars as pl

from quantstrata.core.errors import ConfigError, DataIssue, TimezoneError, UnknownSymbolError
from quantstrata.model.bar import BAR_COLUMNS, TIMESTAMP_DTYPE
from quantstrata.model.interval import Interval
from quantstrata.process._bar_frames import check_bar_frame, sort_by_symbol_time
from quantstrata.process.calendar import expected_bar_opens

__all__ = ["FillMethod", "align", "to_wide", "to_wide_pandas"]

_BAR_TS = "__bar_ts"
_ZERO_WHEN_FILLED = frozenset({"volume", "quote_volume"})
_CARRIED_CLOSE = ("open", "high", "low", "close")

Clock = pl.Series | Interval | str | None


class FillMethod(StrEnum):
    """What a tick without a bar of its own holds."""

    FORWARD = "forward"
    """The last close as a flat bar with zero volume, marked ``filled``."""
    NONE = "none"
    """Nulls."""


def align(
    bars: pl.DataFrame,
    *,
    clock: Clock = None,
    fill: FillMethod | str = FillMethod.FORWARD,
    max_fill: int | None = None,
    symbols: Sequence[str] | None = None,
    calendar: str | None = None,
) -> pl.DataFrame:
    """Return ``bars`` on one clock: a row per tick and symbol, sorted by ``ts`` then symbol.

    ``symbols`` picks and orders the symbols (default: all, sorted). ``calendar`` applies to an
    interval clock only. Raise :class:`UnknownSymbolError` for a symbol without bars,
    :class:`ConfigError` for a bad fill, max_fill or clock, :class:`TimezoneError` for a clock
    that is not UTC, and :class:`DataError` for duplicate ``(symbol, ts)`` bars.
    """
    method = _parse_fill(fill)
    if max_fill is not None and (isinstance(max_fill, bool) or max_fill < 0):
        raise ConfigError(f"max_fill must be None or a non-negative integer, got {max_fill!r}")
    frame = check_bar_frame(bars)
    chosen = _choose_symbols(frame, symbols)
    frame = sort_by_symbol_time(frame).frame().filter(pl.col("symbol").is_in(chosen))
    ticks = _clock_ticks(frame, clock, calendar)
    grid = pl.DataFrame({"ts": ticks}).join(
        pl.DataFrame({"symbol": pl.Series(chosen, dtype=pl.String)}), how="cross"
    )
    right = frame.with_columns(pl.col("ts").alias(_BAR_TS)).sort("ts", "symbol")
    # Both sides are sorted by ts (the grid by construction), which Polars cannot verify per group.
    joined = grid.join_asof(
        right, on="ts", by="symbol", strategy="backward", check_sortedness=False
    )
    extras = [name for name in frame.columns if name not in BAR_COLUMNS]
    if method is FillMethod.NONE:
        return _unfilled(joined, extras)
    return _forward_filled(joined, extras, max_fill)


def to_wide(
    bars: pl.DataFrame, column: str = "close", symbols: Sequence[str] | None = None
) -> pl.DataFrame:
    """Return ``ts`` plus one ``column`` column per symbol; missing values are null.

    Rows are the union of all timestamps, sorted; columns follow ``symbols`` (default sorted).
    """
    frame = check_bar_frame(bars)
    if column not in frame.columns or column in ("ts", "symbol"):
        raise ConfigError(f"cannot spread column {column!r}; choose a value column of the bars")
    chosen = _choose_symbols(frame, symbols)
    frame = sort_by_symbol_time(frame).frame().filter(pl.col("symbol").is_in(chosen))
    wide = frame.pivot(on="symbol", index="ts", values=column).sort("ts")  # noqa: PD010
    missing = [pl.lit(None, dtype=frame.schema[column]).alias(name) for name in chosen]
    return wide.with_columns(
        [expression for expression in missing if expression.meta.output_name() not in wide]
    ).select("ts", *chosen)


def to_wide_pandas(
    bars: pl.DataFrame, column: str = "close", symbols: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return :func:`to_wide` as a pandas frame indexed by a UTC ``DatetimeIndex`` named ``ts``."""
    wide = to_wide(bars, column, symbols).to_pandas()
    return wide.set_index("ts")


def _parse_fill(fill: FillMethod | str) -> FillMethod:
    try:
        return FillMethod(fill)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in FillMethod)
        raise ConfigError(f"unknown fill {fill!r}; use one of {choices}") from None


def _choose_symbols(frame: pl.DataFrame, symbols: Sequence[str] | None) -> list[str]:
    present = frame.get_column("symbol").unique().drop_nulls().sort().to_list()
    if symbols is None:
        return present
    if isinstance(symbols, str):
        raise ConfigError("symbols must be a list of symbols, not one string")
    chosen = list(dict.fromkeys(symbols))
    unknown = [symbol for symbol in chosen if symbol not in set(present)]
    if unknown:
        issues = tuple(
            DataIssue("unknown_symbol", "no bars for this symbol", column="symbol", symbol=name)
            for name in unknown
        )
        raise UnknownSymbolError(f"no bars for symbols {unknown}", issues)
    return chosen


def _clock_ticks(frame: pl.DataFrame, clock: Clock, calendar: str | None) -> pl.Series:
    if clock is None or isinstance(clock, pl.Series):
        if calendar is not None:
            raise ConfigError("calendar applies to an interval clock such as clock='1h' only")
        ticks = frame.get_column("ts") if clock is None else _checked_clock(clock)
        return ticks.unique().sort().alias("ts")
    if frame.height == 0:
        return pl.Series("ts", [], dtype=TIMESTAMP_DTYPE)
    times = frame.get_column("ts")
    first: datetime = times.min()  # type: ignore[assignment]
    last: datetime = times.max()  # type: ignore[assignment]
    interval = Interval.parse(clock)
    return expected_bar_opens(calendar, interval, first.astimezone(UTC), last.astimezone(UTC))


def _checked_clock(clock: pl.Series) -> pl.Series:
    dtype = clock.dtype
    if not isinstance(dtype, pl.Datetime):
        raise ConfigError(f"a clock Series must hold UTC datetimes, got {dtype}")
    if dtype.time_zone != "UTC":
        raise TimezoneError(f"a clock Series must be in UTC, got time zone {dtype.time_zone!r}")
    if clock.null_count():
        raise ConfigError("a clock Series must not hold nulls")
    return clock.cast(TIMESTAMP_DTYPE)


def _unfilled(joined: pl.DataFrame, extras: list[str]) -> pl.DataFrame:
    exact = pl.col(_BAR_TS) == pl.col("ts")
    values = [
        pl.when(exact).then(pl.col(name)).otherwise(None).alias(name)
        for name in (*BAR_COLUMNS[2:], *extras)
    ]
    return joined.select("ts", "symbol", *values)


def _forward_filled(joined: pl.DataFrame, extras: list[str], max_fill: int | None) -> pl.DataFrame:
    exact = pl.col(_BAR_TS) == pl.col("ts")
    carried = pl.col(_BAR_TS) < pl.col("ts")
    if max_fill is not None:
        # Ticks filled from one bar are consecutive: number them and cut after max_fill.
        run = carried.cast(pl.Int64).cum_sum().over("symbol", _BAR_TS)
        carried = carried & (run <= max_fill)
    values = []
    for name in (*BAR_COLUMNS[2:], *extras):
        if name in _CARRIED_CLOSE:
            filled_value = pl.col("close")
        elif name in _ZERO_WHEN_FILLED:
            filled_value = pl.lit(0.0, dtype=joined.schema[name])
        else:
            filled_value = pl.col(name)
        values.append(
            pl.when(exact).then(pl.col(name)).when(carried).then(filled_value).alias(name)
        )
    filled = carried.fill_null(value=False).alias("filled")
    return joined.select("ts", "symbol", *values, filled)
