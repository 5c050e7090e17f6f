"""The parity test: a scripted order sequence traded on the venue in lockstep fills exactly as
the backtest fills it (same bars, prices, quantities and commissions)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.samples import load_sample
from quantstrata.execution import CommissionConfig, FillConfig, FillPolicy, SlippageConfig
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.interval import Interval
from quantstrata.model.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from tests.kit.backtest import ScriptedOrders
from tests.kit.venue import broker, feed, running_venue, spx

_COMPARED = ["ts", "side", "quantity", "price", "commission", "liquidity"]


def _script(bars: pl.DataFrame) -> dict[int, list[OrderRequest]]:
    close = bars["close"].to_list()
    buy, sell = OrderSide.BUY, OrderSide.SELL
    return {
        1: [OrderRequest.market("SPX", 10)],
        3: [OrderRequest.limit("SPX", 5, close[3] * 0.995)],
        6: [OrderRequest.stop("SPX", -4, close[6] * 0.99)],
        10: [OrderRequest.market("SPX", -6, time_in_force=TimeInForce.DAY)],
        14: [OrderRequest.limit("SPX", -5, close[14] * 1.005)],
        18: [OrderRequest("SPX", sell, 3, OrderType.TRAILING_STOP, trail_percent=0.01)],
        22: [
            OrderRequest(
                "SPX",
                buy,
                2,
                OrderType.STOP_LIMIT,
                stop_price=close[22] * 1.005,
                limit_price=close[22] * 1.01,
            )
        ],
        30: [OrderRequest.market("SPX", 1, time_in_force=TimeInForce.IOC)],
        40: [OrderRequest.market("SPX", -50, reduce_only=True)],
        50: [OrderRequest.limit("SPX", 2, close[50] * 0.5), OrderRequest.market("SPX", 4)],
    }


async def _trade_on_venue(
    bars: pl.DataFrame, script: dict[int, list[OrderRequest]], **settings: object
) -> tuple[pl.DataFrame, dict[str, float], int]:
    async with running_venue(bars, speed="lockstep", **settings) as server:
        client, stream = broker(server), feed(server)
        await client.connect()
        index = 0
        async for bar in stream.bars(["SPX"], Interval.parse("1d")):
            for number, request in enumerate(script.get(index, [])):
                await client.submit(ClientOrderId(f"S{index}-{number}"), request)
            await stream.ack(bar.ts)
            index += 1
        fills = await client.fills()
        account = await client.account()
        open_orders = await client.open_orders()
        await client.close()
        await stream.close()
    frame = pl.DataFrame(
        {
            "ts": [fill.ts for fill in fills],
            "side": [fill.side.name.lower() for fill in fills],
            "quantity": [fill.quantity for fill in fills],
            "price": [fill.price for fill in fills],
            "commission": [fill.commission for fill in fills],
            "liquidity": [fill.liquidity.value for fill in fills],
        }
    )
    assert index == bars.height
    return frame, dict(account.positions), len(open_orders)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "costs",
    [
        {},
        {
            "commission": CommissionConfig(rate=0.001, minimum=1.0),
            "slippage": SlippageConfig(fixed_basis_points=2.0),
        },
        {
            "commission": CommissionConfig(per_order=2.0),
            "fill": FillConfig(policy=FillPolicy.NEXT_CLOSE),
        },
    ],
    ids=["no-costs", "commission-slippage", "next-close"],
)
async def test_lockstep_fills_equal_the_backtest(costs: dict[str, object]) -> None:
    bars = spx(90)
    script = _script(bars)
    expected = Backtest(bars, ScriptedOrders(script), BacktestConfig(**costs)).run()  # type: ignore[arg-type]

    fills, positions, still_open = await _trade_on_venue(bars, script, **costs)

    stamp = pl.col("ts").cast(pl.Datetime("us", "UTC"))
    wanted = expected.fills.select(_COMPARED).with_columns(stamp)
    assert wanted.height >= 8
    assert_frame_equal(fills.with_columns(stamp), wanted, check_exact=False, rel_tol=1e-12)
    held = float(
        expected.fills.select(
            (pl.when(pl.col("side") == "buy").then(1.0).otherwise(-1.0) * pl.col("quantity")).sum()
        ).item()
    )
    assert positions["SPX"] == pytest.approx(held)
    working = expected.orders.filter(pl.col("status").is_in(["pending", "partial"])).height
    assert still_open == working >= 1


@pytest.mark.asyncio
async def test_snapshots_give_whole_bar_times_and_skip_times_without_wanted_symbols() -> None:
    columns = ["ts", "symbol", "open", "high", "low", "close", "volume"]
    goog = load_sample("GOOG_1d").select(columns).head(40)
    spx_rows = (
        load_sample("SPX_1d").select(columns).filter(pl.col("ts").is_in(goog["ts"].implode()))
    )
    goog = goog.filter(pl.int_range(pl.len()) % 5 != 0)  # SPX alone at every 5th time
    bars = pl.concat([spx_rows, goog]).sort("ts", "symbol")
    async with running_venue(bars, speed="lockstep") as server:
        stream = feed(server)
        both = []
        async for snapshot in stream.snapshots(["GOOG", "SPX"], Interval.parse("1d")):
            both.append([bar.symbol for bar in snapshot])
            await stream.ack(snapshot[0].ts)
        await stream.close()
        again = feed(server)
        only_goog = [s[0].ts async for s in again.snapshots(["GOOG"], Interval.parse("1d"))]
        await again.close()
    assert len(both) == spx_rows.height
    assert both.count(["GOOG", "SPX"]) == goog.height
    assert both.count(["SPX"]) == spx_rows.height - goog.height
    # a subscriber joining after the end gets the last published bar time, then the end
    assert only_goog == [goog["ts"].max()] == [bars["ts"].max()]
