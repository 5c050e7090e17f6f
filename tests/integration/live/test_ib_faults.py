"""IBBroker through IB's daily faults, each injected by the fake TWS and seen by ``ib_async``.

Connectivity lost and restored (1100, 1101/1102), a Gateway restart that drops the socket, an
order filled while disconnected, a submit whose answer never came, late commission reports and
duplicated executions. Every fill must be booked exactly once and agree with the position.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quantstrata.core.clock import LiveClock
from quantstrata.live.alerts import AlertRouter
from quantstrata.live.broker import (
    BrokerUnavailableError,
    OrderRejectedError,
    SubmitOutcomeUnknownError,
)
from quantstrata.live.brokers.ib import IBBroker, LinkState
from quantstrata.live.health import HealthConfig, HealthMonitor, HealthState
from quantstrata.live.journal import SqliteJournal
from quantstrata.live.orders import OrderManager
from quantstrata.live.reconcile import reconcile
from quantstrata.model.identifiers import ClientOrderId, Symbol
from quantstrata.model.orders import (
    Cancelled,
    FillEvent,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tests.kit.fake_tws import FakeTws
from tests.kit.ib_runs import broker_for, next_event, publish, until

SPX = Symbol("SPX")
BUY = OrderRequest(SPX, OrderSide.BUY, 5)
pytestmark = pytest.mark.asyncio


def _fills(ib_broker: IBBroker) -> list[FillEvent]:
    """Drain the broker's queued events; return the fills."""
    events = []
    while not ib_broker._queue.empty():
        event = ib_broker._queue.get_nowait()
        if isinstance(event, FillEvent):
            events.append(event)
    return events


async def test_connectivity_lost_halts_trading_until_restored(
    tws: FakeTws, ib_broker: IBBroker
) -> None:
    tws.connectivity_lost()
    await until(lambda: ib_broker.link.state is LinkState.LOST)
    with pytest.raises(OrderRejectedError, match="link is lost"):
        await ib_broker.submit(ClientOrderId("halted"), BUY)
    with pytest.raises(BrokerUnavailableError):
        await ib_broker.account()
    assert tws.placed() == []
    tws.connectivity_restored()
    await until(lambda: ib_broker.link.state is LinkState.UP)
    assert ib_broker.link.history[-3:] == [LinkState.LOST, LinkState.SYNCING, LinkState.UP]
    await ib_broker.submit(ClientOrderId("after"), BUY)
    assert len(tws.placed()) == 1


async def test_connectivity_restored_with_data_lost_resyncs(
    tws: FakeTws, ib_broker: IBBroker
) -> None:
    resyncs = ib_broker.resyncs
    tws.connectivity_lost()
    await until(lambda: ib_broker.link.state is LinkState.LOST)
    tws.connectivity_restored(data_lost=True)
    await until(lambda: ib_broker.link.state is LinkState.UP)
    assert ib_broker.resyncs == resyncs + 1


async def test_a_gateway_restart_is_survived_with_backoff(
    tws: FakeTws, ib_broker: IBBroker
) -> None:
    tws.go_down()
    await until(lambda: ib_broker.link.state is LinkState.DOWN)
    with pytest.raises(OrderRejectedError, match="link is down"):
        await ib_broker.submit(ClientOrderId("down"), BUY)
    with pytest.raises(BrokerUnavailableError):
        await ib_broker.open_orders()
    await until(lambda: len(ib_broker.link.waits) >= 2)  # refused, waiting, refused again
    tws.come_up()
    await until(lambda: ib_broker.link.state is LinkState.UP)
    assert ib_broker.reconnects == 1
    assert all(0 < wait <= 0.2 for wait in ib_broker.link.waits)
    await ib_broker.submit(ClientOrderId("up"), BUY)
    assert len(tws.placed()) == 1


async def test_an_order_filled_while_disconnected_is_booked_once(
    tws: FakeTws, ib_broker: IBBroker
) -> None:
    await ib_broker.submit(ClientOrderId("away"), BUY)
    tws.go_down()
    await until(lambda: ib_broker.link.state is LinkState.DOWN)
    await publish(tws, 2)  # fills at the venue meanwhile
    assert tws.position("SPX") == 5.0
    assert _fills(ib_broker) == []
    tws.come_up()
    await until(lambda: ib_broker.link.state is LinkState.UP)
    [event] = _fills(ib_broker)
    assert (event.fill.order_id, event.fill.quantity) == ("away", 5.0)
    assert event.fill.commission == tws.executions[0].fill.commission
    venue = await ib_broker.query_order(ClientOrderId("away"))
    assert venue is not None
    assert (venue.status, venue.filled_quantity) == (OrderStatus.FILLED, 5.0)
    assert (await ib_broker.account()).positions == {"SPX": 5.0}
    tws.go_down()  # a second restart replays the same execution: still booked once
    await until(lambda: ib_broker.link.state is LinkState.DOWN)
    tws.come_up()
    await until(lambda: ib_broker.reconnects == 2 and ib_broker.link.state is LinkState.UP)
    assert _fills(ib_broker) == []


