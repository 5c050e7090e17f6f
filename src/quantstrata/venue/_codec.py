"""A working order's state between bars as JSON values, for the venue's state file."""

from __future__ import annotations

from typing import Any

from quantstrata.execution import WorkingOrder
from quantstrata.model.orders import OrderSide, OrderType

__all__ = ["working_from_json", "working_to_json"]


def working_to_json(state: WorkingOrder) -> dict[str, Any]:
    """Return a working order's state between bars as JSON values."""
    return {
        "side": int(state.side),
        "quantity": state.quantity,
        "order_type": int(state.order_type),
        "limit_price": state.limit_price,
        "stop_price": state.stop_price,
        "trail_amount": state.trail_amount,
        "trail_percent": state.trail_percent,
        "trail_extreme": state.trail_extreme,
        "triggered": state.triggered,
        "arrived": state.arrived,
        "filled_quantity": state.filled_quantity,
        "fee_basis": state.fee_basis,
    }


def working_from_json(values: dict[str, Any]) -> WorkingOrder:
    """Rebuild a working order's state from :func:`working_to_json`."""
    return WorkingOrder(
        side=OrderSide(values["side"]),
        quantity=float(values["quantity"]),
        order_type=OrderType(values["order_type"]),
        limit_price=values["limit_price"],
        stop_price=values["stop_price"],
        trail_amount=values["trail_amount"],
        trail_percent=values["trail_percent"],
        trail_extreme=values["trail_extreme"],
        triggered=bool(values["triggered"]),
        arrived=bool(values["arrived"]),
        filled_quantity=float(values["filled_quantity"]),
        fee_basis=float(values["fee_basis"]),
    )
