"""ccxt's unified orders, trades and balances read into the order model (no sockets)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quantstrata.live import OrderRejectedError
from quantstrata.live.brokers._ccxt_mapping import (
    account_from_balance,
    client_order_id,
    create_arguments,
    fill_from_trade,
    venue_order_from_ccxt,
)
from quantstrata.live.brokers._venue_messages import MalformedMessageError
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest, OrderStatus, OrderType, TimeInForce

NOW = datetime(2024, 1, 2, tzinfo=UTC)


def _order(**values: object) -> dict[str, object]:
    order: dict[str, object] = {
        "id": "42", "clientOrderId": "run-7", "symbol": "BTC/USDT", "type": "limit",
        "side": "buy", "amount": 2.0, "price": 90.0, "filled": 0.0, "average": None,
        "status": "open", "timestamp": 1_704_153_600_000, "lastUpdateTimestamp": None,
        "timeInForce": "GTC",
    }  # fmt: skip
    order.update(values)
    return order


def test_requests_become_create_arguments_with_our_client_id():
    limit = create_arguments(
        ClientOrderId("a-1"), OrderRequest.limit("BTC/USDT", -1.5, 99.0), "newClientOrderId"
    )
    assert (limit.symbol, limit.type, limit.side, limit.amount, limit.price) == (
        "BTC/USDT", "limit", "sell", 1.5, 99.0
    )  # fmt: skip
    assert limit.params == {"newClientOrderId": "a-1", "timeInForce": "GTC"}
    market = create_arguments(
        ClientOrderId("a-2"), OrderRequest.market("BTC/USDT", 1), "clientOrderId"
    )
    assert (market.type, market.price, market.params) == ("market", None, {"clientOrderId": "a-2"})


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (OrderRequest.stop("BTC/USDT", 1, 90.0), "STOP"),
        (OrderRequest.limit("BTC/USDT", 1, 90.0, time_in_force=TimeInForce.DAY), "DAY"),
        (OrderRequest.market("BTC/USDT", 1, reduce_only=True), "reduce_only"),
    ],
)
def test_unsupported_requests_are_refused_before_sending(request_: OrderRequest, reason: str):
    with pytest.raises(OrderRejectedError, match=reason):
        create_arguments(ClientOrderId("a-3"), request_, "clientOrderId")


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        ("open", 0.0, OrderStatus.PENDING),
        ("open", 0.5, OrderStatus.PARTIAL),
        ("closed", 2.0, OrderStatus.FILLED),
        ("canceled", 0.5, OrderStatus.CANCELLED),
        ("expired", 0.0, OrderStatus.EXPIRED),
        ("rejected", 0.0, OrderStatus.REJECTED),
    ],
)
def test_ccxt_statuses_map_onto_ours(status: str, filled: float, expected: OrderStatus):
    venue = venue_order_from_ccxt(_order(status=status, filled=filled))
    assert venue.status is expected
    assert venue.filled_quantity == filled
    assert venue.request.order_type is OrderType.LIMIT
    assert venue.request.limit_price == 90.0
    assert (venue.order_id, venue.venue_order_id) == ("run-7", "42")


def test_foreign_client_ids_and_unreadable_orders():
    assert client_order_id({"id": "9", "clientOrderId": "web id with spaces"}) == "venue-9"
    with pytest.raises(MalformedMessageError, match="status"):
        venue_order_from_ccxt(_order(status="weird"))
    with pytest.raises(MalformedMessageError):
        venue_order_from_ccxt(_order(amount=None))


@pytest.mark.parametrize(
    ("fee", "commission"),
    [
        ({"cost": 0.2, "currency": "USDT"}, 0.2),
        ({"cost": 0.001, "currency": "BTC"}, 0.1),  # base-asset fee valued at the price
        ({"cost": 0.05, "currency": "BNB"}, 0.0),  # a third asset cannot be valued here
        (None, 0.0),
    ],
)
def test_trades_become_fills_with_quote_commission(fee: object, commission: float):
    trade = {
        "id": "77", "order": "42", "symbol": "BTC/USDT", "side": "sell", "amount": 2.0,
        "price": 100.0, "fee": fee, "timestamp": 1_704_153_600_000, "takerOrMaker": "maker",
    }  # fmt: skip
    fill = fill_from_trade(trade, ClientOrderId("run-7"), "USDT")
    assert (fill.trade_id, fill.quantity, fill.price, fill.liquidity) == (
        "BTCUSDT-77", 2.0, 100.0, "maker"
    )  # fmt: skip
    assert fill.commission == pytest.approx(commission)
    assert fill.ts == NOW


def test_balances_give_cash_and_spot_positions():
    balance = {"total": {"USDT": 1_000.0, "BTC": 0.5, "ETH": 0.0, "XRP": 9.0}}
    account = account_from_balance(balance, ["BTC/USDT", "ETH/USDT"], "USDT", NOW)
    assert account.cash == 1_000.0
    assert dict(account.positions) == {"BTC/USDT": 0.5}
    with pytest.raises(MalformedMessageError):
        account_from_balance({"total": [1, 2]}, ["BTC/USDT"], "USDT", NOW)


def test_config_names_the_cash_currency_and_credentials_hide_their_text():
    from quantstrata.core.errors import ConfigError
    from quantstrata.core.secrets import Secret
    from quantstrata.live._ccxt import CcxtCredentials
    from quantstrata.live.brokers import CcxtConfig

    assert CcxtConfig(symbols=("ETH/BTC",)).cash_currency == "BTC"
    assert CcxtConfig(symbols=("BTC/USDT:USDT",)).cash_currency == "USDT"
    assert CcxtConfig(symbols=("X",), quote_currency="EUR").cash_currency == "EUR"
    with pytest.raises(ConfigError, match="quote currency"):
        _ = CcxtConfig(symbols=("BTCUSDT",)).cash_currency
    credentials = CcxtCredentials(Secret("k-123456"), Secret("s-654321"))
    assert repr(credentials) == "CcxtCredentials(set=['api_key', 'secret'])"
    with pytest.raises(ConfigError, match="Secret"):
        CcxtCredentials("plain-text-key")  # type: ignore[arg-type]
