"""TickDB over REST without I/O: build requests, read answers, decide to retry or stop.

Both clients (:mod:`quantstrata.data.sources.tickdb`) drive the same functions: they send the
:class:`Request` this module builds, hand the status, headers and body to :func:`interpret`, and
either get the payload or an :class:`Outcome` saying how long to wait, or a typed error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from quantstrata.data.sources.backoff import backoff_delay, server_wait
from quantstrata.data.sources.config import RetryPolicy
from quantstrata.data.sources.errors import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)
from quantstrata.model.interval import Interval

__all__ = [
    "PROVIDER",
    "Outcome",
    "Request",
    "error_code",
    "interpret",
    "kline_request",
    "kline_windows",
    "latest_request",
    "network_outcome",
    "retry_delay",
]

PROVIDER = "tickdb"
KLINE_PATH = "/v1/market/kline"
LATEST_PATH = "/v1/market/kline/latest"
_AUTH_CODES = frozenset({401, 403, 1001, 1002, 1003, 1004, 3002})
_RATE_CODES = frozenset({429, 3001})
_RETRYABLE_CODES = frozenset({5000, 5001, 5002})
_MONTH_WINDOW_MS = 31 * 86_400_000


@dataclass(frozen=True, slots=True)
class Request:
    """One GET request: path and query parameters (the key travels in a header, never here)."""

    path: str
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt produced: ``payload`` on success, else a retryable failure."""

    payload: object = None
    retryable: bool = False
    server_wait: float | None = None
    reason: str = ""


def kline_request(
    symbol: str, interval: Interval, start_ms: int, end_ms: int, limit: int
) -> Request:
    """Build the historical kline request for ``[start_ms, end_ms]`` (both inclusive)."""
    return Request(
        KLINE_PATH,
        {
            "symbol": symbol,
            "interval": _tickdb_interval(interval),
            "start_time": start_ms,
            "end_time": end_ms,
            "limit": limit,
        },
    )


def latest_request(symbols: list[str], interval: Interval) -> Request:
    """Build the request for the bars now forming (``/v1/market/kline/latest``)."""
    return Request(
        LATEST_PATH, {"symbols": ",".join(symbols), "interval": _tickdb_interval(interval)}
    )


def kline_windows(
    start_ms: int, end_ms: int, interval: Interval, limit: int
) -> list[tuple[int, int]]:
    """Split ``[start_ms, end_ms)`` into inclusive windows of at most ``limit`` bars each.

    Windows are aligned on the interval so no bar straddles two requests; whatever order the
    server returns rows in, one request can never be cut short by ``limit``.
    """
    step = interval.nanoseconds // 1_000_000 if interval.is_fixed else _MONTH_WINDOW_MS
    span = step * limit
    first = start_ms - start_ms % step if interval.is_fixed else start_ms
    windows: list[tuple[int, int]] = []
    low = first
    while low < end_ms:
        high = min(low + span, end_ms)
        windows.append((max(low, start_ms), high - 1))
        low += span
    return windows


def error_code(body: object) -> int | None:
    """Return the body's ``code`` as an int whether sent as ``3001`` or ``"3001"``."""
    if not isinstance(body, Mapping):
        return None
    code = body.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str):
        try:
            return int(code.strip())
        except ValueError:
            return None
    return None


def interpret(
    status: int, headers: Mapping[str, str], content: bytes, now: datetime, *, limit: float
) -> Outcome:
    """Read one HTTP answer: the payload, a retryable outcome, or raise the fatal error."""
    try:
        body: object = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    code = error_code(body)
    message = _message(body, status)
    if status == 200 and code == 0:
        return Outcome(payload=body)
    if status in {401, 403} or code in _AUTH_CODES:
        raise AuthenticationError(
            f"TickDB refused the API key (HTTP {status}, code {code}: {message}); check "
            "TICKDB_API_KEY and the plan's permissions",
            provider=PROVIDER,
            code=code,
        )
    if status == 429 or code in _RATE_CODES:
        reset_at = body.get("reset_at") if isinstance(body, Mapping) else None
        if reset_at is None and isinstance(body, Mapping) and isinstance(body.get("data"), dict):
            reset_at = body["data"].get("reset_at")
        wait = server_wait(_header(headers, "retry-after"), reset_at, now, limit=limit)
        return Outcome(retryable=True, server_wait=wait, reason=f"rate limited ({message})")
    if status >= 500 or code in _RETRYABLE_CODES or (status == 200 and body is None):
        return Outcome(retryable=True, reason=f"HTTP {status}, code {code}: {message}")
    raise RequestRejectedError(
        f"TickDB rejected the request (HTTP {status}, code {code}: {message})",
        provider=PROVIDER,
        code=code,
    )


def network_outcome(error: BaseException) -> Outcome:
    """Turn a transport error (timeout, refused, reset) into a retryable outcome."""
    return Outcome(retryable=True, reason=f"network error: {type(error).__name__}")


def retry_delay(
    outcome: Outcome, attempt: int, policy: RetryPolicy, uniform: Callable[[float, float], float]
) -> float:
    """Return the wait before the next attempt, or raise once ``policy`` is spent."""
    if attempt + 1 >= policy.max_attempts:
        error_type: type[ProviderError] = (
            RateLimitedError if outcome.server_wait is not None else ProviderUnavailableError
        )
        raise error_type(
            f"TickDB request failed after {attempt + 1} attempt(s): {outcome.reason}",
            provider=PROVIDER,
        )
    return backoff_delay(
        attempt,
        base=policy.base_seconds,
        cap=policy.cap_seconds,
        uniform=uniform,
        floor=outcome.server_wait or 0.0,
    )


def _tickdb_interval(interval: Interval) -> str:
    return f"{interval.count}M" if not interval.is_fixed else str(interval)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _message(body: object, status: int) -> str:
    if isinstance(body, Mapping) and body.get("message") is not None:
        return str(body["message"])[:200]
    return f"HTTP {status}"
