"""Place bar timestamps inside the sessions (and session parts) of an exchange calendar.

A *session part* is a stretch of continuous trading: a whole session, or the part before and
the part after a lunch break. Resampling never lets an output bar span the gap between parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from quantstrata.process._bar_frames import BoolArray, IntArray
from quantstrata.process.calendar import get_calendar

__all__ = ["SessionParts", "session_parts"]

_NS_PER_DAY = 86_400 * 1_000_000_000
_NAT = np.iinfo(np.int64).min
_MARGIN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SessionParts:
    """Session parts sorted by start, as nanosecond arrays of equal length.

    ``session_day`` is the session date in days since the epoch; ``utc_offset`` is the
    exchange's UTC offset at the part start (local = UTC + offset), used for clock anchoring.
    """

    start: IntArray
    end: IntArray
    session_day: IntArray
    utc_offset: IntArray

    def locate(self, times: IntArray) -> tuple[IntArray, BoolArray]:
        """Return the part index of each time and whether the time lies inside that part."""
        index = np.searchsorted(self.start, times, side="right") - 1
        safe = np.clip(index, 0, None)
        inside = (index >= 0) & (times < self.end[safe])
        return safe, inside

    def session_days(self) -> IntArray:
        """Return the distinct session dates (days since the epoch), sorted."""
        return np.unique(self.session_day)


def session_parts(code: str, first: date, last: date) -> SessionParts:
    """Return the session parts of calendar ``code`` for sessions around ``first``..``last``."""
    calendar = get_calendar(code, first - _MARGIN, last + _MARGIN)
    sessions = np.asarray(calendar.sessions_nanos, dtype=np.int64)
    opens = np.asarray(calendar.opens_nanos, dtype=np.int64)
    closes = np.asarray(calendar.closes_nanos, dtype=np.int64)
    break_starts = np.asarray(calendar.break_starts_nanos, dtype=np.int64)
    break_ends = np.asarray(calendar.break_ends_nanos, dtype=np.int64)
    has_break = break_starts != _NAT
    starts = np.concatenate([opens, break_ends[has_break]])
    ends = np.concatenate([np.where(has_break, break_starts, closes), closes[has_break]])
    days = np.concatenate([sessions, sessions[has_break]]) // _NS_PER_DAY
    order = np.argsort(starts, kind="stable")
    starts, ends, days = starts[order], ends[order], days[order]
    return SessionParts(starts, ends, days, _utc_offsets(starts, str(calendar.tz)))


def _utc_offsets(starts: IntArray, timezone: str) -> IntArray:
    utc = pl.Series("start", starts).cast(pl.Datetime("ns", "UTC"))
    local = utc.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    offsets = local.dt.epoch("ns") - utc.dt.replace_time_zone(None).dt.epoch("ns")
    return offsets.to_numpy().astype(np.int64)
