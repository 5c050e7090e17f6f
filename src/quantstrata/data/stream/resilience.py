"""The resilient-connection core every feed shares: what a failure means, and the retry loop.

The rule: **every failure to connect or to stay connected is retried** with the jittered
backoff of :class:`~quantstrata.data.sources.backoff.Backoff` — refused, reset, DNS, TLS,
timeout, an answer that is not HTTP, a connection dropped before the HTTP 101, a non-101 status,
a failed backfill over REST, an answer out of the provider's protocol
(:class:`StreamProtocolError`). Only a refused key (HTTP 401/403, or a provider's
:class:`~quantstrata.data.sources.errors.AuthenticationError` however it said so: TickDB's code
1001, Alpaca's ``{"T": "error", "code": 402}`` or ``unauthorized``) and a provider's documented
fatal codes stop a feed, with an alert.

:func:`connect_failure` and :func:`backfill_failure` decide without I/O what an exception means;
:func:`keep_connected` is the thin asyncio loop that runs one connection after another.
Feeds whose connection is an async generator (ccxt, the simulated venue, Alpaca's bars) run
their own loop with the same :class:`Backoff` and the same decisions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

from quantstrata.core.errors import QuantstrataError
from quantstrata.data.sources.backoff import Backoff, Delay, parse_retry_after
from quantstrata.data.sources.errors import AuthenticationError

__all__ = [
    "AUTH_STATUSES",
    "Reconnect",
    "StreamProtocolError",
    "backfill_failure",
    "connect_failure",
    "keep_connected",
]

AUTH_STATUSES = frozenset({401, 403})
"""HTTP statuses of a handshake that mean the key was refused: retrying cannot help."""


class StreamProtocolError(QuantstrataError):
    """The server answered out of its protocol, or went silent: reconnect, as after a reset.

    Feeds raise it for an unexpected handshake answer, an unreadable frame, a silent socket.
    """


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Why the current connection must be replaced; ``fatal`` stops the feed instead."""

    reason: str
    fatal: bool = False
    server_wait: float | None = None


def connect_failure(error: BaseException, now: datetime) -> Reconnect | None:
    """Return what a failure to open a WebSocket means, or ``None`` if it is not one.

    ``now`` reads an HTTP-date ``Retry-After``. The reason names the error's type and the
    status, never the URL (it may hold a key). A refused key said inside the protocol, after the
    101 (an :class:`~quantstrata.data.sources.errors.AuthenticationError` raised by the feed's
    handshake), is fatal as a 401 is.
    """
    if isinstance(error, InvalidStatus):
        status = error.response.status_code
        if status in AUTH_STATUSES:
            return Reconnect(f"the provider refused the API key (HTTP {status})", fatal=True)
        wait = parse_retry_after(error.response.headers.get("Retry-After"), now)
        if status == 429:
            return Reconnect("handshake rate limited (HTTP 429)", server_wait=wait or 1.0)
        return Reconnect(f"handshake refused (HTTP {status})", server_wait=wait)
    if isinstance(error, InvalidURI):
        return Reconnect("invalid stream URL", fatal=True)
    if isinstance(error, AuthenticationError):
        # Its message names what to check, never a key (the rule of every provider error).
        return Reconnect(f"the provider refused the API key: {error}", fatal=True)
    if isinstance(error, StreamProtocolError):
        return Reconnect(f"out of protocol: {error}")
    if isinstance(error, WebSocketException | OSError | TimeoutError | EOFError):
        # InvalidMessage (dropped or garbage before the 101), InvalidHandshake, refused, reset,
        # DNS (gaierror) and TLS (SSLError) are OSErrors or WebSocketExceptions.
        return Reconnect(f"connect failed: {type(error).__name__}")
    return None


def backfill_failure(error: Exception) -> Reconnect:
    """Return what a failed backfill over REST means: retry later, unless the key was refused."""
    if isinstance(error, AuthenticationError):
        code = f" (code {error.code})" if error.code is not None else ""
        return Reconnect(f"backfill refused: the provider refused the API key{code}", fatal=True)
    return Reconnect(f"backfill failed: {type(error).__name__}; retrying after a reconnect")


async def keep_connected(
    attempt: Callable[[], Awaitable[Reconnect]],
    backoff: Backoff,
    *,
    classify: Callable[[BaseException], Reconnect | None],
    sleep: Callable[[float], Awaitable[None]],
    now: Callable[[], float],
    stopped: Callable[[], bool],
    on_retry: Callable[[Reconnect, Delay], None],
) -> Reconnect | None:
    """Run ``attempt`` (one connection, start to end) again and again until stopped or fatal.

    ``attempt`` returns why its connection ended; an exception it raises is turned into a
    decision by ``classify`` (``None``: not a connection failure, so it propagates). Between
    attempts the loop waits what ``backoff`` says. Returns the fatal decision, or ``None`` when
    ``stopped()`` turned true.
    """
    while not stopped():
        try:
            decision = await attempt()
        except Exception as error:
            found = classify(error)
            if found is None:
                raise
            decision = found
        if decision.fatal:
            return decision
        delay = backoff.failed(now(), decision.server_wait)
        on_retry(decision, delay)
        await sleep(delay.seconds)
    return None
