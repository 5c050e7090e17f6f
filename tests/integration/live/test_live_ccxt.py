"""The live runtime trades a strategy through CcxtBroker: real ccxt.binance, fake Binance.

Bars are replayed from the SPX sample (renamed BTC/USDT); before each bar reaches the
runtime the fake's market moves to its close, so market orders fill there and resting limits
fill when the market crosses them. One run is clean; the other meets a rate limit with
``Retry-After`` and a create that times out although the venue accepted it. Both must end
with the journal holding exactly the venue's trades, positions equal to the balances, and no
client order id sent twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from quantstrata.core.secrets import Secret
from quantstrata.data import load_sample
from quantstrata.live import Live, LiveConfig
from quantstrata.live.brokers import CcxtBroker
from quantstrata.live.feed import LagListener
from quantstrata.live.feeds import ReplayFeed
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.model.bar import Bar
from quantstrata.model.interval import Interval
from quantstrata.model.orders import OrderRequest, OrderStatus, Resolved, TimedOut
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from tests.kit.fake_binance import FakeBinance, ccxt_config

KEY = "live-binance-key-19af"
SECRET = "live-binance-secret-77c2"
SYMBOL = "BTC/USDT"


class BuySellAndRest(EventStrategy):
    """Buy 2, sell 1 two bars later; rest a limit below the market and cancel it next bar."""

    def __init__(self) -> None:
        self.bar = 0

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        for order in context.open_orders(SYMBOL):
            context.cancel(order.order_id)
        close = bars[SYMBOL].close
        if self.bar % 4 == 0:
            context.submit(OrderRequest.market(SYMBOL, 2.0))
        elif self.bar % 4 == 2 and context.position(SYMBOL) >= 1:
            context.submit(OrderRequest.market(SYMBOL, -1.0))
        context.submit(OrderRequest.limit(SYMBOL, 1.0, round(close * 0.995, 2)))
        self.bar += 1


class MarketFeed(ReplayFeed):
    """Replay bars, moving the fake Binance market to each bar's close first."""

    def __init__(self, server: FakeBinance, bars: int) -> None:
        frame = load_sample("SPX_1d").head(bars).with_columns(symbol=pl.lit(SYMBOL))
        super().__init__(frame, "1d")
        self.server = server

    async def bars(
        self,
        symbols: Sequence[str],
        interval: Interval,
        *,
        after: datetime | None = None,
        on_lag: LagListener | None = None,
    ) -> AsyncIterator[Bar]:
        async for bar in super().bars(symbols, interval, after=after, on_lag=on_lag):
            self.server.account.set_price("BTCUSDT", bar.close)
            yield bar


async def _run(
    tmp_path: Path, server: FakeBinance, bars: int
) -> tuple[LiveState, CcxtBroker, list[object]]:
    config = ccxt_config(server, poll_seconds=0.05, timeout_seconds=0.5)
    broker = CcxtBroker(config, api_key=Secret(KEY), secret=Secret(SECRET))
    live_config = LiveConfig(
        symbols=(SYMBOL,),
        journal=str(tmp_path / "journal.sqlite"),
        warm_up=False,
        reconcile_interval=3_600,
    )
    summary = await Live(
        BuySellAndRest(), MarketFeed(server, bars), broker, live_config
    ).run_async()
    assert summary.stopped_by == "feed ended"
    store = SqliteJournal(tmp_path / "journal.sqlite")
    try:
        state = LiveState.fold(store.replay())
        entries = [record.entry for record in store.replay()]
    finally:
        store.close()
    return state, broker, entries


def _assert_matches_venue(state: LiveState, server: FakeBinance) -> None:
    venue_trades = {f"BTCUSDT-{trade['id']}" for trade in server.account.trades}
    ours = {trade for order in state.orders.values() for trade in order.trade_ids}
    assert ours == venue_trades
    held = {str(s): p.quantity for s, p in state.positions.items() if not p.is_flat}
    balance = server.account.balances.get("BTC", 0.0)
    assert held == ({SYMBOL: pytest.approx(balance)} if balance else {})
    assert state.cash == pytest.approx(server.account.balances["USDT"])
    client_ids = server.account.client_ids()
    assert len(client_ids) == len(set(client_ids))
    assert set(client_ids) <= {str(order_id) for order_id in state.orders}
    assert not [o for o in state.orders.values() if o.status is OrderStatus.UNKNOWN]


@pytest.mark.asyncio
async def test_a_strategy_trades_live_through_ccxt(tmp_path: Path):
    with FakeBinance(api_key=KEY) as server:
        state, _, _ = await _run(tmp_path, server, bars=24)
    _assert_matches_venue(state, server)
    statuses = {order.status for order in state.orders.values()}
    assert {OrderStatus.FILLED, OrderStatus.CANCELLED} <= statuses
    assert len(server.account.trades) >= 12


@pytest.mark.asyncio
async def test_rate_limits_and_an_accepted_create_that_timed_out_lose_nothing(tmp_path: Path):
    with FakeBinance(api_key=KEY) as server:
        server.stall_creates(1.5, times=2)
        server.rate_limit(times=3, retry_after="0.05")
        state, broker, entries = await _run(tmp_path, server, bars=12)
    _assert_matches_venue(state, server)
    assert broker.rate_limited >= 3
    assert min(broker.waits[:3]) >= 0.05
    assert len(server.stalled) == 2
    timed_out = {entry.order_id for entry in entries if isinstance(entry, TimedOut)}
    resolved = {entry.order_id for entry in entries if isinstance(entry, Resolved)}
    assert timed_out == resolved
    assert timed_out
    for order_id in server.stalled:
        # A stalled create is either resolved by its client id after the timeout, or its
        # fill was already booked from the polled trades (then the timeout changes nothing).
        order = state.orders[order_id]
        assert order_id in timed_out or order.status is OrderStatus.FILLED
