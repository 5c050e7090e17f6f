"""Field checks shared by the order-domain values; each failure names the field and the value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from enum import IntEnum
from types import MappingProxyType
from typing import TypeVar

from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.model.orders.enums import OrderType

__all__ = [
    "PRICE_FIELDS",
    "InvalidOrderError",
    "aware_time",
    "choice",
    "finite_number",
    "identifier",
    "order_shape",
    "positive_number",
]

PRICE_FIELDS = ("limit_price", "stop_price", "trail_amount", "trail_percent")
"""The price fields of an order, in the order they are checked."""
_SHAPE = "order"
_REQUIRED: Mapping[OrderType, frozenset[str]] = MappingProxyType(
    {
        OrderType.MARKET: frozenset(),
        OrderType.LIMIT: frozenset({"limit_price"}),
        OrderType.STOP: frozenset({"stop_price"}),
        OrderType.STOP_LIMIT: frozenset({"limit_price", "stop_price"}),
        OrderType.TRAILING_STOP: frozenset(),
    }
)
"""Price fields each order type needs; a trailing stop needs one of its two trail fields."""
_ALLOWED: Mapping[OrderType, frozenset[str]] = MappingProxyType(
    {
        **_REQUIRED,
        OrderType.TRAILING_STOP: frozenset({"trail_amount", "trail_percent"}),
    }
)

_Identifier = TypeVar("_Identifier", bound=str)
_Choice = TypeVar("_Choice", bound=IntEnum)


class InvalidOrderError(QuantstrataError, ValueError):
    """An order-domain value (request, fill, order, event) breaks its rules.

    ``field`` names the offending field and ``value`` holds what was given, so the author of
    the strategy or the venue adapter sees exactly which argument to fix. It is a
    :class:`ValueError` too, so generic handlers still catch it.
    """

    def __init__(self, message: str, *, field: str, value: object) -> None:
        """Build the error; the message already names the field and the value."""
        super().__init__(message)
        self.field = field
        self.value = value


def positive_number(what: str, name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number > 0, else raise.

    Booleans are refused although Python treats them as integers: ``quantity=True`` is a bug.
    """
    number = finite_number(what, name, value)
    if number <= 0:
        raise InvalidOrderError(
            f"invalid {what}: {name} must be a finite number > 0, got {value!r}",
            field=name,
            value=value,
        )
    return number


def finite_number(what: str, name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number (not a bool), else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidOrderError(
            f"invalid {what}: {name} must be a number, got {type(value).__name__} {value!r}",
            field=name,
            value=value,
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidOrderError(
            f"invalid {what}: {name} must be a finite number, got {value!r}",
            field=name,
            value=value,
        )
    return number


def aware_time(what: str, name: str, value: object) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise."""
    if not isinstance(value, datetime):
        raise InvalidOrderError(
            f"invalid {what}: {name} must be a datetime, got {type(value).__name__} {value!r}",
            field=name,
            value=value,
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidOrderError(
            f"invalid {what}: {name} must be timezone-aware, got naive {value!r}",
            field=name,
            value=value,
        )
    return value


def identifier(kind: type[_Identifier], what: str, name: str, value: object) -> _Identifier:
    """Return ``value`` wrapped in the identifier type ``kind``, naming ``name`` if invalid."""
    try:
        return kind(value)
    except ConfigError as error:
        raise InvalidOrderError(
            f"invalid {what}: {name} {value!r} is not valid ({error})", field=name, value=value
        ) from error


def choice(enum: type[_Choice], what: str, name: str, value: object) -> _Choice:
    """Return the member of the integer enum ``enum`` equal to ``value``, else raise.

    Booleans are refused although ``True == 1`` (it would pass as ``BUY`` or ``LIMIT``).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return enum(value)
        except ValueError:
            pass
    choices = ", ".join(f"{member.name} ({member.value})" for member in enum)
    raise InvalidOrderError(
        f"invalid {what}: {name} must be one of {choices}, got {value!r}",
        field=name,
        value=value,
    )


def order_shape(
    order_type: OrderType, quantity: object, prices: Mapping[str, object]
) -> tuple[float, dict[str, float | None]]:
    """Return ``quantity`` and the :data:`PRICE_FIELDS` of ``prices`` checked, as floats.

    The one order-shape rule, for :class:`~quantstrata.model.orders.request.OrderRequest` and
    the fill model's working order alike: a finite quantity > 0; every price given finite
    and > 0; the prices ``order_type`` needs given and the others absent (``MARKET``: none,
    ``LIMIT``: ``limit_price``, ``STOP``: ``stop_price``, ``STOP_LIMIT``: both,
    ``TRAILING_STOP``: exactly one of ``trail_amount`` and ``trail_percent``, a fraction below
    1). A break raises :class:`InvalidOrderError` naming the field and the value, with the same
    message whichever door the order came through.
    """
    checked_quantity = positive_number(_SHAPE, "quantity", quantity)
    checked: dict[str, float | None] = {}
    for name in PRICE_FIELDS:
        value = prices.get(name)
        checked[name] = None if value is None else positive_number(_SHAPE, name, value)
    given = {name for name, value in checked.items() if value is not None}
    extra = sorted(given - _ALLOWED[order_type])
    if extra:
        name = extra[0]
        raise InvalidOrderError(
            f"invalid order: a {order_type.name} order takes no {name}, "
            f"got {name}={prices[name]!r}",
            field=name,
            value=prices[name],
        )
    missing = sorted(_REQUIRED[order_type] - given)
    if missing:
        name = missing[0]
        raise InvalidOrderError(
            f"invalid order: a {order_type.name} order needs a {name}, got {name}=None",
            field=name,
            value=None,
        )
    if order_type is OrderType.TRAILING_STOP:
        _check_trail(checked["trail_amount"], checked["trail_percent"])
    return checked_quantity, checked


def _check_trail(amount: float | None, percent: float | None) -> None:
    if amount is None and percent is None:
        raise InvalidOrderError(
            "invalid order: a TRAILING_STOP order needs one of trail_amount, trail_percent, "
            "got neither",
            field="trail_amount",
            value=None,
        )
    if amount is not None and percent is not None:
        raise InvalidOrderError(
            "invalid order: a TRAILING_STOP order takes only one of trail_amount, "
            f"trail_percent, got trail_amount={amount!r} and trail_percent={percent!r}",
            field="trail_percent",
            value=percent,
        )
    if percent is not None and percent >= 1:
        raise InvalidOrderError(
            f"invalid order: trail_percent is a fraction below 1, got {percent!r}",
            field="trail_percent",
            value=percent,
        )
