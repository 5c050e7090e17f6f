import asyncio
from datetime import UTC, datetime

import pytest

from quantstrata.core.clock import SimulatedClock
from quantstrata.core.errors import ConfigError
from quantstrata.live.alerts import AlertLevel, AlertRouter
from quantstrata.live.health import Component, HealthConfig, HealthMonitor, HealthState

START = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
SECOND = 10**9


def _monitor(**config: float) -> tuple[HealthMonitor, SimulatedClock, AlertRouter]:
    clock = SimulatedClock(START)
    router = AlertRouter([], clock)
    settings = HealthConfig.build(**config)
    return HealthMonitor(settings, clock, router), clock, router


def test_config_rejects_unknown_and_non_positive_fields() -> None:
    with pytest.raises(ConfigError, match="feed_stale_after"):
        HealthConfig.build(feed_stale_after=0)
    with pytest.raises(ConfigError, match="stale_after_seconds"):
        HealthConfig.build(stale_after_seconds=3)


def test_feed_goes_stale_per_symbol_when_no_bar_arrives() -> None:
    monitor, clock, _ = _monitor(feed_stale_after=60)
    monitor.watch_symbols(["SPX", "IXIC"])
    clock.advance(50 * SECOND)
    monitor.bar_received("SPX")
    clock.advance(20 * SECOND)
    report = monitor.evaluate()
    assert report.state_of(Component.FEED, "SPX") is HealthState.OK
    assert report.state_of(Component.FEED, "IXIC") is HealthState.DOWN
    assert not report.healthy


def test_broker_failure_degrades_then_goes_down_and_recovers() -> None:
    monitor, clock, _ = _monitor(broker_stale_after=30)
    monitor.broker_succeeded()
    assert monitor.evaluate().state_of(Component.BROKER) is HealthState.OK
    monitor.broker_failed("connection refused")
    assert monitor.evaluate().state_of(Component.BROKER) is HealthState.DEGRADED
    clock.advance(31 * SECOND)
    assert monitor.evaluate().state_of(Component.BROKER) is HealthState.DOWN
    monitor.broker_succeeded()
    assert monitor.evaluate().state_of(Component.BROKER) is HealthState.OK


def test_quiet_broker_is_degraded() -> None:
    monitor, clock, _ = _monitor(broker_stale_after=30)
    clock.advance(31 * SECOND)
    assert monitor.evaluate().state_of(Component.BROKER) is HealthState.DEGRADED


def test_journal_lag_beyond_limit_is_down() -> None:
    monitor, _, _ = _monitor(journal_lag_limit=10)
    monitor.journal_progress(appended=100, durable=95)
    assert monitor.evaluate().state_of(Component.JOURNAL) is HealthState.OK
    monitor.journal_progress(appended=100, durable=89)
    assert monitor.evaluate().state_of(Component.JOURNAL) is HealthState.DOWN


@pytest.mark.asyncio
async def test_check_alerts_only_on_state_changes() -> None:
    monitor, clock, router = _monitor(feed_stale_after=60, broker_stale_after=1_000)
    monitor.watch_symbols(["SPX"])
    monitor.broker_succeeded()
    await monitor.check()
    assert router.history == []
    clock.advance(61 * SECOND)
    await monitor.check()
    await monitor.check()
    assert [(alert.level, alert.title, alert.symbol) for alert in router.history] == [
        (AlertLevel.CRITICAL, "feed ok -> down", "SPX")
    ]
    monitor.bar_received("SPX")
    await monitor.check()
    assert router.history[-1].title == "feed down -> ok"
    assert router.history[-1].level is AlertLevel.INFO


@pytest.mark.asyncio
async def test_run_checks_until_stopped() -> None:
    monitor, clock, router = _monitor(feed_stale_after=1, check_interval=0.01)
    monitor.watch_symbols(["SPX"])
    clock.advance(2 * SECOND)
    stop = asyncio.Event()
    task = asyncio.create_task(monitor.run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert [alert.title for alert in router.history] == ["feed ok -> down"]


@pytest.mark.asyncio
async def test_the_feed_behind_and_back_is_alerted_in_order_even_between_two_checks() -> None:
    monitor, _, router = _monitor(broker_stale_after=1_000)
    monitor.broker_succeeded()
    assert monitor.feed_status(HealthState.DEGRADED, "degraded: 40.0s behind the market")
    assert monitor.evaluate().state_of(Component.FEED) is HealthState.DEGRADED
    assert not monitor.feed_status(HealthState.DEGRADED, "still behind")
    assert monitor.feed_status(HealthState.OK, "bars on time")
    await monitor.check()
    assert [(alert.level, alert.title, alert.detail) for alert in router.history] == [
        (AlertLevel.WARNING, "feed ok -> degraded", "degraded: 40.0s behind the market"),
        (AlertLevel.INFO, "feed degraded -> ok", "bars on time"),
    ]
    assert monitor.evaluate().healthy


@pytest.mark.asyncio
async def test_a_feed_change_wakes_the_health_loop_before_its_interval() -> None:
    monitor, _, router = _monitor(broker_stale_after=1_000, check_interval=3_600)
    monitor.broker_succeeded()
    stop = asyncio.Event()
    task = asyncio.create_task(monitor.run(stop))
    monitor.feed_status(HealthState.DOWN, "tickdb stopped; restarting in 1.0 s")
    for _ in range(100):
        if router.history:
            break
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert [alert.title for alert in router.history] == ["feed ok -> down"]
