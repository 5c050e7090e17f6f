"""A fake TickDB server: REST and WebSocket on one 127.0.0.1 port, from the shared spec.

It runs in a background thread with its own event loop, so sync clients, async tests and CLI
runs can all talk to it. REST: ``/v1/market/kline`` (``start_time``/``end_time``, ``limit`` ≤
1000, closed bars only) and ``/v1/market/kline/latest``; the key goes in ``X-API-Key``.
WebSocket ``/v1/realtime?api_key=…``: ``subscribe`` (acknowledged with channel and symbols,
unknown symbols refused with code 2002), ``{"cmd":"ping"}`` → pong, trades streamed from a
:class:`~tests.kit.tickdb_tape.Tape` whose market time advances with the wall clock whether or
not anyone is connected (so a disconnect really loses trades).

Faults are queued with :meth:`FakeTickDB.inject` (``http`` answers, ``ws`` actions) or drawn
at random every few seconds by :class:`Chaos`. With ``proxy=True`` the WebSocket URL points at a
:class:`~tests.kit.chaos_proxy.ChaosProxy` in front of the server, which adds the faults of the
path before the server (drop or garbage before the HTTP 101, a 503, a throttled link).
Everything the server saw is recorded for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from quantstrata.core.logging import get_logger
from tests.kit.chaos_proxy import LINK_FAULTS, PROXY_FAULTS, ChaosProxy
from tests.kit.tickdb_tape import Tape

__all__ = ["ALL_FAULTS", "WS_FAULTS", "Chaos", "FakeTickDB", "HttpFault", "MarketClock"]

_DEFERRED = frozenset({"accept_then_close", "handshake_429", "late_first"})
"""Faults that wait for the next connection instead of hitting the open ones."""

WS_FAULTS = (
    "disconnect",
    "close",
    "stall",
    "accept_then_close",
    "rate_limit",
    "connection_limit",
    "malformed",
    "duplicate",
    "reorder",
    "handshake_429",
    "late_first",
)
ALL_FAULTS = (*WS_FAULTS, *PROXY_FAULTS, *LINK_FAULTS)
"""Every fault kind, the proxy's included (a :class:`Chaos` with these needs ``proxy=True``)."""


@dataclass(frozen=True)
class HttpFault:
    """One canned REST answer served instead of the real one."""

    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chaos:
    """Random faults: one of ``kinds`` every ``every`` seconds (min, max), seeded."""

    every: tuple[float, float] = (1.0, 3.0)
    kinds: tuple[str, ...] = WS_FAULTS
    seed: int = 7
    retry_after: float = 0.2


