"""One order-shape rule: a request and a working order refuse the same shape the same way."""

from __future__ import annotations

import math
from typing import Any

import pytest

from quantstrata.execution.orders import WorkingOrder
from quantstrata.model.identifiers import Symbol
from quantstrata.model.orders import InvalidOrderError, OrderRequest, OrderSide, OrderType

BAD_SHAPES: dict[str, dict[str, Any]] = {
    "zero quantity": {"quantity": 0.0},
    "nan quantity": {"quantity": math.nan},
    "bool quantity": {"quantity": True},
    "limit without price": {"order_type": OrderType.LIMIT},
    "stop without price": {"order_type": OrderType.STOP},
    "stop-limit without stop": {"order_type": OrderType.STOP_LIMIT, "limit_price": 99.0},
    "market with a limit price": {"limit_price": 99.0},
    "limit with a stop price": {
        "order_type": OrderType.LIMIT,
        "limit_price": 99.0,
        "stop_price": 98.0,
    },
    "negative limit": {"order_type": OrderType.LIMIT, "limit_price": -1.0},
    "infinite stop": {"order_type": OrderType.STOP, "stop_price": math.inf},
    "trail without amount": {"order_type": OrderType.TRAILING_STOP},
    "trail with both": {
        "order_type": OrderType.TRAILING_STOP,
        "trail_amount": 1.0,
        "trail_percent": 0.1,
    },
    "trail percent of one": {"order_type": OrderType.TRAILING_STOP, "trail_percent": 1.0},
}


def _through_request(shape: dict[str, Any]) -> InvalidOrderError:
    fields = {"quantity": 1.0, **shape}
    with pytest.raises(InvalidOrderError) as raised:
        OrderRequest(Symbol("SPX"), OrderSide.BUY, **fields)
    return raised.value


def _through_working_order(shape: dict[str, Any]) -> InvalidOrderError:
    fields = {"quantity": 1.0, **shape}
    with pytest.raises(InvalidOrderError) as raised:
        WorkingOrder(OrderSide.BUY, **fields)
    return raised.value


@pytest.mark.parametrize("name", sorted(BAD_SHAPES))
def test_both_doors_refuse_a_bad_shape_with_the_same_error(name: str) -> None:
    shape = BAD_SHAPES[name]

    by_request = _through_request(shape)
    by_working_order = _through_working_order(shape)

    assert str(by_working_order) == str(by_request)
    assert by_working_order.field == by_request.field
    assert by_working_order.value is by_request.value or (
        by_working_order.value == by_request.value
    )


def test_a_working_order_names_its_own_fields_too() -> None:
    with pytest.raises(InvalidOrderError, match="trail_extreme") as raised:
        WorkingOrder(
            OrderSide.BUY, 1.0, OrderType.TRAILING_STOP, trail_amount=1.0, trail_extreme=0.0
        )
    assert raised.value.field == "trail_extreme"
    with pytest.raises(InvalidOrderError, match="filled_quantity"):
        WorkingOrder(OrderSide.BUY, 1.0, filled_quantity=-1.0)
