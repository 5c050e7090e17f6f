"""Reading the simulated venue's JSON into model values, without sockets."""

from __future__ import annotations

from typing import Any

import pytest

from quantstrata.live.brokers._venue_messages import (
    MalformedMessageError,
    account_from_json,
    bars_from_message,
    event_from_message,
    venue_order_from_json,
)
from quantstrata.model.orders import (
    Accepted,
    Cancelled,
    CancelRejected,
    Expired,
    FillEvent,
    OrderStatus,
    Rejected,
)

_TS = "2024-01-02T00:00:00+00:00"
_FILL = {
    "trade_id": "T1",
    "client_order_id": "A1",
    "venue_order_id": "V1",
    "symbol": "SPX",
    "side": "buy",
    "quantity": 2.0,
    "price": 100.5,
    "commission": 0.2,
    "liquidity": "taker",
    "ts": _TS,
}


def _update(event: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "order",
        "event": event,
        "client_order_id": "A1",
        "venue_order_id": "V1",
        "ts": _TS,
        "reason": None,
        "fill": None,
        **extra,
    }


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (_update("accepted"), Accepted),
        (_update("rejected", reason="no"), Rejected),
        (_update("fill", fill=_FILL), FillEvent),
        (_update("cancelled"), Cancelled),
        (_update("cancel_rejected", reason="filled"), CancelRejected),
        (_update("expired"), Expired),
    ],
)
def test_each_update_becomes_its_event(message: dict[str, Any], kind: type) -> None:
    event = event_from_message(message)
    assert isinstance(event, kind)
    assert event.order_id == "A1"


def test_fill_event_carries_the_fill() -> None:
    event = event_from_message(_update("fill", fill=_FILL))
    assert isinstance(event, FillEvent)
    assert event.fill.price == 100.5
    assert event.fill.venue_order_id == "V1"


@pytest.mark.parametrize(
    "message",
    [
        _update("teleported"),
        _update("fill", fill="nope"),
        _update("fill", fill={**_FILL, "quantity": -1}),
        _update("accepted", ts="yesterday"),
        _update("accepted", client_order_id="bad id!"),
        {"type": "order"},
    ],
)
def test_malformed_updates_raise_a_typed_error(message: dict[str, Any]) -> None:
    with pytest.raises(MalformedMessageError):
        event_from_message(message)


def test_order_account_and_bars() -> None:
    order = venue_order_from_json(
        {
            "client_order_id": "A1",
            "venue_order_id": "V1",
            "symbol": "SPX",
            "side": "sell",
            "quantity": 3.0,
            "order_type": "limit",
            "limit_price": 101.0,
            "stop_price": None,
            "trail_amount": None,
            "trail_percent": None,
            "time_in_force": "gtc",
            "reduce_only": False,
            "status": "partial",
            "filled_quantity": 1.0,
            "average_fill_price": 101.0,
            "updated_at": _TS,
        }
    )
    account = account_from_json({"cash": 5.0, "positions": {"SPX": -1.0}, "as_of": _TS})
    bars = bars_from_message(
        {
            "bars": [
                {
                    "ts": _TS,
                    "symbol": "SPX",
                    "open": 1,
                    "high": 2,
                    "low": 1,
                    "close": 2,
                    "volume": 0,
                }
            ]
        }
    )
    assert order.status is OrderStatus.PARTIAL
    assert order.request.limit_price == 101.0
    assert account.positions == {"SPX": -1.0}
    assert bars[0].close == 2.0
    with pytest.raises(MalformedMessageError):
        bars_from_message({"bars": [{"ts": _TS, "symbol": "SPX"}]})
    with pytest.raises(MalformedMessageError):
        account_from_json({"cash": 1.0})