class MarketClock:
    """The fake exchange's clock: the time of the next trade of the tape to be released."""

    def __init__(self, server: FakeTickDB) -> None:
        self._server = server

    def now_ns(self) -> int:
        """Return the market time in nanoseconds since the epoch."""
        return self._server.tape.time(self._server.released) * 1_000_000

    def now(self) -> datetime:
        """Return the market time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now_ns() / 1e9, UTC)


class FakeTickDB:
    """The server; use as a context manager. ``url`` and ``ws_url`` are set once started."""

    def __init__(
        self,
        api_key: str = "test-key-0123456789abcdef",
        *,
        tape: Tape | None = None,
        trades_per_second: float = 50.0,
        total_trades: int | None = None,
        released: int | None = None,
        streaming: bool | None = None,
        chaos: Chaos | None = None,
        batch: int = 1,
        strip_suffix: bool = False,
        proxy: bool = False,
    ) -> None:
        self.api_key = api_key
        self.tape = tape or Tape(("BTCUSDT", "700.HK"))
        self.trades_per_second = trades_per_second
        self.total_trades = total_trades
        self.released = released or 0
        self.streaming = released is None if streaming is None else streaming
        self.chaos = chaos
        self.batch = batch
        self.strip_suffix = strip_suffix
        self.proxy: ChaosProxy | None = ChaosProxy(0) if proxy else None
        self.http_faults: deque[HttpFault] = deque()
        self.ws_faults: deque[str] = deque()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.subscribe_commands: list[dict[str, Any]] = []
        self.connection_log: list[tuple[float, float | None]] = []
        self.handshake_refusals: list[int] = []
        self.faults_applied: list[str] = []
        self.max_open = 0
        self.pings = 0
        self.port = 0
        self._open: set[ServerConnection] = set()
        self._subscriptions: dict[ServerConnection, set[int]] = {}
        self._stalled: set[ServerConnection] = set()
        self._duplicate = 0
        self._reorder = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.finished = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """Return the REST base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """Return the WebSocket URL (without the key), through the proxy when there is one."""
        port = self.proxy.port if self.proxy is not None else self.port
        return f"ws://127.0.0.1:{port}/v1/realtime"

    def __enter__(self) -> FakeTickDB:
        self._thread = threading.Thread(target=self._main, name="fake-tickdb", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake TickDB server did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def inject(self, *faults: HttpFault | str) -> None:
        """Queue faults: :class:`HttpFault` for REST, names from :data:`ALL_FAULTS` for WS."""
        for fault in faults:
            if isinstance(fault, HttpFault):
                self.http_faults.append(fault)
            elif fault in PROXY_FAULTS or fault in LINK_FAULTS:
                if self.proxy is None or self._loop is None:
                    raise ValueError(f"{fault!r} needs a running FakeTickDB(proxy=True)")
                if fault in LINK_FAULTS:
                    self.faults_applied.append(fault)
                    self._loop.call_soon_threadsafe(self.proxy.throttle)
                else:
                    self.proxy.inject(fault)
            else:
                self.ws_faults.append(fault)
                if self._loop is not None and fault not in _DEFERRED:
                    self._loop.call_soon_threadsafe(self._apply_now)

    def throttle(self, bytes_per_second: float) -> None:
        """Slow the links open now to ``bytes_per_second`` (needs ``proxy=True``)."""
        if self.proxy is None or self._loop is None:
            raise ValueError("throttle needs a running FakeTickDB(proxy=True)")
        self.faults_applied.append("throttle")
        self._loop.call_soon_threadsafe(self.proxy.throttle, bytes_per_second)

    def clock(self) -> MarketClock:
        """Return the market clock (the stream's ``clock`` when lateness matters)."""
        return MarketClock(self)

    def truth(self, symbol_number: int, end_ms: int | None = None) -> list[tuple[Any, ...]]:
        """Return every closed bar of the tape so far as numbers (for exact comparisons)."""
        horizon = end_ms if end_ms is not None else self.tape.time(self.released)
        bars = self.tape.closed_bars(symbol_number, self.tape.start_ms, horizon, self.released)
        return [bar.values() for bar in bars]

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(
            self._handler,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            compression=None,
            ping_interval=None,
            logger=get_logger("tests.fake_tickdb"),  # redacting: keys arrive in URLs and headers
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            if self.proxy is not None:
                self.proxy.target_port = self.port
                await self.proxy.start()
            tasks = [asyncio.create_task(self._tape_loop())]
            if self.chaos is not None:
                tasks.append(asyncio.create_task(self._chaos_loop(self.chaos)))
            self._ready.set()
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.proxy is not None:
                await self.proxy.stop()

    # ------------------------------------------------------------------ REST
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/v1/realtime":
            return self._handshake(query)
        self.requests.append((parts.path, query))
        if self.http_faults:
            fault = self.http_faults.popleft()
            return _json(fault.status, fault.body, fault.headers)
        if request.headers.get("X-API-Key") != self.api_key:
            code = 1001 if "X-API-Key" in request.headers else 1002
            return _json(401, {"code": code, "message": "Invalid or expired token"})
        if parts.path == "/v1/market/kline":
            return self._kline(query)
        if parts.path == "/v1/market/kline/latest":
            return self._latest(query)
        return _json(404, {"code": 4001, "message": "Unknown endpoint"})

    def _handshake(self, query: dict[str, str]) -> Response | None:
        if query.get("api_key") != self.api_key:
            self.handshake_refusals.append(401)
            return _json(401, {"code": 1001, "message": "Invalid or expired token"})
        if "handshake_429" in self.ws_faults:
            self.ws_faults.remove("handshake_429")
            self.handshake_refusals.append(429)
            retry = str(self.chaos.retry_after if self.chaos else 0.3)
            return _json(429, {"code": 3001, "message": "Rate limit"}, {"Retry-After": retry})
        return None

    def _kline(self, query: dict[str, str]) -> Response:
        symbol = query.get("symbol", "")
        if symbol not in self.tape.symbols:
            return _json(400, {"code": 2002, "message": "Symbol not found"})
        limit = int(query.get("limit", "100"))
        if not 1 <= limit <= 1000:
            return _json(400, {"code": 2004, "message": "Request limit exceeded"})
        start = int(query.get("start_time", str(self.tape.start_ms)))
        end = int(query.get("end_time", str(self.tape.time(self.released))))
        if start > end:
            return _json(400, {"code": 2003, "message": "Invalid time range"})
        number = self.tape.symbols.index(symbol)
        bars = self.tape.closed_bars(number, start, end, self.released)[:limit]
        data = {
            "symbol": symbol,
            "interval": query.get("interval"),
            "klines": [bar.as_kline() for bar in bars],
        }
        return _json(200, {"code": 0, "message": "success", "data": data})

    def _latest(self, query: dict[str, str]) -> Response:
        blocks = []
        now = self.tape.time(self.released)
        bucket = now - now % self.tape.interval_ms
        for symbol in query.get("symbols", "").split(","):
            if symbol in self.tape.symbols:
                bar = self.tape.bar(self.tape.symbols.index(symbol), bucket)
                klines = [bar.as_kline()] if bar is not None else []
                blocks.append(
                    {"symbol": symbol, "interval": query.get("interval"), "klines": klines}
                )
        return _json(200, {"code": 0, "message": "success", "data": blocks})

    # ------------------------------------------------------------------ WebSocket
    async def _handler(self, connection: ServerConnection) -> None:
        opened = time.monotonic()
        record = len(self.connection_log)
        self.connection_log.append((opened, None))
        self._open.add(connection)
        self.max_open = max(self.max_open, len(self._open))
        try:
            if "accept_then_close" in self.ws_faults:
                self.ws_faults.remove("accept_then_close")
                self.faults_applied.append("accept_then_close")
                await connection.close(1011, "going away")
                return
            self._subscriptions[connection] = set()
            async for message in connection:
                await self._command(connection, message)
        except Exception:  # noqa: BLE001 - a client vanishing is not the server's problem
            pass
        finally:
            self._open.discard(connection)
            self._subscriptions.pop(connection, None)
            self._stalled.discard(connection)
            self.connection_log[record] = (opened, time.monotonic())

    async def _command(self, connection: ServerConnection, message: str | bytes) -> None:
        try:
            request = json.loads(message)
        except ValueError:
            await connection.send(json.dumps({"cmd": "error", "code": 4002, "message": "bad"}))
            return
        command = request.get("cmd")
        if command == "ping":
            self.pings += 1
            if connection not in self._stalled:
                pong = {"cmd": "pong", "code": 0, "message": "pong", "data": {"timestamp": 1}}
                await connection.send(json.dumps(pong))
            return
        if command != "subscribe":
            await connection.send(json.dumps({"cmd": command, "code": "4001", "message": "?"}))
            return
        self.subscribe_commands.append(request)
        data = request.get("data", {})
        known = [name for name in data.get("symbols", []) if name in self.tape.symbols]
        unknown = [name for name in data.get("symbols", []) if name not in self.tape.symbols]
        if unknown:
            error = {"cmd": "subscribe", "code": "2002", "message": f"Symbol not found: {unknown}"}
            await connection.send(json.dumps(error))
        if known:
            self._subscriptions[connection].update(self.tape.symbols.index(n) for n in known)
            answer = {"channel": data.get("channel"), "symbols": known}
            await connection.send(
                json.dumps({"cmd": "subscribe", "code": 0, "message": "success", "data": answer})
            )
            if "late_first" in self.ws_faults:
                self.ws_faults.remove("late_first")
                self.faults_applied.append("late_first")
                await self._send_late_trade(connection, sorted(self._subscriptions[connection]))

    async def _send_late_trade(self, connection: ServerConnection, numbers: list[int]) -> None:
        """Send, first, a repeat of the last trade of the bucket before the current one."""
        tape = self.tape
        now = tape.time(self.released)
        bucket = now - now % tape.interval_ms
        index = -(-(bucket - tape.start_ms) // tape.step_ms) - 1
        while index >= 0 and tape.is_quiet(index):
            index -= 1
        if index < 0:
            return
        for number in numbers:
            await connection.send(self._trade_frame(number, [index]))

    async def _tape_loop(self) -> None:
        began = time.monotonic()
        first = self.released
        while self.streaming:
            await asyncio.sleep(0.005)
            target = first + int((time.monotonic() - began) * self.trades_per_second)
            if self.total_trades is not None:
                target = min(target, self.total_trades)
            while self.released < target:
                upto = min(target, self.released + self.batch)
                await self._broadcast(self.released, upto)
                self.released = upto
            if self.total_trades is not None and self.released >= self.total_trades:
                self.finished.set()

    async def _broadcast(self, low: int, high: int) -> None:
        indices = [index for index in range(low, high) if not self.tape.is_quiet(index)]
        if not indices:
            return
        for connection, numbers in list(self._subscriptions.items()):
            if connection in self._stalled:
                continue
            frames = [self._trade_frame(number, indices) for number in sorted(numbers)]
            if self._reorder and len(frames) > 1:
                self._reorder -= 1
                frames.reverse()
            for frame in frames:
                with contextlib.suppress(Exception):
                    await connection.send(frame)
                    if self._duplicate:
                        self._duplicate -= 1
                        await connection.send(frame)

    def _trade_frame(self, number: int, indices: list[int]) -> str:
        symbol = self.tape.symbols[number]
        pushed = symbol.split(".", 1)[0] if self.strip_suffix else symbol
        trades = [self.tape.trade(number, index) for index in indices]
        if len(trades) == 1 and number % 2 == 1:
            return json.dumps({"cmd": "trade", "data": {"symbol": pushed, **trades[0]}})
        return json.dumps({"cmd": "trade", "data": {"symbol": pushed, "trades": trades}})

    # ------------------------------------------------------------------ faults
    def _apply_now(self) -> None:
        for fault in [fault for fault in self.ws_faults if fault not in _DEFERRED]:
            self.ws_faults.remove(fault)
            asyncio.get_running_loop().create_task(self._apply(fault))

    async def _apply(self, fault: str) -> None:
        self.faults_applied.append(fault)
        retry = self.chaos.retry_after if self.chaos else 0.3
        for connection in list(self._open):
            if fault == "disconnect":
                connection.transport.abort()
            elif fault == "close":
                await connection.close(1011, "server restart")
            elif fault == "stall":
                self._stalled.add(connection)
            elif fault in {"rate_limit", "connection_limit"}:
                code = "3001" if fault == "rate_limit" else 3003
                body = {
                    "cmd": "error",
                    "code": code,
                    "message": fault,
                    "data": {"retry_after": retry},
                }
                with contextlib.suppress(Exception):
                    await connection.send(json.dumps(body))
                    await connection.close(1008, fault)
            elif fault == "malformed":
                for frame in ("{not json", '{"cmd":"trade","data":{"symbol":"X"}}', "[1,2]"):
                    with contextlib.suppress(Exception):
                        await connection.send(frame)
        if fault == "duplicate":
            self._duplicate += 5
        elif fault == "reorder":
            self._reorder += 5

    async def _chaos_loop(self, chaos: Chaos) -> None:
        draw = random.Random(chaos.seed)
        deck: list[str] = []
        while True:
            await asyncio.sleep(draw.uniform(*chaos.every))
            if not deck:  # every kind once per round, in a seeded random order
                deck = draw.sample(chaos.kinds, len(chaos.kinds))
            fault = deck.pop()
            if fault in LINK_FAULTS and self.proxy is not None:
                self.faults_applied.append(fault)
                self.proxy.throttle()
                continue
            if fault in PROXY_FAULTS and self.proxy is not None:
                self.proxy.inject(fault)
                self.faults_applied.append(fault)
                fault = "close"
            elif fault in _DEFERRED:
                self.ws_faults.append(fault)
                fault = "close"
            await self._apply(fault)


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body).encode()
    fields = Headers({"Content-Type": "application/json", "Content-Length": str(len(content))})
    fields["Connection"] = "close"
    for name, value in (headers or {}).items():
        fields[name] = value
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests"}
    return Response(status, reasons.get(status, "Error"), fields, content)
