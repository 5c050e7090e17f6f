"""An Interactive Brokers account (stocks) as a live :class:`~quantstrata.live.broker.Broker`.

:class:`IBBroker` talks to TWS or IB Gateway through ``ib_async`` (the ``ib`` extra, imported
only when a broker is built):

- Contracts are qualified once per symbol (``Stock(symbol, exchange, currency)``) and cached.
- ``submit`` places market, limit, stop, stop-limit and trailing orders (``DAY``, ``GTC``,
  ``IOC``) with our client order id in ``orderRef`` and returns IB's permanent id once TWS
  acknowledges. A refusal (status ``Inactive`` or ``Cancelled`` with IB's message) is an
  :class:`~quantstrata.live.broker.OrderRejectedError`; no answer in time, or a socket that
  drops meanwhile, is :class:`~quantstrata.live.broker.SubmitOutcomeUnknownError`, resolved
  by :meth:`IBBroker.query_order`, which looks the order up *by orderRef* among the open
  orders, the completed orders and the executions after the reconnect: it is found, never
  sent twice. While the
  link is not up (socket down, re-synchronising, or IB's 1100) a submit is refused at once
  (nothing is sent) and every query raises
  :class:`~quantstrata.live.broker.BrokerUnavailableError`: trading halts, the runtime's
  reconciliation fails and its health check alerts.
- :meth:`IBBroker.submit_group` sends a bracket (entry, take-profit and stop-loss children with
  ``parentId``; only the last order transmits) or an OCA pair (``ocaGroup``, ``ocaType`` 1).
- ``updates`` yields fills, cancellations and rejections. A fill is yielded once its
  commission report has arrived (IB sends it after the execution, sometimes much later), with
  that commission; every fill is de-duplicated by IB's execution id, so an execution replayed
  by a resync or sent twice is booked once.
- After every (re)connection (:class:`~quantstrata.live.brokers._ib_link.IBLink`, with the
  shared backoff) the broker re-reads open orders, executions and positions before trading
  again: a fill that happened while it was disconnected is yielded then, exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from quantstrata.core.clock import Clock, LiveClock
from quantstrata.live.broker import (
    AccountSnapshot,
    BrokerError,
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
    VenueOrder,
)
from quantstrata.live.brokers._ib_link import IBConfig, IBLink, LinkState, sdk
from quantstrata.live.brokers._ib_mapping import (
    IBMessage,
    account_value,
    cash_by_currency,
    classify_error,
    fill_of,
    group_fields,
    order_fields,
    positions_of,
    request_of,
    status_of,
)
from quantstrata.model.identifiers import ClientOrderId, Symbol, TradeId, VenueOrderId
from quantstrata.model.orders import (
    Bracket,
    Cancelled,
    Fill,
    FillEvent,
    OneCancelsOther,
    OrderEvent,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Rejected,
)

__all__ = ["IBBroker", "IBConfig", "LinkState"]

_log = logging.getLogger("quantstrata.live.ib")
_ANSWERED = {"PreSubmitted", "Submitted", "Filled", "Cancelled", "ApiCancelled", "Inactive"}
_REFUSED = {"Cancelled", "ApiCancelled", "Inactive"}


class IBBroker:
    """A :class:`~quantstrata.live.broker.Broker` on an IB account through TWS / Gateway."""

    def __init__(
        self,
        config: IBConfig,
        *,
        ib: Any = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        clock: Clock | None = None,
    ) -> None:
        """Build ``ib_async.IB`` (or take ``ib``); nothing connects until :meth:`connect`."""
        self.config = config
        self.ib = ib if ib is not None else sdk().IB()
        self.clock = clock if clock is not None else LiveClock()
        self.link = IBLink(config, self.ib, self._resync, sleep=sleep, uniform=uniform)
        self.account_id = config.account
        self.resyncs = 0
        self.farms: dict[int, str] = {}
        self._contracts: dict[str, Any] = {}
        self._trades: dict[ClientOrderId, Any] = {}
        self._pending: dict[str, Fill] = {}  # exec id -> fill waiting for its commission
        self._commissions: dict[str, float] = {}
        self._seen: set[TradeId] = set()
        self._ended: set[ClientOrderId] = set()
        self._queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._restoring: asyncio.Task[None] | None = None
        self.ib.execDetailsEvent += self._on_execution
        self.ib.commissionReportEvent += self._on_commission
        self.ib.orderStatusEvent += self._on_status
        self.ib.errorEvent += self._on_error
        self.ib.disconnectedEvent += self._on_disconnected

    def __repr__(self) -> str:
        """Show the account kind and the endpoint."""
        kind = "paper" if self.config.paper else "live"
        return f"IBBroker({kind}, {self.config.host}:{self.config.port})"

    @property
    def name(self) -> str:
        """``ib-paper`` or ``ib-live``."""
        return "ib-paper" if self.config.paper else "ib-live"

    @property
    def reconnects(self) -> int:
        """How many times the socket was lost and opened again."""
        return self.link.reconnects

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        """Connect, check the account kind, re-synchronise; raise if TWS is unreachable."""
        await self.link.open()

    async def close(self) -> None:
        """Disconnect and stop reconnecting; safe to call twice."""
        if self._restoring is not None:
            self._restoring.cancel()
        await self.link.close()
        self._queue.put_nowait(None)

    def describe_account(self) -> str:
        """Return which account this is, its number masked (``paper account ****4567``)."""
        return f"{self.config.kind_of(self.account_id)} account ****{self.account_id[-4:]}"

    def _check_account(self) -> None:
        accounts = list(self.ib.managedAccounts())
        if not self.account_id:
            if len(accounts) != 1:
                raise BrokerError(f"IB: choose one account of {len(accounts)} (IBConfig.account)")
            self.account_id = accounts[0]
        elif self.account_id not in accounts:
            raise BrokerError(f"IB: account ****{self.account_id[-4:]} is not managed here")
        wanted = "paper" if self.config.paper else "live"
        if self.config.kind_of(self.account_id) != wanted:
            raise BrokerError(
                f"IB: TWS is logged in to a {self.config.kind_of(self.account_id)} account "
                f"but a {wanted} one was asked for: refusing to trade"
            )
        _log.info("IB: trading the %s", self.describe_account())

    async def _resync(self) -> None:
        """After a (re)connection: read orders, executions, positions; book what was missed."""
        self._check_account()
        self.resyncs += 1
        ours = set(self._trades)  # the orders this process placed or heard of
        for trade in self.ib.trades():  # open and completed orders, read on connecting
            reference = ClientOrderId(str(trade.order.orderRef or ""))
            if reference:
                self._trades[reference] = trade
        await self.ib.reqExecutionsAsync()
        for fill in self.ib.fills():  # the session's record: commissions attached
            self._book(fill.contract, fill.execution, self._commission_of(fill))
        for reference in sorted(ours):
            self._end_if_finished(reference, self._trades[reference])
        await self.ib.reqPositionsAsync()

    def _on_disconnected(self) -> None:
        self.link.dropped()
        self._changed.set()

    def _on_error(self, _request_id: int, code: int, message: str, _contract: Any = None) -> None:
        kind = classify_error(code)
        if kind is IBMessage.LINK_LOST:
            self.link.set(LinkState.LOST)
        elif kind in (IBMessage.LINK_RESTORED, IBMessage.LINK_RESTORED_DATA_LOST):
            self._restoring = asyncio.ensure_future(self._restore())
        elif kind in (IBMessage.FARM_DOWN, IBMessage.FARM_UP):
            self.farms[code] = message
        self._changed.set()

    async def _restore(self) -> None:
        """IB's link is back (1101/1102): re-synchronise, then trade again."""
        self.link.set(LinkState.SYNCING)
        try:
            await self._resync()
        except (ConnectionError, BrokerError) as error:
            _log.warning("IB: resync after restore failed: %s", error)
            return
        if self.ib.isConnected():
            self.link.set(LinkState.UP)

    def _require_connected(self, what: str) -> None:
        if self.link.state is not LinkState.UP or not self.ib.isConnected():
            raise BrokerUnavailableError(f"IB {what}: the link is {self.link.state.value}")

    # ------------------------------------------------------------------ orders

    async def submit(self, order_id: ClientOrderId, request: OrderRequest) -> VenueOrderId:
        """Place ``request`` with ``orderRef`` = ``order_id``; return IB's permanent id."""
        known = self._trades.get(order_id)
        if known is not None:
            return self._venue_id(known)
        self._refuse_while_down(order_id)
        contract = await self._contract(request.symbol)
        trade = self._place(order_id, contract, order_fields(order_id, request))
        return await self._acknowledged(order_id, trade)

    async def submit_group(
        self, order_id: ClientOrderId, group: Bracket | OneCancelsOther
    ) -> VenueOrderId:
        """Send a bracket (parent ``order_id``) or an OCA pair (group ``order_id``).

        The legs' client ids are :func:`~quantstrata.live.brokers._ib_mapping.bracket_leg_ids`
        or :func:`~quantstrata.live.brokers._ib_mapping.oca_leg_ids`; the first order's
        permanent id is returned.
        """
        legs = group_fields(order_id, group)
        self._refuse_while_down(order_id)
        contract = await self._contract(legs[0][1].symbol)
        trades = []
        parent_id = None
        for leg_id, _, fields in legs:
            if parent_id is not None and isinstance(group, Bracket):
                fields["parentId"] = parent_id
            trade = self._place(leg_id, contract, fields)
            parent_id = parent_id or trade.order.orderId
            trades.append((leg_id, trade))
        venue_ids = [await self._acknowledged(leg_id, trade) for leg_id, trade in trades]
        return venue_ids[0]

    def _refuse_while_down(self, order_id: ClientOrderId) -> None:
        if self.link.state is not LinkState.UP or not self.ib.isConnected():
            state = self.link.state.value
            raise OrderRejectedError(
                f"order {order_id} not sent: the IB link is {state}", f"IB link {state}"
            )

    def _place(self, order_id: ClientOrderId, contract: Any, fields: dict[str, Any]) -> Any:
        order = sdk().Order(account=self.account_id, **fields)
        try:
            trade = self.ib.placeOrder(contract, order)
        except ConnectionError:
            raise OrderRejectedError(
                f"order {order_id} not sent: not connected", "IB link down"
            ) from None
        self._trades[order_id] = trade
        return trade

    async def _acknowledged(self, order_id: ClientOrderId, trade: Any) -> VenueOrderId:
        """Wait for TWS's answer to a placed order; raise per the Broker contract."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeout_seconds
        while trade.orderStatus.status not in _ANSWERED or not trade.order.permId:
            if not self.ib.isConnected():
                raise SubmitOutcomeUnknownError(f"order {order_id}: connection lost after sending")
            left = deadline - loop.time()
            if left <= 0:
                raise SubmitOutcomeUnknownError(f"order {order_id}: no answer from TWS in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        if trade.orderStatus.status in _REFUSED and not trade.fills:
            self._ended.add(order_id)
            reason = _reason(trade)
            raise OrderRejectedError(f"IB rejected order {order_id}: {reason}", reason)
        return self._venue_id(trade)

    @staticmethod
    def _venue_id(trade: Any) -> VenueOrderId:
        return VenueOrderId(str(trade.order.permId or f"order-{trade.order.orderId}"))

    async def _contract(self, symbol: str) -> Any:
        """Return the qualified stock contract of ``symbol`` (asked once, then cached)."""
        known = self._contracts.get(symbol)
        if known is not None:
            return known
        stock = sdk().Stock(symbol, self.config.exchange, self.config.currency)
        try:
            [qualified] = await self.ib.qualifyContractsAsync(stock)
        except ConnectionError:
            raise BrokerUnavailableError(f"IB: contract lookup of {symbol} failed") from None
        if qualified is None:
            raise OrderRejectedError(f"IB knows no stock {symbol!r}", "unknown contract")
        self._contracts[symbol] = qualified
        return qualified

    async def cancel(self, order_id: ClientOrderId) -> None:
        """Ask TWS to cancel ``order_id``; the outcome arrives as an update."""
        self._require_connected(f"cancel of {order_id}")
        trade = self._live_trade(order_id)
        if trade is None:
            raise OrderRejectedError(f"order {order_id} is unknown at IB", "unknown order")
        if trade.orderStatus.status in ("Filled", *_REFUSED):
            raise OrderRejectedError(
                f"order {order_id} is {trade.orderStatus.status}: nothing to cancel",
                "not cancelable",
            )
        self.ib.cancelOrder(trade.order)

    def _live_trade(self, order_id: ClientOrderId) -> Any:
        """Return the current session's trade of ``order_id`` (by orderRef), else ``None``."""
        for trade in reversed(self.ib.trades()):
            if str(trade.order.orderRef or "") == order_id:
                self._trades[order_id] = trade
                return trade
        return None

    async def query_order(self, order_id: ClientOrderId) -> VenueOrder | None:
        """Return IB's record of ``order_id`` found by ``orderRef``, or ``None``.

        Looked up among the open orders (re-read), the completed ones (filled, cancelled or
        refused, also those of an earlier session) and the executions: an order filled while
        we were away is known by its executions, which say how much at what price.
        """
        self._require_connected(f"query of {order_id}")
        try:
            await self.ib.reqOpenOrdersAsync()
            trade = self._live_trade(order_id)
            if trade is None:
                await self.ib.reqCompletedOrdersAsync(apiOnly=True)
                trade = self._live_trade(order_id)
            fills = [
                fill
                for fill in await self.ib.reqExecutionsAsync()
                if str(fill.execution.orderRef or "") == order_id
            ]
        except ConnectionError as error:
            raise BrokerUnavailableError(f"IB query of {order_id}: {error}") from None
        if fills and (trade is None or trade.orderStatus.status == "Filled"):
            return _filled_order(order_id, fills)
        return None if trade is None else self._venue_order(order_id, trade)

    def _venue_order(self, order_id: ClientOrderId, trade: Any) -> VenueOrder:
        state = trade.orderStatus
        filled = float(state.filled or 0.0)
        updated = trade.log[-1].time if trade.log else self.clock.now()
        if not isinstance(updated, datetime) or updated.year < 2000:
            updated = self.clock.now()
        return VenueOrder(
            order_id,
            self._venue_id(trade),
            Symbol(trade.contract.symbol),
            request_of(trade.contract.symbol, trade.order),
            status_of(state.status, filled),
            filled,
            float(state.avgFillPrice) if filled > 0 else None,
            updated if updated.tzinfo else updated.replace(tzinfo=UTC),
        )

    async def open_orders(self) -> list[VenueOrder]:
        """Return every order working at IB (every client's), ours named by ``orderRef``."""
        self._require_connected("open orders")
        try:
            trades = await self.ib.reqAllOpenOrdersAsync()
        except ConnectionError as error:
            raise BrokerUnavailableError(f"IB open orders: {error}") from None
        found = []
        for trade in trades:
            reference = str(trade.order.orderRef or "") or f"ib-{trade.order.permId}"
            found.append(self._venue_order(ClientOrderId(reference), trade))
        return sorted(found, key=lambda order: (order.updated_at, order.order_id))

    # ------------------------------------------------------------------ fills and account

    async def fills(self, since: datetime | None = None) -> list[Fill]:
        """Return the account's fills (executions with their commissions) since ``since``."""
        self._require_connected("executions")
        try:
            await self.ib.reqExecutionsAsync()
        except ConnectionError as error:
            raise BrokerUnavailableError(f"IB executions: {error}") from None
        out = []
        for item in self.ib.fills():  # the session's record: commissions attached
            fill = fill_of(item.contract, item.execution, self._commission_of(item) or 0.0)
            if fill is not None and (since is None or fill.ts >= since):
                out.append(fill)
        return sorted(out, key=lambda fill: (fill.ts, fill.trade_id))

    async def account(self) -> AccountSnapshot:
        """Return the cash (``CashBalance`` in the configured currency) and the positions."""
        self._require_connected("account")
        try:
            await self.ib.reqAccountUpdatesAsync(self.account_id)
            positions = await self.ib.reqPositionsAsync()
        except ConnectionError as error:
            raise BrokerUnavailableError(f"IB account: {error}") from None
        values = self.ib.accountValues(self.account_id)
        cash = cash_by_currency(values, self.account_id)
        currency = self.config.currency
        amount = cash.get(currency, cash.get("BASE"))
        if amount is None:
            raise BrokerUnavailableError(f"IB account: no cash balance in {currency}")
        held = positions_of(positions, self.account_id)
        equity = account_value(values, "NetLiquidation", currency, self.account_id)
        maintenance = account_value(values, "MaintMarginReq", currency, self.account_id)
        return AccountSnapshot(
            amount, held, self.clock.now(), equity=equity, maintenance_margin=maintenance
        )

    async def cash_balances(self) -> dict[str, float]:
        """Return the cash balance of every currency the account holds (``BASE`` included)."""
        self._require_connected("account")
        await self.ib.reqAccountUpdatesAsync(self.account_id)
        return cash_by_currency(self.ib.accountValues(self.account_id), self.account_id)

    # ------------------------------------------------------------------ updates

    async def updates(self) -> AsyncIterator[OrderEvent]:
        """Yield fills, cancellations and rejections until :meth:`close`."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    def _commission_of(self, item: Any) -> float | None:
        exec_id = str(item.execution.execId)
        report = item.commissionReport
        if report is not None and str(report.execId) == exec_id:
            return float(report.commission)
        return self._commissions.get(exec_id)

    def _on_execution(self, _trade: Any, item: Any) -> None:
        self._book(item.contract, item.execution, self._commission_of(item))

    def _on_commission(self, _trade: Any, _item: Any, report: Any) -> None:
        exec_id = str(report.execId)
        self._commissions[exec_id] = float(report.commission)
        pending = self._pending.pop(exec_id, None)
        if pending is not None:
            self._emit(dataclasses.replace(pending, commission=float(report.commission)))

    def _book(self, contract: Any, execution: Any, commission: float | None) -> None:
        """Yield an execution once (by execution id), when its commission is known."""
        fill = fill_of(contract, execution, commission or 0.0)
        if fill is None or fill.trade_id in self._seen:
            return
        if commission is None:
            self._pending[str(fill.trade_id)] = fill
            return
        self._pending.pop(str(fill.trade_id), None)
        self._emit(fill)

    def _emit(self, fill: Fill) -> None:
        if fill.trade_id in self._seen:
            return
        self._seen.add(fill.trade_id)
        self._queue.put_nowait(FillEvent(fill))

    def _on_status(self, trade: Any) -> None:
        self._changed.set()
        reference = ClientOrderId(str(trade.order.orderRef or ""))
        if reference and reference not in self._trades:
            self._trades[reference] = trade
        if reference:
            self._end_if_finished(reference, trade)

    def _end_if_finished(self, reference: ClientOrderId, trade: Any) -> None:
        """Yield the end of an order cancelled or refused at IB (once)."""
        status = trade.orderStatus.status
        if reference in self._ended or status not in _REFUSED:
            return
        if status == "Inactive" and not trade.order.permId:
            return  # refused on sending: submit raises, no event
        self._ended.add(reference)
        now = self.clock.now()
        if status == "Inactive":
            self._queue.put_nowait(Rejected(reference, now, _reason(trade)))
        else:
            self._queue.put_nowait(Cancelled(reference, now, _reason(trade) or "cancelled"))


def _reason(trade: Any) -> str:
    """IB's last message about a trade (``"201: Order rejected - ..."``), or its status."""
    for entry in reversed(trade.log):
        if getattr(entry, "errorCode", 0):
            return f"{entry.errorCode}: {entry.message}"
    return str(trade.orderStatus.status)


def _filled_order(order_id: ClientOrderId, fills: list[Any]) -> VenueOrder:
    """Return an order known only by its executions (filled while we were away)."""
    last = max(fills, key=lambda fill: float(fill.execution.cumQty))
    execution = last.execution
    side = OrderSide.BUY if str(execution.side) in ("BOT", "BUY") else OrderSide.SELL
    quantity = float(execution.cumQty)
    moment = execution.time if isinstance(execution.time, datetime) else datetime.now(UTC)
    return VenueOrder(
        order_id,
        VenueOrderId(str(execution.permId)),
        Symbol(last.contract.symbol),
        OrderRequest(Symbol(last.contract.symbol), side, quantity, OrderType.MARKET),
        OrderStatus.FILLED,
        quantity,
        float(execution.avgPrice),
        moment,
    )
