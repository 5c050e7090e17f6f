"""The trading side of the fake Binance: one spot account, orders, trades and balances.

Plain code (no sockets) that answers Binance's spot REST endpoints the way the real venue
does, in the JSON shapes ``ccxt.binance`` parses: ``POST/GET/DELETE /api/v3/order``,
``/api/v3/openOrders``, ``/api/v3/myTrades`` and ``/api/v3/account``. Market orders fill at once
at the current price; limit orders fill at once when marketable, else rest until
:meth:`SpotAccount.set_price` crosses them (then they fill at their limit, as maker). Fees are
charged in the quote asset at ``fee_rate``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BinanceError", "SpotAccount"]

_QUOTE = "USDT"


class BinanceError(Exception):
    """A Binance error answer: HTTP ``status`` with ``{"code": code, "msg": msg}``."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg


@dataclass
class _Order:
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    quantity: float
    price: float | None
    time_in_force: str | None
    time: int
    status: str = "NEW"
    executed: float = 0.0
    quote: float = 0.0
    update_time: int = 0
    fills: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": f"{self.price or 0:.8f}",
            "origQty": f"{self.quantity:.8f}",
            "executedQty": f"{self.executed:.8f}",
            "cummulativeQuoteQty": f"{self.quote:.8f}",
            "status": self.status,
            "timeInForce": self.time_in_force or "GTC",
            "type": self.type,
            "side": self.side,
            "stopPrice": "0.00000000",
            "time": self.time,
            "updateTime": self.update_time or self.time,
            "isWorking": True,
            "workingTime": self.time,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


