"""A fake TWS / IB Gateway for the real ``ib_async`` client: a TCP server on ``127.0.0.1``.

API, in short (every public method is thread-safe; the server runs its own event loop in a
thread)::

    with FakeTws(load_sample("SPX_1d").head(60), published=20) as tws:
        ib = ib_async.IB()
        await ib.connectAsync("127.0.0.1", tws.port, clientId=7)
        ...
        tws.publish_next_bar()   # fill working orders on the next bar time, then stream it
        tws.orders, tws.executions, tws.position("SPX"), tws.received

- Protocol: :mod:`tests.kit.tws_protocol` (handshake, framing, message layouts of server
  version 176). Requests answered: start API (next valid id, managed accounts), contract
  details, place / cancel order (open order, order status, execution details, commission
  report, IB's error messages 200/201/202/10147/10148), open orders, completed orders,
  executions, positions, account updates (single and multi), current time, historical bars
  and real-time bars.
- Fills: the shared fill model through the simulated venue's book (the same
  :class:`~tests.kit.fake_alpaca_account.LinkedBook` the fake Alpaca uses): an order placed
  after bar *t* fills on bar *t + 1*, as in the backtest. A bracket's children (``parentId``)
  wait until their parent fills; an order sent with ``transmit=False`` waits for the group's
  transmitting order; two orders in one OCA group (or two children of one parent) cancel each
  other when one fills.
- Faults: :meth:`connectivity_lost` / :meth:`connectivity_restored` (error codes 1100 and
  1101/1102 to every client), :meth:`go_down` (the nightly restart: every socket dropped,
  connections refused) and :meth:`come_up` (listening again on the same port, the account
  intact), ``hold_commissions`` (commission reports kept until :meth:`release_commissions`),
  ``duplicate_executions`` (every live execution sent twice), ``drop_after_place`` (the next N
  orders are taken, then their client's socket drops before any answer), ``stall_next_place``
  (the next N orders are taken but their connection never hears of them; :attr:`stalled`),
  ``pacing_violations`` (the next N historical requests refused with IB's error 162).
- Records: :attr:`received` (every request's fields, in order). The fake logs nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, TypeVar

import polars as pl

from quantstrata.execution import CommissionConfig
from quantstrata.model.bar import BAR_COLUMNS, Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.interval import Interval
from quantstrata.model.orders import (
    Cancelled,
    Expired,
    Fill,
    FillEvent,
    InvalidOrderError,
    OrderEvent,
    OrderStatus,
    Rejected,
)
from quantstrata.venue.config import VenueConfig
from quantstrata.venue.engine import bar_snapshots
from tests.kit.fake_alpaca_account import LinkedBook
from tests.kit.fake_tws_orders import ACCOUNT, Execution, TwsOrder, order_request
from tests.kit.fake_tws_session import Session
from tests.kit.tws_protocol import Contract, PlaceOrder

__all__ = ["ACCOUNT", "IB_FEES", "Execution", "FakeTws", "TwsOrder"]

IB_FEES = CommissionConfig(per_unit=0.005, minimum=1.0)
"""IB's fixed US stock pricing: half a cent a share, at least one dollar an order."""
_T = TypeVar("_T")
_TYPES = {"MKT", "LMT", "STP", "STP LMT", "TRAIL"}


