"""Clients of the local simulated venue: :class:`VenueBroker` and :class:`VenueFeed`.

Both speak the venue's documented JSON over HTTP (httpx) and WebSocket (websockets); they do
not import :mod:`quantstrata.venue`. The API key goes in the ``X-API-Key`` header of every
request and of the WebSocket handshake, never in a URL, and never in an error message.

``VenueBroker`` maps transport failures to the broker errors of :mod:`quantstrata.live.broker`:
a submit that times out or loses its connection after sending is
:class:`~quantstrata.live.broker.SubmitOutcomeUnknownError`; a venue that cannot be reached is
:class:`~quantstrata.live.broker.BrokerUnavailableError`; a refused order or cancel is
:class:`~quantstrata.live.broker.OrderRejectedError`. Its stream reconnects with backoff and,
after each reconnect, asks for the fills since the last one it saw, so no execution is lost.

``VenueFeed`` yields the replayed bars and, in lockstep mode, acknowledges each bar time when
the runtime calls :meth:`VenueFeed.ack` (the venue fills the next bar only after that).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl
import websockets
from websockets.asyncio.client import ClientConnection

from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret, redact
from quantstrata.data.sources.backoff import Backoff
from quantstrata.live.broker import (
    AccountSnapshot,
    BrokerError,
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
    VenueOrder,
)
from quantstrata.live.brokers._venue_messages import (
    MalformedMessageError,
    account_from_json,
    bars_from_message,
    event_from_message,
    venue_order_from_json,
)
from quantstrata.live.feed import LagListener
from quantstrata.model.bar import BAR_SCHEMA, Bar
from quantstrata.model.codec import fill_from_json, iso, request_to_json
from quantstrata.model.identifiers import ClientOrderId, TradeId, VenueOrderId
from quantstrata.model.interval import Interval
from quantstrata.model.orders import Fill, FillEvent, OrderEvent, OrderRequest

__all__ = ["API_KEY_HEADER", "VenueBroker", "VenueFeed"]

API_KEY_HEADER = "X-API-Key"
_CONNECTION_LOST = (OSError, TimeoutError, websockets.exceptions.WebSocketException)


class _VenueClient:
    """What both clients share: the HTTP client, the key, and the stream URL."""

    def __init__(self, url: str, key: Secret, *, timeout: float, reconnect_max: float) -> None:
        if not isinstance(key, Secret):
            raise ConfigError("the venue API key must be a quantstrata.core.secrets.Secret")
        base = url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError(f"the venue URL must start with http:// or https://, got {url!r}")
        self.url = base
        self.stream_url = "ws" + base.removeprefix("http") + "/v1/stream"
        self._key = key
        self.timeout = timeout
        self.reconnect_max = reconnect_max
        self.malformed_messages = 0
        self.reconnects = 0
        self._http: httpx.AsyncClient | None = None
        self._closed = False
        self._stopping = asyncio.Event()
        self._socket: ClientConnection | None = None

    def __repr__(self) -> str:
        """Show the venue URL, never the key."""
        return f"{type(self).__name__}(url={self.url!r})"

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.url,
                headers={API_KEY_HEADER: self._key.reveal()},
                timeout=self.timeout,
            )
        return self._http

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            response = await self._client().request(method, path, params=params, json=body)
        except httpx.HTTPError as error:
            message = self._redact(f"venue {self.url} unreachable: {error!r}")
            raise BrokerUnavailableError(message) from None
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise BrokerError(f"venue {self.url} refused the API key (HTTP 401)")
        if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            raise BrokerUnavailableError(f"venue {self.url} failed: HTTP {response.status_code}")
        return response

    async def _get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = await self._request("GET", path, params=params)
        if response.status_code != httpx.codes.OK:
            raise BrokerError(f"venue GET {path}: HTTP {response.status_code} {_detail(response)}")
        return response.json()

    def _connect_stream(self) -> Any:
        return websockets.connect(
            self.stream_url,
            additional_headers={API_KEY_HEADER: self._key.reveal()},
            open_timeout=self.timeout,
        )

    def stopped(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _backoff(self) -> Backoff:
        """Return the stream's reconnect schedule (the one every feed uses: jittered)."""
        return Backoff(base=0.05, cap=self.reconnect_max, uniform=random.uniform)

    async def _pause(self, backoff: Backoff) -> None:
        """Wait the backoff's delay before reconnecting, or less when :meth:`close` is called."""
        delay = backoff.failed(asyncio.get_running_loop().time()).seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _close_stream(self) -> None:
        self._closed = True
        self._stopping.set()
        socket = self._socket
        if socket is not None:
            with contextlib.suppress(*_CONNECTION_LOST):
                await socket.close()

    def _redact(self, text: str) -> str:
        return redact(text, [self._key])

    async def _close_http(self) -> None:
        await self._close_stream()
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        detail = response.text[:200]
    return str(detail)


