"""The paper broker fills by the backtest's fill model, bar by bar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.core.clock import SimulatedClock
from quantstrata.core.errors import ConfigError
from quantstrata.execution import CommissionConfig, FillConfig, FillModel, FillPolicy
from quantstrata.live.broker import Broker, OrderRejectedError
from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import (
    Cancelled,
    Expired,
    FillEvent,
    OrderRequest,
    OrderStatus,
    TimeInForce,
)

DAY0 = datetime(2024, 1, 2, tzinfo=UTC)


def _bar(index: int, open_: float, high: float, low: float, close: float) -> Bar:
    return Bar(DAY0 + timedelta(days=index), "AAA", open_, high, low, close, 1_000.0)  # type: ignore[arg-type]


def _paper(policy: FillPolicy = FillPolicy.NEXT_OPEN, **commission: float) -> PaperBroker:
    model = FillModel(FillConfig(policy=policy), CommissionConfig(**commission))
    return PaperBroker(clock=SimulatedClock(DAY0), fill_model=model, cash=10_000.0)


def test_it_is_a_broker() -> None:
    assert isinstance(_paper(), Broker)


@pytest.mark.asyncio
async def test_market_order_after_bar_t_fills_at_the_open_of_bar_t_plus_1() -> None:
    paper = _paper(rate=0.001)
    await paper.on_bar(_bar(0, 100, 101, 99, 100.5))
    await paper.submit(ClientOrderId("a-1"), OrderRequest.market("AAA", 10))
    fills = await paper.on_bar(_bar(1, 102, 104, 101, 103))
    assert [(f.price, f.quantity, f.ts) for f in fills] == [(102.0, 10.0, DAY0 + timedelta(days=1))]
    assert fills[0].commission == pytest.approx(1.02)
    account = await paper.account()
    assert account.positions == {"AAA": 10.0}
    assert account.cash == pytest.approx(10_000 - 1_020 - 1.02)
    order = await paper.query_order(ClientOrderId("a-1"))
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price == 102.0
    update = await anext(paper.updates())
    assert isinstance(update, FillEvent)
    assert update.fill == fills[0]


@pytest.mark.asyncio
async def test_the_decision_bar_is_never_used_again() -> None:
    paper = _paper()
    await paper.on_bar(_bar(0, 100, 101, 99, 100))
    await paper.submit(ClientOrderId("a-1"), OrderRequest.market("AAA", 1))
    with pytest.raises(ConfigError, match="not after"):
        await paper.on_bar(_bar(0, 100, 101, 99, 100))


@pytest.mark.asyncio
async def test_limit_order_waits_until_a_bar_reaches_it() -> None:
    paper = _paper()
    await paper.submit(ClientOrderId("a-1"), OrderRequest.limit("AAA", 1, 95.0))
    assert await paper.on_bar(_bar(0, 100, 101, 96, 100)) == []
    assert [o.order_id for o in await paper.open_orders()] == ["a-1"]
    fills = await paper.on_bar(_bar(1, 97, 98, 94, 95))
    assert [f.price for f in fills] == [95.0]
    assert await paper.open_orders() == []


@pytest.mark.asyncio
async def test_this_close_fills_at_once_at_the_last_close() -> None:
    paper = _paper(FillPolicy.THIS_CLOSE)
    await paper.on_bar(_bar(0, 100, 101, 99, 100.5))
    await paper.submit(ClientOrderId("a-1"), OrderRequest.market("AAA", 1))
    assert [f.price for f in await paper.fills()] == [100.5]


@pytest.mark.asyncio
async def test_ioc_rest_is_cancelled_and_cancels_are_pushed() -> None:
    paper = _paper()
    await paper.submit(
        ClientOrderId("a-1"), OrderRequest.limit("AAA", 1, 50.0, time_in_force=TimeInForce.IOC)
    )
    await paper.submit(ClientOrderId("a-2"), OrderRequest.limit("AAA", 1, 50.0))
    await paper.on_bar(_bar(0, 100, 101, 99, 100))
    await paper.cancel(ClientOrderId("a-2"))
    stream = paper.updates()
    first, second = await anext(stream), await anext(stream)
    assert isinstance(first, Cancelled)
    assert first.order_id == "a-1"
    assert isinstance(second, Cancelled)
    assert second.order_id == "a-2"
    with pytest.raises(OrderRejectedError):
        await paper.cancel(ClientOrderId("a-2"))
    with pytest.raises(OrderRejectedError):
        await paper.cancel(ClientOrderId("nope"))


@pytest.mark.asyncio
async def test_submit_is_idempotent_and_recorded() -> None:
    paper = _paper()
    first = await paper.submit(ClientOrderId("a-1"), OrderRequest.market("AAA", 1))
    again = await paper.submit(ClientOrderId("a-1"), OrderRequest.market("AAA", 1))
    assert first == again
    assert len(paper.received) == 2
    assert len(await paper.open_orders()) == 1
    assert await paper.query_order(ClientOrderId("zzz")) is None


@pytest.mark.asyncio
async def test_reduce_only_that_would_open_is_cancelled_at_its_bar_as_in_the_backtest() -> None:
    paper = _paper()
    await paper.submit(ClientOrderId("a-1"), OrderRequest.market("AAA", -1, reduce_only=True))
    assert await paper.on_bar(_bar(0, 100, 101, 99, 100)) == []
    update = await anext(paper.updates())
    assert isinstance(update, Cancelled)
    assert update.reason == "nothing to reduce or no shorting"
    assert (await paper.account()).positions == {}


@pytest.mark.asyncio
async def test_day_order_expires_at_the_session_close_of_the_calendar() -> None:
    model = FillModel(FillConfig())
    opens = [datetime(2024, 11, 26, 14, 30, tzinfo=UTC), datetime(2024, 11, 26, 20, 59, tzinfo=UTC)]
    opens.append(datetime(2024, 11, 27, 14, 30, tzinfo=UTC))
    paper = PaperBroker(
        clock=SimulatedClock(opens[0]),
        fill_model=model,
        cash=10_000.0,
        calendar="XNYS",
        bar_length=timedelta(minutes=1),
    )
    await paper.on_bar(Bar(opens[0], "AAA", 100, 100, 100, 100, 10.0))  # type: ignore[arg-type]
    request = OrderRequest.limit("AAA", 1, 95.0, time_in_force=TimeInForce.DAY)
    await paper.submit(ClientOrderId("a-1"), request)
    assert await paper.on_bar(Bar(opens[1], "AAA", 99, 99, 99, 99, 10.0)) == []  # type: ignore[arg-type]
    assert await paper.on_bar(Bar(opens[2], "AAA", 90, 90, 90, 90, 10.0)) == []  # type: ignore[arg-type]
    expired = await anext(paper.updates())
    assert isinstance(expired, Expired)
    assert expired.ts == datetime(2024, 11, 26, 21, tzinfo=UTC)  # the XNYS close, 16:00 New York
    order = await paper.query_order(ClientOrderId("a-1"))
    assert order is not None
    assert order.status is OrderStatus.EXPIRED


@pytest.mark.asyncio
async def test_close_ends_the_update_stream() -> None:
    paper = _paper()
    await paper.close()
    await paper.close()
    assert [event async for event in paper.updates()] == []
