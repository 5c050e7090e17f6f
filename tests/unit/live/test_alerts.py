import logging
from datetime import UTC, datetime, timedelta

import pytest

from quantstrata.core.clock import SimulatedClock
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import Secret
from quantstrata.live.alerts import (
    Alert,
    AlertLevel,
    AlertRouter,
    LogAlertSink,
    WebhookAlertSink,
    WebhookDeliveryError,
)
from tests.kit.webhook import webhook_receiver

START = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def _alert(title: str = "position mismatch", symbol: str | None = "SPX") -> Alert:
    return Alert(AlertLevel.CRITICAL, title, "journal 10, venue 12", START, "reconcile", symbol)


def test_alert_refuses_empty_title_and_naive_time() -> None:
    with pytest.raises(ConfigError, match="title"):
        Alert(AlertLevel.INFO, " ", "", START, "x")
    with pytest.raises(ConfigError, match="timezone"):
        Alert(AlertLevel.INFO, "t", "", datetime(2024, 1, 2), "x")


@pytest.mark.asyncio
async def test_webhook_posts_slack_compatible_text() -> None:
    with webhook_receiver() as receiver:
        await WebhookAlertSink(Secret(receiver.url)).send(_alert())
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    assert body["level"] == "critical"
    assert body["text"].startswith("[CRITICAL] reconcile [SPX]: position mismatch")
    assert "journal 10, venue 12" in body["text"]


@pytest.mark.asyncio
async def test_webhook_retries_server_errors_then_delivers() -> None:
    with webhook_receiver([503, 500]) as receiver:
        await WebhookAlertSink(Secret(receiver.url), backoff=0.01).send(_alert())
    assert len(receiver.bodies) == 3


@pytest.mark.asyncio
async def test_webhook_retries_wait_the_shared_jittered_backoff() -> None:
    """The waits are the shared Backoff's: uniform(0, min(cap, base * 2**n)), not a doubling."""
    asked: list[tuple[float, float]] = []
    waited: list[float] = []

    def uniform(low: float, high: float) -> float:
        asked.append((low, high))
        return high / 2

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    with webhook_receiver([503, 500, 502]) as receiver:
        sink = WebhookAlertSink(
            Secret(receiver.url), attempts=4, backoff=0.5, cap=1.5, uniform=uniform, sleep=sleep
        )
        await sink.send(_alert())
    assert asked == [(0.0, 0.5), (0.0, 1.0), (0.0, 1.5)]
    assert waited == [0.25, 0.5, 0.75]
    assert len(receiver.bodies) == 4


@pytest.mark.asyncio
async def test_webhook_gives_up_without_showing_its_url() -> None:
    with webhook_receiver([500, 500]) as receiver:
        sink = WebhookAlertSink(Secret(receiver.url), attempts=2, backoff=0.01)
        with pytest.raises(WebhookDeliveryError) as raised:
            await sink.send(_alert())
    assert "token-abc123" not in str(raised.value)
    assert "token-abc123" not in repr(sink)


@pytest.mark.asyncio
async def test_webhook_client_error_is_not_retried() -> None:
    with webhook_receiver([404]) as receiver:
        with pytest.raises(WebhookDeliveryError, match="404"):
            await WebhookAlertSink(Secret(receiver.url), backoff=0.01).send(_alert())
    assert len(receiver.bodies) == 1


@pytest.mark.asyncio
async def test_router_suppresses_repeats_and_survives_a_failing_sink(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = SimulatedClock(START)
    with webhook_receiver([500]) as receiver:
        failing = WebhookAlertSink(Secret(receiver.url), attempts=1)
        router = AlertRouter([LogAlertSink(), failing], clock, repeat_after=timedelta(minutes=5))
        with caplog.at_level(logging.INFO, logger="quantstrata.alerts"):
            first = await router.raise_alert(
                AlertLevel.WARNING, "feed stale", "no bar", source="health", symbol="SPX"
            )
            clock.advance(60 * 10**9)
            repeated = await router.raise_alert(
                AlertLevel.WARNING, "feed stale", "no bar", source="health", symbol="SPX"
            )
            other = await router.raise_alert(
                AlertLevel.WARNING, "feed stale", "no bar", source="health", symbol="IXIC"
            )
            clock.advance(5 * 60 * 10**9)
            again = await router.raise_alert(
                AlertLevel.WARNING, "feed stale", "no bar", source="health", symbol="SPX"
            )
    assert first is not None
    assert repeated is None
    assert other is not None
    assert again is not None
    assert (router.sent, router.suppressed) == (3, 1)
    assert router.failed == 1
    assert len(receiver.bodies) == 3
    messages = [record.getMessage() for record in caplog.records]
    assert any("[WARNING] health [SPX]: feed stale" in message for message in messages)
    assert any("alert sink WebhookAlertSink failed" in message for message in messages)
    assert all("token-abc123" not in message for message in messages)
