"""An in-memory StrategyContext that records every intent, and a driver that replays bars.

:class:`RecordingContext` implements :class:`quantstrata.strategy.StrategyContext` without an
engine: positions, cash and equity are whatever the test sets; targets, order requests, cancels
and log messages are appended to lists the test inspects. Declared indicators are the streaming
form (:class:`~quantstrata.strategy.StreamingIndicatorHandle`) fed each symbol's bar when
:meth:`RecordingContext.advance` makes a snapshot current — what a live runner does.
:func:`replay` feeds a bar frame to an event strategy one bar time at a time, exactly as a
runner would (on_start, on_bar per time, on_stop), so event and signal versions of a strategy
can be compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from quantstrata.core.errors import ConfigError, UnknownSymbolError
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Bracket, OneCancelsOther, Order, OrderRequest, OrderStatus
from quantstrata.strategy import BarSnapshot, EventStrategy, StreamingIndicatorHandle

__all__ = ["RecordedTarget", "RecordingContext", "replay"]


@dataclass(frozen=True, slots=True)
class RecordedTarget:
    """One ``context.target`` call: at which bar, for which symbol, to what fraction."""

    ts: datetime
    symbol: str
    fraction_of_equity: float


class RecordingContext:
    """A StrategyContext test double: state set by the test, intents recorded in lists."""

    def __init__(
        self,
        bars: pl.DataFrame,
        *,
        cash: float = 100_000.0,
        equity: float | None = None,
        positions: dict[str, float] | None = None,
    ) -> None:
        self._bars = bars.sort("ts", "symbol", maintain_order=True)
        self._snapshot: BarSnapshot | None = None
        self._next_id = 0
        self.now_override: datetime | None = None
        self.cash = cash
        self.equity = cash if equity is None else equity
        self.positions: dict[str, float] = dict(positions or {})
        self.targets: list[RecordedTarget] = []
        self.submitted: list[tuple[ClientOrderId, OrderRequest | Bracket | OneCancelsOther]] = []
        self.orders: dict[ClientOrderId, Order] = {}
        self.cancelled: list[ClientOrderId] = []
        self.messages: list[str] = []
        self.indicators: list[StreamingIndicatorHandle] = []

    # -- driving -------------------------------------------------------------------------------

    def advance(self, snapshot: BarSnapshot) -> None:
        """Make ``snapshot`` the current bars (history, now and declared indicators follow it)."""
        self._snapshot = snapshot
        for handle in self.indicators:
            if handle.symbol in snapshot:
                handle.update(snapshot[handle.symbol])

    @property
    def now(self) -> datetime:
        """The current bar time (or the time a test set in ``now_override``)."""
        if self.now_override is not None:
            return self.now_override
        if self._snapshot is None:
            raise ConfigError("RecordingContext has no current bar yet; call advance() first")
        return self._snapshot.ts

    # -- reads ---------------------------------------------------------------------------------

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._bars["symbol"].to_list())))

    def indicator(self, name: str, symbol: str, **parameters: Any) -> StreamingIndicatorHandle:
        if self._snapshot is not None:
            raise ConfigError(f"indicator {name!r} declared after the first bar")
        if symbol not in self.symbols:
            raise UnknownSymbolError(f"no bars for {symbol!r}")
        handle = StreamingIndicatorHandle(name, symbol, **parameters)
        self.indicators.append(handle)
        return handle

    def position(self, symbol: str) -> float:
        return self.positions.get(symbol, 0.0)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        cancelled = set(self.cancelled)
        return [
            order
            for order_id, order in self.orders.items()
            if order_id not in cancelled and (symbol is None or order.symbol == symbol)
        ]

    def history(self, symbol: str, length: int) -> pl.DataFrame:
        if length < 1:
            raise ConfigError(f"history length must be >= 1, got {length}")
        if self._snapshot is None:
            return self._bars.clear()
        rows = self._bars.filter((pl.col("symbol") == symbol) & (pl.col("ts") <= self._snapshot.ts))
        if rows.is_empty() and symbol not in set(self._bars["symbol"].to_list()):
            raise UnknownSymbolError(f"no bars for {symbol!r}")
        return rows.tail(length)

    # -- intents -------------------------------------------------------------------------------

    def submit(self, request: OrderRequest | Bracket | OneCancelsOther) -> ClientOrderId:
        """Record the request; working orders: a bracket's entry, or every order of a group."""
        if isinstance(request, OrderRequest):
            working = [request]
        elif isinstance(request, Bracket):
            working = [request.entry]
        elif isinstance(request, OneCancelsOther):
            working = list(request.orders)
        else:
            raise TypeError(f"not an order request: {request!r}")
        ids = [self._new_order(item) for item in working]
        self.submitted.append((ids[0], request))
        return ids[0]

    def _new_order(self, request: OrderRequest) -> ClientOrderId:
        self._next_id += 1
        order_id = ClientOrderId(f"test-{self._next_id}")
        now = self.now
        self.orders[order_id] = Order(order_id, request, OrderStatus.PENDING, now, now)
        return order_id

    def cancel(self, order_id: ClientOrderId) -> None:
        self.cancelled.append(order_id)

    def target(self, symbol: str, fraction_of_equity: float) -> None:
        if not math.isfinite(fraction_of_equity):
            raise ConfigError(f"target for {symbol!r} must be finite, got {fraction_of_equity!r}")
        if self._snapshot is None:
            raise ConfigError("target() called before the first bar")
        self.targets.append(RecordedTarget(self._snapshot.ts, symbol, float(fraction_of_equity)))

    def log(self, message: str) -> None:
        self.messages.append(message)

    # -- inspection ----------------------------------------------------------------------------

    def target_frame(self) -> pl.DataFrame:
        """Return the recorded targets as ``ts, symbol, target`` (the last call per bar wins)."""
        frame = pl.DataFrame(
            {
                "ts": [item.ts for item in self.targets],
                "symbol": [item.symbol for item in self.targets],
                "target": [item.fraction_of_equity for item in self.targets],
            },
            schema={"ts": pl.Datetime("ns", "UTC"), "symbol": pl.String, "target": pl.Float64},
        )
        return frame.unique(["ts", "symbol"], keep="last", maintain_order=True).sort("ts", "symbol")


def replay(
    strategy: EventStrategy, bars: pl.DataFrame, context: RecordingContext | None = None
) -> RecordingContext:
    """Drive ``strategy`` through ``bars`` one bar time at a time and return the context."""
    context = context if context is not None else RecordingContext(bars)
    strategy.on_start(context)
    ordered = bars.sort("ts", "symbol", maintain_order=True)
    for frame in ordered.partition_by("ts", maintain_order=True):
        snapshot = BarSnapshot.from_frame(frame)
        context.advance(snapshot)
        strategy.on_bar(snapshot, context)
    strategy.on_stop(context)
    return context
