"""Gap checks of bar validation: compare each symbol's bars with the calendar's expected bars."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from quantstrata.core.clock import datetime_from_ns
from quantstrata.core.errors import DataIssue
from quantstrata.model.interval import Interval
from quantstrata.process._validate_report import SessionGap
from quantstrata.process._validate_symbols import IntArray, SymbolTimes
from quantstrata.process.calendar import expected_bar_opens

__all__ = ["GapFindings", "find_gaps", "gap_issue"]


@dataclass(frozen=True, slots=True)
class GapFindings:
    """Missing bars, bars off the expected grid (one issue per row) and whole-symbol notes."""

    gaps: tuple[SessionGap, ...] = ()
    unexpected: tuple[DataIssue, ...] = ()
    notes: tuple[DataIssue, ...] = ()


def find_gaps(
    parts: list[SymbolTimes],
    calendar: str | None,
    interval: Interval,
    *,
    max_unexpected: int | None = None,
) -> GapFindings:
    """Compare each symbol's bar times with the bars ``calendar`` expects at ``interval``.

    Bars off the expected grid are described one by one, up to ``max_unexpected`` of them (all
    when ``None``); one note counts the rest.
    """
    if not parts:
        return GapFindings()
    first = min(int(part.times.min()) for part in parts)
    last = max(int(part.times.max()) for part in parts)
    expected = (
        expected_bar_opens(calendar, interval, datetime_from_ns(first), datetime_from_ns(last))
        .cast(pl.Int64)
        .to_numpy()
    )
    gaps: list[SessionGap] = []
    unexpected: list[DataIssue] = []
    notes: list[DataIssue] = []
    hidden = 0
    for part in parts:
        times = part.times
        window = expected[
            np.searchsorted(expected, times.min()) : np.searchsorted(
                expected, times.max(), side="right"
            )
        ]
        if np.array_equal(window, times):
            continue
        position = np.searchsorted(window, times)
        on_grid = (
            window[np.minimum(position, window.size - 1)] == times
            if window.size
            else np.zeros(times.size, dtype=np.bool_)
        )
        if 2 * int(on_grid.sum()) < times.size:
            notes.append(
                _grid_note(part.symbol, int(on_grid.sum()), times.size, calendar, interval)
            )
            continue
        budget = None if max_unexpected is None else max(0, max_unexpected - len(unexpected))
        found = _off_grid(part, ~on_grid, _where(calendar, interval), budget)
        hidden += int((~on_grid).sum()) - len(found)
        unexpected.extend(found)
        hit = np.zeros(window.size, dtype=np.bool_)
        hit[position[on_grid]] = True
        gaps.extend(_runs(part.symbol, window, np.flatnonzero(~hit)))
    if hidden:
        message = f"{hidden} more bars are {_where(calendar, interval)} (not listed one by one)"
        notes.append(DataIssue("unexpected_bar", message, column="ts"))
    return GapFindings(tuple(gaps), tuple(unexpected), tuple(notes))


def gap_issue(gap: SessionGap) -> DataIssue:
    """Turn a gap into an issue, for the ``gaps="error"`` setting."""
    return DataIssue(
        "gap", str(gap).split(": ", 1)[1], None, "ts", gap.start.isoformat(), gap.symbol
    )


def _runs(symbol: str, window: IntArray, missing: IntArray) -> list[SessionGap]:
    """Group positions of missing expected bars into runs of consecutive expected bars."""
    if missing.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(missing) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [missing.size - 1]])
    return [
        SessionGap(
            symbol,
            datetime_from_ns(int(window[missing[begin]])),
            datetime_from_ns(int(window[missing[end]])),
            int(end - begin + 1),
        )
        for begin, end in zip(starts, ends, strict=True)
    ]


def _off_grid(
    part: SymbolTimes, off: np.ndarray[Any, np.dtype[np.bool_]], where: str, limit: int | None
) -> list[DataIssue]:
    if not off.any():
        return []
    rows, times = part.rows[off][:limit], part.times[off][:limit]
    return [
        DataIssue(
            "unexpected_bar",
            f"bar is {where}",
            int(row),
            "ts",
            datetime_from_ns(int(ts)).isoformat(),
            part.symbol,
        )
        for row, ts in zip(rows, times, strict=True)
    ]


def _where(calendar: str | None, interval: Interval) -> str:
    if calendar is None:
        return f"off the {interval} grid of a 24/7 market"
    return f"outside the sessions of {calendar} or off its {interval} grid"


def _grid_note(
    symbol: str, on_grid: int, total: int, calendar: str | None, interval: Interval
) -> DataIssue:
    name = calendar if calendar is not None else "24/7"
    return DataIssue(
        "grid_mismatch",
        f"only {on_grid} of {total} bars fall on the {interval} bar times expected by "
        f"calendar {name}, so missing bars were not looked for; check the calendar and the "
        "labels (bars are labelled by their open time; daily bars at 00:00 UTC of the "
        "session date)",
        symbol=symbol,
    )
