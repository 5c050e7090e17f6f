"""Each fault of the fake Alpaca, met by AlpacaBroker + AlpacaFeed in a live run: nothing lost.

Every run trades the same fast SMA crossover on the fake (real alpaca-py, lockstep replay) and
must end with the backtest's fills, the journal holding exactly the venue's fills, positions
equal to the venue's, and no client order id sent twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from quantstrata.core.secrets import Secret
from quantstrata.live.broker import OrderRejectedError
from quantstrata.live.brokers._alpaca_mapping import AlpacaRefusal
from quantstrata.live.brokers._alpaca_rest import AlpacaAuthenticationError, AlpacaCredentials
from quantstrata.live.brokers.alpaca import AlpacaBroker
from quantstrata.live.journal import SqliteJournal
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest, Resolved, TimedOut
from quantstrata.strategy.examples import SmaCrossover
from tests.integration.live.alpaca_runs import (
    AlpacaRun,
    alpaca_config,
    credentials,
    run_on_fake,
    spx_bars,
)
from tests.kit.fake_alpaca import DATA, TRADING, FakeAlpaca
from tests.kit.live_checks import assert_consistent_with_venue, backtest_fills, fills_frame

_COMPARED = ("ts", "symbol", "side", "quantity", "price", "commission")


async def _run(
    tmp_path: Path,
    prepare: Callable[[FakeAlpaca], None] = lambda fake: None,
    during: Callable[[FakeAlpaca, int], None] | None = None,
    *,
    parity: bool = True,
    **changes: Any,
) -> tuple[AlpacaRun, FakeAlpaca]:
    bars = spx_bars()
    with FakeAlpaca(bars) as fake:
        prepare(fake)
        hook = None if during is None else (lambda n: during(fake, n))
        run = await run_on_fake(
            fake, bars, SmaCrossover(fast=3, slow=8), tmp_path / "j.sqlite", hook, **changes
        )
        orders = fake.orders()
    assert run.summary.stopped_by == "feed ended"
    assert_consistent_with_venue(run.state, run.fills, dict(run.account.positions), orders)
    expected = backtest_fills(bars, SmaCrossover(fast=3, slow=8), 0.0, _COMPARED)
    assert expected.height >= 6
    if not parity:
        return run, fake
    assert_frame_equal(
        fills_frame(run.fills, _COMPARED).sort("ts"), expected.sort("ts"), rel_tol=1e-9
    )
    return run, fake


@pytest.mark.asyncio
async def test_http_429_waits_at_least_retry_after(tmp_path: Path) -> None:
    def limit(fake: FakeAlpaca, bar: int) -> None:
        if bar in (15, 45):
            fake.rate_limit(times=2, retry_after=1)

    run, _ = await _run(tmp_path, during=limit)
    limited = run.broker.rate_limited
    assert limited >= 2
    assert min(run.broker.waits[:limited]) >= 1.0


@pytest.mark.asyncio
async def test_server_errors_are_retried_and_a_create_is_resolved(tmp_path: Path) -> None:
    """A create answered 503 may or may not live at Alpaca: it is resolved by client id, never
    resent, so the run may miss the backtest's fill of that order but books exactly Alpaca's."""

    def fail(fake: FakeAlpaca, bar: int) -> None:
        if bar in (10, 30, 50):
            fake.fail_next(times=2, status=503)

    run, _ = await _run(tmp_path, during=fail, parity=False)
    assert run.broker.waits


@pytest.mark.asyncio
async def test_a_create_that_times_out_after_acceptance_is_resolved_not_resent(
    tmp_path: Path,
) -> None:
    await _run(tmp_path, lambda fake: fake.stall_creates(2.5, times=2), timeout_seconds=1.0)
    store = SqliteJournal(tmp_path / "j.sqlite")
    try:
        entries = [record.entry for record in store.replay()]
    finally:
        store.close()
    timed_out = {e.order_id for e in entries if isinstance(e, TimedOut)}
    resolved = {e.order_id for e in entries if isinstance(e, Resolved)}
    assert timed_out
    assert timed_out <= resolved


@pytest.mark.asyncio
async def test_dropped_streams_reconnect_and_resync(tmp_path: Path) -> None:
    def drop(fake: FakeAlpaca, bar: int) -> None:
        if bar in (20, 60):
            fake.drop_streams()

    run, _ = await _run(tmp_path, during=drop)
    assert run.broker.reconnects >= 2
    assert run.feed.reconnects >= 2
    assert run.broker.resyncs >= 3


@pytest.mark.asyncio
async def test_a_silent_data_stream_is_reopened(tmp_path: Path) -> None:
    def stall(fake: FakeAlpaca, bar: int) -> None:
        if bar == 40:
            fake.stall_streams(DATA)

    run, _ = await _run(tmp_path, during=stall, stale_after_seconds=1.0)
    assert run.feed.stale >= 1


@pytest.mark.asyncio
async def test_a_silent_trade_stream_is_reopened(tmp_path: Path) -> None:
    def stall(fake: FakeAlpaca, bar: int) -> None:
        if bar == 40:
            fake.stall_streams(TRADING)

    await _run(tmp_path, during=stall)


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", ["duplicate_events", "reorder_events", "fill_before_new"])
async def test_odd_event_orders_change_nothing(fault: str, tmp_path: Path) -> None:
    await _run(tmp_path, lambda fake: setattr(fake, fault, True))


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "message", "refusal"),
    [
        (403, "insufficient buying power", AlpacaRefusal.INSUFFICIENT_BUYING_POWER),
        (422, "asset SPX cannot be sold short", AlpacaRefusal.NOT_SHORTABLE),
        (
            403,
            "trade denied due to pattern day trading protection",
            AlpacaRefusal.PATTERN_DAY_TRADER,
        ),
        (403, "potential wash trade detected", AlpacaRefusal.WASH_TRADE),
        (422, "market is closed", AlpacaRefusal.MARKET_CLOSED),
    ],
)
async def test_refusals_raise_typed_reasons(
    status: int, message: str, refusal: AlpacaRefusal
) -> None:
    with FakeAlpaca(spx_bars(), published=5) as fake:
        broker = AlpacaBroker(alpaca_config(fake), credentials(fake))
        fake.refuse_next_create(status, status * 100_000, message)
        with pytest.raises(OrderRejectedError) as caught:
            await broker.submit(ClientOrderId("t-1"), OrderRequest.market("SPX", 1))
    assert caught.value.reason is refusal


@pytest.mark.asyncio
async def test_refused_keys_stop_with_a_clear_message() -> None:
    wrong = "PKWRONG0KEY0ID000009"
    with FakeAlpaca(spx_bars(), published=5) as fake:
        keys = AlpacaCredentials(Secret(wrong), Secret("wrong-secret-value-123"))
        broker = AlpacaBroker(alpaca_config(fake), keys)
        with pytest.raises(AlpacaAuthenticationError, match="APCA_API_KEY_ID") as caught:
            await broker.connect()
        await broker.close()
    assert wrong not in str(caught.value)
    assert "wrong-secret-value-123" not in str(caught.value)
