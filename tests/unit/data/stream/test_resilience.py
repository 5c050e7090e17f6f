"""What a failure to connect or to backfill means: retried, except a refused key."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake, InvalidMessage, InvalidStatus, InvalidURI
from websockets.http11 import Response

from quantstrata.data.sources import AuthenticationError, ProviderUnavailableError
from quantstrata.data.stream.resilience import (
    StreamProtocolError,
    backfill_failure,
    connect_failure,
)

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def _status(code: int, **headers: str) -> InvalidStatus:
    return InvalidStatus(Response(code, "x", Headers(headers), b""))


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(104, "reset"),
        socket.gaierror(-2, "Name or service not known"),
        ssl.SSLError(1, "certificate verify failed"),
        TimeoutError(),
        InvalidMessage("did not receive a valid HTTP response"),
        InvalidHandshake("no Upgrade header"),
        EOFError("connection closed while reading HTTP status line"),
        _status(503),
        _status(502),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_connect_failure_is_retried(error: BaseException):
    decision = connect_failure(error, NOW)
    assert decision is not None
    assert not decision.fatal


@pytest.mark.parametrize("code", [401, 403])
def test_a_refused_key_is_fatal(code: int):
    decision = connect_failure(_status(code), NOW)
    assert decision is not None
    assert decision.fatal


def test_a_rate_limited_handshake_waits_what_the_server_asks():
    decision = connect_failure(_status(429, **{"Retry-After": "7"}), NOW)
    assert decision is not None
    assert (decision.fatal, decision.server_wait) == (False, 7.0)


def test_an_invalid_url_is_fatal_and_a_bug_is_not_a_connect_failure():
    decision = connect_failure(InvalidURI("wss://?api_key=secret", "bad"), NOW)
    assert decision is not None
    assert decision.fatal
    assert "secret" not in decision.reason
    assert connect_failure(KeyError("x"), NOW) is None


def test_a_backfill_failure_is_retried_unless_the_key_was_refused():
    assert not backfill_failure(ProviderUnavailableError("down", provider="tickdb")).fatal
    assert not backfill_failure(OSError("reset")).fatal
    refused = backfill_failure(AuthenticationError("no", provider="tickdb", code=1001))
    assert refused.fatal


def test_a_key_refused_inside_the_protocol_is_fatal_and_names_no_key():
    refused = AuthenticationError(
        "Alpaca refused the keys on the market-data stream (code 402, auth failed)",
        provider="alpaca",
        code=402,
    )
    decision = connect_failure(refused, NOW)
    assert decision is not None
    assert decision.fatal
    assert "code 402" in decision.reason


def test_an_answer_out_of_protocol_is_retried():
    decision = connect_failure(StreamProtocolError("expected 'authenticated', got []"), NOW)
    assert decision is not None
    assert not decision.fatal
    assert "authenticated" in decision.reason
