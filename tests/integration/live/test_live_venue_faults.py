"""The live runtime against the venue's injected faults: nothing duplicated, nothing lost.

Each test trades a strategy live on the simulated venue (lockstep replay) with one fault
switched on, then checks what the issue asks of every fault: the journal holds exactly the
venue's fills (by trade id), positions equal the venue's, no order reached the venue twice, and
where the fault does not change what the venue did, the fills still equal the backtest's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from quantstrata.data import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.live import Live, LiveConfig
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.state import LiveState
from quantstrata.model.orders import OrderRequest, OrderStatus
from quantstrata.strategy import EventStrategy
from quantstrata.strategy.context import StrategyContext
from quantstrata.strategy.event import BarSnapshot
from quantstrata.strategy.examples import SmaCrossover
from quantstrata.venue import FaultConfig
from tests.kit.live_checks import assert_consistent_with_venue, backtest_fills, fills_frame
from tests.kit.venue import broker, feed, http, running_venue

RATE = 0.001


class LimitThenCancel(EventStrategy):
    """Rest a buy limit at the close; cancel it on the next bar if it is still working."""

    def warmup_bars(self) -> int:
        return 0

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        for order in context.open_orders("SPX"):
            context.cancel(order.order_id)
        context.submit(OrderRequest.limit("SPX", 1.0, bars["SPX"].close * 0.999))


async def _trade(
    strategy: object, journal: Path, faults: dict[str, Any], **broker_options: Any
) -> tuple[LiveState, list[Any], list[str], list[dict[str, Any]]]:
    bars = load_sample("SPX_1d").head(250)
    async with running_venue(
        bars,
        speed="lockstep",
        commission=CommissionConfig(rate=RATE),
        faults=FaultConfig(**faults),
    ) as server:
        config = LiveConfig(
            symbols=("SPX",), journal=str(journal), warm_up=False, reconcile_interval=3_600
        )
        live = Live(strategy, feed(server), broker(server, **broker_options), config)  # type: ignore[arg-type]
        summary = await live.run_async()
        client = broker(server)
        fills = await client.fills()
        account = await client.account()
        await client.close()
        async with http(server) as admin:
            orders = (await admin.get("/v1/orders", params={"status": "all"})).json()
    assert summary.stopped_by == "feed ended"
    store = SqliteJournal(journal)
    try:
        state = LiveState.fold(store.replay())
        kinds = [type(record.entry).__name__ for record in store.replay()]
    finally:
        store.close()
    assert_consistent_with_venue(state, fills, dict(account.positions), orders)
    return state, fills, kinds, orders


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("faults", "options"),
    [
        (
            # The ack is held back until the fill, so only the query can settle the order.
            {"delay_next_submits": 3, "submit_delay_seconds": 1.0, "fill_before_ack": True},
            {"submit_timeout": 0.2},
        ),
        ({"fill_before_ack": True}, {}),
        ({"drop_stream_every": 7}, {}),
    ],
    ids=["submit-timeout-but-accepted", "fill-before-ack", "dropped-websocket"],
)
async def test_faults_that_change_nothing_at_the_venue_keep_backtest_parity(
    faults: dict[str, Any], options: dict[str, Any], tmp_path: Path
) -> None:
    strategy = SmaCrossover(fast=5, slow=20)
    state, fills, kinds, orders = await _trade(strategy, tmp_path / "j.sqlite", faults, **options)
    assert_frame_equal(
        fills_frame(fills),
        backtest_fills(load_sample("SPX_1d").head(250), strategy, RATE),
        check_exact=False,
        rel_tol=1e-9,
    )
    assert len(orders) == len(state.orders)
    if "delay_next_submits" in faults:
        assert kinds.count("TimedOut") == 3, "the fault was not exercised"
        assert kinds.count("Resolved") == 3


@pytest.mark.asyncio
async def test_rejected_orders_are_journaled_and_trading_goes_on(tmp_path: Path) -> None:
    state, fills, _, _ = await _trade(
        SmaCrossover(fast=5, slow=20), tmp_path / "j.sqlite", {"reject_next": 2}
    )
    statuses = [order.status for order in state.orders.values()]
    assert statuses.count(OrderStatus.REJECTED) == 2
    assert fills


@pytest.mark.asyncio
async def test_partial_fills_under_a_volume_cap_are_all_booked(tmp_path: Path) -> None:
    state, fills, _, _ = await _trade(
        SmaCrossover(fast=5, slow=20), tmp_path / "j.sqlite", {"volume_cap": 1e-8}
    )
    by_order: dict[str, int] = {}
    for fill in fills:
        by_order[str(fill.order_id)] = by_order.get(str(fill.order_id), 0) + 1
    assert max(by_order.values()) > 1, "no order filled in parts: the fault was not exercised"
    assert any(o.filled_quantity < o.quantity for o in state.orders.values())


@pytest.mark.asyncio
async def test_a_cancel_that_loses_the_race_books_the_fill(tmp_path: Path) -> None:
    state, fills, _, _ = await _trade(
        LimitThenCancel(), tmp_path / "j.sqlite", {"cancel_races_fill": True}
    )
    raced = [
        o for o in state.orders.values() if o.status is OrderStatus.FILLED and o.filled_quantity
    ]
    assert raced
    assert fills
