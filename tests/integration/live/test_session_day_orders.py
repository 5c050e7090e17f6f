"""DAY orders end at the session close everywhere: backtest, paper (live runtime), venue (lockstep).

The issue's measured scenario: at each XNYS session's first minute an event strategy places a
DAY limit buy 1.5 % under that minute's close (the twin: a DAY stop buy 1.5 % over it) and
sells what it holds two minutes before the close. On 1-minute XNYS bars over sessions with
Thanksgiving and its early close, an unfilled DAY order must expire with its session: a paper
broker that kept it overnight filled it the next morning (5 paper fills against 4).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.execution import CommissionConfig
from quantstrata.live import Live, LiveConfig
from quantstrata.model.orders import Fill, OrderRequest, OrderSide, OrderType, TimeInForce
from quantstrata.process.calendar import session_table
from quantstrata.strategy import BarSnapshot, EventStrategy, StrategyContext
from quantstrata.venue import VenueConfig, VenueServer
from tests.kit.bars import make_bars
from tests.kit.live_checks import fills_frame
from tests.kit.venue import KEY, broker

SYMBOL = "SPY"
CASH = 100_000.0
COMMISSION = CommissionConfig(rate=0.001)
_COMPARED = ("ts", "symbol", "side", "quantity", "price", "commission")
_SESSIONS = session_table("XNYS", date(2024, 11, 26), date(2024, 11, 29))


class SessionEntries(EventStrategy):
    """Buy at each session's first minute with a DAY ``order_type``; sell 2 minutes before close."""

    def __init__(self, order_type: OrderType) -> None:
        super().__init__()
        self.order_type = order_type
        self.opens = frozenset(_SESSIONS["open"].to_list())
        self.flattens = frozenset(c - timedelta(minutes=2) for c in _SESSIONS["close"].to_list())

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        bar = bars[SYMBOL]
        if bar.ts in self.opens:
            limit = self.order_type is OrderType.LIMIT
            price = bar.close * (0.985 if limit else 1.015)
            context.submit(
                OrderRequest(
                    SYMBOL,  # type: ignore[arg-type]
                    OrderSide.BUY,
                    10.0,
                    self.order_type,
                    limit_price=price if limit else None,
                    stop_price=None if limit else price,
                    time_in_force=TimeInForce.DAY,
                )
            )
        elif bar.ts in self.flattens and context.position(SYMBOL):
            context.submit(OrderRequest.market(SYMBOL, -context.position(SYMBOL)))


def _bars(seed: int) -> pl.DataFrame:
    minutes = (_SESSIONS["close"] - _SESSIONS["open"]).dt.total_minutes().sum()
    start = datetime(2024, 11, 26, 14, 30, tzinfo=UTC)
    return make_bars(minutes, symbol=SYMBOL, start=start, calendar="XNYS", seed=seed)


def _frame(fills: list[Fill]) -> pl.DataFrame:
    return fills_frame(fills, _COMPARED).sort("ts", "side")


def _config(journal: Path) -> LiveConfig:
    return LiveConfig(
        symbols=(SYMBOL,),
        interval="1m",
        journal=str(journal),
        warm_up=False,
        reconcile_interval=3600,
    )


async def _paper(bars: pl.DataFrame, order_type: OrderType, folder: Path) -> pl.DataFrame:
    live = Live.for_paper(
        SessionEntries(order_type),
        bars,
        journal=folder / "paper.sqlite",
        cash=CASH,
        commission=COMMISSION,
        calendar="XNYS",
    )
    summary = await live.run_async()
    assert summary.stopped_by == "feed ended"
    return _frame(await live.broker.fills())


async def _venue(bars: pl.DataFrame, order_type: OrderType, folder: Path) -> pl.DataFrame:
    config = VenueConfig(speed="lockstep", cash=CASH, commission=COMMISSION, calendar="XNYS")
    server = VenueServer(bars, config, KEY, interval="1m")
    await server.start()
    try:
        live = Live.for_venue(SessionEntries(order_type), server.url, KEY, _config(folder / "v.db"))
        summary = await live.run_async()
        client = broker(server)
        fills = await client.fills()
        await client.close()
    finally:
        await server.stop()
    assert summary.stopped_by == "feed ended"
    return _frame(fills)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("order_type", "seed"), [(OrderType.LIMIT, 8), (OrderType.STOP, 5)], ids=["limit", "stop"]
)
async def test_day_entries_fill_alike_in_backtest_paper_and_venue(
    order_type: OrderType, seed: int, tmp_path: Path
) -> None:
    bars = _bars(seed)
    config = BacktestConfig(
        cash=CASH, commission=COMMISSION, calendar="XNYS", check_lookahead=False
    )
    result = Backtest(bars, SessionEntries(order_type), config).run()
    expected = result.fills.select(_COMPARED).sort("ts", "side")
    assert "expired" in result.orders["status"].to_list()[:-1]  # a later session follows
    assert expected.height >= 2
    for environment in (_paper, _venue):
        got = await environment(bars, order_type, tmp_path)
        assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-9)
