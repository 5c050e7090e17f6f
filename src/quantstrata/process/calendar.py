"""Trading calendars: when a market is open, and which bars a complete history holds.

Calendars come from `exchange-calendars <https://github.com/gerrymanoim/exchange_calendars>`_
and are named by its codes (``"XNYS"``, ``"XLON"``, ``"CMES"``, ``"24/5"`` for FX,
``"24/7"``…); ``exchange_calendars.get_calendar_names()`` lists them all. ``code=None`` means a
market that never closes (crypto): every UTC day is a session from 00:00 to the next 00:00.

Bar labelling conventions (the catalog's, and what :func:`expected_bar_opens` returns):

- **Intraday bars** are labelled by their open time in UTC and anchored to the session: the
  first bar of a session opens at the session open (or at the end of a lunch break for its
  second part), the next ones every ``interval`` after, and the last bar of a session (or of a
  session part) is shorter when the session length is not a multiple of the interval. On a
  24/7 market intraday bars are anchored to the Unix epoch (``00:00``, ``00:05``, … for ``5m``).
- **Daily bars** carry one bar per session, labelled at the session *date* at 00:00 UTC, even
  though the session itself opens later (14:30 UTC on the NYSE) or on the previous UTC day
  (23:00 UTC on the ASX). **Weekly and monthly bars** are labelled like Polars'
  ``dt.truncate`` of those dates (weeks start on Monday, months on their first day), one bar per
  period that holds at least one session.

Time bounds may be aware ``datetime`` values (converted to UTC), ``date`` values (whole UTC
days: a ``date`` as ``end`` includes that day) or ISO strings of either. Naive datetimes are
refused, because guessing their timezone silently shifts every bar.
"""

from __future__ import annotations

import difflib
import functools
import warnings
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import numpy as np
import polars as pl
from pydantic import AfterValidator

from quantstrata.core.clock import ns_from_datetime, parse_time_bound
from quantstrata.core.errors import ConfigError
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.interval import Interval, IntervalUnit

__all__ = [
    "ALWAYS_OPEN",
    "CalendarCode",
    "TimeBound",
    "canonical_calendar_code",
    "expected_bar_opens",
    "get_calendar",
    "session_table",
]

TimeBound = datetime | date | str
"""A time bound accepted by this module: aware datetime, date (a whole UTC day) or ISO string."""

ALWAYS_OPEN = None
"""The calendar code of a market that never closes (24/7, e.g. crypto): ``None``."""

_NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAILY_UNITS = frozenset({IntervalUnit.DAY, IntervalUnit.WEEK, IntervalUnit.MONTH})
_NAT = np.iinfo(np.int64).min
# Sessions may be labelled a day after their UTC open (ASX, CME); a margin of days around the
# asked range catches them before filtering by time.
_MARGIN = timedelta(days=7)
_CALENDAR_CACHE_SIZE = 32


def get_calendar(code: str, start: TimeBound, end: TimeBound) -> Any:
    """Return the exchange-calendars calendar ``code`` covering ``start`` to ``end`` at least.

    exchange-calendars builds calendars for about 20 years back by default, so the range is
    passed explicitly (rounded out to whole years, so that nearby ranges share one cached
    calendar). Raise :class:`ConfigError` for an unknown code or an unusable range.
    """
    name = canonical_calendar_code(code)
    first, last = _date_range(start, end)
    _check_bounds(name, first, last)
    return _calendar_around(name, first, last)


def session_table(code: str | None, start: TimeBound, end: TimeBound) -> pl.DataFrame:
    """Return the sessions whose date lies in ``start``..``end``: ``session``, ``open``, ``close``.

    ``open`` and ``close`` are UTC ``Datetime("ns", "UTC")`` values and include early closes (the
    NYSE closes at 13:00 New York time the day after Thanksgiving). ``code=None`` gives one
    session per UTC day, from 00:00 to the next day's 00:00.
    """
    first, last = _date_range(start, end)
    if code is not None:
        _check_bounds(canonical_calendar_code(code), first, last)
    return _sessions(code, first, last).select("session", "open", "close")


