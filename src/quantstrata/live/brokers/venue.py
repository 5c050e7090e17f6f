"""The client of the local simulated venue's orders and account: :class:`VenueBroker`.

It maps transport failures to the broker errors of :mod:`quantstrata.live.broker`:
a submit that times out or loses its connection after sending is
:class:`~quantstrata.live.broker.SubmitOutcomeUnknownError`; a venue that cannot be reached is
:class:`~quantstrata.live.broker.BrokerUnavailableError`; a refused order or cancel is
:class:`~quantstrata.live.broker.OrderRejectedError`. Its stream reconnects with backoff and,
after each reconnect, asks for the fills since the last one it saw, so no execution is lost.
The transport (:mod:`quantstrata.live.brokers._venue_client`) is shared with
:class:`~quantstrata.live.feeds.venue.VenueFeed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime

import httpx

from quantstrata.core.secrets import Secret
from quantstrata.live.broker import (
    AccountSnapshot,
    BrokerError,
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
    VenueOrder,
    queued_events,
)
from quantstrata.live.brokers._venue_client import (
    API_KEY_HEADER,
    CONNECTION_LOST,
    VenueClient,
    error_detail,
)
from quantstrata.live.brokers._venue_messages import (
    MalformedMessageError,
    account_from_json,
    event_from_message,
    venue_order_from_json,
)
from quantstrata.model.codec import fill_from_json, iso, request_to_json
from quantstrata.model.identifiers import ClientOrderId, TradeId, VenueOrderId
from quantstrata.model.orders import Fill, FillEvent, OrderEvent, OrderRequest

__all__ = ["API_KEY_HEADER", "VenueBroker"]


class VenueBroker(VenueClient):
    """A :class:`~quantstrata.live.broker.Broker` trading on the simulated venue at ``url``.

    ``timeout`` bounds every HTTP call (seconds); ``submit_timeout`` the submit alone (default:
    ``timeout``). ``reconnect_max`` caps the stream's reconnect backoff.
    """

    def __init__(
        self,
        url: str,
        key: Secret,
        *,
        timeout: float = 5.0,
        submit_timeout: float | None = None,
        reconnect_max: float = 2.0,
        name: str = "sim",
    ) -> None:
        """Keep the settings; nothing connects until :meth:`connect`."""
        super().__init__(url, key, timeout=timeout, reconnect_max=reconnect_max)
        self._name = name
        self.submit_timeout = timeout if submit_timeout is None else submit_timeout
        self._queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()
        self._seen: set[TradeId] = set()
        self._last_fill: datetime | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def name(self) -> str:
        """The broker's short name (``sim``)."""
        return self._name

    async def connect(self) -> None:
        """Check the venue answers with this key, then open the order-update stream."""
        await self._get_json("/v1/status")
        if self._stream_task is None:
            self._stream_task = asyncio.create_task(self._stream(), name="venue-broker-stream")
        try:
            await asyncio.wait_for(self._subscribed.wait(), self.timeout)
        except TimeoutError:
            raise BrokerUnavailableError(f"venue stream {self.stream_url} did not open") from None

    async def close(self) -> None:
        """Stop the stream and close the HTTP client; safe to call twice."""
        await self._close_stream()
        task = self._stream_task
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), self.timeout)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._stream_task = None
        self._queue.put_nowait(None)
        await self._close_http()

    async def submit(self, order_id: ClientOrderId, request: OrderRequest) -> VenueOrderId:
        """Send a new order; return its venue id (the existing one for a known client id)."""
        body = {"client_order_id": str(order_id), **request_to_json(request)}
        try:
            response = await self._client().post(
                "/v1/orders", json=body, timeout=self.submit_timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise BrokerUnavailableError(
                self._redact(f"venue {self.url} unreachable, order {order_id} not sent: {error!r}")
            ) from None
        except httpx.HTTPError as error:
            raise SubmitOutcomeUnknownError(
                self._redact(f"submit of order {order_id} got no answer: {error!r}")
            ) from None
        return self._submitted(order_id, response)

    def _submitted(self, order_id: ClientOrderId, response: httpx.Response) -> VenueOrderId:
        code = response.status_code
        if code >= httpx.codes.INTERNAL_SERVER_ERROR:
            raise SubmitOutcomeUnknownError(f"submit of order {order_id}: venue HTTP {code}")
        if code == httpx.codes.UNAUTHORIZED:
            raise BrokerError(f"venue {self.url} refused the API key (HTTP 401)")
        if code not in (httpx.codes.OK, httpx.codes.CREATED):
            detail = error_detail(response)
            raise OrderRejectedError(f"venue refused order {order_id}: {detail}", detail)
        values = response.json()
        if values.get("status") == "rejected":
            reason = str(values.get("reason") or "rejected by the venue")
            raise OrderRejectedError(f"venue rejected order {order_id}: {reason}", reason)
        return VenueOrderId(values["venue_order_id"])

    async def cancel(self, order_id: ClientOrderId) -> None:
        """Cancel ``order_id``; raise :class:`OrderRejectedError` when nothing can be cancelled."""
        response = await self._request("DELETE", f"/v1/orders/{order_id}")
        if response.status_code != httpx.codes.OK:
            detail = error_detail(response)
            raise OrderRejectedError(f"venue refused to cancel {order_id}: {detail}", detail)

    async def link(
        self, first: ClientOrderId, second: ClientOrderId, *, bracket: bool = False
    ) -> bool:
        """Link two working orders at the venue (its exchange's rules for pairs and brackets)."""
        body = {"first": str(first), "second": str(second), "bracket": bracket}
        response = await self._request("POST", "/v1/orders/link", body=body)
        if response.status_code != httpx.codes.OK:
            raise BrokerError(f"venue link of {first} and {second}: HTTP {response.status_code}")
        return bool(response.json()["linked"])

    async def query_order(self, order_id: ClientOrderId) -> VenueOrder | None:
        """Return the venue's record of ``order_id``, or ``None`` when it never received it."""
        response = await self._request("GET", f"/v1/orders/{order_id}")
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code != httpx.codes.OK:
            raise BrokerError(f"venue query of {order_id}: HTTP {response.status_code}")
        return venue_order_from_json(response.json())

    async def open_orders(self) -> list[VenueOrder]:
        """Return every order still working at the venue, oldest first."""
        rows = await self._get_json("/v1/orders", {"status": "open"})
        return [venue_order_from_json(row) for row in rows]

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Return the account's fills with ``ts >= since`` (all when ``None``), oldest first."""
        params = None if since is None else {"since": iso(since)}
        rows = await self._get_json("/v1/fills", params)
        return [fill_from_json(row) for row in rows]

    async def account(self) -> AccountSnapshot:
        """Return cash and positions as the venue holds them."""
        return account_from_json(await self._get_json("/v1/account"))

    def updates(self) -> AsyncIterator[OrderEvent]:
        """Yield the venue's order events until :meth:`close`."""
        return queued_events(self._queue)

    # -- the stream ----------------------------------------------------------------------------

    async def _stream(self) -> None:
        backoff = self._backoff()
        first = True
        while not self.stopped():
            try:
                async with self._connect_stream() as socket:
                    self._socket = socket
                    if self.stopped():
                        return
                    await socket.send(json.dumps({"op": "subscribe", "channels": ["orders"]}))
                    if not first:
                        await self._catch_up()
                    first = False
                    self._subscribed.set()
                    backoff.connected_at(asyncio.get_running_loop().time())
                    async for raw in socket:
                        self._on_message(raw)
            except (*CONNECTION_LOST, BrokerError):
                pass
            finally:
                self._socket = None
            self._subscribed.clear()
            if self.stopped():
                return
            self.reconnects += 1
            await self._pause(backoff)

    async def _catch_up(self) -> None:
        for fill in await self.fills(self._last_fill):
            self._offer(FillEvent(fill))

    def _on_message(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.malformed_messages += 1
            return
        if message.get("type") != "order":
            return
        try:
            self._offer(event_from_message(message))
        except MalformedMessageError:
            self.malformed_messages += 1

    def _offer(self, event: OrderEvent) -> None:
        if isinstance(event, FillEvent):
            trade = event.fill.trade_id
            if trade in self._seen:
                return
            self._seen.add(trade)
            if self._last_fill is None or event.fill.ts > self._last_fill:
                self._last_fill = event.fill.ts
        self._queue.put_nowait(event)
