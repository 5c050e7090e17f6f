"""A fake Binance spot REST server so the real ``ccxt.binance`` runs against it.

Standard-library ``ThreadingHTTPServer`` on ``127.0.0.1`` port 0. Public: ``exchangeInfo`` and
``klines`` from a :class:`~tests.kit.tickdb_tape.Tape` (so the expected bars are known exactly;
``limit`` is capped at 1000 as Binance does). Private (``X-MBX-APIKEY`` must be ``api_key``):
orders, open orders, my trades and the account, answered by
:class:`~tests.kit.fake_binance_account.SpotAccount`. Faults: :meth:`FakeBinance.rate_limit`
answers the next private requests with 429 and ``Retry-After``; :meth:`FakeBinance.stall_creates`
accepts the next orders but answers only after a delay (longer than the client's timeout).
Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.kit.fake_binance_account import BinanceError, SpotAccount
from tests.kit.fake_binance_stream import KlineStream
from tests.kit.tickdb_tape import Tape

__all__ = ["FakeBinance", "ccxt_config"]

_MARKET = {
    "symbol": "BTCUSDT",
    "status": "TRADING",
    "baseAsset": "BTC",
    "baseAssetPrecision": 8,
    "quoteAsset": "USDT",
    "quotePrecision": 8,
    "quoteAssetPrecision": 8,
    "orderTypes": ["LIMIT", "MARKET"],
    "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": False,
    "permissions": ["SPOT"],
    "permissionSets": [["SPOT"]],
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.01",
            "maxPrice": "1000000",
            "tickSize": "0.01",
        },
        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
    ],
}


_PUBLIC = frozenset({"/api/v3/exchangeInfo", "/api/v3/klines"})


class FakeBinance:
    """The server; ``url`` is the value for ``exchange.urls['api']['public']``."""

    def __init__(
        self, bars: int = 3_000, *, api_key: str = "fake-key", account: SpotAccount | None = None
    ) -> None:
        self.tape = Tape(("BTCUSDT",))
        self.released = bars * 6 + 6
        self.api_key = api_key
        self.account = account or SpotAccount()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.methods: list[tuple[str, str]] = []
        self._rate_limited: list[str] = []
        self._stalls: list[float] = []
        self._kline_failures = 0
        self.stalled: list[str] = []
        self._lock = threading.Lock()
        self.stream = KlineStream()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL of the spot API (``…/api/v3``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v3"

    def __enter__(self) -> FakeBinance:
        self._thread.start()
        self.stream.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stream.stop()
        self._server.shutdown()
        self._server.server_close()

    def ws_urls(self) -> dict[str, Any]:
        """Return the ``urls['api']`` entry of the kline WebSocket."""
        return {"ws": {"spot": self.stream.url}}

    def kline(self, index: int, *, final: bool = True) -> dict[str, Any]:
        """Return tape bar ``index`` as a WebSocket kline (``final=False``: its first update)."""
        step = self.tape.interval_ms
        start = self.tape.start_ms + index * step
        bar = self.tape.bar(0, start)
        if bar is None:
            raise ValueError(f"the tape has no bar {index}")
        values = bar if final else bar.__class__(start, bar.open, bar.open, bar.open, bar.open, "1")
        return {
            "t": start, "T": start + step - 1, "o": values.open, "h": values.high,
            "l": values.low, "c": values.close, "v": values.volume, "n": 6, "x": final,
            "q": "0", "V": "0", "Q": "0", "B": "0", "f": 0, "L": 0,
        }  # fmt: skip

    def publish(self, index: int) -> int:
        """Stream tape bar ``index`` (its first update, then its final one); return receivers."""
        self.stream.publish("BTCUSDT", "1m", self.kline(index, final=False))
        return self.stream.publish("BTCUSDT", "1m", self.kline(index))

    def rate_limit(self, times: int = 1, retry_after: str = "1") -> None:
        """Answer the next ``times`` private requests with HTTP 429 and ``Retry-After``."""
        with self._lock:
            self._rate_limited.extend([retry_after] * times)

    def stall_creates(self, seconds: float, times: int = 1) -> None:
        """Accept the next ``times`` orders but answer each only after ``seconds``."""
        with self._lock:
            self._stalls.extend([seconds] * times)

    def fail_klines(self, times: int) -> None:
        """Answer the next ``times`` kline requests with HTTP 503 (the REST API is down)."""
        with self._lock:
            self._kline_failures += times

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        """Return the status and JSON body for one public request."""
        self.requests.append((path, query))
        with self._lock:
            failing = path == "/api/v3/klines" and self._kline_failures > 0
            self._kline_failures -= failing
        if failing:
            return 503, {}
        if path == "/api/v3/exchangeInfo":
            return 200, {"timezone": "UTC", "serverTime": 0, "symbols": [_MARKET]}
        if path == "/api/v3/klines":
            return 200, self._klines(query)
        return 404, {"code": -1, "msg": f"unknown path {path}"}

    def answer_private(
        self, method: str, path: str, query: dict[str, str], key: str | None
    ) -> tuple[int, Any, dict[str, str], float]:
        """Return status, JSON body, extra headers and a delay for one signed request."""
        self.requests.append((path, query))
        self.methods.append((method, path))
        if key != self.api_key:
            return (
                401,
                {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
                {},
                0,
            )
        with self._lock:
            retry_after = self._rate_limited.pop(0) if self._rate_limited else None
            stalls = self._stalls if retry_after is None and method == "POST" else []
            stall = stalls.pop(0) if stalls else 0.0
        if retry_after is not None:
            body = {"code": -1003, "msg": "Too many requests; current limit is 1200."}
            return 429, body, {"Retry-After": retry_after}, 0.0
        routes = {
            ("POST", "/api/v3/order"): self.account.create,
            ("GET", "/api/v3/order"): self.account.query,
            ("DELETE", "/api/v3/order"): self.account.cancel,
            ("GET", "/api/v3/openOrders"): self.account.open_orders,
            ("GET", "/api/v3/myTrades"): self.account.my_trades,
            ("GET", "/api/v3/account"): lambda params: self.account.account(),
        }
        route = routes.get((method, path))
        if route is None:
            return 404, {"code": -1, "msg": f"unknown path {method} {path}"}, {}, 0.0
        if stall:
            self.stalled.append(query.get("newClientOrderId", ""))
        try:
            return 200, route(query), {}, stall
        except BinanceError as error:
            return error.status, {"code": error.code, "msg": error.msg}, {}, 0.0

    def _klines(self, query: dict[str, str]) -> list[list[Any]]:
        limit = min(int(query.get("limit", "500")), 1000)
        start = int(query.get("startTime", str(self.tape.start_ms)))
        end = int(query.get("endTime", str(self.tape.time(self.released))))
        bars = self.tape.closed_bars(0, start, end, self.released)[:limit]
        step = self.tape.interval_ms
        return [
            [bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.time + step - 1,
             "0", 6, "0", "0", "0"]
            for bar in bars
        ]  # fmt: skip

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # one write per answer: no delayed-ACK stall on keep-alive
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    form = parse_qs(self.rfile.read(length).decode())
                    query.update({key: values[-1] for key, values in form.items()})
                headers: dict[str, str] = {}
                delay = 0.0
                if parts.path in _PUBLIC:
                    status, body = fake.answer(parts.path, query)
                else:
                    key = self.headers.get("X-MBX-APIKEY")
                    status, body, headers, delay = fake.answer_private(
                        method, parts.path, query, key
                    )
                if delay:
                    time.sleep(delay)
                content = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(content)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(content)
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True  # the client gave up waiting

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                del format, args

        return Handler


def ccxt_config(server: FakeBinance, **settings: Any) -> Any:
    """Return a :class:`~quantstrata.live.brokers.CcxtConfig` pointing ccxt at ``server``."""
    from quantstrata.live.brokers import CcxtConfig

    values: dict[str, Any] = {
        "exchange": "binance",
        "symbols": ("BTC/USDT",),
        "api_urls": {"public": server.url, "private": server.url, **server.ws_urls()},
        "options": {
            "fetchMarkets": {"types": ["spot"]},
            "fetchCurrencies": False,
            "fetchMargins": False,
        },
        "enable_rate_limit": False,
        "timeout_seconds": 2.0,
        "backoff_base_seconds": 0.01,
        "backoff_cap_seconds": 0.05,
        "poll_seconds": 0.05,
    }
    values.update(settings)
    return CcxtConfig(**values)


def ccxt_public_client(server: FakeBinance) -> Any:
    """Return the real synchronous ``ccxt.binance``, public API pointed at ``server``."""
    import ccxt

    exchange = ccxt.binance({"enableRateLimit": False})
    exchange.urls["api"]["public"] = server.url
    exchange.options["fetchMarkets"] = {"types": ["spot"]}
    exchange.options["fetchCurrencies"] = False
    return exchange
