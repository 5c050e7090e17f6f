"""Compute the output bar label of every input bar for :func:`~quantstrata.process.resample`.

Labels are integer nanoseconds since the epoch (UTC); bars sharing a label (and a symbol) are
aggregated into one output bar. The public module documents the conventions.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from quantstrata.core.errors import ConfigError, DataError, DataIssue
from quantstrata.model.interval import Interval, IntervalUnit
from quantstrata.process._bar_frames import BoolArray, IntArray
from quantstrata.process._sessions import session_parts

__all__ = ["bucket_labels"]

_NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH_DATE = date(1970, 1, 1)
# 1970-01-05 was the first Monday after the epoch: weeks start on Monday, as in Polars.
_MONDAY_OFFSET = 4 * _NS_PER_DAY
_INTRADAY_UNITS = frozenset({IntervalUnit.SECOND, IntervalUnit.MINUTE, IntervalUnit.HOUR})
_MAX_ISSUES = 50
_STRADDLE = (
    "straddles_output_bar",
    "bar spans two output bars (its open is not on the target grid)",
)


def bucket_labels(
    times: IntArray,
    rows: IntArray,
    target: Interval,
    source: Interval,
    calendar: str | None,
    *,
    clock_anchor: bool,
) -> IntArray:
    """Return the output label of each bar opening at ``times`` (ns since the epoch, UTC).

    ``rows`` are the input row positions, for errors. Raise :class:`DataError` when a bar lies
    outside the calendar's sessions or straddles two output bars.
    """
    if calendar is not None and source.unit in _INTRADAY_UNITS:
        return _intraday_source(times, rows, target, source, calendar, clock_anchor=clock_anchor)
    if calendar is not None:
        _check_daily_source(times, rows, source, calendar)
        _refuse_daily_target(target)
    if target.unit is IntervalUnit.MONTH:
        labels = _floor_months(times, target.count)
        if source.is_fixed:
            end_labels = _floor_months(times + (source.nanoseconds - 1), target.count)
            _refuse_rows(labels != end_labels, _STRADDLE, times, rows)
        return labels
    offset = _MONDAY_OFFSET if target.unit is IntervalUnit.WEEK else 0
    return _on_grid(times, rows, offset, target.nanoseconds, source)


def _on_grid(
    times: IntArray, rows: IntArray, anchor: IntArray | int, step: int, source: Interval
) -> IntArray:
    """Floor ``times`` onto the grid ``anchor + k * step``, refusing bars that cross a grid line."""
    labels = times - anchor
    labels //= step
    labels *= step
    labels += anchor
    if source.is_fixed:
        _refuse_rows(times - labels > step - source.nanoseconds, _STRADDLE, times, rows)
    return labels


def _floor_months(times: IntArray, count: int) -> IntArray:
    months = times.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    floored = (months // count) * count
    return floored.astype("datetime64[M]").astype("datetime64[ns]").astype(np.int64)


def _refuse_daily_target(target: Interval) -> None:
    if target.unit is IntervalUnit.DAY and target.count != 1:
        raise ConfigError(
            f"cannot resample to {target} on a trading calendar: use 1d (one bar per session), "
            "weeks (1w) or months (1mo)"
        )
    if target.unit in _INTRADAY_UNITS:
        raise ConfigError(f"cannot resample daily sessions to an intraday interval {target}")


def _session_day_labels(days: IntArray, target: Interval) -> IntArray:
    _refuse_daily_target(target)
    times = days * _NS_PER_DAY
    if target.unit is IntervalUnit.MONTH:
        return _floor_months(times, target.count)
    offset = _MONDAY_OFFSET if target.unit is IntervalUnit.WEEK else 0
    return offset + ((times - offset) // target.nanoseconds) * target.nanoseconds


def _check_daily_source(times: IntArray, rows: IntArray, source: Interval, calendar: str) -> None:
    if source.unit is not IntervalUnit.DAY:
        return
    days = times // _NS_PER_DAY
    parts = session_parts(calendar, _day_to_date(days.min()), _day_to_date(days.max()))
    sessions = parts.session_days()
    position = np.clip(np.searchsorted(sessions, days), 0, len(sessions) - 1)
    bad = (sessions[position] != days) | (times % _NS_PER_DAY != 0)
    if bad.any():
        message = f"daily bar is not at 00:00 UTC of a {calendar} session date"
        _refuse_rows(bad, ("not_a_session", message), times, rows)


def _intraday_source(
    times: IntArray,
    rows: IntArray,
    target: Interval,
    source: Interval,
    calendar: str,
    *,
    clock_anchor: bool,
) -> IntArray:
    days = times // _NS_PER_DAY
    parts = session_parts(calendar, _day_to_date(days.min()), _day_to_date(days.max()))
    index, inside = parts.locate(times)
    if not inside.all():
        message = f"bar opens outside a {calendar} session"
        _refuse_rows(~inside, ("outside_session", message), times, rows)
    if target.unit not in _INTRADAY_UNITS:
        return _session_day_labels(parts.session_day[index], target)
    step = target.nanoseconds
    start = parts.start[index]
    if not clock_anchor:
        return _on_grid(times, rows, start, step, source)
    offset = parts.utc_offset[index]
    return np.maximum(_on_grid(times, rows, -offset, step, source), start)


def _refuse_rows(bad: BoolArray, problem: tuple[str, str], times: IntArray, rows: IntArray) -> None:
    if not bad.any():
        return
    check, message = problem
    positions = np.flatnonzero(bad)
    issues = tuple(
        DataIssue(
            check,
            message,
            row=int(rows[position]),
            column="ts",
            value=str(times[position].astype("datetime64[ns]")) + " UTC",
        )
        for position in positions[:_MAX_ISSUES]
    )
    raise DataError(f"cannot resample: {len(positions)} bar(s) failed check {check!r}", issues)


def _day_to_date(day: np.int64) -> date:
    return _EPOCH_DATE + timedelta(days=int(day))
