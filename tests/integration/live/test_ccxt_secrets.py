"""No ccxt API key or secret in any log line, exception text or repr, working or failing.

ccxt logs every request's headers (the key travels in ``X-MBX-APIKEY``) at DEBUG; the broker
routes ccxt's logger through a redacting filter. This runs the broker and the feed with
logging at DEBUG through orders, a rate limit, a timed-out create and refused keys, then
searches every record, exception and repr.
"""

from __future__ import annotations

import logging

import pytest

from quantstrata.core.secrets import Secret
from quantstrata.live import BrokerError
from quantstrata.live.brokers import CcxtBroker
from quantstrata.live.feeds import CcxtFeed
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest
from tests.kit.fake_binance import FakeBinance, ccxt_config

KEY = "ccxt-live-key-3e9d0f1b2a7c"
SECRET = "ccxt-live-secret-8b6a5f4e3d2c"


@pytest.mark.asyncio
async def test_no_key_or_secret_in_logs_exceptions_or_reprs(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with FakeBinance(api_key=KEY) as server:
        config = ccxt_config(server, poll_seconds=0.0, timeout_seconds=0.3, max_attempts=2)
        broker = CcxtBroker(config, api_key=Secret(KEY), secret=Secret(SECRET))
        texts += [repr(broker), repr(config)]
        try:
            await broker.connect()
            await broker.submit(ClientOrderId("s-1"), OrderRequest.market("BTC/USDT", 1.0))
            server.stall_creates(1.0)
            server.rate_limit(times=1, retry_after="0")
            for order_id, quantity in (("s-2", 1.0), ("s-3", 1e6)):
                try:
                    await broker.submit(
                        ClientOrderId(order_id), OrderRequest.market("BTC/USDT", quantity)
                    )
                except BrokerError as error:
                    texts += [str(error), repr(error)]
            server.rate_limit(times=2, retry_after="0")
            with pytest.raises(BrokerError) as exhausted:
                await broker.account()
            texts += [str(exhausted.value), repr(exhausted.value)]
            texts += [repr(order) for order in await broker.open_orders()]
            texts += [repr(fill) for fill in await broker.fills()]
        finally:
            await broker.close()
        wrong = CcxtBroker(config, api_key=Secret(KEY + "x"), secret=Secret(SECRET))
        with pytest.raises(BrokerError) as refused:
            await wrong.connect()
        await wrong.close()
        texts += [str(refused.value), repr(refused.value), repr(wrong)]
        feed = CcxtFeed(config, api_key=Secret(KEY), secret=Secret(SECRET))
        texts.append(repr(feed))
        await feed.close()
    texts += [record.getMessage() for record in caplog.records]
    texts += [record.exc_text or "" for record in caplog.records]
    assert any("X-MBX-APIKEY" in text for text in texts)  # the headers were logged, masked
    assert len(texts) > 20
    for text in texts:
        assert KEY not in text
        assert SECRET not in text
