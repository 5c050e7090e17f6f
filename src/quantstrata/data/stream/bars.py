"""Bars from trades, with gaps made explicit instead of silently wrong, without I/O.

:class:`BarBuilder` groups trades into buckets ``[ts, ts + interval)`` (``ts`` is the open time,
UTC: the catalog's convention). A bucket closes when trades ``late_tolerance_ms`` past its end
arrive (or the clock passes that point), so out-of-order trades within the tolerance still land
in the right bar; repeats (same trade id) are dropped and counted.

After a (re)connection, or when bars had to be thrown away, the buckets up to the one in which
the connection opened miss trades. Such buckets are *tainted*: instead of bars the builder
emits one :class:`StreamGap` covering everything from the last bar it delivered up to the end of the
last tainted bucket; the caller fills it over REST. A bar is built from the stream only when
every trade in it was streamed on a connection open for the whole bucket. Which bucket the
connection opened in is the later of the first trade's bucket (pushed ``late_tolerance_ms``
forward: that trade may be late) and the bucket of the market time at the open given to
:meth:`BarBuilder.reopened` — so a late duplicate from an older bucket arriving first cannot
pass the partly seen bucket off as complete. Trades older than the last delivered bar are
counted as late and dropped, after reconnects too. A bucket with no trades while connected
yields no bar and no gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BarBuilder", "BuiltBar", "StreamGap"]

_NEVER = float("inf")


@dataclass(frozen=True, slots=True)
class BuiltBar:
    """A closed bar; ``ts_ms`` is its open time in epoch milliseconds (UTC)."""

    symbol: str
    ts_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class StreamGap:
    """Bars of ``symbol`` with ``start_ms <= ts < end_ms`` must come from REST."""

    symbol: str
    start_ms: int
    end_ms: int


@dataclass(slots=True)
class _Bucket:
    open: float
    high: float
    low: float
    close: float
    volume: float
    first_ms: int
    last_ms: int
    keys: set[object] = field(default_factory=set)


@dataclass(slots=True)
class _SymbolState:
    buckets: dict[int, _Bucket] = field(default_factory=dict)
    closed_until: int | None = None  # end (ms) of the last bucket delivered or known empty
    tainted: bool = True
    tainted_upto: int | None = None  # index of the last tainted bucket
    tainted_from: int = 0  # index of the first bucket seen since the taint
    opened_ms: int | None = None  # market time when the current connection opened
    watermark: int = 0
    earliest: int | None = None  # lowest open bucket index: nothing can close before it ends
    close_at: float = _NEVER  # the watermark that closes the earliest bucket, kept with it


class BarBuilder:
    """Build closed bars of one interval per symbol from trades; see the module docstring."""

    def __init__(self, interval_ms: int, late_tolerance_ms: int = 0) -> None:
        """Start with every symbol tainted: the first bucket seen is only partly observed."""
        if interval_ms < 1:
            raise ValueError(f"interval_ms must be positive, got {interval_ms}")
        self.interval_ms = interval_ms
        self.late_tolerance_ms = late_tolerance_ms
        self.duplicates = 0
        self.late = 0
        self._states: dict[str, _SymbolState] = {}
        self._opened_ms: int | None = None

    def add(
        self, symbol: str, timestamp_ms: int, price: float, quantity: float, key: object
    ) -> list[BuiltBar | StreamGap]:
        """Add one trade and return what it closed, in time order."""
        state = self._states.get(symbol)
        if state is None:
            state = self._states[symbol] = _SymbolState(opened_ms=self._opened_ms)
        interval = self.interval_ms
        index = timestamp_ms // interval
        if state.closed_until is not None and index * interval < state.closed_until:
            self.late += 1
            return []
        if state.tainted and state.tainted_upto is None:
            state.tainted_from = index
            state.tainted_upto = self._partial_bucket(state, timestamp_ms)
        bucket = state.buckets.get(index)
        if bucket is None:
            state.buckets[index] = _Bucket(
                price, price, price, price, quantity, timestamp_ms, timestamp_ms, {key}
            )
            if state.earliest is None or index < state.earliest:
                state.earliest = index
                state.close_at = (index + 1) * interval + self.late_tolerance_ms
        elif key in bucket.keys:
            self.duplicates += 1
            return []
        else:  # the bucket's update, inline: this runs once per trade
            bucket.keys.add(key)
            bucket.volume += quantity
            if price > bucket.high:
                bucket.high = price
            elif price < bucket.low:
                bucket.low = price
            if timestamp_ms < bucket.first_ms:
                bucket.first_ms, bucket.open = timestamp_ms, price
            if timestamp_ms >= bucket.last_ms:
                bucket.last_ms, bucket.close = timestamp_ms, price
        if timestamp_ms > state.watermark:  # noqa: PLR1730 - a branch is cheaper than max() here
            state.watermark = timestamp_ms
        if state.watermark < state.close_at:
            return []  # the hot path: the oldest open bucket has not ended yet
        return self._close(symbol, state, state.watermark - self.late_tolerance_ms)

    def advance(self, now_ms: int) -> list[BuiltBar | StreamGap]:
        """Close, for every symbol, the buckets that ended ``late_tolerance_ms`` before now."""
        closed: list[BuiltBar | StreamGap] = []
        for symbol, state in self._states.items():
            closed.extend(self._close(symbol, state, now_ms - self.late_tolerance_ms))
        return closed

    def taint(self, symbol: str | None = None, *, rewind_to_ms: int | None = None) -> None:
        """Mark ``symbol`` (or all) as missing trades from now on; optionally un-deliver bars.

        ``rewind_to_ms`` moves the delivered boundary back (bars from there on were not
        delivered after all), so the next gap covers them.
        """
        names = [symbol] if symbol is not None else list(self._states)
        for name in names:
            state = self._states.setdefault(name, _SymbolState())
            state.buckets.clear()
            state.earliest, state.close_at = None, _NEVER
            state.tainted, state.tainted_upto = True, None
            if rewind_to_ms is not None and (
                state.closed_until is None or rewind_to_ms < state.closed_until
            ):
                state.closed_until = rewind_to_ms

    def reopened(self, market_ms: int) -> None:
        """Note that the stream (re)started at market time ``market_ms``, after a :meth:`taint`.

        The bucket holding ``market_ms`` was only partly streamed, whatever the first trade
        on the new connection says.
        """
        for state in self._states.values():
            state.opened_ms = market_ms
        self._opened_ms = market_ms

    def resume(self, symbol: str, delivered_until_ms: int) -> None:
        """Start ``symbol`` as if its bars up to ``delivered_until_ms`` were delivered already.

        The first gap then reaches back to there, so a new stream fills what a stopped one
        missed, and nothing older is delivered twice.
        """
        state = self._states.setdefault(symbol, _SymbolState(opened_ms=self._opened_ms))
        state.closed_until = delivered_until_ms

    def delivered_until(self, symbol: str) -> int | None:
        """Return the end (ms) of the last bucket delivered or known empty for ``symbol``."""
        state = self._states.get(symbol)
        return None if state is None else state.closed_until

    def open_buckets(self) -> int:
        """Return how many buckets are open (bounded by symbols × tolerance; for memory checks)."""
        return sum(len(state.buckets) for state in self._states.values())

    def _partial_bucket(self, state: _SymbolState, first_ms: int) -> int:
        """Return the last bucket a connection did not see whole, judged on its first trade.

        The first trade may be late by up to the tolerance. The open time beats it when it is
        plausible: not before the trade, and at most an interval and the tolerance after it
        (further off, the clock and the provider disagree and the trade is trusted).
        """
        interval = self.interval_ms
        upto = (first_ms + self.late_tolerance_ms) // interval
        opened = state.opened_ms
        if opened is not None and 0 <= opened - first_ms <= interval + self.late_tolerance_ms:
            upto = max(upto, opened // interval)
        return upto

    def _close(
        self, symbol: str, state: _SymbolState, horizon_ms: int
    ) -> list[BuiltBar | StreamGap]:
        interval = self.interval_ms
        limit = horizon_ms // interval  # buckets with index < limit have ended
        closed: list[BuiltBar | StreamGap] = []
        upto = state.tainted_upto if state.tainted else None
        if upto is not None and upto < limit:
            # Every partly seen bucket has ended (with trades on the stream or not): one gap.
            end_ms = (upto + 1) * interval
            start = state.closed_until
            closed.append(
                StreamGap(symbol, state.tainted_from * interval if start is None else start, end_ms)
            )
            state.tainted, state.tainted_upto = False, None
            state.closed_until = end_ms
            upto = None
        if upto is None and state.earliest is not None and limit == state.earliest + 1:
            ready = [state.earliest]  # the usual case: only the oldest bucket has ended
        else:
            ready = sorted(index for index in state.buckets if index < limit)
        for index in ready:
            bucket = state.buckets.pop(index)
            end = (index + 1) * interval
            if upto is not None or end <= (state.closed_until or 0):
                continue  # partly seen (its gap comes once the last such bucket ends), or filled
            closed.append(
                BuiltBar(
                    symbol,
                    end - interval,
                    bucket.open,
                    bucket.high,
                    bucket.low,
                    bucket.close,
                    bucket.volume,
                )
            )
            state.closed_until = end
        if state.buckets:
            state.earliest = earliest = min(state.buckets)
            state.close_at = (earliest + 1) * interval + self.late_tolerance_ms
        else:
            state.earliest, state.close_at = None, _NEVER
        return closed
