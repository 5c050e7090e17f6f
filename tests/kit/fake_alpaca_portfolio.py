"""The account side of the fake Alpaca: ``/v2/account``, positions and FILL activities.

Functions of an :class:`~tests.kit.fake_alpaca_account.AlpacaAccount`, answering in the JSON
shapes ``alpaca-py`` parses (``TradeAccount``, ``Position``, ``TradeActivity``).
"""

from __future__ import annotations

from typing import Any

from quantstrata.model.identifiers import Symbol
from tests.kit.fake_alpaca_account import (
    ACCOUNT_ID,
    AlpacaAccount,
    AlpacaError,
    asset_id,
    number,
    parse_moment,
)

__all__ = ["account_json", "fill_activities", "position_json", "positions_json"]


def account_json(account: AlpacaAccount) -> dict[str, Any]:
    """Answer ``GET /v2/account``."""
    with account.lock:
        values = {s: p.market_value(account.mark(s)) for s, p in account.book.positions.items()}
        equity = account.book.equity()
        return {
            "id": ACCOUNT_ID,
            "account_number": "PA0FAKE0001",
            "status": "ACTIVE",
            "crypto_status": "INACTIVE",
            "currency": "USD",
            "buying_power": number(account.buying_power()),
            "regt_buying_power": number(account.buying_power()),
            "daytrading_buying_power": "0",
            "non_marginable_buying_power": number(max(account.book.cash, 0.0)),
            "cash": number(account.book.cash),
            "accrued_fees": "0",
            "portfolio_value": number(equity),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "created_at": "2020-01-01T00:00:00Z",
            "trade_suspended_by_user": False,
            "multiplier": number(account.margin_multiplier),
            "shorting_enabled": account.book.config.allow_short,
            "equity": number(equity),
            "last_equity": number(equity),
            "long_market_value": number(sum(v for v in values.values() if v > 0)),
            "short_market_value": number(sum(v for v in values.values() if v < 0)),
            "initial_margin": "0",
            "maintenance_margin": "0",
            "last_maintenance_margin": "0",
            "sma": "0",
            "daytrade_count": 0,
        }


def positions_json(account: AlpacaAccount) -> list[dict[str, Any]]:
    """Answer ``GET /v2/positions`` (open positions, by symbol)."""
    with account.lock:
        return [
            _position_json(account, symbol)
            for symbol, position in sorted(account.book.positions.items())
            if not position.is_flat
        ]


def position_json(account: AlpacaAccount, symbol: str) -> dict[str, Any]:
    """Answer ``GET /v2/positions/{symbol}`` (404 when flat)."""
    with account.lock:
        position = account.book.positions.get(Symbol(symbol))
        if position is None or position.is_flat:
            raise AlpacaError(404, 40410000, "position does not exist")
        return _position_json(account, Symbol(symbol))


def _position_json(account: AlpacaAccount, symbol: Symbol) -> dict[str, Any]:
    position = account.book.positions[symbol]
    mark = account.mark(symbol)
    cost = position.quantity * position.average_price
    unrealized = position.unrealized_pnl(mark)
    return {
        "asset_id": asset_id(symbol),
        "symbol": str(symbol),
        "exchange": "NYSE",
        "asset_class": "us_equity",
        "asset_marginable": True,
        "avg_entry_price": number(position.average_price),
        "qty": number(position.quantity),
        "qty_available": number(position.quantity),
        "side": "long" if position.quantity > 0 else "short",
        "market_value": number(position.market_value(mark)),
        "cost_basis": number(cost),
        "unrealized_pl": number(unrealized),
        "unrealized_plpc": number(unrealized / abs(cost) if cost else 0.0),
        "unrealized_intraday_pl": number(unrealized),
        "unrealized_intraday_plpc": "0",
        "current_price": number(mark),
        "lastday_price": number(mark),
        "change_today": "0",
    }


def fill_activities(account: AlpacaAccount, query: dict[str, str]) -> list[dict[str, Any]]:
    """Answer ``GET /v2/account/activities[/FILL]``: page_size, page_token, direction."""
    with account.lock:
        items = list(account.activities)
        after, until = parse_moment(query.get("after")), parse_moment(query.get("until"))
        if after is not None:
            items = [a for a in items if parse_moment(a["transaction_time"]) > after]  # type: ignore[operator]
        if until is not None:
            items = [a for a in items if parse_moment(a["transaction_time"]) < until]  # type: ignore[operator]
        if query.get("direction", "desc") == "desc":
            items.reverse()
        token = query.get("page_token")
        if token:
            ids = [a["id"] for a in items]
            items = items[ids.index(token) + 1 :] if token in ids else []
        size = min(int(query.get("page_size") or 100), 100)
        return items[:size]
