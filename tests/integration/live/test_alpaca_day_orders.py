"""DAY orders on intraday bars behave as in the backtest through AlpacaBroker on the fake Alpaca.

One-minute NYSE bars over three sessions; a scripted strategy sends DAY limit, stop and market
orders (one decided on a session's last bar, so it works through the next session), a
fractional market order (sent ``day``) and a GTC limit that outlives every session. The fake
expires a DAY order at the close of its NYSE session, as Alpaca does; the backtest with the
XNYS calendar expires it at the same close. Fills and the orders' ends are the backtest's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.model.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from quantstrata.process.calendar import session_table
from tests.integration.live.alpaca_runs import run_on_fake
from tests.kit.backtest import ScriptedOrders
from tests.kit.bars import make_bars
from tests.kit.fake_alpaca import FakeAlpaca
from tests.kit.live_checks import fills_frame

_COMPARED = ("ts", "symbol", "side", "quantity", "price", "commission")
_DAY = TimeInForce.DAY
# 30 bars of 2 January 2024 (its last half hour), the whole of 3 January, 30 bars of 4 January
_START = datetime(2024, 1, 2, 20, 30, tzinfo=UTC)
_LAST_OF_FIRST = 29


def _script(bars: pl.DataFrame) -> dict[int, list[OrderRequest]]:
    close = bars["close"].to_list()
    return {
        3: [OrderRequest.limit("TEST", 5, close[3] * 0.8)],  # GTC: works to the end
        5: [OrderRequest.limit("TEST", 3, close[5] * 0.9, time_in_force=_DAY)],  # expires today
        10: [OrderRequest.limit("TEST", 2, close[10] * 0.9995, time_in_force=_DAY)],
        _LAST_OF_FIRST: [
            OrderRequest.limit("TEST", 4, close[29] * 0.9, time_in_force=_DAY),  # next session
            OrderRequest.market("TEST", 1, time_in_force=_DAY),  # fills at the next open
        ],
        100: [
            OrderRequest(
                "TEST",
                OrderSide.BUY,
                1,
                OrderType.STOP,
                stop_price=close[100] * 1.2,
                time_in_force=_DAY,
            ),
            OrderRequest.market("TEST", 0.5),  # fractional: sent as a day order
        ],
        200: [OrderRequest.limit("TEST", -1, close[200] * 1.0005, time_in_force=_DAY)],
    }


@pytest.mark.asyncio
async def test_day_orders_on_minute_bars_fill_and_expire_as_in_the_backtest(
    tmp_path: Path,
) -> None:
    bars = make_bars(30 + 390 + 30, interval="1m", calendar="XNYS", start=_START, seed=7)
    script = _script(bars)
    expected = Backtest(
        bars, ScriptedOrders(script), BacktestConfig(calendar="XNYS", check_lookahead=False)
    ).run()
    with FakeAlpaca(bars, interval="1m") as fake:
        run = await run_on_fake(
            fake, bars, ScriptedOrders(script), tmp_path / "journal.sqlite", interval="1m"
        )
        venue_orders = fake.orders()
    assert run.summary.bar_times == bars.height
    live = fills_frame(run.fills, _COMPARED).sort("ts", "symbol")
    wanted = expected.fills.select(_COMPARED).sort("ts", "symbol")
    assert live.height >= 4
    assert_frame_equal(live, wanted, check_exact=False, rel_tol=1e-9)
    # each order ends as in the backtest (orders in the order they were decided)
    ours = [order.status.value for order in run.state.orders.values()]
    assert ours == expected.orders["status"].to_list()
    assert ours.count("expired") >= 3
    # Alpaca's (the fake's) expiry: the close of the session each day order worked through
    closes = set(session_table("XNYS", bars["ts"].min(), bars["ts"].max())["close"].to_list())
    expired_at = [
        datetime.fromisoformat(order["expired_at"].replace("Z", "+00:00"))
        for order in venue_orders
        if order["status"] == "expired"
    ]
    assert len(expired_at) == ours.count("expired")
    assert set(expired_at) <= closes
    assert {order["time_in_force"] for order in venue_orders if float(order["qty"]) == 0.5} == {
        "day"
    }