class SpotAccount:
    """One account trading ``BASE/USDT`` symbols; every method is thread-safe."""

    def __init__(
        self,
        cash: float = 100_000.0,
        prices: dict[str, float] | None = None,
        fee_rate: float = 0.001,
    ) -> None:
        self.balances: dict[str, float] = {_QUOTE: cash}
        self.prices: dict[str, float] = dict(prices or {"BTCUSDT": 100.0})
        self.fee_rate = fee_rate
        self.orders: list[_Order] = []
        self.trades: list[dict[str, Any]] = []
        self.now_ms = 1_700_000_000_000
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ helpers for tests

    def set_price(self, symbol: str, price: float, time_ms: int | None = None) -> None:
        """Move the market of ``symbol`` to ``price``; resting limits it crosses fill."""
        with self._lock:
            self.prices[symbol] = price
            if time_ms is not None:
                self.now_ms = max(self.now_ms, time_ms)
            for order in self.orders:
                working = order.status in ("NEW", "PARTIALLY_FILLED")
                if order.symbol == symbol and working and _crosses(order, price):
                    self._fill(order, order.price or price, maker=True)

    def client_ids(self) -> list[str]:
        """Return the client order ids the venue accepted, in order."""
        with self._lock:
            return [order.client_order_id for order in self.orders]

    def base_asset(self, symbol: str) -> str:
        """Return the base asset of ``symbol`` (``BTCUSDT`` → ``BTC``)."""
        return symbol.removesuffix(_QUOTE)

    # ------------------------------------------------------------------ endpoints

    def create(self, params: dict[str, str]) -> dict[str, Any]:
        """Answer ``POST /api/v3/order`` (response type FULL)."""
        with self._lock:
            symbol = _symbol(params, self.prices)
            client_id = params.get("newClientOrderId") or f"fake-{len(self.orders) + 1}"
            if any(order.client_order_id == client_id for order in self.orders):
                raise BinanceError(400, -2010, "Duplicate order sent.")
            order_type = params.get("type", "")
            if order_type not in ("MARKET", "LIMIT"):
                raise BinanceError(400, -1116, "Invalid orderType.")
            quantity = float(params["quantity"])
            price = float(params["price"]) if order_type == "LIMIT" else None
            side = params["side"]
            reference = price if price is not None else self.prices[symbol]
            self._check_funds(symbol, side, quantity, reference)
            self.now_ms += 1
            order = _Order(
                symbol, len(self.orders) + 1, client_id, side, order_type, quantity, price,
                params.get("timeInForce"), self.now_ms,
            )  # fmt: skip
            self.orders.append(order)
            market = self.prices[symbol]
            if order_type == "MARKET" or _crosses(order, market):
                self._fill(order, market, maker=False)
            elif order.time_in_force == "IOC":
                order.status = "EXPIRED"
            return {**order.as_json(), "transactTime": order.time, "fills": order.fills}

    def query(self, params: dict[str, str]) -> dict[str, Any]:
        """Answer ``GET /api/v3/order`` by ``orderId`` or ``origClientOrderId``."""
        with self._lock:
            return self._find(params).as_json()

    def cancel(self, params: dict[str, str]) -> dict[str, Any]:
        """Answer ``DELETE /api/v3/order``; a terminal order cannot be cancelled."""
        with self._lock:
            try:
                order = self._find(params)
            except BinanceError:
                raise BinanceError(400, -2011, "Unknown order sent.") from None
            if order.status not in ("NEW", "PARTIALLY_FILLED"):
                raise BinanceError(400, -2011, "Unknown order sent.")
            order.status = "CANCELED"
            self.now_ms += 1
            order.update_time = self.now_ms
            return order.as_json()

    def open_orders(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Answer ``GET /api/v3/openOrders`` (one symbol or all)."""
        with self._lock:
            wanted = params.get("symbol")
            return [
                order.as_json()
                for order in self.orders
                if order.status in ("NEW", "PARTIALLY_FILLED")
                and (wanted is None or order.symbol == wanted)
            ]

    def my_trades(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Answer ``GET /api/v3/myTrades`` (``symbol``, ``startTime``, ``fromId``, ``limit``)."""
        with self._lock:
            symbol = params["symbol"]
            start = int(params.get("startTime", "0"))
            first = int(params.get("fromId", "0"))
            limit = min(int(params.get("limit", "500")), 1000)
            found = [
                trade
                for trade in self.trades
                if trade["symbol"] == symbol and trade["time"] >= start and trade["id"] >= first
            ]
            return found[:limit]

    def account(self) -> dict[str, Any]:
        """Answer ``GET /api/v3/account``."""
        with self._lock:
            locked = self._locked()
            return {
                "makerCommission": 10,
                "takerCommission": 10,
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "updateTime": self.now_ms,
                "accountType": "SPOT",
                "balances": [
                    {
                        "asset": asset,
                        "free": f"{amount - locked.get(asset, 0.0):.8f}",
                        "locked": f"{locked.get(asset, 0.0):.8f}",
                    }
                    for asset, amount in sorted(self.balances.items())
                ],
                "permissions": ["SPOT"],
            }

    # ------------------------------------------------------------------ internals

    def _find(self, params: dict[str, str]) -> _Order:
        symbol = params.get("symbol")
        for order in self.orders:
            if order.symbol != symbol:
                continue
            if "orderId" in params and str(order.order_id) == params["orderId"]:
                return order
            if order.client_order_id == params.get("origClientOrderId"):
                return order
        raise BinanceError(400, -2013, "Order does not exist.")

    def _locked(self) -> dict[str, float]:
        locked: dict[str, float] = {}
        for order in self.orders:
            if order.status not in ("NEW", "PARTIALLY_FILLED"):
                continue
            rest = order.quantity - order.executed
            if order.side == "BUY":
                locked[_QUOTE] = locked.get(_QUOTE, 0.0) + rest * (order.price or 0.0)
            else:
                base = self.base_asset(order.symbol)
                locked[base] = locked.get(base, 0.0) + rest
        return locked

    def _check_funds(self, symbol: str, side: str, quantity: float, price: float) -> None:
        locked = self._locked()
        if side == "BUY":
            need, asset = quantity * price * (1 + self.fee_rate), _QUOTE
        else:
            need, asset = quantity, self.base_asset(symbol)
        free = self.balances.get(asset, 0.0) - locked.get(asset, 0.0)
        if need > free + 1e-9:
            raise BinanceError(400, -2010, "Account has insufficient balance for requested action.")

    def _fill(self, order: _Order, price: float, *, maker: bool) -> None:
        quantity = order.quantity - order.executed
        value = quantity * price
        fee = value * self.fee_rate
        base = self.base_asset(order.symbol)
        sign = 1.0 if order.side == "BUY" else -1.0
        self.balances[base] = self.balances.get(base, 0.0) + sign * quantity
        self.balances[_QUOTE] = self.balances[_QUOTE] - sign * value - fee
        self.now_ms += 1
        trade_id = len(self.trades) + 1
        order.executed += quantity
        order.quote += value
        order.status = "FILLED"
        order.update_time = self.now_ms
        order.fills.append(
            {
                "price": f"{price:.8f}",
                "qty": f"{quantity:.8f}",
                "commission": f"{fee:.8f}",
                "commissionAsset": _QUOTE,
                "tradeId": trade_id,
            }
        )
        self.trades.append(
            {
                "symbol": order.symbol,
                "id": trade_id,
                "orderId": order.order_id,
                "orderListId": -1,
                "price": f"{price:.8f}",
                "qty": f"{quantity:.8f}",
                "quoteQty": f"{value:.8f}",
                "commission": f"{fee:.8f}",
                "commissionAsset": _QUOTE,
                "time": self.now_ms,
                "isBuyer": order.side == "BUY",
                "isMaker": maker,
                "isBestMatch": True,
            }
        )


def _crosses(order: _Order, price: float) -> bool:
    if order.type != "LIMIT" or order.price is None:
        return False
    return price <= order.price if order.side == "BUY" else price >= order.price


def _symbol(params: dict[str, str], prices: dict[str, float]) -> str:
    symbol = params.get("symbol", "")
    if symbol not in prices:
        raise BinanceError(400, -1121, "Invalid symbol.")
    return symbol
