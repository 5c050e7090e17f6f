"""CcxtBroker drives the real ccxt.binance against a local fake Binance (real HTTP)."""

from __future__ import annotations

import pytest

from quantstrata.core.secrets import Secret
from quantstrata.live import (
    Broker,
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
)
from quantstrata.live.brokers import CcxtAuthenticationError, CcxtBroker
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest, OrderStatus, TimeInForce
from tests.kit.fake_binance import FakeBinance, ccxt_config

KEY = "binance-key-5c1e8b2d9f"
SECRET = "binance-secret-a7d3f09e61"


def _broker(server: FakeBinance, key: str = KEY, **settings: object) -> CcxtBroker:
    settings.setdefault("poll_seconds", 0.0)
    return CcxtBroker(ccxt_config(server, **settings), api_key=Secret(key), secret=Secret(SECRET))


@pytest.mark.asyncio
async def test_market_and_limit_orders_map_onto_the_order_model():
    with FakeBinance(api_key=KEY) as server:
        broker = _broker(server)
        assert isinstance(broker, Broker)
        try:
            await broker.connect()
            start = await broker.account()
            assert start.cash == pytest.approx(100_000.0)
            assert dict(start.positions) == {}
            buy = ClientOrderId("run-1")
            venue_id = await broker.submit(buy, OrderRequest.market("BTC/USDT", 2.0))
            rest = ClientOrderId("run-2")
            await broker.submit(rest, OrderRequest.limit("BTC/USDT", 1.0, 90.0))
            found = await broker.query_order(buy)
            assert found is not None
            assert (found.venue_order_id, found.status, found.filled_quantity) == (
                venue_id, OrderStatus.FILLED, pytest.approx(2.0)
            )  # fmt: skip
            working = await broker.open_orders()
            assert [(o.order_id, o.status, o.request.limit_price) for o in working] == [
                (rest, OrderStatus.PENDING, 90.0)
            ]
            server.account.set_price("BTCUSDT", 89.0)
            fills = await broker.fills()
            assert [(f.order_id, f.quantity, f.price, f.liquidity) for f in fills] == [
                (buy, 2.0, 100.0, "taker"),
                (rest, 1.0, 90.0, "maker"),
            ]
            assert fills[0].commission == pytest.approx(0.2)
            account = await broker.account()
            assert dict(account.positions) == {"BTC/USDT": pytest.approx(3.0)}
            assert account.cash == pytest.approx(100_000 - 200.2 - 90.09)
            assert await broker.query_order(ClientOrderId("never-sent")) is None
        finally:
            await broker.close()
    assert server.account.client_ids() == ["run-1", "run-2"]


@pytest.mark.asyncio
async def test_cancel_and_refusals_are_rejections():
    with FakeBinance(api_key=KEY) as server:
        broker = _broker(server)
        try:
            await broker.connect()
            order = ClientOrderId("c-1")
            await broker.submit(order, OrderRequest.limit("BTC/USDT", 1.0, 50.0))
            await broker.cancel(order)
            found = await broker.query_order(order)
            assert found is not None
            assert found.status is OrderStatus.CANCELLED
            with pytest.raises(OrderRejectedError, match="refused to cancel"):
                await broker.cancel(order)
            with pytest.raises(OrderRejectedError) as poor:
                await broker.submit(ClientOrderId("c-2"), OrderRequest.market("BTC/USDT", 5_000.0))
            assert "InsufficientFunds" in poor.value.reason
            with pytest.raises(OrderRejectedError, match="lot size"):
                await broker.submit(
                    ClientOrderId("c-3"), OrderRequest.market("BTC/USDT", 0.123456789)
                )
            request = OrderRequest.limit("BTC/USDT", 1.0, 50.0, time_in_force=TimeInForce.DAY)
            with pytest.raises(OrderRejectedError, match="DAY"):
                await broker.submit(ClientOrderId("c-4"), request)
        finally:
            await broker.close()
    assert server.account.client_ids() == ["c-1"]


