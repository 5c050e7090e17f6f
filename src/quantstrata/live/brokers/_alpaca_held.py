"""Alpaca orders held while the market is closed: the queue, and the task sending it at the open.

A market order (or a bracket with a market entry) decided while Alpaca's clock says the
regular session is closed is accepted at once under the venue id ``held-<client order id>``
(:func:`held_id`) and kept here; :class:`HeldOrders` sends the queue when the clock's
``next_open`` comes (the clock is asked again on waking, at least every
:data:`CLOCK_RECHECK_SECONDS`), so the orders fill at the open as the backtest fills them on
the next bar. Until then an order lives only here: cancelling takes it out, a query answers
from the queue, and :meth:`HeldOrders.close` stops the task leaving the queue unsent. After a
restart Alpaca does not know such an order; :func:`is_held_id` tells the order manager that it
was held, never sent, so it is handed back to the broker (held again, or sent if open).

The runtime knows a held order by its ``held-`` id for good (an order's venue id never
changes), so once Alpaca numbers it the broker reports the order, and its fills, under the
``held-`` id still: :meth:`HeldOrders.accepted_as` gives it, for the orders held in this
process and those the order manager names after a restart (:meth:`HeldOrders.remember`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from quantstrata.core.clock import Clock
from quantstrata.live.broker import BrokerUnavailableError, VenueOrder
from quantstrata.model.identifiers import ClientOrderId, VenueOrderId
from quantstrata.model.orders import Fill, OrderRequest, OrderStatus

__all__ = ["CLOCK_RECHECK_SECONDS", "Held", "HeldOrders", "held_id", "is_held_id"]

_log = logging.getLogger("quantstrata.live.alpaca")
_PREFIX = "held-"

CLOCK_RECHECK_SECONDS = 900.0
"""A held order re-asks Alpaca's clock at least this often (a host's sleep, a changed session)."""


@dataclass(frozen=True, slots=True)
class Held:
    """A market order (or a bracket with a market entry) waiting for the open."""

    request: OrderRequest
    body: dict[str, Any]
    since: datetime


def held_id(order_id: ClientOrderId) -> VenueOrderId:
    """Return the venue id a held order is accepted under until Alpaca numbers it."""
    return VenueOrderId(f"{_PREFIX}{order_id}")


def is_held_id(venue_order_id: VenueOrderId | str | None) -> bool:
    """Return whether ``venue_order_id`` is a held order's (one Alpaca never received)."""
    return venue_order_id is not None and str(venue_order_id).startswith(_PREFIX)


class HeldOrders:
    """The held orders and the task that sends them at the open.

    ``session`` answers whether the regular session is open and the seconds until it next
    opens or closes (Alpaca's clock); ``send`` posts one held order (its refusal is the
    caller's to report); ``sleep`` waits (a test's hook on the passing of venue time).
    """

    def __init__(
        self,
        session: Callable[[], Awaitable[tuple[bool, float]]],
        send: Callable[[ClientOrderId, Held], Awaitable[None]],
        *,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        """Start empty; the task starts with the first held order."""
        self._session = session
        self._send = send
        self._clock = clock
        self._sleep = sleep
        self._held: dict[ClientOrderId, Held] = {}
        self._accepted: dict[ClientOrderId, VenueOrderId] = {}
        self.task: asyncio.Task[None] | None = None

    def __contains__(self, order_id: object) -> bool:
        """Whether ``order_id`` is held."""
        return order_id in self._held

    def hold(
        self, order_id: ClientOrderId, request: OrderRequest, body: dict[str, Any], opens_in: float
    ) -> VenueOrderId:
        """Queue ``body`` until the open; make sure the task that sends it runs."""
        _log.info("market closed: order %s held until the open, in %.0f s", order_id, opens_in)
        self._held[order_id] = Held(request, body, self._clock.now())
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._send_at_open(opens_in), name="alpaca-held-orders")
        return self.remember(order_id)

    def remember(self, order_id: ClientOrderId) -> VenueOrderId:
        """Note that ``order_id`` was accepted under its ``held-`` id; return that id."""
        self._accepted[order_id] = held_id(order_id)
        return self._accepted[order_id]

    def accepted_as(self, venue: VenueOrder) -> VenueOrder:
        """Return Alpaca's record of an order under the id the runtime knows it by."""
        accepted = self._accepted.get(venue.order_id)
        return venue if accepted is None else replace(venue, venue_order_id=accepted)

    def fill_as(self, fill: Fill) -> Fill:
        """Return ``fill`` under the venue id its order was accepted under."""
        accepted = self._accepted.get(fill.order_id)
        return fill if accepted is None else replace(fill, venue_order_id=accepted)

    def drop(self, order_id: ClientOrderId) -> bool:
        """Take ``order_id`` out of the queue; return whether it was held."""
        return self._held.pop(order_id, None) is not None

    def query(self, order_id: ClientOrderId) -> VenueOrder | None:
        """Return a held order as working (``PENDING``, nothing filled), or ``None``."""
        held = self._held.get(order_id)
        if held is None:
            return None
        request = held.request
        return VenueOrder(
            order_id, held_id(order_id), request.symbol, request, OrderStatus.PENDING, 0.0, None,
            held.since,
        )  # fmt: skip

    async def close(self) -> None:
        """Stop the task; the held orders stay unsent."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    async def _send_at_open(self, opens_in: float) -> None:
        """Wait until Alpaca's clock says the session is open (re-asked on waking); send."""
        is_open = False
        while not is_open:
            await self._sleep(min(max(opens_in, 1.0), CLOCK_RECHECK_SECONDS))
            try:
                is_open, opens_in = await self._session()
            except BrokerUnavailableError as error:
                _log.warning("held orders wait on: %s", error)
                opens_in = CLOCK_RECHECK_SECONDS
        while self._held:
            order_id = next(iter(self._held))
            await self._send(order_id, self._held.pop(order_id))
