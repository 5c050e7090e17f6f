"""Market hours through AlpacaBroker on the fake Alpaca (real alpaca-py, the fake's clock).

A market order decided while the regular session is closed is accepted at once and held by
the broker, which sends it at the open that Alpaca's ``/v2/clock`` announces (``next_open``);
cancelled before the open it never reaches Alpaca. With extended hours asked for, a day limit
order goes at once and a market order is refused (Alpaca takes only day limit orders outside
the regular session).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from quantstrata.core.clock import LiveClock
from quantstrata.live.broker import OrderRejectedError
from quantstrata.live.brokers._alpaca_mapping import AlpacaRefusal
from quantstrata.live.brokers.alpaca import CLOCK_RECHECK_SECONDS, AlpacaBroker
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.orders import OrderManager
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import (
    Bracket,
    Cancelled,
    CancelRequested,
    OrderRequest,
    OrderStatus,
    TimeInForce,
)
from tests.integration.live.alpaca_runs import alpaca_config, credentials, spx_bars
from tests.kit.fake_alpaca import FakeAlpaca

pytestmark = pytest.mark.asyncio


def _posted(fake: FakeAlpaca) -> list[str]:
    return [order["client_order_id"] for order in fake.orders()]


async def test_a_market_order_while_closed_is_sent_at_the_open_and_fills_then() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False
        clock = fake.clock()
        opens_in = datetime.fromisoformat(clock["next_open"]) - datetime.fromisoformat(
            clock["timestamp"]
        )
        waits: list[float] = []
        the_open = asyncio.Event()

        async def venue_time_passes(seconds: float) -> None:
            # The broker's only wait: the fake's session opens when the test says so.
            waits.append(seconds)
            await the_open.wait()

        broker = AlpacaBroker(alpaca_config(fake), credentials(fake), sleep=venue_time_passes)
        held = await broker.submit(ClientOrderId("held-1"), OrderRequest.market("SPX", 2))
        seen_while_closed = _posted(fake)
        queried = await broker.query_order(ClientOrderId("held-1"))
        fake.market_open = True
        the_open.set()
        assert broker.opening is not None
        await broker.opening
        opened_at = fake.publish_next_bar()
        await broker.close()
    assert seen_while_closed == []
    assert queried is not None
    assert (queried.venue_order_id, queried.status) == (held, OrderStatus.PENDING)
    assert waits == [min(opens_in.total_seconds(), CLOCK_RECHECK_SECONDS)]
    assert [(fill[0], fill[4]) for fill in fake.fills()] == [("held-1", opened_at)]
    assert fake.positions() == {"SPX": 2.0}


async def test_a_bracket_with_a_market_entry_is_held_too() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False

        async def venue_time_passes(_seconds: float) -> None:
            fake.market_open = True

        broker = AlpacaBroker(alpaca_config(fake), credentials(fake), sleep=venue_time_passes)
        close = fake.account.mark("SPX")
        bracket = Bracket(OrderRequest.market("SPX", 1), close * 0.9, close * 1.1)
        await broker.submit_group(ClientOrderId("br-1"), bracket)
        seen_while_closed = _posted(fake)
        assert broker.opening is not None
        await broker.opening
        posted = _posted(fake)
        await broker.close()
    assert seen_while_closed == []
    assert posted[0] == "br-1"


async def test_a_held_order_cancelled_before_the_open_never_reaches_alpaca() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False
        the_open = asyncio.Event()

        async def venue_time_passes(_seconds: float) -> None:
            await the_open.wait()

        broker = AlpacaBroker(alpaca_config(fake), credentials(fake), sleep=venue_time_passes)
        await broker.connect()
        updates = aiter(broker.updates())
        await broker.submit(ClientOrderId("gone-1"), OrderRequest.market("SPX", 1))
        await broker.submit(ClientOrderId("kept-1"), OrderRequest.market("SPX", 1))
        await broker.cancel(ClientOrderId("gone-1"))
        reported = await anext(updates)
        fake.market_open = True
        the_open.set()
        assert broker.opening is not None
        await broker.opening
        posted = _posted(fake)
        await broker.close()
    assert isinstance(reported, Cancelled)
    assert reported.order_id == "gone-1"
    assert posted == ["kept-1"]


async def test_close_leaves_held_orders_unsent() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False
        never = asyncio.Event()

        async def venue_time_passes(_seconds: float) -> None:
            await never.wait()

        broker = AlpacaBroker(alpaca_config(fake), credentials(fake), sleep=venue_time_passes)
        await broker.submit(ClientOrderId("left-1"), OrderRequest.market("SPX", 1))
        await broker.close()
        opening = broker.opening
        restarted = AlpacaBroker(alpaca_config(fake), credentials(fake))
        found = await restarted.query_order(ClientOrderId("left-1"))
        posted = _posted(fake)
    assert opening is not None
    assert opening.cancelled()
    assert posted == []
    assert found is None


async def test_an_order_while_open_goes_at_once() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        broker = AlpacaBroker(alpaca_config(fake), credentials(fake))
        await broker.submit(ClientOrderId("open-1"), OrderRequest.market("SPX", 1))
        assert _posted(fake) == ["open-1"]


async def test_extended_hours_send_a_day_limit_at_once_and_refuse_a_market_order() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False
        broker = AlpacaBroker(alpaca_config(fake, extended_hours=True), credentials(fake))
        price = fake.account.mark("SPX")
        await broker.submit(
            ClientOrderId("ext-1"),
            OrderRequest.limit("SPX", 1, price, time_in_force=TimeInForce.DAY),
        )
        with pytest.raises(OrderRejectedError, match="day limit orders") as refused:
            await broker.submit(ClientOrderId("ext-2"), OrderRequest.market("SPX", 1))
        orders = fake.orders()
    assert refused.value.reason is AlpacaRefusal.INVALID
    sent = [(o["client_order_id"], o["extended_hours"], float(o["limit_price"])) for o in orders]
    assert sent == [("ext-1", True, price)]


async def _until_filled(manager: OrderManager, broker: AlpacaBroker, order_id: str) -> None:
    async for event in broker.updates():
        await manager.apply_update(event)
        if manager.order(order_id).status is OrderStatus.FILLED:
            return


def _life(
    fake: FakeAlpaca, journal: Path, the_open: asyncio.Event
) -> tuple[AlpacaBroker, OrderManager]:
    """One process: a broker whose venue opens once ``the_open`` is set, an order manager."""

    async def venue_time_passes(_seconds: float) -> None:
        await the_open.wait()

    broker = AlpacaBroker(alpaca_config(fake), credentials(fake), sleep=venue_time_passes)
    manager = OrderManager(broker, SqliteJournal(journal), run_id="held", clock=LiveClock())
    return broker, manager


async def _open_and_fill(
    fake: FakeAlpaca,
    the_open: asyncio.Event,
    broker: AlpacaBroker,
    manager: OrderManager,
    order_id: str,
) -> datetime | None:
    """Open the session: the broker sends what it held, the next bar fills it; its time."""
    fake.market_open = True
    the_open.set()
    assert broker.opening is not None
    await broker.opening
    opened_at = fake.publish_next_bar()
    await asyncio.wait_for(_until_filled(manager, broker, order_id), 10)
    return opened_at


async def _end(broker: AlpacaBroker, manager: OrderManager) -> None:
    """End a process: the held orders' task stops, the journal closes."""
    await broker.close()
    manager.journal.close()


