"""No Alpaca key in any log line, exception text or repr, working or failing.

The broker and the feed run on the fake Alpaca with logging at DEBUG (urllib3 and websockets
included) through orders, a rate limit, a timed-out create, a dropped stream and refused
keys; then every record, exception and repr is searched for the key id and the secret.
"""

from __future__ import annotations

import logging

import pytest

from quantstrata.core.secrets import Secret
from quantstrata.live.broker import BrokerError
from quantstrata.live.brokers._alpaca_rest import AlpacaCredentials
from quantstrata.live.brokers.alpaca import AlpacaBroker
from quantstrata.live.feeds.alpaca import AlpacaFeed
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.interval import Interval
from quantstrata.model.orders import OrderRequest
from tests.integration.live.alpaca_runs import alpaca_config, spx_bars
from tests.kit.fake_alpaca import FakeAlpaca
from tests.kit.fake_alpaca_stream import TRADING

KEY = "PKSECRETKEYID0000042"
SECRET = "alpaca-secret-key-9f8e7d6c5b4a"


@pytest.mark.asyncio
async def test_no_key_or_secret_in_logs_exceptions_or_reprs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with FakeAlpaca(spx_bars(), published=30, key_id=KEY, secret=SECRET) as fake:
        config = alpaca_config(fake, timeout_seconds=0.5, max_attempts=2)
        keys = AlpacaCredentials(Secret(KEY), Secret(SECRET))
        broker = AlpacaBroker(config, keys)
        feed = AlpacaFeed(config, keys)
        texts += [repr(broker), repr(feed), repr(config), repr(keys)]
        try:
            await broker.connect()
            await broker.submit(ClientOrderId("s-1"), OrderRequest.market("SPX", 1.0))
            fake.stall_creates(1.5)
            fake.rate_limit(times=1, retry_after=0)
            for order_id in ("s-2", "s-3"):
                try:
                    await broker.submit(ClientOrderId(order_id), OrderRequest.market("SPX", 1.0))
                except BrokerError as error:
                    texts.append(str(error))
            fake.drop_streams(TRADING)
            await broker.query_order(ClientOrderId("s-2"))
            history = await feed.history(["SPX"], Interval.parse("1d"), fake.now, 5)
            assert history.height == 5
        finally:
            await broker.close()
            await feed.close()
        wrong = AlpacaBroker(config, AlpacaCredentials(Secret("PKWRONG"), Secret(SECRET)))
        with pytest.raises(BrokerError) as caught:
            await wrong.connect()
        texts.append(str(caught.value))
        await wrong.close()
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.exc_text or "") for record in caplog.records]
    for text in texts:
        assert KEY not in text
        assert SECRET not in text
