"""How many bars make a year: the factor that annualises returns, volatility and ratios.

Conventions (``docs/metrics.md`` explains them):

- **24/7 markets** (``calendar=None``, or the exchange-calendars ``"24/7"`` code): 365 days a
  year, so daily bars give 365 and ``1h`` bars give ``365 × 24 = 8760``.
- **Markets with a calendar** (``"XNYS"``…): the calendar's real sessions averaged over the
  reference years 2005–2024 (≈ 252 for the NYSE), times the bars each session holds. A
  session holds ``ceil(session length / interval)`` intraday bars (the last bar of a session is
  shorter when the length is not a multiple), counted per session part around lunch breaks, so
  early closes and breaks count exactly.
- **Weekly bars** give 52 and **monthly bars** 12 a year, whatever the calendar.
- An interval of ``k`` units gives the one-unit figure divided by ``k`` (``2w`` gives 26).

:func:`infer_periods_per_year` guesses the factor from timestamps alone; its rule is in its
docstring.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from quantstrata.analytics._inputs import IntArray, TimestampInput, read_timestamps
from quantstrata.core.errors import ConfigError, DataError
from quantstrata.model.interval import Interval, IntervalUnit, interval_from_times
from quantstrata.process.calendar import canonical_calendar_code, get_calendar

__all__ = [
    "DAYS_PER_YEAR",
    "MONTHS_PER_YEAR",
    "REFERENCE_YEARS",
    "TRADING_DAYS_PER_YEAR",
    "WEEKS_PER_YEAR",
    "bars_per_year",
    "infer_interval",
    "infer_periods_per_year",
    "interval_of_ordered",
    "periods_per_year",
    "periods_per_year_of_ordered",
]

DAYS_PER_YEAR = 365
"""Days in a year of a market that never closes (the crypto convention)."""
TRADING_DAYS_PER_YEAR = 252
"""Sessions a year assumed by :func:`infer_periods_per_year` when no calendar is known."""
WEEKS_PER_YEAR = 52
MONTHS_PER_YEAR = 12
REFERENCE_YEARS = (2005, 2024)
"""First and last calendar years whose sessions are averaged for a calendar's bars per year."""

_NS_PER_DAY = 86_400 * 1_000_000_000
_NAT = np.iinfo(np.int64).min
_ALWAYS_OPEN_CODE = "24/7"
_WEEKEND_SHARE_OF_ALWAYS_OPEN = 0.1
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday is 0)


def periods_per_year(interval: Interval | str, calendar: str | None = None) -> float:
    """Return the number of ``interval`` bars in a year on ``calendar`` (``None``: 24/7).

    Examples: ``1m`` on 24/7 gives 525 600; ``1d`` on ``XNYS`` gives the NYSE's average
    sessions a year (≈ 252); ``1w`` gives 52 and ``1mo`` gives 12 on any calendar.
    """
    step = Interval.parse(interval)
    if step.unit is IntervalUnit.MONTH:
        return MONTHS_PER_YEAR / step.count
    if step.unit is IntervalUnit.WEEK:
        return WEEKS_PER_YEAR / step.count
    code = _canonical_calendar_code(calendar)
    if code is None:
        return DAYS_PER_YEAR * _NS_PER_DAY / step.nanoseconds
    if step.unit is IntervalUnit.DAY:
        return _sessions_per_year(code) / step.count
    return bars_per_year(code, step)


def bars_per_year(calendar: str, interval: Interval | str) -> float:
    """Return the average number of intraday ``interval`` bars a year on ``calendar``.

    The average runs over the sessions of :data:`REFERENCE_YEARS` (a calendar that does not
    cover them raises :class:`ConfigError`): each session part contributes
    ``ceil(length / interval)`` bars.
    """
    step = Interval.parse(interval)
    if not step.is_fixed or step.seconds >= 86_400:
        raise ConfigError(f"bars_per_year needs an intraday interval, got {step}")
    return _bars_per_year(canonical_calendar_code(calendar), step.nanoseconds)


def infer_interval(ts: TimestampInput) -> Interval:
    """Guess the bar interval of strictly increasing timestamps: their most common step.

    The rule is :func:`~quantstrata.model.interval.interval_from_times` (the one the processing
    layer, the backtest and the replay feed use too), which says why the most common step and
    how months and weeks are read. Fewer than two timestamps raise :class:`DataError`.
    """
    return interval_of_ordered(read_timestamps(ts))


def interval_of_ordered(nanoseconds: IntArray) -> Interval:
    """Return :func:`infer_interval` of times already checked (UTC ns, strictly increasing)."""
    found = interval_from_times([nanoseconds])
    if found is None:
        raise DataError(
            "at least two timestamps are needed to infer the bar interval; "
            "pass interval= or MetricsConfig(periods_per_year=...)"
        )
    return found


