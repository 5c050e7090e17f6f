"""Event-style strategies: callbacks that see the market one bar at a time.

An :class:`EventStrategy` is driven by a runner (the backtest engine, the paper or live runtime)
in this order: :meth:`~EventStrategy.on_start` once, then for every bar time
:meth:`~EventStrategy.on_bar` with a :class:`BarSnapshot` of the bars that just closed, with
:meth:`~EventStrategy.on_order` and :meth:`~EventStrategy.on_fill` as the runner reports order
updates and fills, and :meth:`~EventStrategy.on_stop` once at the end. The strategy reads state
and records intents only through the :class:`~quantstrata.strategy.context.StrategyContext` it is
handed, so look-ahead is impossible by construction: no later bar exists yet.

Per-run state (streaming indicators, counters) is created in ``on_start``, so running the same
object twice gives the same decisions. Streaming indicators
(:class:`quantstrata.indicators.SimpleMovingAverage` and friends) give exactly the values of the
batch forms a signal strategy uses.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from quantstrata.core.errors import DataError, DataIssue, UnknownSymbolError
from quantstrata.model.bar import BAR_COLUMNS, Bar
from quantstrata.strategy.base import Strategy
from quantstrata.strategy.context import StrategyContext

if TYPE_CHECKING:
    from quantstrata.model.orders import Fill, Order

__all__ = ["BarSnapshot", "EventStrategy"]


class BarSnapshot(Mapping[str, Bar]):
    """The bars of every symbol that share one open time ``ts``, keyed by symbol.

    ``snapshot["SPX"].close`` is the close of the SPX bar that just ended; a symbol without a bar
    at this time (a holiday, a halt) is simply absent. Bars are kept sorted by symbol.

    A runner may hand ``on_bar`` a subclass that builds the :class:`Bar` values only when they
    are read (the backtester does, over its validated arrays); it always shows the bars of the
    time being handled, so keep the ``Bar`` values, not the snapshot, across callbacks.
    """

    __slots__ = ("_bars", "_by_symbol", "_ts")

    def __init__(self, ts: datetime, bars: tuple[Bar, ...]) -> None:
        """Check every bar opens at ``ts`` and no symbol appears twice."""
        ordered = tuple(sorted(bars, key=lambda bar: bar.symbol))
        issues = [
            DataIssue(
                "snapshot_time",
                f"bar opens at {bar.ts}, not {ts}",
                row,
                "ts",
                bar.ts,
                bar.symbol,
            )
            for row, bar in enumerate(bars)
            if bar.ts != ts
        ]
        by_symbol: dict[str, Bar] = {bar.symbol: bar for bar in ordered}
        if len(by_symbol) != len(ordered):
            issues.append(
                DataIssue("duplicate_symbol", "a symbol has more than one bar", column="symbol")
            )
        if issues:
            raise DataError(f"invalid bar snapshot at {ts}", tuple(issues))
        self._ts = ts
        self._bars = ordered
        self._by_symbol = by_symbol

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> BarSnapshot:
        """Build a snapshot from the rows of a canonical bar frame that share one ``ts``."""
        times = frame["ts"].unique()
        if times.len() != 1:
            raise DataError(
                f"a bar snapshot needs rows of exactly one ts, got {times.len()} distinct"
            )
        bars = tuple(Bar(*row) for row in frame.select(BAR_COLUMNS).iter_rows())
        return cls(ts=times.item(), bars=bars)

    @property
    def ts(self) -> datetime:
        """The open time shared by every bar of the snapshot."""
        return self._ts

    @property
    def bars(self) -> tuple[Bar, ...]:
        """The bars, sorted by symbol."""
        return self._bars

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols with a bar at this time, sorted."""
        return tuple(bar.symbol for bar in self.bars)

    def __getitem__(self, symbol: str) -> Bar:
        """Return the bar of ``symbol``; raise :class:`UnknownSymbolError` if it has none."""
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise UnknownSymbolError(
                f"no bar for {symbol!r} at {self.ts}; the snapshot holds {list(self.symbols)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        """Iterate over the symbols, sorted."""
        return iter(self.symbols)

    def __len__(self) -> int:
        """Return the number of symbols with a bar."""
        return len(self.bars)

    def __eq__(self, other: object) -> bool:
        """Compare the time and the bars."""
        if not isinstance(other, BarSnapshot):
            return NotImplemented
        return (self.ts, self.bars) == (other.ts, other.bars)

    def __hash__(self) -> int:
        """Hash the time and the bars."""
        return hash((self.ts, self.bars))

    def __repr__(self) -> str:
        """Show the time and the bars."""
        return f"BarSnapshot(ts={self.ts!r}, bars={self.bars!r})"


class EventStrategy(Strategy):
    """A strategy written as callbacks, fed one bar time at a time.

    Subclasses implement :meth:`on_bar` and :meth:`warmup_bars`; the other callbacks do nothing
    unless overridden. Create per-run state in :meth:`on_start`.
    """

    def on_start(self, context: StrategyContext) -> None:
        """Prepare per-run state before the first bar (the default does nothing)."""

    @abstractmethod
    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        """Decide after the bars in ``bars`` closed: record targets or order requests."""

    def on_order(self, order: Order, context: StrategyContext) -> None:
        """React to a change of one of this strategy's orders (the default does nothing)."""

    def on_fill(self, fill: Fill, context: StrategyContext) -> None:
        """React to a fill of one of this strategy's orders (the default does nothing)."""

    def on_stop(self, context: StrategyContext) -> None:
        """Finish the run after the last bar (the default does nothing)."""
