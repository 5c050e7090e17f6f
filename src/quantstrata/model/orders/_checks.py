"""Field checks shared by the order-domain values; each failure names the field and the value."""

from __future__ import annotations

import math
from datetime import datetime
from enum import IntEnum
from typing import TypeVar

from quantstrata.core.errors import ConfigError, QuantstrataError

__all__ = [
    "InvalidOrderError",
    "aware_time",
    "choice",
    "finite_number",
    "identifier",
    "positive_number",
]

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