async def test_a_held_order_pending_at_a_restart_is_held_again_and_fills_at_the_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False
        never, the_open = asyncio.Event(), asyncio.Event()
        first, manager = _life(fake, path, never)
        order = await manager.submit(OrderRequest.market("SPX", 2))
        await _end(first, manager)  # the process ends: the held order was never sent

        second, restarted = _life(fake, path, the_open)
        await second.connect()
        await restarted.start()
        sent_while_closed = _posted(fake)
        opened_at = await _open_and_fill(fake, the_open, second, restarted, order.order_id)
        await _end(second, restarted)
    state = restarted.state
    assert order.status is OrderStatus.PENDING
    assert sent_while_closed == []
    assert state.alarms == 0
    assert state.orders[order.order_id].status is OrderStatus.FILLED
    assert [(fill[0], fill[4]) for fill in fake.fills()] == [(order.order_id, opened_at)]
    assert fake.positions() == {"SPX": 2.0}


async def test_a_held_order_whose_cancel_was_asked_before_a_restart_ends_cancelled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False
        never = asyncio.Event()
        first, manager = _life(fake, path, never)
        order = await manager.submit(OrderRequest.market("SPX", 1))
        manager.record(CancelRequested(order.order_id, LiveClock().now()))
        await _end(first, manager)  # killed between journaling the cancel and sending it

        second, restarted = _life(fake, path, never)
        await restarted.start()
        status = restarted.order(order.order_id).status
        await _end(second, restarted)
        posted = _posted(fake)
    assert status is OrderStatus.CANCELLED
    assert posted == []


async def test_a_held_order_filled_at_the_open_keeps_its_venue_id_in_the_journal(
    tmp_path: Path,
) -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False
        the_open = asyncio.Event()
        broker, manager = _life(fake, tmp_path / "journal.sqlite", the_open)
        await broker.connect()
        order = await manager.submit(OrderRequest.market("SPX", 3))
        await _open_and_fill(fake, the_open, broker, manager, order.order_id)
        await manager.resolve(order.order_id)  # a reconciliation reads Alpaca's record
        await _end(broker, manager)
    state = manager.state
    filled = state.orders[order.order_id]
    assert (filled.status, filled.venue_order_id) == (OrderStatus.FILLED, order.venue_order_id)
    assert state.alarms == 0
