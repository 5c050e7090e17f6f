"""When a DAY order expires: the close of the trading session it was placed in.

The session comes from the symbol's trading calendar: the instrument's calendar when
:attr:`BacktestConfig.instruments` has one for the symbol, else :attr:`BacktestConfig.calendar`,
else none (24/7: every UTC day is a session ending at the next 00:00 UTC). An order placed at
bar time ``t`` expires at the first session close after that bar's close (``t`` plus the bar
length), so an order decided on a daily close works through the next session; a bar opening at
or after that close no longer sees it. Early closes and
sessions that span midnight UTC come from exchange-calendars.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from quantstrata.backtest.config import BacktestConfig
from quantstrata.core.clock import datetime_from_ns
from quantstrata.core.errors import ConfigError
from quantstrata.process.calendar import get_calendar, session_table

__all__ = ["NEVER", "SessionCloses", "calendar_of"]

NEVER = np.iinfo(np.int64).max
"""The expiry of an order that does not expire at a session close."""

_MARGIN = timedelta(days=10)


def calendar_of(config: BacktestConfig, symbol: str) -> str | None:
    """Return the calendar code of ``symbol``: its instrument's, else the backtest's, else 24/7."""
    instrument = config.instruments.get(symbol)
    if instrument is not None and instrument.calendar is not None:
        return instrument.calendar
    return config.calendar


class SessionCloses:
    """The session closes of every symbol over the run, built the first time a symbol needs them."""

    def __init__(
        self, config: BacktestConfig, symbols: tuple[str, ...], times: npt.NDArray[np.int64]
    ) -> None:
        """Cover the sessions from the first bar time to the last (with a margin)."""
        self._config = config
        self._symbols = symbols
        self._first = datetime_from_ns(int(times[0])) - _MARGIN
        self._last = datetime_from_ns(int(times[-1])) + _MARGIN
        self._closes: dict[int, npt.NDArray[np.int64]] = {}

    def expiry(self, column: int, placed_ns: int) -> int:
        """Return the first session close of symbol ``column`` after ``placed_ns`` (ns, UTC)."""
        closes = self._closes.get(column)
        if closes is None:
            closes = self._build(calendar_of(self._config, self._symbols[column]))
            self._closes[column] = closes
        index = int(np.searchsorted(closes, placed_ns, side="right"))
        return int(closes[index]) if index < closes.shape[0] else int(NEVER)

    def _build(self, code: str | None) -> npt.NDArray[np.int64]:
        first, last = self._first, self._last
        if code is not None:
            first, last = _clip_to_calendar(code, first, last)
        table = session_table(code, first.date(), last.date())
        closes = table.get_column("close").dt.epoch("ns").to_numpy().astype(np.int64)
        return np.sort(closes)


def _clip_to_calendar(code: str, first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """Keep the margin inside the calendar's bounds (exchange-calendars refuses dates beyond)."""
    try:
        get_calendar(code, first.date(), last.date())
    except ConfigError:
        return first + _MARGIN, last - _MARGIN
    return first, last
