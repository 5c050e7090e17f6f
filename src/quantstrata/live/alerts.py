"""Alerts: what the runtime tells a person when something needs attention.

The runtime raises an :class:`Alert` for a reconciliation mismatch, a stale feed, a lost broker
connection, a kill switch or a fatal stream error, and hands it to an :class:`AlertRouter` that
fans it out to every sink: the log (:class:`LogAlertSink`) and, when configured, a webhook
(:class:`WebhookAlertSink`, Slack-compatible: a JSON body with a ``text`` field). A sink that
fails never stops trading: the router logs the failure and counts it. The same alert repeated
within ``repeat_after`` is suppressed (counted) so a flapping feed does not flood a channel.

A webhook URL embeds its token, so it is held as a :class:`~quantstrata.core.secrets.Secret` and
every text the sink logs is redacted.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

import httpx

from quantstrata.core.clock import Clock
from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.core.logging import get_logger
from quantstrata.core.secrets import Secret, redact
from quantstrata.data.sources.backoff import Backoff

__all__ = [
    "Alert",
    "AlertLevel",
    "AlertRouter",
    "AlertSink",
    "LogAlertSink",
    "WebhookAlertSink",
    "WebhookDeliveryError",
    "default_sinks",
]

_LOG_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}


class AlertLevel(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing a person should know: what happened, where, and when."""

    level: AlertLevel
    title: str
    detail: str
    ts: datetime
    source: str
    symbol: str | None = None

    def __post_init__(self) -> None:
        """Refuse an empty title and a naive time."""
        if not self.title.strip():
            raise ConfigError("an alert needs a title")
        if self.ts.tzinfo is None:
            raise ConfigError(f"alert time {self.ts} has no timezone")

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What makes two alerts the same for repeat suppression."""
        return (self.source, self.title, self.symbol)

    def text(self) -> str:
        """Return the one-paragraph text a sink shows."""
        where = f" [{self.symbol}]" if self.symbol else ""
        return (
            f"[{self.level.value.upper()}] {self.source}{where}: {self.title}"
            f" ({self.ts.isoformat()})\n{self.detail}"
        )


@runtime_checkable
class AlertSink(Protocol):
    """Deliver an alert somewhere a person looks."""

    async def send(self, alert: Alert) -> None:
        """Deliver ``alert``; raise on failure (the router catches and counts it)."""
        ...


class LogAlertSink:
    """Write alerts to the ``quantstrata.alerts`` logger at the alert's level."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        """Log to ``logger`` (default: ``quantstrata.alerts``)."""
        self._logger = logger if logger is not None else get_logger("alerts")

    async def send(self, alert: Alert) -> None:
        """Log the alert's text."""
        self._logger.log(_LOG_LEVELS[alert.level.value], "%s", alert.text())


class WebhookAlertSink:
    """Post alerts as Slack-compatible JSON (``{"text": ...}``) to a webhook URL."""

    def __init__(
        self,
        url: Secret,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
        cap: float = 30.0,
        client: httpx.AsyncClient | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Post to ``url`` with up to ``attempts`` tries.

        Between tries it waits the shared :class:`~quantstrata.data.sources.backoff.Backoff`:
        ``uniform(0, min(cap, backoff·2ⁿ))`` (full jitter, so many runtimes alerting at once
        do not retry in step). ``uniform`` and ``sleep`` are injected for tests.
        """
        if attempts < 1:
            raise ConfigError(f"attempts must be at least 1, got {attempts}")
        self._url = url
        self._timeout = timeout
        self._attempts = attempts
        self._backoff = backoff
        self._cap = cap
        self._client = client
        self._uniform = uniform
        self._sleep = sleep

    def __repr__(self) -> str:
        """Show the settings, never the URL (it holds the webhook's token)."""
        return f"WebhookAlertSink(url={self._url!r}, attempts={self._attempts})"

    async def send(self, alert: Alert) -> None:
        """Post the alert; retry network errors and 5xx answers, raise after the last try."""
        client = self._client or httpx.AsyncClient(timeout=self._timeout)
        try:
            await self._post(client, {"text": alert.text(), "level": alert.level.value})
        finally:
            if self._client is None:
                await client.aclose()

    async def _post(self, client: httpx.AsyncClient, body: dict[str, str]) -> None:
        last_error = ""
        backoff = Backoff(base=self._backoff, cap=self._cap, uniform=self._uniform)
        for attempt in range(self._attempts):
            if attempt:
                await self._sleep(backoff.failed(0.0).seconds)
            try:
                response = await client.post(self._url.reveal(), json=body)
            except httpx.HTTPError as error:
                last_error = redact(f"{type(error).__name__}: {error}", [self._url])
                continue
            if response.status_code < 500:
                if response.status_code >= 400:
                    raise WebhookDeliveryError(
                        f"the webhook refused the alert with HTTP {response.status_code}"
                    )
                return
            last_error = f"HTTP {response.status_code}"
        raise WebhookDeliveryError(
            f"the webhook did not take the alert after {self._attempts} tries: {last_error}"
        )


class WebhookDeliveryError(QuantstrataError):
    """A webhook sink could not deliver an alert (the text never holds the URL)."""


@dataclass(slots=True)
class AlertRouter:
    """Fan alerts out to every sink, suppressing repeats within ``repeat_after``."""

    sinks: Sequence[AlertSink]
    clock: Clock
    repeat_after: timedelta = timedelta(minutes=5)
    sent: int = 0
    suppressed: int = 0
    failed: int = 0
    history: list[Alert] = field(default_factory=list)
    _last_sent: dict[tuple[str, str, str | None], datetime] = field(default_factory=dict)
    _logger: logging.Logger = field(default_factory=lambda: get_logger("alerts"))

    async def raise_alert(
        self,
        level: AlertLevel,
        title: str,
        detail: str,
        *,
        source: str,
        symbol: str | None = None,
    ) -> Alert | None:
        """Build an alert stamped with the clock's time and send it; ``None`` if suppressed."""
        alert = Alert(level, title, detail, self.clock.now(), source, symbol)
        return await self.send(alert)

    async def send(self, alert: Alert) -> Alert | None:
        """Deliver ``alert`` to every sink unless the same alert went out recently."""
        last = self._last_sent.get(alert.key)
        if last is not None and alert.ts - last < self.repeat_after:
            self.suppressed += 1
            return None
        self._last_sent[alert.key] = alert.ts
        self.history.append(alert)
        self.sent += 1
        results = await asyncio.gather(
            *(sink.send(alert) for sink in self.sinks), return_exceptions=True
        )
        for sink, result in zip(self.sinks, results, strict=True):
            if isinstance(result, BaseException):
                self.failed += 1
                self._logger.error(
                    "alert sink %s failed: %s: %s",
                    type(sink).__name__,
                    type(result).__name__,
                    result,
                )
        return alert


def default_sinks(webhook_env: str | None) -> list[AlertSink]:
    """Return the log sink, and a webhook sink when ``webhook_env`` names its URL variable."""
    sinks: list[AlertSink] = [LogAlertSink()]
    if webhook_env:
        sinks.append(WebhookAlertSink(Secret.from_environment(webhook_env)))
    return sinks