@pytest.mark.asyncio
async def test_a_rate_limit_waits_the_retry_after_then_succeeds():
    with FakeBinance(api_key=KEY) as server:
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        config = ccxt_config(server, poll_seconds=0.0, max_server_wait_seconds=30.0)
        broker = CcxtBroker(config, api_key=Secret(KEY), secret=Secret(SECRET), sleep=sleep)
        try:
            await broker.connect()
            server.rate_limit(times=2, retry_after="7")
            await broker.submit(ClientOrderId("r-1"), OrderRequest.market("BTC/USDT", 1.0))
            assert broker.rate_limited == 2
            assert waits == [7.0, 7.0]
            server.rate_limit(times=10, retry_after="1")
            with pytest.raises(BrokerUnavailableError, match="after 5 attempts"):
                await broker.account()
        finally:
            await broker.close()
    assert server.account.client_ids() == ["r-1"]


@pytest.mark.asyncio
async def test_a_create_that_times_out_is_unknown_and_found_by_client_id():
    with FakeBinance(api_key=KEY) as server:
        broker = _broker(server, timeout_seconds=0.3)
        try:
            await broker.connect()
            server.stall_creates(1.0)
            order = ClientOrderId("t-1")
            with pytest.raises(SubmitOutcomeUnknownError, match="no answer"):
                await broker.submit(order, OrderRequest.market("BTC/USDT", 1.0))
            found = await broker.query_order(order)
            assert found is not None
            assert found.status is OrderStatus.FILLED
            queries = [
                q for p, q in server.requests if p == "/api/v3/order" and "origClientOrderId" in q
            ]
            assert queries
            assert queries[-1]["origClientOrderId"] == "t-1"
            # Resending the same id does not create a second order: the venue's id comes back.
            assert (
                await broker.submit(order, OrderRequest.market("BTC/USDT", 1.0))
                == found.venue_order_id
            )
        finally:
            await broker.close()
    assert server.account.client_ids() == ["t-1"]


@pytest.mark.asyncio
async def test_refused_keys_are_fatal_and_never_shown():
    with FakeBinance(api_key=KEY) as server:
        broker = _broker(server, key="wrong-key-0000")
        with pytest.raises(CcxtAuthenticationError) as caught:
            await broker.connect()
        await broker.close()
    text = str(caught.value) + repr(caught.value) + repr(broker)
    assert "wrong-key-0000" not in text
    assert SECRET not in text


@pytest.mark.asyncio
async def test_polled_updates_report_fills_and_cancellations():
    with FakeBinance(api_key=KEY) as server:
        broker = _broker(server, poll_seconds=0.02)
        events = []
        try:
            await broker.connect()
            filled, cancelled = ClientOrderId("u-1"), ClientOrderId("u-2")
            await broker.submit(filled, OrderRequest.limit("BTC/USDT", 1.0, 95.0))
            await broker.submit(cancelled, OrderRequest.limit("BTC/USDT", 1.0, 80.0))
            server.account.set_price("BTCUSDT", 94.0)
            server.account.cancel({"symbol": "BTCUSDT", "origClientOrderId": "u-2"})
            updates = broker.updates()
            while len(events) < 2:
                events.append(await anext(updates))
        finally:
            await broker.close()
    kinds = sorted((type(event).__name__, str(event.order_id)) for event in events)
    assert kinds == [("Cancelled", "u-2"), ("FillEvent", "u-1")]


@pytest.mark.asyncio
async def test_a_fresh_broker_finds_orders_and_fills_by_client_id_after_a_restart():
    with FakeBinance(api_key=KEY) as server:
        first = _broker(server)
        try:
            await first.connect()
            await first.submit(ClientOrderId("x-1"), OrderRequest.market("BTC/USDT", 1.0))
            await first.submit(ClientOrderId("x-2"), OrderRequest.limit("BTC/USDT", 1.0, 80.0))
        finally:
            await first.close()
        restarted = _broker(server)  # knows nothing of the orders sent before
        try:
            await restarted.connect()
            found = await restarted.query_order(ClientOrderId("x-1"))
            fills = await restarted.fills()
            working = await restarted.open_orders()
            await restarted.cancel(ClientOrderId("x-2"))
            cancelled = await restarted.query_order(ClientOrderId("x-2"))
        finally:
            await restarted.close()
    assert found is not None
    assert found.status is OrderStatus.FILLED
    assert [(fill.order_id, fill.trade_id) for fill in fills] == [("x-1", "BTCUSDT-1")]
    assert [order.order_id for order in working] == ["x-2"]
    assert cancelled is not None
    assert cancelled.status is OrderStatus.CANCELLED
