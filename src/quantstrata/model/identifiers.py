"""Typed identifiers: a symbol is a :class:`Symbol`, not any string.

Identifiers subclass :class:`str` so they drop into frames, dict keys and file paths unchanged,
but their constructors refuse values that would break those uses (empty, padded, control
characters).
"""

from __future__ import annotations

from typing import Self

from quantstrata.core.errors import ConfigError

__all__ = ["Symbol"]

_FORBIDDEN = frozenset("\t\n\r\x00=")


class Symbol(str):
    """A trading symbol as the data source spells it, e.g. ``"SPX"``, ``"AAPL.US"``, ``"BTC/USDT"``.

    The text is kept exactly (case included) because sources differ; it must be non-empty, carry
    no surrounding whitespace, and contain no control characters or ``=`` (which would break
    hive-partitioned paths).
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        """Validate and wrap ``value``."""
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
