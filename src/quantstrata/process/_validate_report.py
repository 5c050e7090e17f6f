"""The outcome of bar validation: issues, gaps and what happened to every input row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from quantstrata.core.errors import ConfigError, DataIssue
from quantstrata.model.interval import Interval
from quantstrata.process.config import ValidationPolicy

__all__ = ["SessionGap", "ValidationReport"]

_SHOWN_ISSUES = 10
_SHOWN_GAPS = 5


@dataclass(frozen=True, slots=True)
class SessionGap:
    """A run of consecutive missing bars of one symbol.

    ``start`` and ``end`` are the open times of the first and the last missing bar (both
    included); ``missing_bars`` counts the bars the calendar expected in between.
    """

    symbol: str
    start: datetime
    end: datetime
    missing_bars: int

    def __post_init__(self) -> None:
        """Refuse naive times, an end before the start and a non-positive count."""
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ConfigError("a gap needs timezone-aware start and end times")
        if self.end < self.start:
            raise ConfigError(f"gap end {self.end} is before its start {self.start}")
        if self.missing_bars < 1:
            raise ConfigError(f"a gap misses at least one bar, got {self.missing_bars}")

    def __str__(self) -> str:
        """Describe the gap in one line."""
        if self.missing_bars == 1:
            return f"symbol {self.symbol!r}: 1 missing bar at {self.start.isoformat()}"
        return (
            f"symbol {self.symbol!r}: {self.missing_bars} missing bars "
            f"from {self.start.isoformat()} to {self.end.isoformat()}"
        )


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What validation found and did; every input row is either kept or in ``dropped_rows``.

    ``issues`` are problems with rows (or, with ``gaps="error"``, missing bars); ``notes`` are
    findings that do not count as issues under the chosen settings (bars outside the expected
    grid, a skipped gap check). Row numbers are zero-based positions in the frame passed in;
    ``repaired_rows`` were changed or moved but kept.
    """

    issues: tuple[DataIssue, ...]
    gaps: tuple[SessionGap, ...]
    rows_in: int
    rows_out: int
    dropped_rows: tuple[int, ...]
    repaired_rows: tuple[int, ...]
    inferred_interval: Interval | None
    policy: ValidationPolicy = ValidationPolicy.RAISE
    interval: Interval | None = None
    calendar: str | None = None
    notes: tuple[DataIssue, ...] = ()

    def __post_init__(self) -> None:
        """Check that every input row is accounted for."""
        if self.rows_in - len(self.dropped_rows) != self.rows_out:
            raise ConfigError(
                f"report does not account for every row: {self.rows_in} in, "
                f"{len(self.dropped_rows)} dropped, {self.rows_out} out"
            )

    @property
    def ok(self) -> bool:
        """Whether no issue was found (gaps under the default gap policy do not count)."""
        return not self.issues

    @property
    def missing_bars(self) -> int:
        """The number of missing bars over every gap."""
        return sum(gap.missing_bars for gap in self.gaps)

    def counts_by_check(self) -> dict[str, int]:
        """Count the issues per check name, most frequent first."""
        return dict(Counter(issue.check for issue in self.issues).most_common())

    def summary(self, max_issues: int = _SHOWN_ISSUES) -> str:
        """Describe the outcome in a few lines a person can read."""
        lines = [self._headline()]
        lines.extend(self._setting_lines())
        counts = self.counts_by_check()
        if counts:
            lines.append("issues by check:")
            width = max(len(check) for check in counts)
            lines.extend(f"  {check:<{width}}  {count}" for check, count in counts.items())
            lines.append(f"first {min(max_issues, len(self.issues))} issues:")
            lines.extend(f"  - {issue}" for issue in self.issues[:max_issues])
            if len(self.issues) > max_issues:
                lines.append(f"  ... and {len(self.issues) - max_issues} more (see to_frame())")
        if self.gaps:
            lines.append(
                f"{_count(len(self.gaps), 'gap')}, {_count(self.missing_bars, 'missing bar')}:"
            )
            lines.extend(f"  - {gap}" for gap in self.gaps[:_SHOWN_GAPS])
            if len(self.gaps) > _SHOWN_GAPS:
                lines.append(f"  ... and {len(self.gaps) - _SHOWN_GAPS} more gaps")
        if self.notes:
            lines.append("notes:")
            lines.extend(f"  - {note}" for note in self.notes[:max_issues])
            if len(self.notes) > max_issues:
                lines.append(f"  ... and {len(self.notes) - max_issues} more notes")
        return "\n".join(lines)

    def to_frame(self) -> pl.DataFrame:
        """Return one row per issue: check, symbol, row, column, value (as text), message, action.

        ``action`` says what happened to the row: ``dropped``, ``repaired``, ``kept`` (the
        ``raise`` policy keeps nothing: it raised) or ``none`` for issues without a row.
        """
        dropped, repaired = frozenset(self.dropped_rows), frozenset(self.repaired_rows)
        return pl.DataFrame(
            {
                "check": [issue.check for issue in self.issues],
                "symbol": [issue.symbol for issue in self.issues],
                "row": [issue.row for issue in self.issues],
                "column": [issue.column for issue in self.issues],
                "value": [
                    None if issue.value is None else str(issue.value) for issue in self.issues
                ],
                "message": [issue.message for issue in self.issues],
                "action": [_action(issue.row, dropped, repaired) for issue in self.issues],
            },
            schema={
                "check": pl.String,
                "symbol": pl.String,
                "row": pl.Int64,
                "column": pl.String,
                "value": pl.String,
                "message": pl.String,
                "action": pl.String,
            },
        )

    def _headline(self) -> str:
        verdict = "ok" if self.ok else _count(len(self.issues), "issue")
        return (
            f"bar validation ({self.policy.value}): {verdict}; {self.rows_in} rows in, "
            f"{self.rows_out} out, {len(self.dropped_rows)} dropped, "
            f"{len(self.repaired_rows)} repaired"
        )

    def _setting_lines(self) -> list[str]:
        calendar = self.calendar if self.calendar is not None else "24/7 (no calendar)"
        if self.inferred_interval is not None:
            interval = f"{self.inferred_interval}, inferred as the most common step"
        else:
            interval = str(self.interval) if self.interval is not None else "unknown"
        return [f"calendar: {calendar}; interval: {interval}"]


def _action(row: int | None, dropped: frozenset[int], repaired: frozenset[int]) -> str:
    if row is None:
        return "none"
    if row in dropped:
        return "dropped"
    if row in repaired:
        return "repaired"
    return "kept"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
