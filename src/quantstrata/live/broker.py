"""The one interface every broker implements, and the errors that cross it.

The live runtime talks to a venue only through :class:`Broker`: the in-process
``PaperBroker`` (the backtest's fill model), the client of the local simulated venue, and
exchange adapters. The runtime never learns which one it holds, which is what lets the same
strategy, risk checks and order manager run against each of them.

A broker's answers are facts from the venue. A submit that times out or loses its connection
raises :class:`SubmitOutcomeUnknownError`: the order may or may not live at the venue, and the
order manager resolves it with :meth:`Broker.query_order` by client order id, never by sending
it again. A query that fails raises :class:`BrokerUnavailableError`; callers skip that cycle
instead of assuming anything (a failed position query never means "flat").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from quantstrata.core.errors import QuantstrataError
from quantstrata.model.identifiers import ClientOrderId, Symbol, VenueOrderId
from quantstrata.model.orders import Fill, OrderEvent, OrderRequest, OrderStatus

__all__ = [
    "AccountSnapshot",
    "Broker",
    "BrokerError",
    "BrokerUnavailableError",
    "HoldsOrders",
    "LinksOrders",
    "OrderRejectedError",
    "SubmitOutcomeUnknownError",
    "VenueOrder",
    "queued_events",
]


class BrokerError(QuantstrataError):
    """A broker call failed; subclasses say whether the outcome is known."""


class BrokerUnavailableError(BrokerError):
    """The venue could not be reached or did not answer; nothing is known about the call."""


class SubmitOutcomeUnknownError(BrokerError):
    """A submit timed out or lost its connection: the order may live at the venue."""


class OrderRejectedError(BrokerError):
    """The venue answered a submit (or a cancel) with a rejection; ``reason`` says why."""

    def __init__(self, message: str, reason: str) -> None:
        """Keep the venue's reason beside the message."""
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """What the venue reports about one order, looked up by client or venue order id."""

    order_id: ClientOrderId
    venue_order_id: VenueOrderId
    symbol: Symbol
    request: OrderRequest
    status: OrderStatus
    filled_quantity: float
    average_fill_price: float | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The venue's view of the account: cash, signed position quantities by symbol, balances.

    A venue that reports margin gives ``equity`` and ``maintenance_margin`` (``None``: not
    reported); reconciliation alarms when the equity is below the maintenance margin.
    """

    cash: float
    positions: Mapping[str, float] = field(default_factory=dict)
    as_of: datetime | None = None
    balances: Mapping[str, float] = field(default_factory=dict)
    """Cash per currency, in that currency, where the venue reports it: the base currency (that
    of ``cash``) first. Reconciliation compares them when there are several."""
    equity: float | None = None
    maintenance_margin: float | None = None


@runtime_checkable
class Broker(Protocol):
    """Send orders to one venue and report what it says about them."""

    @property
    def name(self) -> str:
        """A short name for logs and the journal (``paper``, ``sim``, ``binance``)."""
        ...

    async def connect(self) -> None:
        """Open connections and subscriptions; raise :class:`BrokerUnavailableError`."""
        ...

    async def close(self) -> None:
        """Close connections; safe to call twice."""
        ...

    async def submit(self, order_id: ClientOrderId, request: OrderRequest) -> VenueOrderId:
        """Send a new order; return the venue's id once it acknowledges.

        Raise :class:`OrderRejectedError` when the venue refuses it and
        :class:`SubmitOutcomeUnknownError` when no answer came in time. Submitting a client
        order id the venue already holds returns that order's venue id (idempotent).
        """
        ...

    async def cancel(self, order_id: ClientOrderId) -> None:
        """Ask the venue to cancel; the outcome arrives as an update (or a rejection)."""
        ...

    async def query_order(self, order_id: ClientOrderId) -> VenueOrder | None:
        """Return the venue's record of ``order_id``, or ``None`` when it never received it."""
        ...

    async def open_orders(self) -> list[VenueOrder]:
        """Return every order still working at the venue, including ones we did not send."""
        ...

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Return the account's fills since ``since`` (all when ``None``), oldest first."""
        ...

    async def account(self) -> AccountSnapshot:
        """Return cash and positions as the venue holds them."""
        ...

    def updates(self) -> AsyncIterator[OrderEvent]:
        """Yield order events the venue pushes (acknowledgements, fills, cancels, rejects).

        Events may arrive out of order or twice (a fill before its acknowledgement, a fill
        replayed after a reconnect); the order manager accepts both.
        """
        ...


@runtime_checkable
class HoldsOrders(Protocol):
    """A broker that may accept an order and keep it before the venue sees it.

    Alpaca's broker holds a market order decided while the market is closed and sends it at
    the open; the order keeps the venue id it was accepted under (the venue numbers it only
    when it is sent). After a restart the order manager asks :meth:`held_locally` about each
    open order's venue id and names the held ones to the broker (:meth:`keep_held_id`), which
    goes on reporting them under that id. One the venue has never heard of is submitted again
    under the same client order id (held again, or sent), not called missing.
    """

    def held_locally(self, venue_order_id: VenueOrderId) -> bool:
        """Return whether ``venue_order_id`` is one this broker kind accepts held orders under."""
        ...

    def keep_held_id(self, order_id: ClientOrderId) -> None:
        """Report ``order_id``, accepted held before a restart, under its held venue id."""
        ...


@runtime_checkable
class LinksOrders(Protocol):
    """A broker that links two of its working orders one-cancels-other itself (optional).

    The paper broker and the local venue hold the backtest's simulated exchange: linked there,
    a pair follows the exchange's one rule (a fill of either cancels the other on the same bar;
    a bracket's exits, ``bracket=True`` with the stop-loss first, work as the backtest's one
    bracket state, whose rule decides which exit a bar reaches first). The runtime emulates the
    link for brokers without it (:class:`~quantstrata.live._linked_orders.LinkedOrders`).
    """

    async def link(
        self, first: ClientOrderId, second: ClientOrderId, *, bracket: bool = False
    ) -> bool:
        """Link two working orders; return whether they are linked (both still working)."""
        ...


async def queued_events(queue: asyncio.Queue[OrderEvent | None]) -> AsyncIterator[OrderEvent]:
    """Yield the events a broker puts on ``queue`` until its close puts ``None``."""
    while (event := await queue.get()) is not None:
        yield event
