"""IBBroker on the fake TWS: orders of every kind fill as the shared fill model fills them.

The ib_broker runs the real ``ib_async`` client over TCP; expected prices come from the fill
model run on the same bars, never from numbers written here.
"""

from __future__ import annotations

import pytest

from quantstrata.live.broker import Broker, BrokerError, OrderRejectedError
from quantstrata.live.brokers._ib_mapping import bracket_leg_ids, oca_leg_ids
from quantstrata.live.brokers.ib import IBBroker, LinkState
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import (
    Bracket,
    Cancelled,
    FillEvent,
    OneCancelsOther,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tests.kit.execution import model_fill
from tests.kit.fake_tws import FakeTws
from tests.kit.ib_runs import bars_after, broker_for, next_event, publish, until

SPX = Symbol("SPX")
pytestmark = pytest.mark.asyncio


def _close(tws: FakeTws) -> float:
    return tws.snapshots[tws.position_index][SPX].close


def _requests(close: float) -> list[OrderRequest]:
    buy, sell = OrderSide.BUY, OrderSide.SELL
    return [
        OrderRequest(SPX, buy, 2, OrderType.MARKET, time_in_force=TimeInForce.DAY),
        OrderRequest(SPX, buy, 2, OrderType.LIMIT, limit_price=round(close * 0.99, 2)),
        OrderRequest(SPX, buy, 2, OrderType.STOP, stop_price=round(close * 1.01, 2)),
        OrderRequest(
            SPX,
            buy,
            2,
            OrderType.STOP_LIMIT,
            stop_price=round(close * 1.005, 2),
            limit_price=round(close * 1.02, 2),
        ),
        OrderRequest(SPX, sell, 2, OrderType.TRAILING_STOP, trail_amount=round(close * 0.01, 2)),
        OrderRequest(SPX, sell, 2, OrderType.TRAILING_STOP, trail_percent=0.01),
    ]


async def test_the_broker_is_a_broker_and_names_its_paper_account(ib_broker: IBBroker) -> None:
    assert isinstance(ib_broker, Broker)
    assert ib_broker.name == "ib-paper"
    assert ib_broker.describe_account() == "paper account ****4567"
    assert ib_broker.link.state is LinkState.UP


async def test_a_live_account_is_refused_when_paper_was_asked_and_back(tws: FakeTws) -> None:
    live = broker_for(tws, paper=False)
    with pytest.raises(BrokerError, match="paper account but a live one"):
        await live.connect()
    await live.close()


@pytest.mark.parametrize("index", range(6))
async def test_each_order_type_fills_as_the_fill_model_fills_it(
    tws: FakeTws, ib_broker: IBBroker, index: int
) -> None:
    if index >= 4:  # exits: hold a position first
        await ib_broker.submit(ClientOrderId("own"), OrderRequest(SPX, OrderSide.BUY, 2))
        await publish(tws)
        assert isinstance(await next_event(ib_broker), FillEvent)
    request = _requests(_close(tws))[index]
    expected = model_fill(request, bars_after(tws))
    assert expected is not None
    venue_id = await ib_broker.submit(ClientOrderId(f"o-{index}"), request)
    await publish(tws, expected[0] + 1)
    event = await next_event(ib_broker)
    assert isinstance(event, FillEvent)
    fill = event.fill
    assert (fill.order_id, fill.venue_order_id) == (f"o-{index}", venue_id)
    assert fill.price == pytest.approx(expected[1])
    assert fill.commission == tws.executions[-1].fill.commission
    assert fill.commission > 0
    assert [f.trade_id for f in await ib_broker.fills()][-1] == fill.trade_id


async def test_a_repeated_submit_is_idempotent(tws: FakeTws, ib_broker: IBBroker) -> None:
    request = OrderRequest(SPX, OrderSide.BUY, 1, OrderType.LIMIT, limit_price=1.0)
    first = await ib_broker.submit(ClientOrderId("same"), request)
    assert await ib_broker.submit(ClientOrderId("same"), request) == first
    assert len(tws.placed()) == 1


async def test_query_open_orders_and_cancel(tws: FakeTws, ib_broker: IBBroker) -> None:
    far = round(_close(tws) * 0.5, 2)
    request = OrderRequest(SPX, OrderSide.BUY, 3, OrderType.LIMIT, limit_price=far)
    venue_id = await ib_broker.submit(ClientOrderId("q-1"), request)
    found = await ib_broker.query_order(ClientOrderId("q-1"))
    assert found is not None
    assert (found.venue_order_id, found.status, found.request) == (
        venue_id,
        OrderStatus.PENDING,
        request,
    )
    assert [o.order_id for o in await ib_broker.open_orders()] == ["q-1"]
    assert await ib_broker.query_order(ClientOrderId("never")) is None
    await ib_broker.cancel(ClientOrderId("q-1"))
    event = await next_event(ib_broker)
    assert isinstance(event, Cancelled)
    assert event.order_id == "q-1"
    assert await ib_broker.open_orders() == []


async def test_an_unknown_symbol_is_rejected(ib_broker: IBBroker) -> None:
    with pytest.raises(OrderRejectedError, match="NOPE"):
        await ib_broker.submit(ClientOrderId("x"), OrderRequest(Symbol("NOPE"), OrderSide.BUY, 1))


async def test_account_positions_and_cash_per_currency(tws: FakeTws, ib_broker: IBBroker) -> None:
    before = await ib_broker.account()
    await ib_broker.submit(ClientOrderId("a-1"), OrderRequest(SPX, OrderSide.BUY, 4))
    await publish(tws)
    fill = await next_event(ib_broker)
    assert isinstance(fill, FillEvent)
    after = await ib_broker.account()
    assert after.positions == {"SPX": 4.0}
    spent = fill.fill.quantity * fill.fill.price + fill.fill.commission
    assert after.cash == pytest.approx(before.cash - spent)
    balances = await ib_broker.cash_balances()
    assert balances["USD"] == pytest.approx(after.cash)
    assert set(balances) == {"USD", "BASE"}


async def test_a_bracket_fills_its_entry_then_one_exit_cancels_the_other(
    tws: FakeTws, ib_broker: IBBroker
) -> None:
    close = _close(tws)
    entry = OrderRequest(SPX, OrderSide.BUY, 2)
    bracket = Bracket(entry, stop_loss=round(close * 0.97, 2), take_profit=round(close * 1.01, 2))
    await ib_broker.submit_group(ClientOrderId("b-1"), bracket)
    placed = tws.placed()
    assert [fields[27] for fields in placed] == ["0", "0", "1"]  # transmit flags
    await publish(tws)
    first = await next_event(ib_broker)
    assert isinstance(first, FillEvent)
    assert first.fill.order_id == "b-1"
    take, stop = bracket_leg_ids(ClientOrderId("b-1"))
    ends: dict[str, object] = {}
    while len(ends) < 2:
        await publish(tws)
        while not ib_broker._queue.empty():
            event = await next_event(ib_broker)
            ends[str(event.order_id)] = event
    assert set(ends) == {take, stop}
    assert sorted(type(e).__name__ for e in ends.values()) == ["Cancelled", "FillEvent"]


async def test_an_oca_pair_cancels_the_other_on_a_fill(tws: FakeTws, ib_broker: IBBroker) -> None:
    await ib_broker.submit(ClientOrderId("own"), OrderRequest(SPX, OrderSide.BUY, 2))
    await publish(tws)
    await next_event(ib_broker)
    close = _close(tws)
    sell = OrderSide.SELL
    pair = OneCancelsOther(
        OrderRequest(SPX, sell, 2, OrderType.LIMIT, limit_price=round(close * 1.005, 2)),
        OrderRequest(SPX, sell, 2, OrderType.STOP, stop_price=round(close * 0.9, 2)),
    )
    await ib_broker.submit_group(ClientOrderId("oca"), pair)
    limit_id, stop_id = oca_leg_ids(ClientOrderId("oca"))
    events = []
    while len(events) < 2:
        await publish(tws)
        while not ib_broker._queue.empty():
            events.append(await next_event(ib_broker))
    assert {str(e.order_id) for e in events} == {limit_id, stop_id}
    await until(lambda: tws.position("SPX") == 0.0)
