"""When a DAY order expires: the close of the trading session it was decided in.

The session comes from the symbol's trading calendar (:meth:`ExchangeConfig.calendar_of`): the
instrument's calendar, else the configured one, else none (24/7: every UTC day is a session
ending at the next 00:00 UTC). An order decided on the bar at ``t`` expires at the first
session close after that bar's close (``t`` plus the bar length), so an order decided on a
daily close works through the next session; a bar opening at or after that close no longer
sees it. Early closes and sessions that span midnight UTC come from exchange-calendars.

The run's time range is not known up front (a paper broker or a venue runs open-ended), so the
closes of each calendar are built in windows of about a year around the times asked for and
extended as time advances.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from quantstrata.core.clock import datetime_from_ns, ns_from_datetime
from quantstrata.core.errors import ConfigError
from quantstrata.process.calendar import session_table

__all__ = ["SessionCloses"]

_BEFORE = timedelta(days=10)
"""Sessions dated up to this long before a time may still be open at it (labelled later)."""
_WINDOW = timedelta(days=366)
"""How far ahead one build of a calendar's closes reaches."""


class _Closes:
    """The sorted session closes (ns, UTC) of one calendar for sessions dated first..last."""

    __slots__ = ("first", "last", "values")

    def __init__(self, first: date, last: date, values: npt.NDArray[np.int64]) -> None:
        self.first, self.last, self.values = first, last, values


class SessionCloses:
    """The session closes of every calendar in use, built lazily and extended by windows."""

    def __init__(self, calendar_of: Callable[[str], str | None]) -> None:
        """Find each symbol's calendar with ``calendar_of`` (``None``: 24/7 UTC days)."""
        self._calendar_of = calendar_of
        self._codes: dict[str, str | None] = {}
        self._closes: dict[str | None, _Closes | None] = {}
        self._last: dict[str | None, tuple[int, int, datetime]] = {}

    def expiry(self, symbol: str, decided: datetime) -> datetime | None:
        """Return the first session close of ``symbol`` after ``decided`` (``None``: never).

        ``None`` when the calendar has no session after ``decided`` that exchange-calendars
        can build.
        """
        code = self._codes.get(symbol, "")
        if code == "":
            code = self._codes[symbol] = self._calendar_of(symbol)
        moment = ns_from_datetime(decided)
        last = self._last.get(code)
        if last is not None and last[0] <= moment < last[1]:
            return last[2]
        closes = self._covering(code, decided.date())
        while closes is not None:
            values = closes.values
            index = int(np.searchsorted(values, moment, side="right"))
            if index < values.shape[0]:
                close = int(values[index])
                answer = datetime_from_ns(close)
                # Every time from the previous close up to this one ends here too.
                self._last[code] = (int(values[index - 1]) if index else moment, close, answer)
                return answer
            closes = self._extend(code, closes)
        return None

    def _covering(self, code: str | None, day: date) -> _Closes | None:
        closes = self._closes.get(code)
        if closes is None or day - _BEFORE < closes.first:
            closes = _build(code, day - _BEFORE, day + _WINDOW)
            self._closes[code] = closes
        return closes

    def _extend(self, code: str | None, closes: _Closes) -> _Closes | None:
        """Add the next window of sessions to ``closes`` (``None``: the calendar ends)."""
        first = closes.last + timedelta(days=1)
        more = _build(code, first, first + _WINDOW)
        if more is None:
            return None
        joined = _Closes(closes.first, more.last, np.concatenate([closes.values, more.values]))
        self._closes[code] = joined
        return joined


def _build(code: str | None, first: date, last: date) -> _Closes | None:
    """Return the closes of sessions dated ``first``..``last``, clipped to the calendar's range.

    ``None`` when exchange-calendars covers none of the range.
    """
    for start, end in ((first, last), (first + _BEFORE, last), (first + _BEFORE, first + _BEFORE)):
        try:
            table = session_table(code, start, end)
        except ConfigError:
            continue
        values = table.get_column("close").dt.epoch("ns").to_numpy().astype(np.int64)
        return _Closes(start, end, np.sort(values))
    return None
