"""Each injected fault, seen from the client side (VenueBroker, VenueFeed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from quantstrata.live import OrderRejectedError, SubmitOutcomeUnknownError
from quantstrata.live.brokers import VenueBroker
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.interval import Interval
from quantstrata.model.orders import (
    Accepted,
    CancelRejected,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
)
from tests.integration.venue.conftest import publish_bars
from tests.kit.venue import broker, feed, http, running_venue, spx, wait_until

_DAY = Interval.parse("1d")


async def _events(updates: AsyncIterator[OrderEvent], count: int) -> list[OrderEvent]:
    return [await asyncio.wait_for(anext(updates), 10.0) for _ in range(count)]


async def _connected(server: object, **options: object) -> VenueBroker:
    client = broker(server, **options)  # type: ignore[arg-type]
    await client.connect()
    return client


@pytest.mark.asyncio
async def test_reject_next_rejects_exactly_the_next_order() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as admin:
        client = await _connected(server)
        set_faults = await admin.put("/v1/admin/faults", json={"reject_next": 1})
        with pytest.raises(OrderRejectedError) as rejected:
            await client.submit(ClientOrderId("R1"), OrderRequest.market("SPX", 1))
        accepted = await client.submit(ClientOrderId("R2"), OrderRequest.market("SPX", 1))
        faults = (await admin.get("/v1/admin/faults")).json()
        await client.close()
    assert set_faults.json()["reject_next"] == 1
    assert "fault" in rejected.value.reason
    assert accepted == "V1"
    assert faults["reject_next"] == 0


@pytest.mark.asyncio
async def test_delayed_answer_is_an_unknown_outcome_resolved_by_query() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as admin:
        client = await _connected(server, submit_timeout=0.3)
        await admin.put(
            "/v1/admin/faults", json={"delay_next_submits": 1, "submit_delay_seconds": 2}
        )
        with pytest.raises(SubmitOutcomeUnknownError):
            await client.submit(ClientOrderId("D1"), OrderRequest.market("SPX", 2))
        found = await client.query_order(ClientOrderId("D1"))
        again = await client.submit(ClientOrderId("D1"), OrderRequest.market("SPX", 2))
        never_sent = await client.query_order(ClientOrderId("D2"))
        await client.close()
    assert found is not None
    assert found.status is OrderStatus.PENDING
    assert again == found.venue_order_id
    assert never_sent is None


@pytest.mark.asyncio
async def test_fill_arrives_before_the_acknowledgement() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as admin:
        client = await _connected(server)
        updates = client.updates()
        await publish_bars(server, 1)
        await admin.put("/v1/admin/faults", json={"fill_before_ack": True})
        await client.submit(ClientOrderId("F1"), OrderRequest.market("SPX", 1))
        await publish_bars(server, 2)
        events = await _events(updates, 2)
        await client.close()
    assert isinstance(events[0], FillEvent)
    assert isinstance(events[1], Accepted)
    assert events[1].venue_order_id == events[0].fill.venue_order_id


@pytest.mark.asyncio
async def test_volume_cap_fault_gives_partial_fills() -> None:
    async with running_venue(spx(20), speed="lockstep") as server, http(server) as admin:
        client = await _connected(server)
        updates = client.updates()
        await admin.put("/v1/admin/faults", json={"volume_cap": 1e-9})
        await publish_bars(server, 1)
        await client.submit(ClientOrderId("P1"), OrderRequest.market("SPX", 2))
        await publish_bars(server, 3)
        events = await _events(updates, 3)
        order = await client.query_order(ClientOrderId("P1"))
        await client.close()
    fills = [event.fill for event in events if isinstance(event, FillEvent)]
    assert len(fills) == 2
    assert all(fill.quantity < 1.0 for fill in fills)
    assert order is not None
    assert order.status is OrderStatus.PARTIAL
    assert order.filled_quantity == pytest.approx(sum(fill.quantity for fill in fills))


@pytest.mark.asyncio
async def test_cancel_races_a_fill_and_loses() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as admin:
        client = await _connected(server)
        updates = client.updates()
        published = await publish_bars(server, 1)
        await client.submit(ClientOrderId("C1"), OrderRequest.limit("SPX", 3, 1.0))
        await admin.put("/v1/admin/faults", json={"cancel_races_fill": True})
        with pytest.raises(OrderRejectedError, match="filled"):
            await client.cancel(ClientOrderId("C1"))
        events = await _events(updates, 3)
        await client.close()
    assert isinstance(events[0], Accepted)
    assert isinstance(events[1], FillEvent)
    assert events[1].fill.price == published[0]["bars"][0]["close"]
    assert isinstance(events[2], CancelRejected)


@pytest.mark.asyncio
async def test_dropped_stream_reconnects_and_loses_no_fill() -> None:
    async with running_venue(speed="lockstep") as server, http(server) as admin:
        client = await _connected(server)
        updates = client.updates()
        await publish_bars(server, 1)
        await client.submit(ClientOrderId("X1"), OrderRequest.market("SPX", 1))
        dropped = (await admin.post("/v1/admin/drop-streams")).json()["dropped"]
        await publish_bars(server, 2)
        events = await _events(updates, 2)
        await wait_until(lambda: client.reconnects >= 1)
        extra = await asyncio.wait_for(_maybe_next(updates), 0.5)
        await client.close()
    assert dropped == 1
    assert isinstance(events[0], Accepted)
    assert isinstance(events[1], FillEvent)
    assert extra is None


async def _maybe_next(updates: AsyncIterator[OrderEvent]) -> OrderEvent | None:
    try:
        return await asyncio.wait_for(anext(updates), 0.3)
    except TimeoutError:
        return None


@pytest.mark.asyncio
async def test_feed_survives_dropped_streams_without_gaps_or_duplicates() -> None:
    bars = spx(25)
    async with running_venue(bars, speed="lockstep", faults={"drop_stream_every": 7}) as server:
        stream = feed(server)
        seen = []
        async for bar in stream.bars(["SPX"], _DAY):
            seen.append(bar.ts)
            await stream.ack(bar.ts)
        await stream.close()
    assert seen == bars["ts"].to_list()
    assert stream.reconnects >= 3