def expected_bar_opens(
    code: str | None, interval: Interval | str, start: TimeBound, end: TimeBound
) -> pl.Series:
    """Return the open times of every bar a complete history holds from ``start`` to ``end``.

    Both bounds are inclusive (a ``date`` as ``end`` includes that whole UTC day). The result is a
    sorted ``Datetime("ns", "UTC")`` series named ``ts`` following the conventions in the module
    docstring: session-anchored intraday bars, daily bars at the session date 00:00 UTC.
    """
    step = Interval.parse(interval)
    start_ns = _to_nanoseconds(start, end_of_day=False)
    end_ns = _to_nanoseconds(end, end_of_day=True)
    if end_ns < start_ns:
        raise ConfigError(f"end {end!r} is before start {start!r}")
    if code is not None:
        _check_bounds(canonical_calendar_code(code), _ns_to_date(start_ns), _ns_to_date(end_ns))
    if step.unit in _DAILY_UNITS:
        values = _period_labels(code, step, start_ns, end_ns)
    elif code is None:
        values = _epoch_anchored(step.nanoseconds, start_ns, end_ns)
    else:
        values = _session_anchored(code, step.nanoseconds, start_ns, end_ns)
    return values.cast(pl.Int64).cast(TIMESTAMP_DTYPE).rename("ts")


def canonical_calendar_code(code: str) -> str:
    """Return exchange-calendars' spelling of ``code`` (``"xnys"`` gives ``"XNYS"``).

    Raise :class:`ConfigError` naming close matches and how to list every code when ``code``
    is unknown.
    """
    import exchange_calendars as xcals

    names = xcals.get_calendar_names(include_aliases=True)
    by_upper = {name.upper(): name for name in names}
    if not isinstance(code, str) or code.strip().upper() not in by_upper:
        near = difflib.get_close_matches(str(code).upper(), list(by_upper), n=3)
        hint = f" Did you mean {', '.join(by_upper[n] for n in near)}?" if near else ""
        raise ConfigError(
            f"unknown trading calendar {code!r}.{hint} Use an exchange-calendars code such as "
            "XNYS, XNAS, XLON, XTKS, CMES, '24/5' (FX) or '24/7', or None for a market that "
            "never closes; exchange_calendars.get_calendar_names() lists every code."
        )
    return str(by_upper[code.strip().upper()])


CalendarCode = Annotated[
    str | None, AfterValidator(lambda code: None if code is None else canonical_calendar_code(code))
]
"""A config field's exchange-calendars code in its canonical spelling, or ``None`` (UTC days)."""


def _calendar_around(name: str, first: date, last: date) -> Any:
    """Build (or reuse) a calendar for whole years around ``first``..``last``, within bounds.

    Whole years plus one on each side cover the margins used here and let nearby ranges share
    one cached calendar; the range is clipped to the years the calendar has records for.
    """
    lowest, highest = _calendar_bounds(name)
    begin, finish = date(first.year - 1, 1, 1), date(last.year + 1, 12, 31)
    begin = begin if lowest is None else min(max(begin, lowest), last)
    finish = finish if highest is None else max(min(finish, highest), begin)
    return _build_calendar(name, begin, finish)


def _check_bounds(name: str, first: date, last: date) -> None:
    lowest, highest = _calendar_bounds(name)
    if (lowest is not None and first < lowest) or (highest is not None and last > highest):
        raise ConfigError(
            f"calendar {name} covers {lowest or 'any start'} to {highest or 'any end'} only; "
            f"{first} to {last} was asked for"
        )


@functools.lru_cache(maxsize=_CALENDAR_CACHE_SIZE)
def _calendar_bounds(name: str) -> tuple[date | None, date | None]:
    """Return the first and last dates exchange-calendars can build ``name`` for (None: any)."""
    factory = type(_quietly(name))
    bounds = (factory.bound_min(), factory.bound_max())
    return (
        None if bounds[0] is None else bounds[0].date(),
        None if bounds[1] is None else bounds[1].date(),
    )


@functools.lru_cache(maxsize=_CALENDAR_CACHE_SIZE)
def _build_calendar(name: str, begin: date, finish: date) -> Any:
    try:
        return _quietly(name, start=begin.isoformat(), end=finish.isoformat())
    except ValueError as error:
        raise ConfigError(f"calendar {name!r} cannot cover {begin}..{finish}: {error}") from None


def _quietly(name: str, **kwargs: str) -> Any:
    """Call ``exchange_calendars.get_calendar`` without its pandas deprecation warnings."""
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        # exchange-calendars 4.x calls pandas APIs that pandas 3 deprecates; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return xcals.get_calendar(name, **kwargs)


