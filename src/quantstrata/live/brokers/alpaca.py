"""An Alpaca account (US equities) as a live :class:`~quantstrata.live.broker.Broker`.

:class:`AlpacaBroker` sends orders with alpaca-py's ``TradingClient`` (REST, run in a worker
thread, retries decided by :class:`~quantstrata.live.brokers._alpaca_rest.AlpacaCaller`) and
hears about them on the ``trade_updates`` WebSocket:

- ``submit`` posts the order with our client order id. A refusal (HTTP 403 or 422) is an
  :class:`~quantstrata.live.broker.OrderRejectedError` whose ``reason`` is an
  :class:`~quantstrata.live.brokers._alpaca_mapping.AlpacaRefusal` (insufficient buying
  power, not shortable, pattern day trader, market closed, wash trade, ...). A submit that
  times out, loses its connection or meets a 5xx is
  :class:`~quantstrata.live.broker.SubmitOutcomeUnknownError`: the order manager then asks
  :meth:`AlpacaBroker.query_order`, which looks the order up *by client order id*, so an order
  Alpaca accepted is found, never sent twice. A resent id Alpaca already holds returns that
  order's id.
- :meth:`AlpacaBroker.submit_group` sends a bracket or an OCO pair as one Alpaca advanced
  order (``bracket``, ``oto``, ``oco``); :meth:`AlpacaBroker.replace` replaces a working order.
- ``updates`` yields the stream's fills, cancellations, expiries, replacements and
  rejections. After every (re)connect of the stream, before its first message, the broker
  re-reads over REST the fills since the last one it saw (account activities) and the
  state of every order it still thinks works, so no fill or end sent while the socket was
  down is lost. Nothing polls in the normal path.
- ``fills`` reads the ``FILL`` account activities; ``account`` the cash and positions.
- Market hours: a market order decided while Alpaca's clock (``/v2/clock``) says the regular
  session is closed is held by the broker (:mod:`~quantstrata.live.brokers._alpaca_held`):
  :meth:`AlpacaBroker.submit` returns at once (the order is accepted, ``PENDING``, under the
  venue id ``held-<client order id>``) and a broker task sends it at the open, so it fills at
  the open as the backtest fills it on the next bar. Until then :meth:`AlpacaBroker.cancel`
  ends it locally (a ``Cancelled`` update, as Alpaca's cancel gives) and
  :meth:`AlpacaBroker.query_order` answers from the held queue. :meth:`AlpacaBroker.close`
  stops the task and leaves held orders unsent: after a restart Alpaca does not know them,
  :meth:`AlpacaBroker.held_locally` says so, and the order manager submits them again (held
  again, or sent if the session is open). With ``extended_hours`` it is refused instead (an
  ``invalid order`` rejection): outside the regular session Alpaca takes only day limit
  orders, which are sent at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from quantstrata.core.clock import Clock
from quantstrata.live.broker import (
    AccountSnapshot,
    BrokerError,
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
    VenueOrder,
)
from quantstrata.live.brokers._alpaca_held import (
    CLOCK_RECHECK_SECONDS,
    Held,
    HeldOrders,
    is_held_id,
)
from quantstrata.live.brokers._alpaca_mapping import (
    AlpacaOrderOptions,
    AlpacaRefusal,
    account_from_alpaca,
    events_from_trade_update,
    fill_from_activity,
    group_body,
    order_body,
    refusal_of,
    session_from_clock,
    venue_order_from_alpaca,
)
from quantstrata.live.brokers._alpaca_rest import (
    AlpacaCaller,
    AlpacaConfig,
    AlpacaCredentials,
    AlpacaHttpError,
    sdk,
    trading_client,
)
from quantstrata.live.brokers._alpaca_stream import TradeUpdates
from quantstrata.live.brokers._venue_messages import MalformedMessageError
from quantstrata.model.identifiers import ClientOrderId, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Bracket,
    Cancelled,
    Expired,
    Fill,
    FillEvent,
    OneCancelsOther,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Rejected,
    TimeInForce,
)

__all__ = ["CLOCK_RECHECK_SECONDS", "AlpacaBroker"]

_log = logging.getLogger("quantstrata.live.alpaca")
_PAGE = 100
_RESYNC_OVERLAP = timedelta(seconds=1)
# alpaca-py's request class for each order type (its base OrderRequest drops the prices).
_SDK_REQUESTS = {
    "market": "MarketOrderRequest",
    "limit": "LimitOrderRequest",
    "stop": "StopOrderRequest",
    "stop_limit": "StopLimitOrderRequest",
    "trailing_stop": "TrailingStopOrderRequest",
}


class AlpacaBroker:
    """A :class:`~quantstrata.live.broker.Broker` on an Alpaca account (paper by default)."""

    def __init__(
        self,
        config: AlpacaConfig,
        credentials: AlpacaCredentials,
        *,
        client: Any = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        clock: Clock | None = None,
    ) -> None:
        """Build alpaca-py's client (or take ``client``); nothing connects until :meth:`connect`."""
        self.config = config
        self._credentials = credentials
        self.client = client if client is not None else trading_client(config, credentials)
        self._caller = AlpacaCaller(config, credentials, sleep=sleep, uniform=uniform, clock=clock)
        self._stream = TradeUpdates(
            config,
            credentials,
            self._on_update,
            self._resync,
            sleep=sleep,
            uniform=uniform,
            clock=clock,
        )
        self._venue_id_of: dict[ClientOrderId, VenueOrderId] = {}
        self._client_of: dict[str, ClientOrderId] = {}
        self._working: set[ClientOrderId] = set()
        self._seen: set[TradeId] = set()
        self._last_fill: datetime | None = None
        self._queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self._open_until: datetime | None = None
        self._held = HeldOrders(
            self._session, self._send_held, clock=self._caller.clock, sleep=sleep
        )
        self.resyncs = 0

    def __repr__(self) -> str:
        """Show the account kind and the endpoint, never the keys."""
        kind = "paper" if self.config.paper else "live"
        return f"AlpacaBroker({kind}, url={self.config.trading_url!r})"

    @property
    def name(self) -> str:
        """``alpaca-paper`` or ``alpaca-live``."""
        return "alpaca-paper" if self.config.paper else "alpaca-live"

    @property
    def rate_limited(self) -> int:
        """How many answers were HTTP 429 (each waited, then retried)."""
        return self._caller.rate_limited

    @property
    def waits(self) -> list[float]:
        """The waits before REST retries, in seconds (at least each ``Retry-After``)."""
        return self._caller.waits

    @property
    def reconnects(self) -> int:
        """How many times the ``trade_updates`` stream was lost and reopened."""
        return self._stream.reconnects

    async def connect(self) -> None:
        """Check the keys with an account query; open the stream and wait for its first sync."""
        await self.account()
        if self._listener is None:
            self._listener = asyncio.create_task(self._stream.run(), name="alpaca-trade-updates")
            self._listener.add_done_callback(self._stream_ended)
        connected = asyncio.ensure_future(self._stream.connected.wait())
        done, _ = await asyncio.wait(
            {connected, self._listener},
            timeout=self.config.timeout_seconds * 3,
            return_when=asyncio.FIRST_COMPLETED,
        )
        connected.cancel()
        if self._listener in done:
            self._listener.result()
        if not done:
            raise BrokerUnavailableError(
                f"Alpaca trade_updates stream {self.config.trade_stream_url} did not open"
            )

    def _stream_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._failure = task.exception()
            self._queue.put_nowait(None)

    @property
    def opening(self) -> asyncio.Task[None] | None:
        """The task that sends the held orders at the open (``None`` before any was held)."""
        return self._held.task

    def held_locally(self, venue_order_id: VenueOrderId) -> bool:
        """Whether ``venue_order_id`` is a held order's: accepted by a broker, maybe never sent."""
        return is_held_id(venue_order_id)

    def keep_held_id(self, order_id: ClientOrderId) -> None:
        """Report ``order_id`` (held before a restart) under its ``held-`` id from now on."""
        self._held.remember(order_id)

    async def close(self) -> None:
        """Stop the stream and the held orders' task (they stay unsent); safe to call twice."""
        await self._held.close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        self._queue.put_nowait(None)

    async def describe_account(self) -> str:
        """Return which account this is, its number masked (``live account ****6789``)."""
        account = await self._caller.call("account", self.client.get_account)
        number = str(account.get("account_number") or "")
        kind = "paper" if self.config.paper else "live"
        return f"{kind} account ****{number[-4:]}" if number else f"{kind} account"

    async def market_is_open(self) -> bool:
        """Return whether Alpaca's clock says the regular session is open now."""
        return (await self._session())[0]

    async def _session(self) -> tuple[bool, float]:
        """Return whether the session is open and the seconds until it next opens or closes.

        Alpaca's clock is asked once per open session: while it is open, it is known to stay
        open until the clock's ``next_close`` (so a market order costs no extra request).
        """
        now = self._caller.clock.now()
        if self._open_until is not None and now < self._open_until:
            return True, (self._open_until - now).total_seconds()
        clock = await self._query("clock", self.client.get_clock)
        try:
            is_open, change = session_from_clock(clock)
        except MalformedMessageError as error:
            raise BrokerUnavailableError(f"Alpaca clock unreadable: {error}") from None
        self._open_until = now + change if is_open else None
        return is_open, change.total_seconds()

    async def _send_held(self, order_id: ClientOrderId, held: Held) -> None:
        """Post one held order; a refusal is reported as Alpaca's rejection would be."""
        try:
            await self._post(order_id, held.body)
        except OrderRejectedError as error:
            self._emit(Rejected(order_id, self._caller.clock.now(), str(error.reason)))
        except SubmitOutcomeUnknownError:
            self._working.add(order_id)  # the next resync asks Alpaca by client order id

    # ------------------------------------------------------------------ orders

    async def submit(
        self,
        order_id: ClientOrderId,
        request: OrderRequest,
        options: AlpacaOrderOptions | None = None,
    ) -> VenueOrderId:
        """Send ``request`` as ``order_id``; return Alpaca's order id.

        A market order while the regular session is closed is held until the open; with
        ``extended_hours`` it is refused, as Alpaca then takes only day limit orders.
        """
        chosen = options or AlpacaOrderOptions(extended_hours=self._extended(request))
        chosen, opens_in = await self._in_session(request, chosen)
        body = order_body(order_id, request, chosen)
        if opens_in is not None:
            return self._held.hold(order_id, request, body, opens_in)
        return await self._post(order_id, body)

    async def _in_session(
        self, request: OrderRequest, chosen: AlpacaOrderOptions
    ) -> tuple[AlpacaOrderOptions, float | None]:
        """Apply market hours to ``request``: its options, and the seconds to wait if held.

        A market order while the regular session is closed is held for the open; with
        ``extended_hours`` it is marked so instead, and ``order_body`` refuses it (the one rule
        of what Alpaca takes in extended hours). Other orders go at once.
        """
        if request.order_type is not OrderType.MARKET or chosen.extended_hours:
            return chosen, None
        is_open, opens_in = await self._session()
        if is_open:
            return chosen, None
        if self.config.extended_hours:
            return dataclasses.replace(chosen, extended_hours=True), None
        return chosen, opens_in

    def _extended(self, request: OrderRequest) -> bool:
        return (
            self.config.extended_hours
            and request.order_type is OrderType.LIMIT
            and request.time_in_force is TimeInForce.DAY
        )

    async def submit_group(
        self,
        order_id: ClientOrderId,
        group: Bracket | OneCancelsOther,
        options: AlpacaOrderOptions | None = None,
    ) -> VenueOrderId:
        """Send a bracket or an OCO pair as one Alpaca advanced order numbered ``order_id``.

        A bracket with a market entry keeps market hours as :meth:`submit` does.
        """
        opens_in = None
        if isinstance(group, Bracket):
            chosen = options or AlpacaOrderOptions()
            options, opens_in = await self._in_session(group.entry, chosen)
        body = group_body(order_id, group, options)
        if isinstance(group, Bracket) and opens_in is not None:
            return self._held.hold(order_id, group.entry, body, opens_in)
        return await self._post(order_id, body)

    async def _post(self, order_id: ClientOrderId, body: dict[str, Any]) -> VenueOrderId:
        try:
            request_class = _SDK_REQUESTS[body["type"]]
            sdk_request = getattr(sdk("trading.requests"), request_class)(**body)
        except ValueError as error:
            reason = AlpacaRefusal.INVALID
            message = str(error).splitlines()[0][:200]
            raise OrderRejectedError(f"order {order_id} not sent: {message}", reason) from None
        try:
            order = await self._caller.call(
                f"submit of order {order_id}", self.client.submit_order, sdk_request, create=True
            )
        except BrokerUnavailableError as error:
            raise SubmitOutcomeUnknownError(str(error)) from None
        except AlpacaHttpError as error:
            if "client_order_id" in error.body.lower() and "unique" in error.body.lower():
                return await self._existing(order_id)
            if error.status in (403, 422):
                reason = refusal_of(error.status, error.body)
                raise OrderRejectedError(
                    f"Alpaca rejected order {order_id} ({reason}): {error.body}", reason
                ) from None
            raise OrderRejectedError(
                f"Alpaca rejected order {order_id}: {error}", AlpacaRefusal.INVALID
            ) from None
        venue = self._read_order(order)
        if venue.status is OrderStatus.REJECTED:
            raise OrderRejectedError(f"Alpaca rejected order {order_id}", AlpacaRefusal.INVALID)
        if not venue.status.is_terminal:
            self._working.add(order_id)
        return venue.venue_order_id

    async def _existing(self, order_id: ClientOrderId) -> VenueOrderId:
        venue = await self.query_order(order_id)
        if venue is None:
            raise SubmitOutcomeUnknownError(f"duplicate order {order_id} not found at Alpaca")
        return venue.venue_order_id

    async def replace(
        self,
        order_id: ClientOrderId,
        new_order_id: ClientOrderId,
        *,
        quantity: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> VenueOrderId:
        """Replace working ``order_id`` by ``new_order_id`` with a new quantity or prices.

        Alpaca ends the old order (a ``replaced`` update, booked as cancelled with reason
        ``replaced``) and works the new one under ``new_order_id``.
        """
        venue_id = await self._venue_id(order_id)
        change = sdk("trading.requests").ReplaceOrderRequest(
            qty=quantity,
            limit_price=limit_price,
            stop_price=stop_price,
            client_order_id=str(new_order_id),
        )
        try:
            order = await self._caller.call(
                f"replace of {order_id}", self.client.replace_order_by_id, str(venue_id), change
            )
        except AlpacaHttpError as error:
            raise OrderRejectedError(
                f"Alpaca refused to replace {order_id}: {error.body}",
                refusal_of(error.status, error.body),
            ) from None
        venue = self._read_order(order)
        self._working.add(new_order_id)
        return venue.venue_order_id

    async def cancel(self, order_id: ClientOrderId) -> None:
        """Cancel ``order_id``; raise :class:`OrderRejectedError` when it cannot be cancelled.

        A held order is dropped from the queue and its ``Cancelled`` update queued at once.
        """
        if self._held.drop(order_id):
            self._emit(Cancelled(order_id, self._caller.clock.now(), "cancelled before the open"))
            return
        venue_id = await self._venue_id(order_id)
        try:
            await self._caller.call(
                f"cancel of {order_id}", self.client.cancel_order_by_id, str(venue_id)
            )
        except AlpacaHttpError as error:
            raise OrderRejectedError(
                f"Alpaca refused to cancel {order_id}: {error.body}", error.body or "refused"
            ) from None

    async def _venue_id(self, order_id: ClientOrderId) -> VenueOrderId:
        venue_id = self._venue_id_of.get(order_id)
        if venue_id is not None:
            return venue_id
        found = await self.query_order(order_id)
        if found is None:
            raise OrderRejectedError(f"order {order_id} is unknown at Alpaca", "unknown order")
        return self._venue_id_of.get(order_id, found.venue_order_id)  # Alpaca's, not held-

    async def query_order(self, order_id: ClientOrderId) -> VenueOrder | None:
        """Return Alpaca's record of ``order_id`` (looked up by client order id), or ``None``.

        A held order is answered from the queue: working (``PENDING``), nothing filled.
        """
        held = self._held.query(order_id)
        if held is not None:
            return held
        try:
            order = await self._caller.call(
                f"query of {order_id}", self.client.get_order_by_client_id, str(order_id)
            )
        except AlpacaHttpError as error:
            if error.status == 404:
                return None
            raise BrokerError(f"query of {order_id}: {error}") from None
        return self._read_order(order)

    async def open_orders(self) -> list[VenueOrder]:
        """Return every order working at Alpaca (advanced orders' legs included)."""
        query = sdk("trading.requests").GetOrdersRequest(status="open", limit=500, nested=True)
        orders = await self._query("open orders", self.client.get_orders, query)
        flat: list[Mapping[str, Any]] = []
        for order in orders:
            flat.append(order)
            flat.extend(leg for leg in order.get("legs") or () if leg.get("status") != "held")
        found = [self._read_order(order) for order in flat]
        return sorted(found, key=lambda order: (order.updated_at, order.order_id))

    def _read_order(self, order: Mapping[str, Any]) -> VenueOrder:
        try:
            venue = venue_order_from_alpaca(order)
        except MalformedMessageError as error:
            raise BrokerUnavailableError(f"Alpaca order unreadable: {error}") from None
        self._venue_id_of[venue.order_id] = venue.venue_order_id
        self._client_of[str(venue.venue_order_id)] = venue.order_id
        return self._held.accepted_as(venue)

    async def _query(self, what: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return await self._caller.call(what, function, *args)
        except AlpacaHttpError as error:
            raise BrokerUnavailableError(f"Alpaca {what} failed: {error}") from None

    # ------------------------------------------------------------------ fills and account

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Return the account's fills since ``since`` (``FILL`` activities), oldest first."""
        found: list[Fill] = []
        for activity in await self._activities(since):
            try:
                order_id = await self._order_of(str(activity["order_id"]))
                found.append(self._held.fill_as(fill_from_activity(activity, order_id)))
            except (KeyError, MalformedMessageError) as error:
                _log.warning("skipped an unreadable Alpaca fill activity: %s", error)
        return sorted(found, key=lambda fill: (fill.ts, fill.trade_id))

    async def _activities(self, since: datetime | None) -> list[Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        token: str | None = None
        while True:
            params: dict[str, Any] = {"direction": "asc", "page_size": _PAGE}
            if since is not None:
                params["after"] = since.isoformat()
            if token is not None:
                params["page_token"] = token
            page = await self._query(
                "fill activities", self.client.get, "/account/activities/FILL", params
            )
            rows = [row for row in page or [] if row.get("activity_type", "FILL") == "FILL"]
            fresh = [row for row in rows if str(row.get("id")) not in found]
            found.update((str(row.get("id")), row) for row in fresh)
            if len(page or []) < _PAGE or not fresh:
                return list(found.values())
            token = str(rows[-1].get("id"))

    async def _order_of(self, venue_id: str) -> ClientOrderId:
        known = self._client_of.get(venue_id)
        if known is not None:
            return known
        order = await self._query("order lookup", self.client.get_order_by_id, venue_id)
        return self._read_order(order).order_id

    async def account(self) -> AccountSnapshot:
        """Return cash and signed positions as Alpaca holds them."""
        account = await self._query("account", self.client.get_account)
        positions = await self._query("positions", self.client.get_all_positions)
        try:
            return account_from_alpaca(account, positions or [], self._caller.clock.now())
        except MalformedMessageError as error:
            raise BrokerUnavailableError(f"Alpaca account unreadable: {error}") from None

    # ------------------------------------------------------------------ updates

    async def updates(self) -> AsyncIterator[OrderEvent]:
        """Yield the stream's order events until :meth:`close`; raise if the stream failed."""
        while True:
            event = await self._queue.get()
            if event is None:
                if self._failure is not None:
                    raise self._failure
                return
            yield event

    def _on_update(self, data: Mapping[str, Any]) -> None:
        order = data.get("order")
        if isinstance(order, Mapping) and order.get("id") and order.get("client_order_id"):
            with contextlib.suppress(MalformedMessageError, BrokerUnavailableError):
                self._read_order(order)
        try:
            events = events_from_trade_update(data)
        except MalformedMessageError as error:
            _log.warning("skipped an unreadable Alpaca trade update: %s", error)
            return
        for event in events:
            self._emit(
                FillEvent(self._held.fill_as(event.fill)) if isinstance(event, FillEvent) else event
            )

    def _emit(self, event: OrderEvent) -> None:
        if isinstance(event, FillEvent):
            fill = event.fill
            if fill.trade_id in self._seen:
                return
            self._seen.add(fill.trade_id)
            if self._last_fill is None or fill.ts > self._last_fill:
                self._last_fill = fill.ts
        elif isinstance(event, Cancelled | Expired | Rejected):
            self._working.discard(event.order_id)
        self._queue.put_nowait(event)

    async def _resync(self) -> None:
        """Queue the fills and order ends the stream may have missed while it was down."""
        self.resyncs += 1
        since = None if self._last_fill is None else self._last_fill - _RESYNC_OVERLAP
        for fill in await self.fills(since):
            self._emit(FillEvent(fill))
        if not self._working:
            return
        still = {order.order_id for order in await self.open_orders()}
        for order_id in sorted(self._working - still):
            venue = await self.query_order(order_id)
            if venue is None or not venue.status.is_terminal:
                continue
            self._working.discard(order_id)
            if venue.status is OrderStatus.CANCELLED:
                self._emit(Cancelled(order_id, venue.updated_at))
            elif venue.status is OrderStatus.EXPIRED:
                self._emit(Expired(order_id, venue.updated_at))
            elif venue.status is OrderStatus.REJECTED:
                self._emit(Rejected(order_id, venue.updated_at, "rejected by Alpaca"))