async def test_an_unanswered_submit_is_found_by_order_ref_never_resent(
    tws: FakeTws, ib_broker: IBBroker
) -> None:
    tws.drop_after_place = 1
    with pytest.raises(SubmitOutcomeUnknownError):
        await ib_broker.submit(ClientOrderId("doubt"), BUY)
    await until(lambda: ib_broker.link.state is LinkState.UP and ib_broker.reconnects == 1)
    venue = await ib_broker.query_order(ClientOrderId("doubt"))
    assert venue is not None
    assert venue.status is OrderStatus.PENDING
    assert venue.request == BUY
    assert len(tws.placed()) == 1
    await publish(tws)
    event = await next_event(ib_broker)
    assert isinstance(event, FillEvent)
    assert event.fill.order_id == "doubt"


async def test_a_late_commission_report_is_attached_to_its_fill(
    tws: FakeTws, ib_broker: IBBroker
) -> None:
    tws.hold_commissions = True
    await ib_broker.submit(ClientOrderId("late"), BUY)
    await publish(tws)
    await until(lambda: ib_broker._pending)  # the execution arrived, its commission has not
    assert _fills(ib_broker) == []
    assert tws.release_commissions() == 1
    event = await next_event(ib_broker)
    assert isinstance(event, FillEvent)
    assert event.fill.commission == tws.executions[0].fill.commission
    assert event.fill.commission > 0


async def test_duplicated_executions_are_booked_once(tws: FakeTws, ib_broker: IBBroker) -> None:
    tws.duplicate_executions = True
    limit = OrderRequest(SPX, OrderSide.BUY, 5, OrderType.MARKET)
    await ib_broker.submit(ClientOrderId("twice"), limit)
    await publish(tws)
    event = await next_event(ib_broker)
    assert isinstance(event, FillEvent)
    fills = await ib_broker.fills()
    assert [f.trade_id for f in fills] == [event.fill.trade_id]
    tws.connectivity_lost()
    await until(lambda: ib_broker.link.state is LinkState.LOST)
    tws.connectivity_restored(data_lost=True)  # the resync reads the execution again
    await until(lambda: ib_broker.link.state is LinkState.UP)
    assert _fills(ib_broker) == []


async def test_a_lost_link_fails_reconciliation_and_health_alerts(
    tws: FakeTws, ib_broker: IBBroker, tmp_path: Path
) -> None:
    """The runtime's own pieces: the order manager, reconciliation and the health monitor."""
    clock = LiveClock()
    journal = SqliteJournal(tmp_path / "journal.sqlite")
    manager = OrderManager(ib_broker, journal, run_id="h", clock=clock)
    alerts = AlertRouter([], clock)
    health = HealthMonitor(HealthConfig(), clock, alerts)

    async def cycle() -> HealthState:
        report = await reconcile(manager)
        if report.skipped:  # as the runtime's reconciliation loop does
            health.broker_failed(report.reason or "reconciliation query failed")
        else:
            health.broker_succeeded()
        await health.check()
        return next(c.state for c in health.evaluate().components if c.component == "broker")

    try:
        assert await cycle() is HealthState.OK
        tws.connectivity_lost()
        await until(lambda: ib_broker.link.state is LinkState.LOST)
        assert await cycle() is HealthState.DEGRADED
        order = await manager.submit(BUY)
        assert order.status is OrderStatus.REJECTED
        assert "link" in order.reason
        assert tws.placed() == []
        tws.connectivity_restored()
        await until(lambda: ib_broker.link.state is LinkState.UP)
        assert await cycle() is HealthState.OK
    finally:
        journal.close()
    titles = [alert.title for alert in alerts.history]
    assert len(titles) == 2
    assert "link is lost" in alerts.history[0].detail


async def test_an_order_that_ended_while_away_is_found_ended(
    tws: FakeTws, ib_broker: IBBroker
) -> None:
    far = OrderRequest(
        SPX, OrderSide.BUY, 1, OrderType.LIMIT, limit_price=1.0, time_in_force=TimeInForce.DAY
    )
    await ib_broker.submit(ClientOrderId("day"), far)
    tws.go_down()
    await until(lambda: ib_broker.link.state is LinkState.DOWN)
    await publish(tws, 2)  # past its session: the DAY order expires at the venue
    tws.come_up()
    await until(lambda: ib_broker.link.state is LinkState.UP)
    event = await next_event(ib_broker)
    assert isinstance(event, Cancelled)
    assert event.order_id == "day"
    restarted = broker_for(tws, client_id=12)  # a new process knows it only by its orderRef
    await restarted.connect()
    try:
        venue = await restarted.query_order(ClientOrderId("day"))
    finally:
        await restarted.close()
    assert venue is not None
    assert (venue.status, venue.request) == (OrderStatus.CANCELLED, far)
