"""The retry policy the REST connectors share: settings, jittered backoff, ``Retry-After``.

:class:`RetrySettings` are the retry fields of a connector's config; :class:`RetryingCaller`
keeps the injected sleep, jitter and clock, waits between attempts with
:func:`~quantstrata.data.sources.backoff.backoff_delay` (never under the server's own wait) and
masks the connector's secrets in messages. Each connector's caller keeps its own attempt loop:
what counts as a rate limit, a refusal or an unknown outcome is the venue's.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from pydantic import Field

from quantstrata.core.clock import Clock, LiveClock
from quantstrata.core.config import FrozenConfig
from quantstrata.core.secrets import Secret, redact
from quantstrata.data.sources.backoff import backoff_delay, parse_retry_after

__all__ = ["RetrySettings", "RetryingCaller"]


class RetrySettings(FrozenConfig):
    """A REST connector's request timeout and retries (see the connector's config)."""

    timeout_seconds: float = Field(default=10.0, gt=0.0, allow_inf_nan=False)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_seconds: float = Field(default=0.25, gt=0.0, allow_inf_nan=False)
    backoff_cap_seconds: float = Field(default=10.0, gt=0.0, allow_inf_nan=False)
    max_server_wait_seconds: float = Field(default=60.0, gt=0.0, allow_inf_nan=False)


class RetryingCaller:
    """Wait between a connector's attempts; count rate limits and record every wait."""

    def __init__(
        self,
        config: RetrySettings,
        secrets: Sequence[Secret],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        clock: Clock | None = None,
    ) -> None:
        """Keep the settings, the secrets to mask and the injected sleep, jitter and clock."""
        self.retry = config
        self._secrets = secrets
        self._sleep = sleep
        self._uniform = uniform
        self.clock = clock if clock is not None else LiveClock()
        self.rate_limited = 0
        self.waits: list[float] = []

    def redact(self, text: str) -> str:
        """Return ``text`` with the connector's secrets masked."""
        return redact(text, self._secrets)

    async def _wait(self, attempt: int, floor: float) -> None:
        delay = backoff_delay(
            attempt,
            base=self.retry.backoff_base_seconds,
            cap=self.retry.backoff_cap_seconds,
            uniform=self._uniform,
            floor=floor,
        )
        self.waits.append(delay)
        await self._sleep(delay)

    def _server_wait(self, headers: Mapping[Any, Any]) -> float:
        """Return the wait a ``Retry-After`` header asks for, capped (0: none asked)."""
        value = next(
            (str(v) for k, v in dict(headers).items() if str(k).lower() == "retry-after"), None
        )
        seconds = parse_retry_after(value, self.clock.now())
        return 0.0 if seconds is None else min(seconds, self.retry.max_server_wait_seconds)