class FakeTws:
    """The server: the TWS API on ``127.0.0.1`` (an ephemeral port), replaying ``bars``."""

    def __init__(
        self,
        bars: pl.DataFrame,
        *,
        interval: str = "1d",
        published: int = 0,
        config: VenueConfig | None = None,
        port: int = 0,
    ) -> None:
        """Index the bars; publish the first ``published`` bar times silently (history)."""
        self.interval = Interval.parse(interval)
        self.bars = bars.select(BAR_COLUMNS).sort("ts", "symbol")
        self.symbols = sorted(self.bars["symbol"].unique().to_list())
        self.contracts = {
            symbol: Contract(265598 + index, symbol) for index, symbol in enumerate(self.symbols)
        }
        self.times, self.snapshots = bar_snapshots(self.bars)
        self.config = config or VenueConfig(commission=IB_FEES)
        self.book = LinkedBook(self.config, self.symbols, self.interval.bar_length)
        self.orders: dict[int, TwsOrder] = {}
        self.by_client: dict[tuple[int, int], int] = {}
        self.executions: list[Execution] = []
        self.received: list[list[str]] = []
        self.next_ids: dict[int, int] = {}
        self.position_index = -1
        self.hold_commissions = False
        self.duplicate_executions = False
        self.drop_after_place = 0
        self.stall_next_place = 0
        self.pacing_violations = 0
        self.stalled: list[int] = []
        self.held_commissions: list[Execution] = []
        self.sessions: list[Session] = []
        self.port = port
        self._next_perm = 1_000_000
        self._server: asyncio.Server | None = None
        self.subscribed = threading.Event()
        self._acked = threading.Condition()
        self._ack: datetime | None = None
        self._replay: threading.Thread | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        for _ in range(published):
            self._advance(publish=False)

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> FakeTws:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the loop thread and listen (on :attr:`port`, or a free one when 0)."""
        self._thread.start()
        self.come_up()

    def stop(self) -> None:
        """Drop every client, stop listening and end the loop thread."""
        if self._thread.is_alive():
            self.ack(self.times[-1])  # release a waiting replay
            self.go_down()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def come_up(self) -> None:
        """Listen on :attr:`port` again (or a free port the first time)."""
        self._call(self._listen)

    async def _listen(self) -> None:
        server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = server.sockets[0].getsockname()[1]
        self._server = server

    def go_down(self) -> None:
        """Stop listening and drop every connection (the Gateway's restart); state stays."""
        self._call(self._close)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for session in list(self.sessions):
            session.close()
        self.sessions.clear()

    def _call(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` (plain or a coroutine function) on the server's loop; return."""

        async def run() -> Any:
            result = function()
            if asyncio.iscoroutine(result):
                return await result
            return result

        future: Future[Any] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result(timeout=30)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, reader, writer)
        self.sessions.append(session)
        try:
            await session.serve()
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            session.close()

    # -- replay ---------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The fake's time: the open time of the last published bar (the first before any)."""
        return self.times[max(self.position_index, 0)]

    @property
    def finished(self) -> bool:
        """Whether every bar time has been published."""
        return self.position_index + 1 >= len(self.times)

    def published_bars(self, symbol: str) -> list[Bar]:
        """The bars of ``symbol`` published so far, oldest first."""
        last = self.position_index + 1
        return [snap[Symbol(symbol)] for snap in self.snapshots[:last] if symbol in snap]

    def publish_next_bar(self) -> datetime | None:
        """Fill working orders on the next bar time, send the results, then the bars."""
        return self._call(lambda: self._advance(publish=True))  # type: ignore[no-any-return]

    def _advance(self, *, publish: bool) -> datetime | None:
        if self.finished:
            return None
        index = self.position_index + 1
        self.position_index = index
        self.handle(self.book.on_bars(self.snapshots[index]))
        if publish:
            for session in list(self.sessions):
                session.publish_bars(self.snapshots[index])
        return self.times[index]

    def start_replay(self, *, ack_timeout: float = 30.0) -> None:
        """Publish the remaining bars in a thread, in lockstep, once a client subscribes.

        Each next bar goes only after :meth:`ack` of the last one (or ``ack_timeout`` seconds,
        after which the replay stops).
        """

        def replay() -> None:
            self.subscribed.wait(ack_timeout)
            while (published := self.publish_next_bar()) is not None:
                with self._acked:
                    acked = self._acked.wait_for(
                        lambda: self._ack is not None and self._ack >= published, ack_timeout
                    )
                if not acked:
                    return

        self._replay = threading.Thread(target=replay, daemon=True, name="fake-tws-replay")
        self._replay.start()

    def ack(self, ts: datetime) -> None:
        """Note that the client handled the bars of ``ts`` (the lockstep replay goes on)."""
        with self._acked:
            if self._ack is None or ts > self._ack:
                self._ack = ts
            self._acked.notify_all()

    # -- faults ---------------------------------------------------------------------------------

    def connectivity_lost(self) -> None:
        """Tell every client TWS lost its link to IB's servers (error 1100)."""
        text = "Connectivity between IB and Trader Workstation has been lost."
        self._call(lambda: self._broadcast(1100, text))

    def connectivity_restored(self, *, data_lost: bool = False) -> None:
        """Tell every client the link is back: 1101 (data lost) or 1102 (data maintained)."""
        code = 1101 if data_lost else 1102
        kept = "data lost" if data_lost else "data maintained"
        text = f"Connectivity between IB and Trader Workstation has been restored - {kept}."
        self._call(lambda: self._broadcast(code, text))

    def _broadcast(self, code: int, text: str) -> None:
        for session in self.sessions:
            session.error(-1, code, text)

    def release_commissions(self) -> int:
        """Send the held commission reports to their clients; return how many were held."""
        return self._call(self._release)  # type: ignore[no-any-return]

    def _release(self) -> int:
        held, self.held_commissions = self.held_commissions, []
        for execution in held:
            for session in self._owners(execution.order):
                session.send(execution.commission_message())
        return len(held)

    # -- reads ----------------------------------------------------------------------------------

    def position(self, symbol: str) -> float:
        """The account's signed quantity of ``symbol``."""
        return float(self._call(lambda: self.book.position(symbol).quantity))

    def order_records(self) -> list[dict[str, Any]]:
        """Every order, oldest first: ``client_order_id`` (its orderRef), status, ids."""
        return self._call(  # type: ignore[no-any-return]
            lambda: [
                {
                    "client_order_id": order.place.order_ref,
                    "status": order.status,
                    "perm_id": order.perm_id,
                }
                for order in sorted(self.orders.values(), key=lambda o: o.perm_id)
            ]
        )

    def positions(self) -> dict[str, float]:
        """The open positions' signed quantities by symbol."""
        return self._call(  # type: ignore[no-any-return]
            lambda: {str(s): p.quantity for s, p in self.book.positions.items() if not p.is_flat}
        )

    def bar_subscribers(self) -> int:
        """How many connections subscribe to real-time bars now."""
        return int(self._call(lambda: sum(1 for s in self.sessions if s.ready and s.realtime)))

    def connected(self) -> int:
        """How many connections are open now."""
        return int(self._call(lambda: len(self.sessions)))

    def placed(self) -> list[list[str]]:
        """Every ``PLACE_ORDER`` request received, in order."""
        return [fields for fields in list(self.received) if fields[:1] == ["3"]]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until ``predicate()`` (checked on the server's loop) holds; raise on timeout."""
        deadline = threading.Event()
        for _ in range(int(timeout * 100)):
            if self._call(predicate):
                return
            deadline.wait(0.01)
        raise TimeoutError("the fake TWS never reached the expected state")

    # -- orders (run on the loop) ---------------------------------------------------------------

    def place(self, session: Session, place: PlaceOrder) -> None:
        """Accept (or refuse) a ``PLACE_ORDER`` from ``session``."""
        client_id = session.client_id
        key = (client_id, place.order_id)
        self.next_ids[client_id] = max(self.next_ids.get(client_id, 1), place.order_id + 1)
        if key in self.by_client:
            session.error(place.order_id, 103, f"Duplicate order id: {place.order_id}")
            return
        contract = self._contract(place)
        if contract is None:
            session.error(place.order_id, 200, "No security definition has been found.")
            return
        if place.order_type not in _TYPES:
            session.error(place.order_id, 387, f"Unsupported order type {place.order_type}")
            return
        self._next_perm += 1
        order = TwsOrder(self._next_perm, client_id, place, contract, "PendingSubmit")
        self.orders[order.perm_id] = order
        self.by_client[key] = order.perm_id
        if not place.transmit:
            return
        if self.stall_next_place > 0:
            self.stall_next_place -= 1
            order.muted = session  # taken; this connection never hears of it
            self.stalled.append(order.perm_id)
        if self.drop_after_place > 0:
            self.drop_after_place -= 1
            session.close()  # the order is taken, the answer never leaves
        group = [order]
        if place.parent_id:
            parent = self.orders.get(self.by_client.get((client_id, place.parent_id), -1))
            if parent is not None and parent.status == "PendingSubmit":
                group = [o for o in self._family(parent) if o.status == "PendingSubmit"]
        for member in sorted(group, key=lambda o: o.perm_id):
            self._transmit(member)

    def _contract(self, place: PlaceOrder) -> Contract | None:
        for contract in self.contracts.values():
            if contract.con_id == place.con_id or (
                not place.con_id and contract.symbol == place.symbol
            ):
                return contract
        return None

    def _family(self, parent: TwsOrder) -> list[TwsOrder]:
        pid, cid = parent.place.order_id, parent.client_id
        children = [
            o for o in self.orders.values() if o.client_id == cid and o.place.parent_id == pid
        ]
        return [parent, *children]

    def _transmit(self, order: TwsOrder) -> None:
        """Send ``order`` to the market: the book works it, or it waits for its parent."""
        parent = self._parent(order)
        if parent is not None and parent.status != "Filled":
            order.status = "PreSubmitted"
            self._report(order)
            return
        self._activate(order)

    def _parent(self, order: TwsOrder) -> TwsOrder | None:
        if not order.place.parent_id:
            return None
        return self.orders.get(self.by_client.get((order.client_id, order.place.parent_id), -1))

    def _activate(self, order: TwsOrder) -> None:
        try:
            request = order_request(order)
        except InvalidOrderError as error:
            order.status = "Inactive"
            self._report(order)
            for session in self._owners(order):
                session.error(order.place.order_id, 201, f"Order rejected - reason:{error}")
            return
        self._link(order)
        outcome = self.book.submit(order.key, request, self.now)
        order.status = "Submitted"
        self._report(order)
        self.handle([event for event in outcome.events if not isinstance(event, Rejected)])
        if outcome.order.status is OrderStatus.REJECTED:
            order.status = "Inactive"
            self._report(order)

    def _link(self, order: TwsOrder) -> None:
        """Pair ``order`` with a working partner: the other child or the other OCA member."""
        for other in self.orders.values():
            if other is order or other.status not in ("Submitted", "PreSubmitted"):
                continue
            same_parent = order.place.parent_id and other.place.parent_id == order.place.parent_id
            same_oca = order.place.oca_group and other.place.oca_group == order.place.oca_group
            if same_parent or same_oca:
                self.book.partners[str(order.key)] = str(other.key)
                self.book.partners[str(other.key)] = str(order.key)

    def cancel(self, session: Session, order_id: int) -> None:
        """Cancel ``order_id`` of ``session``'s client (202), or refuse (10147, 10148)."""
        perm = self.by_client.get((session.client_id, order_id))
        order = self.orders.get(perm or -1)
        if order is None:
            session.error(
                order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."
            )
            return
        if order.status in ("Filled", "Cancelled", "Inactive"):
            text = (
                f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                f"state: {order.status}."
            )
            session.error(order_id, 10148, text)
            return
        if order.key in self.book.orders:
            self.handle(list(self.book.cancel(order.key, self.now).events))
        else:
            self._cancelled(order)

    def handle(self, events: Sequence[OrderEvent]) -> None:
        """Turn the book's events into TWS's messages to the order's client."""
        by_key = {order.key: order for order in self.orders.values()}
        for event in events:
            order = by_key.get(event.order_id)
            if order is None:
                continue
            if isinstance(event, FillEvent):
                self._filled(order, event.fill)
            elif isinstance(event, Cancelled | Expired):
                self._cancelled(order)
            elif isinstance(event, Rejected):
                order.status = "Inactive"
                self._report(order)

    def _filled(self, order: TwsOrder, fill: Fill) -> None:
        total = order.filled + fill.quantity
        order.average_price = (
            order.average_price * order.filled + fill.price * fill.quantity
        ) / total
        order.filled, order.last_price = total, fill.price
        if total >= order.place.quantity - 1e-9:
            order.status = "Filled"
        number = sum(1 for item in self.executions if item.order is order) + 1
        exec_id = f"0000e0d5.{order.perm_id:08x}.{number:02d}.01"
        execution = Execution(exec_id, order, fill, total, order.average_price)
        self.executions.append(execution)
        for session in self._owners(order):
            copies = 2 if self.duplicate_executions else 1
            for _ in range(copies):
                session.send(execution.message(-1))
            session.send(order.status_message())
            if not self.hold_commissions:
                session.send(execution.commission_message())
        if self.hold_commissions:
            self.held_commissions.append(execution)
        if order.status == "Filled":
            for child in self._family(order)[1:]:
                if child.status == "PreSubmitted":
                    self._activate(child)

    def _cancelled(self, order: TwsOrder) -> None:
        order.status = "Cancelled"
        self._report(order)
        for session in self._owners(order):
            session.error(order.place.order_id, 202, "Order Canceled - reason:")
        for child in self._family(order)[1:]:
            if child.status in ("PreSubmitted", "PendingSubmit"):
                self._cancelled(child)

    def _report(self, order: TwsOrder) -> None:
        for session in self._owners(order):
            session.send(order.view().open_order())
            session.send(order.status_message())

    def _owners(self, order: TwsOrder) -> list[Session]:
        return [
            s
            for s in self.sessions
            if s.ready and s.client_id == order.client_id and s is not order.muted
        ]

    def open_orders(self, client_id: int | None) -> list[TwsOrder]:
        """The orders still working (of ``client_id``, or every client's when ``None``)."""
        working = ("PendingSubmit", "PreSubmitted", "Submitted")
        return [
            order
            for order in self.orders.values()
            if order.status in working and (client_id is None or order.client_id == client_id)
        ]

    def completed_orders(self) -> list[TwsOrder]:
        """The finished orders (filled, cancelled, refused) of every client, oldest first."""
        done = ("Filled", "Cancelled", "Inactive")
        return sorted(
            (order for order in self.orders.values() if order.status in done),
            key=lambda order: order.perm_id,
        )

    def account_values(self) -> list[tuple[str, str, str]]:
        """(key, value, currency) of the account, as ``updateAccountValue`` sends them."""
        equity = self.book.equity()
        cash = self.book.cash
        values = [("AccountCode", ACCOUNT, ""), ("AccountType", "INDIVIDUAL", "")]
        for currency in ("USD", "BASE"):
            values += [
                ("CashBalance", repr(cash), currency),
                ("TotalCashBalance", repr(cash), currency),
                ("NetLiquidationByCurrency", repr(equity), currency),
            ]
        values += [
            ("NetLiquidation", repr(equity), "USD"),
            ("TotalCashValue", repr(cash), "USD"),
            ("AvailableFunds", repr(cash), "USD"),
            ("BuyingPower", repr(max(cash, 0.0) * 4), "USD"),
        ]
        return values

    def at(self, moment: str) -> datetime:
        """Parse an IB ``YYYYMMDD HH:MM:SS [zone]`` or ``YYYYMMDD-HH:MM:SS`` time (UTC)."""
        text = moment.strip().replace("-", " ")
        parts = text.split(" ")
        return datetime.strptime(f"{parts[0]} {parts[1]}", "%Y%m%d %H:%M:%S").replace(tzinfo=UTC)
