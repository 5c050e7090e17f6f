"""The strategy's only window on the world: a :class:`StrategyContext` the runner passes in.

An event strategy reads market and account state through the context and records intents
(targets, order requests, cancels) on it; it never holds a broker, a portfolio or a cache. The
backtest engine, the paper runtime and the live runtime each implement this protocol, which is
what lets one strategy object run unchanged in all three. The test kit holds an in-memory
implementation that records every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import polars as pl

if TYPE_CHECKING:
    from quantstrata.model.identifiers import ClientOrderId
    from quantstrata.model.orders import Bracket, OneCancelsOther, Order, OrderRequest
    from quantstrata.strategy.declared import IndicatorHandle

__all__ = ["StrategyContext"]


@runtime_checkable
class StrategyContext(Protocol):
    """What a running strategy may read and which intents it may record.

    Reads reflect the state at :attr:`now`, the decision time (the close of the bars just
    delivered): positions and cash include fills up to then, and :meth:`history` never returns a
    bar that opened after the bars being handled. Intents are recorded, not executed: the runner
    turns them into orders after the callback returns, through the same risk checks and order
    manager in every environment.
    """

    @property
    def now(self) -> datetime:
        """The decision time (timezone-aware UTC), from the runner's clock."""
        ...

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols this run trades, sorted (known before the first bar)."""
        ...

    @property
    def cash(self) -> float:
        """Cash in the account's currency."""
        ...

    @property
    def equity(self) -> float:
        """Cash plus the marked-to-market value of every position."""
        ...

    def position(self, symbol: str) -> float:
        """Return the signed quantity held in ``symbol`` (0.0 when flat)."""
        ...

    def open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        """Return this strategy's working orders (of ``symbol`` only, if given), oldest first."""
        ...

    def submit(self, request: OrderRequest | Bracket | OneCancelsOther) -> ClientOrderId:
        """Record an order request (or a linked group) and return its client order id.

        For a bracket or a one-cancels-other group the id is the group's first (entry) order.
        """
        ...

    def cancel(self, order_id: ClientOrderId) -> None:
        """Ask to cancel the working order ``order_id``."""
        ...

    def target(self, symbol: str, fraction_of_equity: float) -> None:
        """Ask to hold ``fraction_of_equity`` of equity in ``symbol`` (signed; 0 = flat).

        The runner sizes the orders (lot rounding, risk checks); the latest target set for a
        symbol in one callback wins.
        """
        ...

    def history(self, symbol: str, length: int) -> pl.DataFrame:
        """Return the last ``length`` bars of ``symbol`` up to and including the current bar.

        The frame has the canonical bar schema, oldest first; it may be shorter at the start of
        the data. It never contains a bar after the current one.
        """
        ...

    def indicator(self, name: str, symbol: str, **parameters: Any) -> IndicatorHandle:
        """Declare indicator ``name`` of ``symbol``'s bars; return a handle read in ``on_bar``.

        Call it in ``on_start`` (before the first bar; later calls raise
        :class:`~quantstrata.core.errors.ConfigError`). ``parameters`` are the indicator's (see
        :func:`quantstrata.indicators.definition`), its inputs the bar fields its definition
        names. ``handle.value`` is the value at the bar being handled, from that symbol's bars up
        to and including it: NaN (a tuple for several outputs) until it exists, unchanged at
        times the symbol has no bar. A live runner implements it with
        :class:`~quantstrata.strategy.declared.StreamingIndicatorHandle`, updated with each new
        bar before ``on_bar``; the backtester computes the batch form over the history once.
        Both give the same values (invariant 3).
        """
        ...

    def log(self, message: str) -> None:
        """Write ``message`` to the run's log, stamped with :attr:`now` and the strategy name."""
        ...
