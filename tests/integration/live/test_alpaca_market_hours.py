"""Market hours through AlpacaBroker on the fake Alpaca (real alpaca-py, the fake's clock).

A market order decided while the regular session is closed is held by the broker and sent at
the open, which Alpaca's ``/v2/clock`` announces (``next_open``); with extended hours asked
for, a day limit order goes at once and a market order is refused (Alpaca takes only day limit
orders outside the regular session).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from quantstrata.live.broker import OrderRejectedError
from quantstrata.live.brokers._alpaca_mapping import AlpacaRefusal
from quantstrata.live.brokers.alpaca import CLOCK_RECHECK_SECONDS, AlpacaBroker
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import Bracket, OrderRequest, TimeInForce
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
        seen_while_closed: list[list[str]] = []
        waits: list[float] = []

        async def venue_time_passes(seconds: float) -> None:
            # The broker's only wait: the fake's session opens while it waits.
            waits.append(seconds)
            seen_while_closed.append(_posted(fake))
            fake.market_open = True

        broker = AlpacaBroker(alpaca_config(fake), credentials(fake), sleep=venue_time_passes)
        await broker.submit(ClientOrderId("held-1"), OrderRequest.market("SPX", 2))
        assert _posted(fake) == ["held-1"]
        opened_at = fake.publish_next_bar()
    assert seen_while_closed == [[]]
    assert waits == [min(opens_in.total_seconds(), CLOCK_RECHECK_SECONDS)]
    assert [(fill[0], fill[4]) for fill in fake.fills()] == [("held-1", opened_at)]
    assert fake.positions() == {"SPX": 2.0}


async def test_a_bracket_with_a_market_entry_is_held_too() -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        fake.market_open = False
        seen_while_closed: list[list[str]] = []

        async def venue_time_passes(_seconds: float) -> None:
            seen_while_closed.append(_posted(fake))
            fake.market_open = True

        broker = AlpacaBroker(alpaca_config(fake), credentials(fake), sleep=venue_time_passes)
        close = fake.account.mark("SPX")
        bracket = Bracket(OrderRequest.market("SPX", 1), close * 0.9, close * 1.1)
        await broker.submit_group(ClientOrderId("br-1"), bracket)
        posted = _posted(fake)
    assert seen_while_closed == [[]]
    assert posted[0] == "br-1"


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
