"""Run ``alpaca-py``'s own clients against a :class:`~tests.kit.fake_alpaca.FakeAlpaca`.

:func:`trading_client` and :func:`history_client` build the SDK's REST clients with the fake's
URL overrides. :class:`SdkStream` runs a ``TradingStream`` or ``StockDataStream`` in a thread
(``stream.run()`` is blocking), collects what its handlers receive, and lets a test wait for a
condition on it. Stopping closes the fake's side too, so the SDK's receive loop (which checks
its stop flag only every 5 seconds) ends at once.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import Any

from tests.kit.fake_alpaca import DATA, TRADING, FakeAlpaca

with warnings.catch_warnings():  # alpaca-py still imports websockets' deprecated legacy client
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.common.exceptions import APIError
    from alpaca.data.historical import StockHistoricalDataClient
    from alpaca.data.live import StockDataStream
    from alpaca.data.requests import StockBarsRequest
    from alpaca.data.timeframe import TimeFrame
    from alpaca.trading.client import TradingClient
    from alpaca.trading.requests import (
        GetOrdersRequest,
        LimitOrderRequest,
        MarketOrderRequest,
        ReplaceOrderRequest,
        StopLimitOrderRequest,
        StopLossRequest,
        StopOrderRequest,
        TakeProfitRequest,
        TrailingStopOrderRequest,
    )
    from alpaca.trading.stream import TradingStream
__all__ = [
    "APIError",
    "GetOrdersRequest",
    "LimitOrderRequest",
    "MarketOrderRequest",
    "ReplaceOrderRequest",
    "SdkStream",
    "StockBarsRequest",
    "StopLimitOrderRequest",
    "StopLossRequest",
    "StopOrderRequest",
    "TakeProfitRequest",
    "TimeFrame",
    "TradingClient",
    "TrailingStopOrderRequest",
    "bar_stream",
    "history_client",
    "trade_stream",
    "trading_client",
]


def trading_client(fake: FakeAlpaca, **options: Any) -> Any:
    """Return ``alpaca.trading.client.TradingClient`` pointed at ``fake``."""
    return TradingClient(fake.key_id, fake.secret, paper=True, url_override=fake.url, **options)


def history_client(fake: FakeAlpaca) -> Any:
    """Return ``alpaca.data.historical.StockHistoricalDataClient`` pointed at ``fake``."""
    return StockHistoricalDataClient(fake.key_id, fake.secret, url_override=fake.data_url)


class SdkStream:
    """One SDK stream running in a thread; ``received`` is what its handler got, in order."""

    def __init__(self, fake: FakeAlpaca, stream: Any, kind: str, ready: Callable[[], bool]) -> None:
        self.fake = fake
        self.ready = ready
        self.stream = stream
        self.kind = kind
        self.received: list[Any] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=stream.run, daemon=True)

    async def handle(self, item: Any) -> None:
        """The SDK handler: keep ``item`` and wake the waiters."""
        with self._changed:
            self.received.append(item)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = 10.0) -> list[Any]:
        """Wait until ``predicate(received)`` holds; fail after ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.received), timeout):
                raise AssertionError(f"stream condition not met in {timeout}s: {self.received}")
            return list(self.received)

    def __enter__(self) -> SdkStream:
        """Start the SDK's loop and wait until the fake sees it listening or subscribed."""
        self._thread.start()
        if not self.fake.streams.wait_for(self.ready, 10.0):
            raise AssertionError(f"the SDK's {self.kind} stream did not subscribe in time")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the SDK's loop, close the fake's side of the connection, join the thread."""
        loop = getattr(self.stream, "_loop", None)
        if loop is not None and loop.is_running():
            self.stream.stop()
        self.fake.drop_streams(self.kind)
        self._thread.join(timeout=10)


def trade_stream(fake: FakeAlpaca, **options: Any) -> SdkStream:
    """Return a running-on-enter ``TradingStream`` listening to ``trade_updates``."""
    stream = TradingStream(fake.key_id, fake.secret, url_override=fake.ws_url, **options)
    runner = SdkStream(fake, stream, TRADING, lambda: fake.streams.listeners() > 0)
    stream.subscribe_trade_updates(runner.handle)
    return runner


def bar_stream(fake: FakeAlpaca, *symbols: str, updated: bool = False, **options: Any) -> SdkStream:
    """Return a running-on-enter ``StockDataStream`` subscribed to bars of ``symbols``."""
    stream = StockDataStream(fake.key_id, fake.secret, url_override=fake.data_ws_url, **options)
    channel = "updatedBars" if updated else "bars"
    ready = lambda: all(fake.streams.bar_subscribers(s, channel) for s in symbols)  # noqa: E731
    runner = SdkStream(fake, stream, DATA, ready)
    stream.subscribe_bars(runner.handle, *symbols)
    if updated:
        stream.subscribe_updated_bars(runner.handle, *symbols)
    return runner
