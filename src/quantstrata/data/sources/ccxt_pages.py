"""The paging of ccxt's ``fetch_ohlcv``: one rule for the history fetcher and the live feed.

ccxt returns at most ``limit`` candles per call. :class:`OhlcvPages` walks ``since`` forward
from the last candle received until the end of the range and keeps each candle once, sorted;
it does no I/O, so the synchronous history fetcher (:func:`fetch_ohlcv_range`) and the live
feed's asynchronous, retrying calls drive the same pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quantstrata.model.interval import Interval

__all__ = ["OhlcvPages", "ccxt_timeframe", "fetch_ohlcv_range"]


class OhlcvPages:
    """The pages of candles opening in ``[start_ms, end_ms)``: ask, take, repeat, read.

    ``since`` is where the next request starts (``None``: done), ``params`` what it passes as
    ccxt's ``params`` (the exchange's own end bound), :meth:`take` adds one page (only candles
    inside the range and past ``since`` count; an empty page ends the walk) and
    :attr:`candles` returns every candle once, by open time.
    """

    def __init__(self, start_ms: int, end_ms: int) -> None:
        """Start before the first page."""
        self.end_ms = end_ms
        self._since: int | None = start_ms if start_ms < end_ms else None
        self._found: dict[int, list[Any]] = {}

    @property
    def since(self) -> int | None:
        """The ``since`` of the next request, ``None`` once the range is walked."""
        return self._since

    @property
    def params(self) -> dict[str, int]:
        """The request's ``params``: the exchange's inclusive end (``until``)."""
        return {"until": self.end_ms - 1}

    def take(self, page: Sequence[Sequence[Any]]) -> None:
        """Add one page of candles and move ``since`` past the newest one."""
        since = self._since
        if since is None:
            return
        inside = [list(row) for row in page if since <= int(row[0]) < self.end_ms]
        if not inside:
            self._since = None
            return
        self._found.update((int(row[0]), row) for row in inside)
        after = max(int(row[0]) for row in inside) + 1
        self._since = after if after < self.end_ms else None

    @property
    def candles(self) -> list[list[Any]]:
        """Every candle taken, once each, by open time."""
        return [self._found[ts] for ts in sorted(self._found)]


def fetch_ohlcv_range(
    exchange: Any, symbol: str, timeframe: str, bounds_ms: tuple[int, int], limit: int
) -> list[list[Any]]:
    """Return the candles of ``symbol`` opening in ``bounds_ms`` (ms, end excluded), paged.

    ``exchange`` is a synchronous ccxt client; ``limit`` the candles per request.
    """
    pages = OhlcvPages(*bounds_ms)
    while (since := pages.since) is not None:
        pages.take(
            exchange.fetch_ohlcv(
                symbol, timeframe=timeframe, since=since, limit=limit, params=pages.params
            )
        )
    return pages.candles


def ccxt_timeframe(interval: Interval | str) -> str:
    """Return ccxt's timeframe of ``interval``: ``"1m"``, ``"1h"``, ``"1d"``; months as ``"1M"``."""
    step = Interval.parse(interval)
    return f"{step.count}M" if not step.is_fixed else str(step)
