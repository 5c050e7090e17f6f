"""Every order type reaches the fake Alpaca through AlpacaBroker with its prices."""

from __future__ import annotations

import pytest

from quantstrata.live.brokers.alpaca import AlpacaBroker
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Bracket, OneCancelsOther, OrderRequest, OrderSide, OrderType
from tests.integration.live.alpaca_runs import alpaca_config, credentials, spx_bars
from tests.kit.fake_alpaca import FakeAlpaca

pytestmark = pytest.mark.asyncio

_PRICES = ("limit_price", "stop_price", "trail_price", "trail_percent")


def _requests(close: float) -> dict[str, OrderRequest]:
    below, above = round(close * 0.9, 2), round(close * 1.1, 2)
    return {
        "limit": OrderRequest.limit("SPX", 1, below),
        "stop": OrderRequest.stop("SPX", 1, above),
        "stop_limit": OrderRequest(
            "SPX", OrderSide.BUY, 1, OrderType.STOP_LIMIT, limit_price=above, stop_price=above
        ),
        "trail_amount": OrderRequest(
            "SPX", OrderSide.SELL, 1, OrderType.TRAILING_STOP, trail_amount=5.0
        ),
        "trail_percent": OrderRequest(
            "SPX", OrderSide.SELL, 1, OrderType.TRAILING_STOP, trail_percent=0.05
        ),
    }


def _sent(order: dict[str, object]) -> dict[str, float]:
    return {key: float(str(order[key])) for key in _PRICES if order.get(key) is not None}


@pytest.mark.parametrize("kind", ["limit", "stop", "stop_limit", "trail_amount", "trail_percent"])
async def test_a_simple_order_keeps_its_prices(kind: str) -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        request = _requests(fake.account.mark("SPX"))[kind]
        broker = AlpacaBroker(alpaca_config(fake), credentials(fake))
        await broker.submit(ClientOrderId("p-1"), request)
        (order,) = fake.orders()
    expected = {
        "limit_price": request.limit_price,
        "stop_price": request.stop_price,
        "trail_price": request.trail_amount,
        "trail_percent": None if request.trail_percent is None else request.trail_percent * 100,
    }
    assert _sent(order) == {key: value for key, value in expected.items() if value is not None}


async def test_a_bracket_and_an_oco_keep_their_prices() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        close = fake.account.mark("SPX")
        below, above = round(close * 0.9, 2), round(close * 1.1, 2)
        broker = AlpacaBroker(alpaca_config(fake), credentials(fake))
        entry = OrderRequest.limit("SPX", 1, close)
        await broker.submit_group(ClientOrderId("b-1"), Bracket(entry, below, above))
        exits = OneCancelsOther(
            OrderRequest.limit("SPX", -1, above), OrderRequest.stop("SPX", -1, below)
        )
        await broker.submit_group(ClientOrderId("o-1"), exits)
        orders = {str(order["client_order_id"]): order for order in fake.orders()}
    sent = sorted(sorted(_sent(order).items()) for order in orders.values())
    legs = [[("limit_price", above)], [("stop_price", below)]]
    assert sent == sorted([[("limit_price", close)], *legs, *legs])