class VenueBroker(_VenueClient):
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
            detail = _detail(response)
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
            detail = _detail(response)
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

    async def updates(self) -> AsyncIterator[OrderEvent]:
        """Yield the venue's order events until :meth:`close`."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

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
            except (*_CONNECTION_LOST, BrokerError):
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


class VenueFeed(_VenueClient):
    """A :class:`~quantstrata.live.feed.Feed` of the bars the simulated venue replays.

    In lockstep mode the venue waits for :meth:`ack` after each bar time; with ``auto_ack``
    the feed acknowledges a bar time itself when the consumer asks for the next bar.
    """

    def __init__(
        self,
        url: str,
        key: Secret,
        *,
        timeout: float = 5.0,
        reconnect_max: float = 2.0,
        auto_ack: bool = False,
        name: str = "sim-feed",
    ) -> None:
        """Keep the settings; the stream opens when :meth:`bars` is iterated."""
        super().__init__(url, key, timeout=timeout, reconnect_max=reconnect_max)
        self._name = name
        self.auto_ack = auto_ack
        self._acked: datetime | None = None
        self._last: datetime | None = None

    @property
    def name(self) -> str:
        """The feed's short name (``sim-feed``)."""
        return self._name

    async def history(
        self, symbols: Sequence[str], interval: Interval, end: datetime, bars: int
    ) -> pl.DataFrame:
        """Return up to ``bars`` replayed bars per symbol opening before ``end``."""
        await self._check_interval(interval)
        rows: list[dict[str, Any]] = []
        for symbol in symbols:
            params = {"symbol": symbol, "end": iso(end), "limit": bars}
            rows.extend(await self._get_json("/v1/klines", params))
        found = bars_from_message({"bars": rows})
        frame = pl.DataFrame([bar.as_row for bar in found], schema=BAR_SCHEMA, orient="row")
        return frame.sort("ts", "symbol")

    async def ack(self, ts: datetime) -> None:
        """Tell the venue every bar up to ``ts`` is handled (lockstep: it may fill the next)."""
        if self._acked is None or ts > self._acked:
            self._acked = ts
        socket = self._socket
        if socket is not None:
            with contextlib.suppress(*_CONNECTION_LOST):
                await socket.send(json.dumps({"op": "ack", "ts": iso(ts)}))

    @property
    def realtime(self) -> bool:
        """Return ``False``: the venue replays history, its bars are never late."""
        return False

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        """Yield replayed bars of ``symbols`` in time order, without duplicates, until the end.

        ``after``: start after that bar time; the bars the venue published since come first
        (over REST, as after a reconnect). ``on_lag`` is never called.
        """
        del on_lag
        if after is not None and (self._last is None or self._last < after):
            self._last = after
        async for snapshot in self.snapshots(symbols, interval):
            for bar in snapshot:
                yield bar

    async def snapshots(
        self, symbols: Sequence[str], interval: Interval
    ) -> AsyncIterator[list[Bar]]:
        """Yield the bars of ``symbols`` one bar time at a time (sorted by symbol).

        A bar time is complete when it is yielded, so a lockstep runtime can decide, submit
        and :meth:`ack` per bar time. Bar times without a bar of ``symbols`` are acknowledged
        by the feed itself (the runtime never sees them).
        """
        await self._check_interval(interval)
        wanted = set(symbols)
        backoff = self._backoff()
        while not self.stopped():
            try:
                async with self._connect_stream() as socket:
                    self._socket = socket
                    if self.stopped():
                        return
                    await socket.send(json.dumps({"op": "subscribe", "channels": ["bars"]}))
                    if self._acked is not None:
                        await self.ack(self._acked)
                    backoff.connected_at(asyncio.get_running_loop().time())
                    for group in await self._backfill():
                        async for snapshot in self._deliver(group, wanted):
                            yield snapshot
                    async for raw in socket:
                        message = self._read(raw)
                        if message.get("type") == "end":
                            return
                        async for snapshot in self._deliver(self._new_bars(message), wanted):
                            yield snapshot
            except (*_CONNECTION_LOST, BrokerError):
                pass
            finally:
                self._socket = None
            if self.stopped():
                return
            self.reconnects += 1
            await self._pause(backoff)

    async def _deliver(self, found: list[Bar], wanted: set[str]) -> AsyncIterator[list[Bar]]:
        if not found:
            return
        ts = found[0].ts
        chosen = sorted((bar for bar in found if bar.symbol in wanted), key=lambda b: b.symbol)
        if chosen:
            yield chosen
        if self.auto_ack or not chosen:
            await self.ack(ts)

    async def close(self) -> None:
        """Stop streaming and close the HTTP client; safe to call twice."""
        await self._close_http()

    async def _check_interval(self, interval: Interval) -> None:
        status = await self._get_json("/v1/status")
        if Interval.parse(status["interval"]) != Interval.parse(interval):
            raise ConfigError(
                f"the venue replays {status['interval']} bars, the feed was asked for {interval}"
            )

    async def _backfill(self) -> list[list[Bar]]:
        """After a reconnect, return the bar times published while the stream was down."""
        last = self._last
        if last is None:
            return []
        rows = await self._get_json("/v1/klines", {"start": iso(last)})
        missed = [bar for bar in bars_from_message({"bars": rows}) if bar.ts > last]
        groups: dict[datetime, list[Bar]] = {}
        for bar in missed:
            groups.setdefault(bar.ts, []).append(bar)
        if groups:
            self._last = max(groups)
        return [groups[ts] for ts in sorted(groups)]

    def _read(self, raw: str | bytes) -> dict[str, Any]:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.malformed_messages += 1
            return {}
        return message

    def _new_bars(self, message: dict[str, Any]) -> list[Bar]:
        """Return the bars of a ``bars`` message not delivered before (one bar time)."""
        if message.get("type") != "bars" or message.get("ts") is None:
            return []
        try:
            found = bars_from_message(message)
        except MalformedMessageError:
            self.malformed_messages += 1
            return []
        fresh = [bar for bar in found if self._last is None or bar.ts > self._last]
        if fresh:
            self._last = max(bar.ts for bar in fresh)
        return fresh
