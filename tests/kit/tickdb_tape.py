"""A deterministic trade tape for the fake TickDB server, and the bars it implies.

Trade ``i`` of symbol number ``s`` happens at ``start_ms + i * step_ms``; its price and quantity
are simple functions of ``i`` and ``s`` (integer quantities, two-decimal prices), so the bars a
client builds from the stream can be compared exactly with the bars the REST API serves.
Trades whose index falls in a *quiet* block are absent: a market with no trades.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tape", "TapeBar"]


@dataclass(frozen=True, slots=True)
class TapeBar:
    """One bar of the tape (prices as the decimal text TickDB sends)."""

    time: int
    open: str
    high: str
    low: str
    close: str
    volume: str

    def as_kline(self) -> dict[str, object]:
        """Return the TickDB kline record."""
        return {
            "time": self.time,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
        }

    def values(self) -> tuple[int, float, float, float, float, float]:
        """Return ``(time, open, high, low, close, volume)`` as numbers."""
        return (
            self.time,
            float(self.open),
            float(self.high),
            float(self.low),
            float(self.close),
            float(self.volume),
        )


@dataclass(frozen=True, slots=True)
class Tape:
    """The trades of ``symbols``; ``quiet_period`` > 0 silences one block in every period."""

    symbols: tuple[str, ...]
    start_ms: int = 1_700_000_000_000 - 1_700_000_000_000 % 60_000
    step_ms: int = 10_000
    interval_ms: int = 60_000
    quiet_period: int = 0
    quiet_block: int = 30

    def is_quiet(self, index: int) -> bool:
        """Whether trade ``index`` is absent."""
        if self.quiet_period <= 0:
            return False
        return (index // self.quiet_block) % self.quiet_period == self.quiet_period - 1

    def price(self, symbol_number: int, index: int) -> str:
        """Return the price of a trade as text with two decimals."""
        cents = 10_000 + (index * 37 + symbol_number * 11) % 200 + (index // 50) % 300
        return f"{cents // 100}.{cents % 100:02d}"

    def quantity(self, index: int) -> int:
        """Return the (integer) quantity of a trade."""
        return index % 5 + 1

    def time(self, index: int) -> int:
        """Return the timestamp (ms) of trade ``index``."""
        return self.start_ms + index * self.step_ms

    def trade(self, symbol_number: int, index: int) -> dict[str, object]:
        """Return one trade record as TickDB's ``trades`` list holds it."""
        return {
            "id": f"{symbol_number}-{index}",
            "price": self.price(symbol_number, index),
            "quantity": str(self.quantity(index)),
            "side": "buy" if index % 2 else "sell",
            "timestamp": self.time(index),
        }

    def bar(self, symbol_number: int, bucket_start: int) -> TapeBar | None:
        """Return the bar opening at ``bucket_start`` (ms), or ``None`` if it has no trades."""
        first = max(0, -(-(bucket_start - self.start_ms) // self.step_ms))
        last = -(-(bucket_start + self.interval_ms - self.start_ms) // self.step_ms)
        indices = [index for index in range(first, last) if not self.is_quiet(index)]
        if not indices:
            return None
        prices = [self.price(symbol_number, index) for index in indices]
        numbers = [float(price) for price in prices]
        return TapeBar(
            bucket_start,
            prices[0],
            prices[numbers.index(max(numbers))],
            prices[numbers.index(min(numbers))],
            prices[-1],
            str(sum(self.quantity(index) for index in indices)),
        )

    def closed_bars(
        self, symbol_number: int, start_ms: int, end_ms: int, released: int
    ) -> list[TapeBar]:
        """Return the closed bars opening in ``[start_ms, end_ms]`` once ``released`` trades ran.

        A bar is closed when the next trade to be released lies at or after its end.
        """
        horizon = self.time(released)
        first = max(start_ms, self.start_ms)
        first -= first % self.interval_ms
        bars = []
        bucket = first
        while bucket <= end_ms and bucket + self.interval_ms <= horizon:
            if bucket >= start_ms:
                found = self.bar(symbol_number, bucket)
                if found is not None:
                    bars.append(found)
            bucket += self.interval_ms
        return bars
