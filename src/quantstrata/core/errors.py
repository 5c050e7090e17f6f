"""Typed errors users can catch, each saying what went wrong and where.

Every error raised on purpose by quantstrata derives from :class:`QuantstrataError`. Errors about
data carry :class:`DataIssue` records that name the row, the column and the offending value, so a
user can fix the input without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "BarValidationError",
    "CatalogConflictError",
    "CatalogError",
    "ConfigError",
    "DataError",
    "DataIssue",
    "MissingDependencyError",
    "QuantstrataError",
    "SchemaError",
    "TimezoneError",
    "UnknownSymbolError",
]

_MAX_ISSUES_IN_MESSAGE = 10


@dataclass(frozen=True, slots=True)
class DataIssue:
    """One problem found in input data: which check failed, where, and on what value.

    ``row`` is the zero-based position in the input as the user gave it (``None`` when the problem
    concerns the whole input, such as a missing column); ``column`` is the column name as the user
    spelled it where known. ``line`` is set when the row was read from a text file: the file line
    it came from, counted from 1 with the header as line 1, as editors number lines. The message
    then names the file line instead of the row.
    """

    check: str
    message: str
    row: int | None = None
    column: str | None = None
    value: Any = None
    symbol: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        """Describe the issue in one line a user can act on."""
        where = []
        if self.symbol is not None:
            where.append(f"symbol {self.symbol!r}")
        if self.line is not None:
            where.append(f"file line {self.line}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        location = ", ".join(where)
        value = "" if self.value is None else f" (value: {self.value!r})"
        prefix = f"{location}: " if location else ""
        return f"{prefix}{self.message}{value} [{self.check}]"


class QuantstrataError(Exception):
    """Base class of every error quantstrata raises on purpose."""


class ConfigError(QuantstrataError, ValueError):
    """A configuration value or file is invalid; the message names the field."""


class DataError(QuantstrataError, ValueError):
    """Input data cannot be used as given.

    ``issues`` lists every problem found, not only the first, so one run reports all of them;
    ``summary`` is the message without them.
    """

    def __init__(self, message: str, issues: tuple[DataIssue, ...] = ()) -> None:
        """Build the error from a summary and the individual issues."""
        self.summary = message
        self.issues = tuple(issues)
        shown = "\n".join(f"  - {issue}" for issue in self.issues[:_MAX_ISSUES_IN_MESSAGE])
        hidden = len(self.issues) - _MAX_ISSUES_IN_MESSAGE
        more = f"\n  ... and {hidden} more" if hidden > 0 else ""
        super().__init__(f"{message}\n{shown}{more}" if self.issues else message)


class SchemaError(DataError):
    """The input's shape cannot be turned into bars: missing, duplicate or ambiguous columns."""


class TimezoneError(SchemaError):
    """Timestamps are naive (no timezone) and no timezone was given, or a timezone is unknown."""


class BarValidationError(DataError):
    """Bars failed validation; ``issues`` names each bad row, column and value."""


class UnknownSymbolError(DataError, KeyError):
    """A symbol was asked for that the source or catalog does not hold."""

    def __str__(self) -> str:
        """Show the message, not KeyError's quoted repr."""
        return str(self.args[0]) if self.args else ""


class CatalogError(QuantstrataError):
    """The catalog cannot complete an operation (missing dataset, unreadable file, bad layout)."""


class CatalogConflictError(CatalogError, DataError):
    """A write overlaps stored bars with different values and overwriting was not asked for."""


class MissingDependencyError(QuantstrataError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it.

    Raised by :func:`quantstrata.core._extras.require`, the one place optional packages are
    imported from. It is also an :class:`ImportError`, so code catching that still works.
    """
