"""A fake Binance spot REST server (exchangeInfo, klines) so the real ``ccxt.binance`` runs.

Standard-library ``ThreadingHTTPServer`` on ``127.0.0.1`` port 0. Klines come from a
:class:`~tests.kit.tickdb_tape.Tape` (so the expected bars are known exactly); ``limit`` is
capped at 1000 as Binance does, and every request is recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.kit.tickdb_tape import Tape

__all__ = ["FakeBinance"]

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


class FakeBinance:
    """The server; ``url`` is the value for ``exchange.urls['api']['public']``."""

    def __init__(self, bars: int = 3_000) -> None:
        self.tape = Tape(("BTCUSDT",))
        self.released = bars * 6 + 6
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL of the spot API (``…/api/v3``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v3"

    def __enter__(self) -> FakeBinance:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        """Return the status and JSON body for one request."""
        self.requests.append((path, query))
        if path == "/api/v3/exchangeInfo":
            return 200, {"timezone": "UTC", "serverTime": 0, "symbols": [_MARKET]}
        if path == "/api/v3/klines":
            return 200, self._klines(query)
        return 404, {"code": -1, "msg": f"unknown path {path}"}

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
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                status, body = fake.answer(parts.path, query)
                content = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                del format, args

        return Handler