def _sessions(code: str | None, first: date, last: date) -> pl.DataFrame:
    """Sessions dated ``first``..``last`` with open, break start/end (null if none), close."""
    if code is None:
        days = np.arange(_days_since_epoch(first), _days_since_epoch(last) + 1, dtype=np.int64)
        opens = days * _NS_PER_DAY
        closes = opens + _NS_PER_DAY
        breaks = np.full(days.shape, _NAT, dtype=np.int64)
        sessions, break_starts, break_ends = opens, breaks, breaks
    else:
        calendar = _calendar_around(canonical_calendar_code(code), first, last)
        sessions = np.asarray(calendar.sessions_nanos, dtype=np.int64)
        keep = (sessions >= _days_since_epoch(first) * _NS_PER_DAY) & (
            sessions <= _days_since_epoch(last) * _NS_PER_DAY
        )
        sessions = sessions[keep]
        opens = np.asarray(calendar.opens_nanos, dtype=np.int64)[keep]
        closes = np.asarray(calendar.closes_nanos, dtype=np.int64)[keep]
        break_starts = np.asarray(calendar.break_starts_nanos, dtype=np.int64)[keep]
        break_ends = np.asarray(calendar.break_ends_nanos, dtype=np.int64)[keep]
    columns = {
        "session": sessions,
        "open": opens,
        "break_start": break_starts,
        "break_end": break_ends,
        "close": closes,
    }
    frame = pl.DataFrame({name: pl.Series(name, values) for name, values in columns.items()})
    return frame.with_columns(
        pl.col("session").cast(TIMESTAMP_DTYPE).dt.date(),
        *(
            pl.when(pl.col(name) == _NAT)
            .then(None)
            .otherwise(pl.col(name))
            .cast(TIMESTAMP_DTYPE)
            .alias(name)
            for name in ("open", "break_start", "break_end", "close")
        ),
    )


def _period_labels(code: str | None, step: Interval, start_ns: int, end_ns: int) -> pl.Series:
    if step.unit is IntervalUnit.DAY and step.count == 1:
        first, last = _ns_to_date(start_ns), _ns_to_date(end_ns)
    else:
        # A week or month label may precede its first session: widen the session range.
        first = _ns_to_date(start_ns) - timedelta(days=31 * step.count + 7)
        last = _ns_to_date(end_ns) + timedelta(days=31 * step.count + 7)
    dates = _sessions(code, first, last).get_column("session")
    labels = dates.cast(TIMESTAMP_DTYPE).dt.truncate(step.to_polars()).unique(maintain_order=True)
    ints = labels.cast(pl.Int64)
    return ints.filter((ints >= start_ns) & (ints <= end_ns))


def _epoch_anchored(step_ns: int, start_ns: int, end_ns: int) -> pl.Series:
    first = -(-start_ns // step_ns) * step_ns
    return pl.int_range(first, end_ns + 1, step_ns, eager=True, dtype=pl.Int64)


def _session_anchored(code: str, step_ns: int, start_ns: int, end_ns: int) -> pl.Series:
    first, last = _ns_to_date(start_ns) - _MARGIN, _ns_to_date(end_ns) + _MARGIN
    frame = _sessions(code, first, last)
    has_break = frame.get_column("break_start").is_not_null().to_numpy()

    def nanoseconds(name: str) -> np.ndarray[Any, Any]:
        return frame.get_column(name).cast(pl.Int64).fill_null(0).to_numpy()

    opens, closes = nanoseconds("open"), nanoseconds("close")
    # A session with a lunch break is two parts, each anchored at its own start.
    part_starts = np.concatenate([opens, nanoseconds("break_end")[has_break]])
    part_ends = np.concatenate(
        [np.where(has_break, nanoseconds("break_start"), closes), closes[has_break]]
    )
    counts = -(-(part_ends - part_starts) // step_ns)
    offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(counts) - counts, counts
    )
    values = pl.Series("ts", np.sort(np.repeat(part_starts, counts) + offsets * step_ns))
    return values.filter((values >= start_ns) & (values <= end_ns))


def _date_range(start: TimeBound, end: TimeBound) -> tuple[date, date]:
    first = _ns_to_date(_to_nanoseconds(start, end_of_day=False))
    last = _ns_to_date(_to_nanoseconds(end, end_of_day=True))
    if last < first:
        raise ConfigError(f"end {end!r} is before start {start!r}")
    return first, last


def _to_nanoseconds(value: TimeBound, *, end_of_day: bool) -> int:
    """Convert a bound to UTC nanoseconds; a date as an end bound means its last nanosecond."""
    bound = parse_time_bound(value, "time bound")
    if isinstance(bound, datetime):
        return ns_from_datetime(bound)
    day = _days_since_epoch(bound) * _NS_PER_DAY
    return day + _NS_PER_DAY - 1 if end_of_day else day


def _days_since_epoch(day: date) -> int:
    return (day - _EPOCH.date()).days


def _ns_to_date(nanoseconds: int) -> date:
    return _EPOCH.date() + timedelta(days=nanoseconds // _NS_PER_DAY)
