"""Resample canonical bars to a coarser interval, per symbol, with or without a trading calendar.

Conventions
-----------
- **Labels and intervals.** An output bar is labelled by its *open* time (the left edge) and
  covers the left-closed interval ``[ts, ts + interval)``, like every canonical bar. An input
  bar belongs to the output bar whose interval contains the input bar's open time; an input bar
  that would spill into the next output bar (its open is off the target grid) is refused with a
  :class:`~quantstrata.core.errors.DataError` naming the row.
- **Aggregation.** ``open`` = first, ``high`` = max, ``low`` = min, ``close`` = last,
  ``volume`` = sum; of the known extra columns ``adj_close`` = last, ``quote_volume`` = sum,
  ``open_interest`` = last; every other extra column = last (the value at the output bar's
  close). Output bars with no input bar are not produced: resampling never fabricates bars.
- **Without a calendar** (``calendar=None``, a market that never closes): output bars are
  anchored to the Unix epoch (1970-01-01 00:00 UTC): ``1h`` bars open on the hour, ``1d`` bars
  at 00:00 UTC, ``Nd`` bars every N days from the epoch. Weeks start on Monday 00:00 UTC and
  ``Nw`` bars are counted from Monday 1970-01-05. Months are calendar months labelled at the
  1st 00:00 UTC, and ``Nmo`` bars are counted from January 1970 (``3mo`` = calendar quarters).
  These match Polars' ``dt.truncate``. ``anchor`` is ignored.
- **With a calendar** (an exchange-calendars code such as ``"XNYS"``): no output bar spans a
  closed market (overnight, weekend, holiday or lunch break); input bars outside the sessions
  are refused. Intraday targets with ``anchor="session"`` start at the session open (or at the
  end of a lunch break) and step by the interval, so the last bar of a session may be short:
  XNYS hourly bars open at 09:30, 10:30, …, 15:30 New York time, the last covering 15:30–16:00.
  With ``anchor="clock"`` output bars sit on multiples of the interval on the exchange's local
  clock (10:00, 11:00, …), the first one starting at the session open (09:30–10:00). A ``1d``
  target gives one bar per session labelled at the session *date* 00:00 UTC (the catalog's
  daily convention). ``1w``/``1mo`` targets group sessions by the week (from Monday) or month of
  their session date and are labelled at the period start (Monday or the 1st, 00:00 UTC), as
  :func:`quantstrata.process.calendar.expected_bar_opens` does.
- **Intervals.** The target must be a whole multiple of the source interval
  (:meth:`Interval.is_multiple_of`), else :class:`~quantstrata.core.errors.ConfigError`. The
  source interval is the smallest step between two bars of one symbol unless
  ``source_interval`` is given (it must be when no symbol has two bars).
- **Order.** The output is sorted by ``symbol`` then ``ts``; the input may be in any order.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import polars as pl

from quantstrata.core.errors import ConfigError
from quantstrata.model.bar import BAR_COLUMNS, TIMESTAMP_DTYPE
from quantstrata.model.interval import Interval, interval_from_times
from quantstrata.process._bar_frames import (
    IntArray,
    OrderedBars,
    check_bar_frame,
    sort_by_symbol_time,
)
from quantstrata.process._resample_labels import bucket_labels

__all__ = ["ResampleAnchor", "resample"]

_SUMMED_EXTRAS = frozenset({"quote_volume"})


class ResampleAnchor(StrEnum):
    """Where intraday output bars start within a session (calendar-aware resampling only)."""

    SESSION = "session"
    """At the session open and every interval after it (09:30, 10:30, … on the NYSE)."""
    CLOCK = "clock"
    """On multiples of the interval on the exchange's clock (09:30, 10:00, 11:00, …)."""


def resample(
    bars: pl.DataFrame,
    interval: Interval | str,
    *,
    calendar: str | None = None,
    anchor: ResampleAnchor | str = ResampleAnchor.SESSION,
    source_interval: Interval | str | None = None,
) -> pl.DataFrame:
    """Aggregate canonical ``bars`` into bars of ``interval``, per symbol.

    ``calendar`` is an exchange-calendars code for session-aware resampling, or None for a
    market that never closes. See the module docstring for labels, anchoring and aggregation.
    Raise :class:`ConfigError` for an unknown anchor, a target that is not a multiple of the
    source interval or an uninferable source interval, and :class:`DataError` for bars outside
    the sessions, bars off the target grid or duplicate ``(symbol, ts)`` pairs.
    """
    target = Interval.parse(interval)
    clock_anchor = _parse_anchor(anchor) is ResampleAnchor.CLOCK
    frame = check_bar_frame(bars)
    if frame.height == 0:
        return frame.clone()
    ordered = sort_by_symbol_time(frame)
    source = _source_interval(ordered, source_interval)
    if not target.is_multiple_of(source):
        raise ConfigError(
            f"cannot resample {source} bars to {target}: the target must be a whole multiple "
            "of the source interval"
        )
    labels = bucket_labels(
        ordered.times, ordered.rows, target, source, calendar, clock_anchor=clock_anchor
    )
    starts = np.flatnonzero(ordered.new_symbol | np.concatenate(([True], np.diff(labels) != 0)))
    extras = [name for name in frame.columns if name not in BAR_COLUMNS]
    return _aggregate(ordered, labels[starts], starts, extras)


def _parse_anchor(anchor: ResampleAnchor | str) -> ResampleAnchor:
    try:
        return ResampleAnchor(anchor)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in ResampleAnchor)
        raise ConfigError(f"unknown anchor {anchor!r}; use one of {choices}") from None


def _source_interval(ordered: OrderedBars, given: Interval | str | None) -> Interval:
    if given is not None:
        return Interval.parse(given)
    inferred = interval_from_times(ordered.symbol_times())
    if inferred is None:
        raise ConfigError(
            "cannot infer the source interval: no symbol has two bars; pass source_interval"
        )
    return inferred


def _aggregate(
    ordered: OrderedBars, labels: IntArray, starts: IntArray, extras: list[str]
) -> pl.DataFrame:
    """Reduce the runs of sorted rows beginning at ``starts`` (each run is one output bar)."""
    ends = np.concatenate((starts[1:], [len(ordered.times)])) - 1
    columns: dict[str, pl.Series] = {
        "ts": pl.Series("ts", labels).cast(TIMESTAMP_DTYPE),
        "symbol": ordered.gather("symbol", starts),
        "open": ordered.gather("open", starts),
        "high": _reduce(ordered, "high", starts, np.fmax),
        "low": _reduce(ordered, "low", starts, np.fmin),
        "close": ordered.gather("close", ends),
        "volume": _reduce(ordered, "volume", starts, np.add),
    }
    for name in extras:
        summed = name in _SUMMED_EXTRAS and ordered.source.schema[name].is_numeric()
        columns[name] = (
            _reduce(ordered, name, starts, np.add) if summed else ordered.gather(name, ends)
        )
    return pl.DataFrame([columns[name] for name in (*BAR_COLUMNS, *extras)])


def _reduce(ordered: OrderedBars, name: str, starts: IntArray, function: np.ufunc) -> pl.Series:
    """Reduce each run with ``function``, ignoring nulls as Polars' own aggregations do."""
    column = ordered.source.get_column(name)
    values = column.cast(pl.Float64).fill_null(0.0 if function is np.add else float("nan"))
    reduced = function.reduceat(ordered.values(values), starts)
    return pl.Series(name, reduced).fill_nan(None).cast(column.dtype)
