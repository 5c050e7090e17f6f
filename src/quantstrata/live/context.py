"""The live runtime's side of :class:`~quantstrata.strategy.StrategyContext`.

A strategy sees the account as the order manager holds it (cash, positions, working orders),
the bars the runner has kept (never one after the bars being handled), and records intents
that the runtime turns into orders after the callback returns — through the same risk checks
and order manager as every other order. Nothing here talks to a broker.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import polars as pl

from quantstrata.core.errors import ConfigError, UnknownSymbolError
from quantstrata.core.logging import get_logger
from quantstrata.model.bar import BAR_SCHEMA, Bar
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Bracket, OneCancelsOther, Order, OrderRequest
from quantstrata.strategy.declared import StreamingIndicatorHandle

__all__ = ["AccountView", "Intents", "LiveContext"]

_LOGGER = get_logger("live.strategy")


class AccountView(Protocol):
    """The account as the strategy may read it (the order manager's state)."""

    @property
    def cash(self) -> float:
        """Cash after every fill booked."""
        ...

    def position(self, symbol: str) -> float:
        """Return the signed quantity held in ``symbol``."""
        ...

    def open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        """Return the working orders (of ``symbol`` only), oldest first."""
        ...

    def multiplier(self, symbol: str) -> float:
        """Return the contract multiplier of ``symbol`` (1 for shares)."""
        ...


@dataclass(slots=True)
class Intents:
    """What a strategy asked for in one callback, in the order it asked."""

    targets: dict[str, float] = field(default_factory=dict)
    submits: list[tuple[ClientOrderId, OrderRequest | Bracket | OneCancelsOther]] = field(
        default_factory=list
    )
    cancels: list[ClientOrderId] = field(default_factory=list)

    def __bool__(self) -> bool:
        """Whether anything was asked for."""
        return bool(self.targets or self.submits or self.cancels)


class LiveContext:
    """A strategy's view of the live account, the kept bars, and its intent queue."""

    def __init__(
        self,
        strategy: str,
        account: AccountView,
        windows: Mapping[str, deque[Bar]],
        new_order_id: Callable[[], ClientOrderId],
    ) -> None:
        """Read from ``account`` and ``windows``; take client order ids from ``new_order_id``."""
        self._strategy = strategy
        self._account = account
        self._windows = windows
        self._new_order_id = new_order_id
        self._now: datetime | None = None
        self.intents = Intents()
        self.indicators: dict[str, list[StreamingIndicatorHandle]] = {}

    def begin(self, ts: datetime) -> None:
        """Make ``ts`` (the open time of the bars being handled) the decision time."""
        self._now = ts

    def take_intents(self) -> Intents:
        """Return the intents recorded since the last call and start a new queue."""
        intents, self.intents = self.intents, Intents()
        return intents

    @property
    def now(self) -> datetime:
        """The open time of the bars being handled, as the backtester reports it."""
        if self._now is None:
            raise ConfigError("the live context has no current bar yet")
        return self._now

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols this run trades, sorted."""
        return tuple(sorted(self._windows))

    @property
    def cash(self) -> float:
        """Cash in the account's currency."""
        return self._account.cash

    @property
    def equity(self) -> float:
        """Cash plus every position marked at its symbol's latest close (× its multiplier)."""
        total = self._account.cash
        for symbol, window in self._windows.items():
            quantity = self._account.position(symbol)
            if quantity and window:
                total += quantity * (window[-1].close * self._account.multiplier(symbol))
        return total

    def position(self, symbol: str) -> float:
        """Return the signed quantity held in ``symbol``."""
        self._known(symbol)
        return self._account.position(symbol)

    def open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        """Return the working orders (of ``symbol`` only), oldest first."""
        return self._account.open_orders(symbol)

    def submit(self, request: OrderRequest | Bracket | OneCancelsOther) -> ClientOrderId:
        """Queue an order request (or a linked group) and return its (first) client order id."""
        if not isinstance(request, OrderRequest | Bracket | OneCancelsOther):
            raise ConfigError(f"submit() takes an order request or group, got {request!r}")
        order_id = self._new_order_id()
        self.intents.submits.append((order_id, request))
        return order_id

    def cancel(self, order_id: ClientOrderId) -> None:
        """Queue a cancel of the working order ``order_id``."""
        self.intents.cancels.append(ClientOrderId(order_id))

    def target(self, symbol: str, fraction_of_equity: float) -> None:
        """Queue a target for ``symbol`` (the latest one in a callback wins)."""
        if not math.isfinite(fraction_of_equity):
            raise ConfigError(f"target for {symbol!r} must be finite, got {fraction_of_equity!r}")
        self._known(symbol)
        self.intents.targets[symbol] = float(fraction_of_equity)

    def history(self, symbol: str, length: int) -> pl.DataFrame:
        """Return the last ``length`` kept bars of ``symbol``, oldest first."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ConfigError(f"history length must be a positive integer, got {length!r}")
        window = list(self._known(symbol))[-length:]
        return pl.DataFrame([bar.as_row for bar in window], schema=BAR_SCHEMA)

    def indicator(self, name: str, symbol: str, **parameters: Any) -> StreamingIndicatorHandle:
        """Declare indicator ``name`` of ``symbol``; the runner feeds it each bar before on_bar."""
        if self._now is not None:
            raise ConfigError(
                f"indicator {name!r} declared after the first bar; declare it in on_start"
            )
        self._known(symbol)
        handle = StreamingIndicatorHandle(name, symbol, **parameters)
        self.indicators.setdefault(symbol, []).append(handle)
        return handle

    def log(self, message: str) -> None:
        """Log ``message`` stamped with the decision time and the strategy's name."""
        _LOGGER.info("%s %s: %s", self.now.isoformat(), self._strategy, message)

    def _known(self, symbol: str) -> deque[Bar]:
        try:
            return self._windows[symbol]
        except KeyError:
            raise UnknownSymbolError(
                f"no bars for {symbol!r}; the runtime trades {sorted(self._windows)}"
            ) from None
