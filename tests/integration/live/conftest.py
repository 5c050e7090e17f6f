"""Fixtures of the IB connector's tests: a fake TWS replaying SPX, an IBBroker connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from quantstrata.data.samples import load_sample
from quantstrata.live.brokers.ib import IBBroker
from tests.kit.fake_tws import FakeTws
from tests.kit.ib_runs import WARM, broker_for


@pytest.fixture
def tws() -> Iterator[FakeTws]:
    """A fake TWS replaying 80 daily SPX bars, the first ``WARM`` published."""
    with FakeTws(load_sample("SPX_1d").head(80), published=WARM) as server:
        yield server


@pytest_asyncio.fixture
async def ib_broker(tws: FakeTws) -> AsyncIterator[IBBroker]:
    """An :class:`IBBroker` connected to ``tws``."""
    client = broker_for(tws)
    await client.connect()
    yield client
    await client.close()
