"""Typed identifiers: a symbol is a :class:`Symbol`, an order id a :class:`ClientOrderId`.

Identifiers subclass :class:`str` so they drop into frames, dict keys and file paths unchanged,
but their constructors refuse values that would break those uses (empty, padded, control
characters).
"""

from __future__ import annotations

import re
from typing import Self

from quantstrata.core.errors import ConfigError

__all__ = ["ClientOrderId", "Symbol", "TradeId", "VenueOrderId"]

_FORBIDDEN = frozenset("\t\n\r\x00=")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


class Symbol(str):
    """A trading symbol as the data source spells it, e.g. ``"SPX"``, ``"AAPL.US"``, ``"BTC/USDT"``.

    The text is kept exactly (case included) because sources differ; it must be non-empty, carry
    no surrounding whitespace, and contain no control characters or ``=`` (which would break
    hive-partitioned paths).
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        """Validate and wrap ``value``."""
        if type(value) is cls:  # validated when it was made; identifiers are immutable
            return value
        if not isinstance(value, str):
            raise ConfigError(f"a symbol must be text, got {type(value).__name__} {value!r}")
        if not value or value.strip() != value:
            raise ConfigError(f"invalid symbol {value!r}: empty or padded with whitespace")
        if _FORBIDDEN.intersection(value):
            raise ConfigError(f"invalid symbol {value!r}: contains a control character or '='")
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        """Show the type and the text."""
        return f"Symbol({str.__repr__(self)})"


_CLIENT_ORDER_ID_MAX_LENGTH = 36
_CLIENT_ORDER_ID_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
)


class ClientOrderId(str):
    """Our own id of an order, chosen before it is sent and stable across restarts.

    It is 1 to 36 ASCII characters from ``[A-Za-z0-9_-]``: the rules the strictest common venues
    enforce (Binance ``newClientOrderId`` and Bybit ``orderLinkId`` allow at most 36 characters;
    a UUID with hyphens is exactly 36). Within that alphabet the id needs no escaping in URLs,
    query strings, JSON, FIX tag values, SQL journals or file names, so the same id can be sent,
    logged and looked up anywhere without being rewritten, which is what makes resolving an
    order of unknown state by client order id reliable.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        """Validate and wrap ``value``."""
        if type(value) is cls:  # validated when it was made; identifiers are immutable
            return value
        text = _require_text("client order id", value)
        if len(text) > _CLIENT_ORDER_ID_MAX_LENGTH:
            raise ConfigError(
                f"invalid client order id {text!r}: {len(text)} characters, "
                f"at most {_CLIENT_ORDER_ID_MAX_LENGTH} allowed"
            )
        bad = sorted(set(text) - _CLIENT_ORDER_ID_CHARACTERS)
        if bad:
            raise ConfigError(
                f"invalid client order id {text!r}: characters {''.join(bad)!r} are not in "
                "[A-Za-z0-9_-]"
            )
        return super().__new__(cls, text)

    def __repr__(self) -> str:
        """Show the type and the text."""
        return f"ClientOrderId({str.__repr__(self)})"


class VenueOrderId(str):
    """The id the venue gave an order when it accepted it, kept exactly as the venue spells it.

    Venues choose their own formats (numbers, UUIDs, prefixed strings), so only emptiness,
    surrounding whitespace and control characters are refused.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        """Validate and wrap ``value``."""
        if type(value) is cls:  # validated when it was made; identifiers are immutable
            return value
        return super().__new__(cls, _require_text("venue order id", value))

    def __repr__(self) -> str:
        """Show the type and the text."""
        return f"VenueOrderId({str.__repr__(self)})"


class TradeId(str):
    """The venue's id of one execution (a fill); fills are de-duplicated by it.

    Kept exactly as the venue spells it; only emptiness, surrounding whitespace and control
    characters are refused.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        """Validate and wrap ``value``."""
        if type(value) is cls:  # validated when it was made; identifiers are immutable
            return value
        return super().__new__(cls, _require_text("trade id", value))

    def __repr__(self) -> str:
        """Show the type and the text."""
        return f"TradeId({str.__repr__(self)})"


def _require_text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"a {what} must be text, got {type(value).__name__} {value!r}")
    if not value or value.strip() != value:
        raise ConfigError(f"invalid {what} {value!r}: empty or padded with whitespace")
    if _CONTROL.search(value) is not None:
        raise ConfigError(f"invalid {what} {value!r}: contains a control character")
    return value
