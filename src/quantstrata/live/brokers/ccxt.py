"""Any ccxt exchange as a live :class:`~quantstrata.live.broker.Broker`: :class:`CcxtBroker`.

The broker drives ccxt's async exchange (``ccxt.pro``, which holds the REST methods too) and
maps its answers and errors onto quantstrata's order model:

- ``submit`` sends ``create_order`` with our client order id (``newClientOrderId`` on
  Binance, ``clientOrderId`` elsewhere). A rate limit waits (honouring ``Retry-After``) and
  resends the same id; ``InsufficientFunds``/``InvalidOrder`` and other refusals are
  :class:`~quantstrata.live.broker.OrderRejectedError`; a timeout or network error is
  :class:`~quantstrata.live.broker.SubmitOutcomeUnknownError`: the order manager then asks
  :meth:`CcxtBroker.query_order`, which looks the order up *by client id*
  (``origClientOrderId`` on Binance), so an order the venue accepted is found, never resent.
  A resent id the venue already holds ("Duplicate order") returns that order's venue id.
- refused keys are fatal (:class:`~quantstrata.live._ccxt.CcxtAuthenticationError`).
- ``account`` reads balances: cash is the quote currency's total, a spot position is the
  total of the symbol's base asset.
- ``fills`` reads ``fetch_my_trades`` per symbol and maps each trade to its order's client id
  (trades carry only the venue order id; unknown ones are looked up once with ``fetch_order``).
- ``updates`` polls every ``poll_seconds``: new fills, and the end (cancelled, expired,
  rejected) of orders that left the open-order list.

Only market and limit orders (GTC or IOC) are sent; other requests are refused before
anything reaches the venue. Quantities must already fit the market's lot size (the broker
refuses one ccxt would round, since a rounded order could never fill completely); limit prices
are rounded to the tick by ccxt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from quantstrata.core._extras import require
from quantstrata.core.clock import Clock
from quantstrata.core.secrets import Secret
from quantstrata.live._ccxt import CcxtCaller, CcxtConfig, CcxtCredentials, open_exchange
from quantstrata.live.broker import (
    AccountSnapshot,
    BrokerError,
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
    VenueOrder,
    queued_events,
)
from quantstrata.live.brokers._ccxt_mapping import (
    account_from_balance,
    client_order_id,
    create_arguments,
    fill_from_trade,
    venue_order_from_ccxt,
)
from quantstrata.live.brokers._venue_messages import MalformedMessageError
from quantstrata.model.identifiers import ClientOrderId, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Cancelled,
    Expired,
    Fill,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    Rejected,
)

__all__ = ["CcxtBroker"]

_CREATE_ID_PARAMETER = {"binance": "newClientOrderId"}
_QUERY_ID_PARAMETER = {"binance": "origClientOrderId"}
_TRADES_PAGE = 1000
_log = logging.getLogger("quantstrata.live.ccxt")


class CcxtBroker:
    """A :class:`~quantstrata.live.broker.Broker` on a ccxt exchange's spot account."""

    def __init__(
        self,
        config: CcxtConfig,
        *,
        api_key: Secret,
        secret: Secret,
        password: Secret | None = None,
        exchange: Any = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Clock | None = None,
    ) -> None:
        """Build the exchange (or take ``exchange``); nothing connects until :meth:`connect`."""
        self.config = config
        self._credentials = CcxtCredentials(api_key, secret, password)
        self.exchange = (
            exchange if exchange is not None else open_exchange(config, self._credentials)
        )
        self._caller = CcxtCaller(
            self.exchange, config, self._credentials, sleep=sleep, clock=clock
        )
        self._create_param = _CREATE_ID_PARAMETER.get(config.exchange, "clientOrderId")
        self._query_param = _QUERY_ID_PARAMETER.get(config.exchange, "clientOrderId")
        self._symbol_of: dict[ClientOrderId, str] = {}
        self._venue_id_of: dict[ClientOrderId, VenueOrderId] = {}
        self._client_of: dict[str, ClientOrderId] = {}
        self._working: set[ClientOrderId] = set()
        self._seen: set[TradeId] = set()
        self._last_fill: datetime | None = None
        self._queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()
        self._poller: asyncio.Task[None] | None = None
        self._closed = False

    def __repr__(self) -> str:
        """Show the exchange and symbols, never the keys."""
        return f"CcxtBroker(exchange={self.config.exchange!r}, symbols={self.config.symbols!r})"

    @property
    def name(self) -> str:
        """The ccxt exchange id (``binance``)."""
        return self.config.exchange

    @property
    def rate_limited(self) -> int:
        """How many answers were rate limits (each waited, then retried)."""
        return self._caller.rate_limited

    @property
    def waits(self) -> list[float]:
        """The waits before retries, in seconds (at least each ``Retry-After``)."""
        return self._caller.waits

    async def connect(self) -> None:
        """Load the markets and check the keys with a balance query; start polling."""
        await self._caller.call("load_markets")
        await self.account()
        if self.config.poll_seconds > 0 and self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="ccxt-broker-poll")

    async def close(self) -> None:
        """Stop polling and close ccxt's HTTP session; safe to call twice."""
        self._closed = True
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await self.exchange.close()

    # ------------------------------------------------------------------ orders

    async def submit(self, order_id: ClientOrderId, request: OrderRequest) -> VenueOrderId:
        """Send ``request`` as ``order_id``; return the venue's order id."""
        ccxt = require("ccxt", "the ccxt broker")

        arguments = create_arguments(order_id, request, self._create_param)
        self._check_amount(order_id, arguments.symbol, arguments.amount)
        self._symbol_of[order_id] = arguments.symbol
        try:
            order = await self._caller.call(
                "create_order",
                arguments.symbol,
                arguments.type,
                arguments.side,
                arguments.amount,
                arguments.price,
                arguments.params,
                retry_network=False,
            )
        except ccxt.NetworkError as error:
            message = self._caller.redact(f"submit of order {order_id} got no answer: {error}")
            raise SubmitOutcomeUnknownError(message) from None
        except BrokerUnavailableError as error:
            raise SubmitOutcomeUnknownError(str(error)) from None
        except ccxt.ExchangeError as error:
            if "duplicate" in str(error).lower():
                return await self._existing(order_id)
            reason = self._caller.redact(f"{type(error).__name__}: {error}")
            raise OrderRejectedError(
                f"{self.name} rejected order {order_id}: {reason}", reason
            ) from None
        venue_id = VenueOrderId(str(order["id"]))
        self._remember(order_id, arguments.symbol, venue_id)
        if order.get("status") == "rejected":
            raise OrderRejectedError(f"{self.name} rejected order {order_id}", "rejected")
        if order.get("status") == "open":
            self._working.add(order_id)
        return venue_id

    def _check_amount(self, order_id: ClientOrderId, symbol: str, amount: float) -> None:
        if symbol not in self.config.symbols:
            reason = f"symbol {symbol} is not in the broker's symbols {self.config.symbols}"
            raise OrderRejectedError(f"order {order_id} not sent: {reason}", reason)
        try:
            fitted = float(self.exchange.amount_to_precision(symbol, amount))
        except Exception as error:  # noqa: BLE001 - ccxt raises several types for this
            reason = self._caller.redact(f"quantity {amount} refused by the market: {error}")
            raise OrderRejectedError(f"order {order_id} not sent: {reason}", reason) from None
        if abs(fitted - amount) > 1e-9 * max(1.0, abs(amount)):
            reason = f"quantity {amount} is not a multiple of the lot size of {symbol} ({fitted})"
            raise OrderRejectedError(f"order {order_id} not sent: {reason}", reason)

    async def _existing(self, order_id: ClientOrderId) -> VenueOrderId:
        venue = await self.query_order(order_id)
        if venue is None:
            raise SubmitOutcomeUnknownError(f"duplicate order {order_id} not found at the venue")
        return venue.venue_order_id

    def _remember(self, order_id: ClientOrderId, symbol: str, venue_id: VenueOrderId) -> None:
        self._symbol_of[order_id] = symbol
        self._venue_id_of[order_id] = venue_id
        self._client_of[f"{symbol}|{venue_id}"] = order_id

    async def cancel(self, order_id: ClientOrderId) -> None:
        """Cancel ``order_id``; raise :class:`OrderRejectedError` when it cannot be cancelled."""
        ccxt = require("ccxt", "the ccxt broker")

        symbol = self._symbol_of.get(order_id)
        if symbol is None:
            found = await self.query_order(order_id)
            if found is None:
                raise OrderRejectedError(
                    f"order {order_id} is unknown at {self.name}", "unknown order"
                )
            symbol = str(found.symbol)
        venue_id = self._venue_id_of.get(order_id)
        try:
            await self._caller.call(
                "cancel_order",
                None if venue_id is None else str(venue_id),
                symbol,
                {} if venue_id is not None else {self._query_param: str(order_id)},
            )
        except ccxt.ExchangeError as error:
            reason = self._caller.redact(f"{type(error).__name__}: {error}")
            raise OrderRejectedError(
                f"{self.name} refused to cancel {order_id}: {reason}", reason
            ) from None

    async def query_order(self, order_id: ClientOrderId) -> VenueOrder | None:
        """Return the venue's record of ``order_id`` (looked up by client id), or ``None``."""
        ccxt = require("ccxt", "the ccxt broker")

        known = self._symbol_of.get(order_id)
        symbols = [known] if known is not None else list(self.config.symbols)
        for symbol in symbols:
            try:
                order = await self._caller.call(
                    "fetch_order", str(order_id), symbol, {self._query_param: str(order_id)}
                )
            except ccxt.OrderNotFound:
                continue
            except ccxt.ExchangeError as error:
                raise BrokerError(self._caller.redact(f"query of {order_id}: {error}")) from None
            return self._read_order(order)
        return None

    async def open_orders(self) -> list[VenueOrder]:
        """Return every order working at the venue on the broker's symbols."""
        found: list[VenueOrder] = []
        for symbol in self.config.symbols:
            orders = await self._query("fetch_open_orders", symbol)
            found.extend(self._read_order(order) for order in orders)
        return sorted(found, key=lambda order: (order.updated_at, order.order_id))

    def _read_order(self, order: dict[str, Any]) -> VenueOrder:
        venue = venue_order_from_ccxt(order)
        self._remember(venue.order_id, str(venue.symbol), venue.venue_order_id)
        return venue

    async def _query(self, method: str, *args: Any) -> Any:
        ccxt = require("ccxt", "the ccxt broker")

        try:
            return await self._caller.call(method, *args)
        except ccxt.ExchangeError as error:
            message = self._caller.redact(f"{self.name} {method} failed: {error}")
            raise BrokerUnavailableError(message) from None

    # ------------------------------------------------------------------ fills and account

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Return the account's fills on the broker's symbols since ``since``, oldest first."""
        found: list[Fill] = []
        start = None if since is None else int(since.timestamp() * 1000)
        for symbol in self.config.symbols:
            for trade in await self._trades(symbol, start):
                order_id = await self._order_of_trade(symbol, trade)
                try:
                    found.append(fill_from_trade(trade, order_id, self.config.cash_currency))
                except MalformedMessageError as error:
                    _log.warning("skipped an unreadable %s trade: %s", self.name, error)
        return sorted(found, key=lambda fill: (fill.ts, fill.trade_id))

    async def _trades(self, symbol: str, start: int | None) -> list[dict[str, Any]]:
        trades: dict[str, dict[str, Any]] = {}
        cursor = start
        while True:
            page = await self._query("fetch_my_trades", symbol, cursor, _TRADES_PAGE)
            fresh = [trade for trade in page if str(trade["id"]) not in trades]
            trades.update((str(trade["id"]), trade) for trade in fresh)
            if len(page) < _TRADES_PAGE or not fresh:
                return list(trades.values())
            cursor = max(int(trade["timestamp"]) for trade in page)

    async def _order_of_trade(self, symbol: str, trade: dict[str, Any]) -> ClientOrderId:
        key = f"{symbol}|{trade.get('order')}"
        known = self._client_of.get(key)
        if known is not None:
            return known
        order = await self._query("fetch_order", str(trade.get("order")), symbol)
        order_id = client_order_id(order)
        self._client_of[key] = order_id
        self._symbol_of.setdefault(order_id, symbol)
        return order_id

    async def account(self) -> AccountSnapshot:
        """Return cash (quote currency) and spot positions (base asset balances)."""
        balance = await self._query("fetch_balance")
        try:
            return account_from_balance(
                balance, self.config.symbols, self.config.cash_currency, self._caller.clock.now()
            )
        except MalformedMessageError as error:
            raise BrokerUnavailableError(f"{self.name} balance unreadable: {error}") from None

    # ------------------------------------------------------------------ updates

    def updates(self) -> AsyncIterator[OrderEvent]:
        """Yield polled order events (fills, cancellations) until :meth:`close`."""
        return queued_events(self._queue)

    async def _poll(self) -> None:
        while not self._closed:
            try:
                await self.poll_once()
            except BrokerError as error:
                _log.warning("%s poll failed: %s", self.name, error)
            await asyncio.sleep(self.config.poll_seconds)

    async def poll_once(self) -> None:
        """Queue the fills not seen yet and the ends of orders that stopped working."""
        for fill in await self.fills(self._last_fill):
            if fill.trade_id in self._seen:
                continue
            self._seen.add(fill.trade_id)
            if self._last_fill is None or fill.ts > self._last_fill:
                self._last_fill = fill.ts
            self._queue.put_nowait(FillEvent(fill))
        if not self._working:
            return
        still = {order.order_id for order in await self.open_orders()}
        for order_id in sorted(self._working - still):
            venue = await self.query_order(order_id)
            if venue is None or not venue.status.is_terminal:
                continue
            self._working.discard(order_id)
            now = venue.updated_at
            if venue.status is OrderStatus.CANCELLED:
                self._queue.put_nowait(Cancelled(order_id, now))
            elif venue.status is OrderStatus.EXPIRED:
                self._queue.put_nowait(Expired(order_id, now))
            elif venue.status is OrderStatus.REJECTED:
                self._queue.put_nowait(Rejected(order_id, now, "rejected by the venue"))
