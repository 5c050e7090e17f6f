"""Drive one strategy from closed bars, as the backtester does, and collect its intents.

The runner keeps each symbol's bars and hands the strategy exactly what a backtest would at the
same bar: an event strategy gets ``on_bar`` with the :class:`~quantstrata.strategy.BarSnapshot`
of the bars that share one open time; a signal strategy's ``targets`` runs on the kept bars and
the targets of the newest bar time are its decisions (a null target is no decision).

By default every bar is kept, so a signal strategy whose indicators remember all history (an EMA,
Wilder's RSI) decides exactly as in the backtest; ``window`` bounds memory at the cost of that
exactness for such indicators (it never matters for finite windows such as an SMA).

:meth:`StrategyRunner.warm_up` feeds history before trading: the strategy sees it like live
bars, its orders and cancels are dropped, and its latest targets are returned so the runtime
can hold them as the current targets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime

import polars as pl

from quantstrata.core.errors import ConfigError, DataError
from quantstrata.live.context import AccountView, Intents, LiveContext
from quantstrata.model.bar import BAR_COLUMNS, BAR_SCHEMA, Bar
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.strategy.event import BarSnapshot, EventStrategy
from quantstrata.strategy.signal import SignalStrategy, TargetUnit

__all__ = ["StrategyRunner"]


class StrategyRunner:
    """Feed one strategy bar time by bar time and return what it asked for each time."""

    def __init__(
        self,
        strategy: SignalStrategy | EventStrategy,
        symbols: Sequence[str],
        account: AccountView,
        new_order_id: Callable[[], ClientOrderId],
        *,
        window: int | None = None,
    ) -> None:
        """Trade ``symbols``; keep ``window`` bars per symbol (all when ``None``)."""
        if not isinstance(strategy, SignalStrategy | EventStrategy):
            raise ConfigError(f"the live runtime runs a strategy, got {type(strategy).__name__}")
        if not symbols:
            raise ConfigError("the live runtime needs at least one symbol")
        needed = strategy.warmup_bars() + 1
        if window is not None and window < needed:
            raise ConfigError(
                f"window {window} is shorter than the {needed} bars the strategy needs"
            )
        self.strategy = strategy
        self.windows: dict[str, deque[Bar]] = {
            symbol: deque(maxlen=window) for symbol in sorted(set(symbols))
        }
        self.context = LiveContext(strategy.name, account, self.windows, new_order_id)
        self._last_ts: datetime | None = None
        self._started = False

    @property
    def units(self) -> bool:
        """Whether targets are units (else fractions of equity)."""
        return (
            isinstance(self.strategy, SignalStrategy)
            and self.strategy.target_unit is TargetUnit.UNITS
        )

    def start(self) -> None:
        """Call the strategy's ``on_start`` (once)."""
        if not self._started and isinstance(self.strategy, EventStrategy):
            self.strategy.on_start(self.context)
        self._started = True

    def stop(self) -> Intents:
        """Call the strategy's ``on_stop`` and return what it asked for there."""
        if isinstance(self.strategy, EventStrategy):
            self.strategy.on_stop(self.context)
        return self.context.take_intents()

    def warm_up(self, history: pl.DataFrame) -> dict[str, float]:
        """Feed ``history`` (a canonical bar frame) without trading; return the latest targets."""
        self.start()
        targets: dict[str, float] = {}
        ordered = history.select(BAR_COLUMNS).sort("ts", "symbol", maintain_order=True)
        for group in ordered.partition_by("ts", maintain_order=True):
            bars = [Bar(*row) for row in group.iter_rows()]
            targets.update(self.handle(bars).targets)
        return targets

    def handle(self, bars: Sequence[Bar]) -> Intents:
        """Give the strategy the bars that share one open time; return its intents."""
        self.start()
        ts = self._check(bars)
        indicators = self.context.indicators
        for bar in bars:
            self.windows[bar.symbol].append(bar)
            for handle in indicators.get(bar.symbol, ()):
                handle.update(bar)
        self.context.begin(ts)
        strategy = self.strategy
        if isinstance(strategy, EventStrategy):
            strategy.on_bar(BarSnapshot(ts, tuple(bars)), self.context)
        else:
            self.context.intents.targets.update(self._signal_targets(strategy, ts))
        return self.context.take_intents()

    def _signal_targets(self, strategy: SignalStrategy, ts: datetime) -> dict[str, float]:
        frame = pl.DataFrame(
            [bar.as_row for window in self.windows.values() for bar in window], schema=BAR_SCHEMA
        )
        latest = strategy.compute_targets(frame).filter(
            (pl.col("ts") == ts) & pl.col("target").is_not_null()
        )
        return dict(zip(latest["symbol"].to_list(), latest["target"].to_list(), strict=True))

    def _check(self, bars: Sequence[Bar]) -> datetime:
        if not bars:
            raise DataError("a bar time needs at least one bar")
        ts = bars[0].ts
        for bar in bars:
            if bar.symbol not in self.windows:
                raise DataError(f"bar for {bar.symbol!r}, which the runtime does not trade")
        if self._last_ts is not None and ts <= self._last_ts:
            raise DataError(f"bar time {ts} is not after the last one handled ({self._last_ts})")
        self._last_ts = ts
        return ts
