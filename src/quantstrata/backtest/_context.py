"""The backtester's side of :class:`~quantstrata.strategy.StrategyContext`.

Reads come from the event loop's book at the current bar. Order requests and cancels are queued
with their ids and turned into orders by the loop after the callback returns, as the protocol
promises; a target only updates the book's target of the symbol (the latest one wins, and one
equal to the current target changes nothing), which the loop executes when the fill policy lets
it meet the market. Declared indicators are computed in batch at declaration
(:mod:`quantstrata.backtest._declared`).

With ``BacktestConfig.risk`` set, every submitted request first passes the live runtime's
:class:`~quantstrata.execution.risk.RiskEngine`, valued as live values it (the account at this
bar's closes, the symbol's close as the last price); a refused request becomes an order that is
``rejected`` at once with the violation's reason, and never reaches the book's working orders.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from quantstrata.backtest._declared import BatchIndicatorHandle, batch_values
from quantstrata.core.errors import ConfigError, UnknownSymbolError
from quantstrata.execution.risk import RiskAccount, RiskEngine, RiskViolation, risk_day
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import (
    Bracket,
    OneCancelsOther,
    Order,
    OrderRequest,
)

if TYPE_CHECKING:
    from quantstrata.backtest._event import EventBook

__all__ = ["BacktestContext", "Intent"]

_LOGGER = logging.getLogger("quantstrata.backtest")


@dataclass(frozen=True, slots=True)
class Intent:
    """One queued intent: ``kind`` is ``submit`` or ``cancel``."""

    kind: str
    order_id: ClientOrderId
    request: OrderRequest | Bracket | OneCancelsOther | None = None


class BacktestContext:
    """A strategy's view of a running backtest: the book at the current bar, and an intent queue."""

    __slots__ = ("_book", "_day_start", "_index", "_risk", "_strategy", "_targets", "intents")

    def __init__(self, book: EventBook, strategy: str) -> None:
        """Read state from ``book``; stamp log lines with ``strategy``; risk-check by its config."""
        self._book = book
        self._strategy = strategy
        self._index = book.index
        self._targets = book.targets
        self.intents: list[Intent] = []
        risk = book.config.risk
        instruments = book.config.instruments
        self._risk = RiskEngine(risk, instruments) if risk is not None else None
        self._day_start: tuple[str, float] | None = None

    @property
    def now(self) -> datetime:
        """The current bar's time (its open time, the label of the bars just delivered)."""
        return self._book.now

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols of the backtest, sorted."""
        return self._book.aligned.symbols

    @property
    def cash(self) -> float:
        """Cash after every fill so far."""
        return self._book.cash

    @property
    def equity(self) -> float:
        """Cash plus every position marked at its latest price."""
        return self._book.equity()

    def position(self, symbol: str) -> float:
        """Return the signed quantity held in ``symbol`` (0.0 when flat)."""
        return self._book.quantity(symbol)

    def open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        """Return the working orders (of ``symbol`` only, if given), oldest first."""
        return self._book.open_orders(symbol)

    def submit(self, request: OrderRequest | Bracket | OneCancelsOther) -> ClientOrderId:
        """Queue an order request (or a linked group) and return its (first) client order id."""
        if not isinstance(request, OrderRequest | Bracket | OneCancelsOther):
            raise ConfigError(f"submit() takes an order request or group, got {request!r}")
        order_id = self._book.new_order_id()
        if any(self.risk_refused(order_id, single) for single in _requests(request)):
            return order_id
        self.intents.append(Intent("submit", order_id=order_id, request=request))
        return order_id

    def risk_refused(self, order_id: ClientOrderId, request: OrderRequest) -> bool:
        """Run the risk checks on ``request``; when they refuse it, record it rejected.

        Returns ``False`` (nothing recorded) when it passes or no ``BacktestConfig.risk`` is
        set. The loop's target orders sized at the decision can pass here too, as live sends
        every target order through the same engine.
        """
        if self._risk is None:
            return False
        try:
            self._risk_check(request)
        except RiskViolation as violation:
            self._reject(order_id, request, violation.reason)
            return True
        return False

    def _risk_check(self, request: OrderRequest) -> None:
        """Run the risk engine on ``request`` as the live order manager runs it."""
        assert self._risk is not None
        book, now = self._book, self._book.now
        closes = book.closes[max(book.bar, 0)]
        marks = {
            symbol: float(close)
            for symbol, close in zip(book.aligned.symbols, closes.tolist(), strict=True)
            if math.isfinite(close)
        }
        positions = {
            symbol: float(held)
            for symbol, held in zip(book.aligned.symbols, book.quantities.tolist(), strict=True)
            if held != 0.0
        }
        equity = book.equity()
        day = risk_day(now)
        if self._day_start is None or self._day_start[0] != day:
            self._day_start = (day, equity)
        account = RiskAccount(book.cash, positions, marks, equity - self._day_start[1])
        self._risk.check(request, account, marks.get(request.symbol), now)

    def _reject(self, order_id: ClientOrderId, request: OrderRequest, reason: str) -> None:
        """Record ``request`` as an order rejected at once with ``reason`` (the note in its tag)."""
        self._book.exchange.refuse(order_id, self._book.now, reason, request)

    def cancel(self, order_id: ClientOrderId) -> None:
        """Queue a cancel of the working order ``order_id``."""
        self.intents.append(Intent("cancel", order_id=ClientOrderId(order_id)))

    def target(self, symbol: str, fraction_of_equity: float) -> None:
        """Set the target of ``symbol`` (the latest one in a callback wins)."""
        column = self._index.get(symbol)
        if column is None:
            raise unknown_symbol(symbol, tuple(self._index))
        if fraction_of_equity != self._targets[column]:
            if not math.isfinite(fraction_of_equity):
                raise ConfigError(
                    f"target for {symbol!r} must be finite, got {fraction_of_equity!r}"
                )
            self._book.set_target(column, float(fraction_of_equity))

    def indicator(self, name: str, symbol: str, **parameters: Any) -> BatchIndicatorHandle:
        """Declare indicator ``name`` of ``symbol`` (in ``on_start``); computed in batch now."""
        book = self._book
        if not book.declaring:
            raise ConfigError(
                f"indicator {name!r} of {symbol!r} declared after the first bar; "
                "declare indicators in on_start"
            )
        column = book.symbol_index(symbol)
        return BatchIndicatorHandle(
            book, symbol, batch_values(book.aligned, column, name, **parameters)
        )

    def history(self, symbol: str, length: int) -> pl.DataFrame:
        """Return the last ``length`` bars of ``symbol`` up to and including the current bar."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ConfigError(f"history length must be a positive integer, got {length!r}")
        return self._book.history(symbol, length)

    def log(self, message: str) -> None:
        """Log ``message`` stamped with the bar time and the strategy's name."""
        _LOGGER.info("%s %s: %s", self.now.isoformat(), self._strategy, message)


def _requests(request: OrderRequest | Bracket | OneCancelsOther) -> tuple[OrderRequest, ...]:
    """Return the requests the risk checks see when ``request`` is submitted."""
    if isinstance(request, Bracket):
        return (request.entry,)
    if isinstance(request, OneCancelsOther):
        return request.orders
    return (request,)


def unknown_symbol(symbol: str, symbols: Sequence[str]) -> UnknownSymbolError:
    """Return the error for a symbol the backtest has no bars of."""
    return UnknownSymbolError(f"no bars for {symbol!r}; the backtest has {list(symbols)}")
