"""The fake TWS, driven only by the real ``ib_async`` client over its TCP socket.

Fills are checked against the shared fill model run on the same bars, never against numbers
written here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import ib_async
import pytest
import pytest_asyncio

from quantstrata.model.bar import Bar
from quantstrata.model.identifiers import Symbol
from quantstrata.model.orders import OrderRequest, OrderSide, OrderType
from tests.kit.execution import model_fill
from tests.kit.fake_tws import ACCOUNT, FakeTws
from tests.kit.ib_runs import WARM, until

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def ib(tws: FakeTws) -> AsyncIterator[ib_async.IB]:
    client = ib_async.IB()
    await client.connectAsync("127.0.0.1", tws.port, clientId=7, timeout=10)
    yield client
    client.disconnect()


def _bar(tws: FakeTws, index: int) -> Bar:
    return tws.snapshots[index][Symbol("SPX")]


async def test_the_client_connects_and_sees_the_account(tws: FakeTws, ib: ib_async.IB) -> None:
    assert ib.isConnected()
    assert ib.managedAccounts() == [ACCOUNT]
    values = {(v.tag, v.currency): v.value for v in ib.accountValues()}
    assert float(values[("TotalCashValue", "USD")]) == tws.book.cash
    assert ib.positions() == []


async def test_a_stock_is_qualified_and_an_unknown_one_is_not(ib: ib_async.IB) -> None:
    stock = ib_async.Stock("SPX", "SMART", "USD")
    [qualified] = await ib.qualifyContractsAsync(stock)
    assert qualified is not None
    assert qualified.conId > 0
    assert qualified.primaryExchange == "NASDAQ"
    [unknown] = await ib.qualifyContractsAsync(ib_async.Stock("NOPE", "SMART", "USD"))
    assert unknown is None


async def test_a_limit_order_fills_as_the_fill_model_fills_it(
    tws: FakeTws, ib: ib_async.IB
) -> None:
    [stock] = await ib.qualifyContractsAsync(ib_async.Stock("SPX", "SMART", "USD"))
    price = _bar(tws, WARM - 1).close * 0.995
    order = ib_async.LimitOrder("BUY", 3, round(price, 2), orderRef="q-1", tif="GTC")
    trade = ib.placeOrder(stock, order)
    await until(lambda: trade.orderStatus.status == "Submitted")
    request = OrderRequest(
        Symbol("SPX"), OrderSide.BUY, 3, OrderType.LIMIT, limit_price=round(price, 2)
    )
    expected = model_fill(request, [_bar(tws, i) for i in range(WARM, 60)])
    assert expected is not None
    for _ in range(expected[0] + 1):
        await asyncio.to_thread(tws.publish_next_bar)
    await until(lambda: trade.orderStatus.status == "Filled" and trade.fills)
    [fill] = trade.fills
    assert fill.execution.price == pytest.approx(expected[1])
    assert fill.execution.orderRef == "q-1"
    await until(lambda: fill.commissionReport.execId == fill.execution.execId)
    assert fill.commissionReport.commission == tws.executions[0].fill.commission
    positions = await ib.reqPositionsAsync()
    assert [(p.contract.symbol, p.position) for p in positions] == [("SPX", 3.0)]
    fills = await ib.reqExecutionsAsync()
    assert [f.execution.execId for f in fills] == [fill.execution.execId]


async def test_open_orders_and_cancel(tws: FakeTws, ib: ib_async.IB) -> None:
    [stock] = await ib.qualifyContractsAsync(ib_async.Stock("SPX", "SMART", "USD"))
    far = round(_bar(tws, WARM - 1).close * 0.5, 2)
    trade = ib.placeOrder(stock, ib_async.LimitOrder("BUY", 1, far, orderRef="q-2", tif="GTC"))
    await until(lambda: trade.orderStatus.status == "Submitted")
    [working] = await ib.reqOpenOrdersAsync()
    assert working.order.orderRef == "q-2"
    assert working.order.lmtPrice == far
    ib.cancelOrder(trade.order)
    await until(lambda: trade.orderStatus.status == "Cancelled")
    assert await ib.reqOpenOrdersAsync() == []


async def test_a_bracket_works_its_children_after_the_parent_fills(
    tws: FakeTws, ib: ib_async.IB
) -> None:
    [stock] = await ib.qualifyContractsAsync(ib_async.Stock("SPX", "SMART", "USD"))
    close = _bar(tws, WARM - 1).close
    bracket = ib.bracketOrder(
        "BUY", 2, round(close * 1.05, 2), round(close * 1.2, 2), round(close * 0.8, 2)
    )
    trades = [ib.placeOrder(stock, order) for order in bracket]
    await until(lambda: trades[0].orderStatus.status == "Submitted")
    await until(lambda: all(t.orderStatus.status == "PreSubmitted" for t in trades[1:]))
    await asyncio.to_thread(tws.publish_next_bar)
    await until(lambda: trades[0].orderStatus.status == "Filled")
    await until(lambda: all(t.orderStatus.status == "Submitted" for t in trades[1:]))


async def test_historical_and_real_time_bars(tws: FakeTws, ib: ib_async.IB) -> None:
    [stock] = await ib.qualifyContractsAsync(ib_async.Stock("SPX", "SMART", "USD"))
    bars = await ib.reqHistoricalDataAsync(stock, "", "30 D", "1 day", "TRADES", True)
    assert [bar.close for bar in bars] == [b.close for b in tws.published_bars("SPX")][-len(bars) :]
    assert len(bars) > 0
    live = ib.reqRealTimeBars(stock, 5, "TRADES", False)
    await until(lambda: any(s.realtime for s in tws.sessions))
    await asyncio.to_thread(tws.publish_next_bar)
    await until(lambda: len(live) == 1)
    assert live[0].close == _bar(tws, WARM).close