def infer_periods_per_year(ts: TimestampInput) -> float:
    """Guess the annualisation factor from timestamps alone (pass a calendar when you know it).

    The rule:

    1. The interval is :func:`infer_interval`'s guess. Weekly and monthly intervals give 52
       and 12 a year (divided by the count, as in :func:`periods_per_year`).
    2. If at least 10 % of the timestamps fall on a Saturday or Sunday (UTC), the market is
       taken to never close: ``365 days / interval``.
    3. Otherwise the market has sessions: 252 sessions a year, times the median number of
       bars per UTC date for intraday bars (daily bars: ``252 / count``).

    Two timestamps at least are needed; a week or more of data makes step 2 reliable.
    """
    return periods_per_year_of_ordered(read_timestamps(ts))


def periods_per_year_of_ordered(nanoseconds: IntArray) -> float:
    """Return :func:`infer_periods_per_year` of times already checked (UTC ns, increasing)."""
    step = interval_of_ordered(nanoseconds)
    if step.unit in {IntervalUnit.WEEK, IntervalUnit.MONTH}:
        return periods_per_year(step, None)
    days, bars_per_day = _bars_per_utc_date(nanoseconds)
    weekend = ((days + _EPOCH_WEEKDAY) % 7) >= 5
    if int(bars_per_day[weekend].sum()) / nanoseconds.shape[0] >= _WEEKEND_SHARE_OF_ALWAYS_OPEN:
        return periods_per_year(step, None)
    if step.unit is IntervalUnit.DAY:
        return TRADING_DAYS_PER_YEAR / step.count
    return TRADING_DAYS_PER_YEAR * float(np.median(bars_per_day[bars_per_day > 0]))


def _bars_per_utc_date(nanoseconds: IntArray) -> tuple[IntArray, IntArray]:
    """Return every UTC date (days since the epoch) the sorted timestamps span, and its bars.

    Counted with one binary search per date rather than a pass over every timestamp.
    """
    first, last = int(nanoseconds[0]) // _NS_PER_DAY, int(nanoseconds[-1]) // _NS_PER_DAY
    days = np.arange(first, last + 1, dtype=np.int64)
    edges = np.searchsorted(nanoseconds, np.append(days, last + 1) * _NS_PER_DAY, side="left")
    return days, np.diff(edges)


def _canonical_calendar_code(calendar: str | None) -> str | None:
    if calendar is None:
        return None
    code = canonical_calendar_code(calendar)
    return None if code == _ALWAYS_OPEN_CODE else code


@functools.lru_cache(maxsize=64)
def _sessions_per_year(code: str) -> float:
    sessions, years = _reference_sessions(code)
    return float(sessions.shape[0]) / years


@functools.lru_cache(maxsize=64)
def _bars_per_year(code: str, step_ns: int) -> float:
    sessions, years = _reference_sessions(code)
    calendar = _reference_calendar(code)
    keep = np.isin(np.asarray(calendar.sessions_nanos, dtype=np.int64), sessions)
    opens = np.asarray(calendar.opens_nanos, dtype=np.int64)[keep]
    closes = np.asarray(calendar.closes_nanos, dtype=np.int64)[keep]
    break_starts = np.asarray(calendar.break_starts_nanos, dtype=np.int64)[keep]
    break_ends = np.asarray(calendar.break_ends_nanos, dtype=np.int64)[keep]
    has_break = break_starts != _NAT
    first_part_ends = np.where(has_break, break_starts, closes)
    bars = _ceil_div(first_part_ends - opens, step_ns).sum()
    bars += _ceil_div(closes[has_break] - break_ends[has_break], step_ns).sum()
    return float(bars) / years


def _ceil_div(lengths: IntArray, step_ns: int) -> IntArray:
    return -(-lengths // step_ns)


def _reference_calendar(code: str) -> Any:
    first, last = REFERENCE_YEARS
    try:
        return get_calendar(code, date(first, 1, 1), date(last, 12, 31))
    except ConfigError as error:
        raise ConfigError(f"{error}; pass MetricsConfig(periods_per_year=...) instead") from None


def _reference_sessions(code: str) -> tuple[IntArray, int]:
    """Return the session labels (UTC ns) of the reference years and the number of years."""
    first, last = REFERENCE_YEARS
    calendar = _reference_calendar(code)
    sessions = np.asarray(calendar.sessions_nanos, dtype=np.int64)
    years = pl.Series(sessions).cast(pl.Datetime("ns", "UTC")).dt.year().to_numpy()
    keep = (years >= first) & (years <= last)
    return sessions[keep], last - first + 1
