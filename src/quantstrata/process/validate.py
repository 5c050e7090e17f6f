"""Validate canonical bar frames: find every bad row, then raise, drop or repair.

:func:`validate_bars` runs these checks on a frame with the canonical schema
(:data:`~quantstrata.model.bar.BAR_SCHEMA`), per symbol where it matters:

====================== =====================================================================
check                  fails when
====================== =====================================================================
``missing_value``      ``ts``, ``symbol``, a price or the volume is null
``non_finite``         a price or the volume is NaN or infinite
``non_positive_price`` a price is zero or negative
``negative_volume``    the volume is negative
``high_below_body``    ``high < max(open, close)``
``low_above_body``     ``low > min(open, close)``
``high_below_low``     ``high < low``
``duplicate_timestamp`` a symbol has the same ``ts`` more than once (every such row is named)
``out_of_order``       a ``ts`` is earlier than a previous bar of the same symbol
====================== =====================================================================

A frame without the canonical columns and dtypes raises :class:`SchemaError` (naive timestamps
raise :class:`TimezoneError`) whatever the policy: no row can be judged.

Missing bars (gaps) are found by comparing each symbol's bars with
:func:`~quantstrata.process.calendar.expected_bar_opens` for the ``calendar`` (``None`` is a
24/7 market): nights, weekends and holidays of the calendar are not gaps. Gaps are reported,
not raised, unless ``gaps="error"``; bars outside the expected grid are ``unexpected_bar``
notes (issues with ``gaps="error"``). Daily bars follow the catalog's convention: one bar per
session labelled at the session date 00:00 UTC.

Policies (:class:`ValidationPolicy`): ``raise`` raises :class:`BarValidationError` carrying
every issue; ``drop`` removes every row that has an issue; ``repair`` sorts out-of-order rows
within their symbol (each symbol keeps the row slots it had), drops extra copies of exactly
duplicated rows, widens ``high``/``low`` to include ``open`` and ``close`` and drops the rest
(missing or non-finite values, non-positive prices, negative volume, duplicates that differ).
The :class:`ValidationReport` accounts for every input row.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np
import polars as pl

from quantstrata.core.errors import BarValidationError, DataError, DataIssue
from quantstrata.model.interval import Interval, IntervalUnit, interval_from_times
from quantstrata.process._validate_checks import ROW, RowFindings, check_rows, check_schema
from quantstrata.process._validate_gaps import GapFindings, find_gaps, gap_issue
from quantstrata.process._validate_report import SessionGap, ValidationReport
from quantstrata.process._validate_symbols import SymbolTimes, split_by_symbol, without_rows
from quantstrata.process.calendar import canonical_calendar_code
from quantstrata.process.config import GapPolicy, ValidationConfig, ValidationPolicy

__all__ = [
    "GapPolicy",
    "SessionGap",
    "ValidationConfig",
    "ValidationPolicy",
    "ValidationReport",
    "ValidationResult",
    "inferred_interval",
    "validate_bars",
]


_NS_PER_DAY = 86_400 * 1_000_000_000
_MAX_UNEXPECTED_NOTES = 1_000


class ValidationResult(NamedTuple):
    """The validated bars and the report of what was found and done."""

    bars: pl.DataFrame
    report: ValidationReport


def validate_bars(
    frame: pl.DataFrame,
    *,
    policy: ValidationPolicy | str = ValidationPolicy.RAISE,
    calendar: str | None = None,
    interval: Interval | str | None = None,
    check_gaps: bool = True,
    gaps: GapPolicy | str = GapPolicy.REPORT,
) -> ValidationResult:
    """Check canonical bars and apply ``policy`` to the rows that fail.

    ``calendar`` is an exchange-calendars code (``"XNYS"``, ``"24/5"``…) or ``None`` for a
    24/7 market; ``interval`` (``"1m"``, ``"1d"``…) is inferred as the most common step between
    bars when ``None`` (the report says so). ``check_gaps=False`` skips the search for missing
    bars. Raise :class:`BarValidationError` under the ``raise`` policy when any issue is found,
    :class:`SchemaError` when the frame is not canonical, :class:`ConfigError` for bad settings.
    """
    config = ValidationConfig.build(
        policy=policy,
        calendar=None if calendar is None else canonical_calendar_code(calendar),
        interval=None if interval is None else str(interval),
        check_gaps=check_gaps,
        gaps=gaps,
    )
    bars = check_schema(frame)
    kept = bars.with_row_index(ROW)
    parts = split_by_symbol(kept, ROW)
    findings = check_rows(bars, parts)
    dropped = _rows_to_drop(config.policy, findings)
    if dropped:
        kept = kept.filter(~pl.col(ROW).is_in(sorted(dropped)))
        parts = without_rows(parts, dropped)
    interval_used, inferred = _interval(config, parts)
    gap_findings = _gap_findings(parts, config, interval_used)
    issues, notes, off_grid = _apply_gap_policy(config, findings.issues, gap_findings)
    if off_grid:
        dropped |= off_grid
        kept = kept.filter(~pl.col(ROW).is_in(sorted(off_grid)))
    if issues and config.policy is ValidationPolicy.RAISE:
        raise BarValidationError(_error_message(issues, bars.height), issues)
    kept, repaired = (
        _repair(kept, findings) if config.policy is ValidationPolicy.REPAIR else (kept, ())
    )
    report = ValidationReport(
        issues=issues,
        gaps=gap_findings.gaps,
        rows_in=bars.height,
        rows_out=kept.height,
        dropped_rows=tuple(sorted(dropped)),
        repaired_rows=repaired,
        inferred_interval=inferred,
        policy=config.policy,
        interval=interval_used,
        calendar=config.calendar,
        notes=notes,
    )
    output = bars if kept.height == bars.height and not repaired else kept.drop(ROW)
    return ValidationResult(output, report)


def inferred_interval(bars: pl.DataFrame) -> Interval | None:
    """Return the interval :func:`validate_bars` infers for canonical ``bars``, or ``None``.

    It is :func:`~quantstrata.model.interval.interval_from_times`: the most common positive
    step between consecutive bars of a symbol (bars with a null ``ts`` or symbol are ignored);
    ``None`` when no symbol has two bars at different times or the step is under a second.
    """
    checked = check_schema(bars).with_row_index(ROW)
    return _infer_interval(split_by_symbol(checked, ROW))


def _interval(
    config: ValidationConfig, parts: list[SymbolTimes]
) -> tuple[Interval | None, Interval | None]:
    """Return the interval to check gaps with and, when it had to be inferred, that interval."""
    if config.parsed_interval is not None or not config.check_gaps:
        return config.parsed_interval, None
    inferred = _infer_interval(parts)
    return inferred, inferred


def _infer_interval(parts: list[SymbolTimes]) -> Interval | None:
    """Return the one interval rule's answer, ``None`` for steps under a second (noted later)."""
    try:
        return interval_from_times(part.times for part in parts)
    except DataError:
        return None


def _apply_gap_policy(
    config: ValidationConfig, issues: tuple[DataIssue, ...], gap_findings: GapFindings
) -> tuple[tuple[DataIssue, ...], tuple[DataIssue, ...], set[int]]:
    """Return the issues, the notes and the off-grid rows to drop under the gap policy."""
    if config.gaps is GapPolicy.REPORT:
        return issues, gap_findings.unexpected + gap_findings.notes, set()
    off_grid: set[int] = set()
    if config.policy is not ValidationPolicy.RAISE:
        off_grid = {issue.row for issue in gap_findings.unexpected if issue.row is not None}
    return _merge(issues, gap_findings), (), off_grid


def _rows_to_drop(policy: ValidationPolicy, findings: RowFindings) -> set[int]:
    if policy is ValidationPolicy.DROP:
        return set(findings.flagged)
    if policy is ValidationPolicy.REPAIR:
        return set(findings.unrepairable | findings.duplicate_extra | findings.duplicate_conflict)
    return set()


def _gap_findings(
    parts: list[SymbolTimes], config: ValidationConfig, interval: Interval | None
) -> GapFindings:
    if not config.check_gaps:
        return GapFindings()
    if interval is None:
        note = DataIssue(
            "interval_unknown",
            "missing bars were not looked for: the interval could not be inferred (fewer than "
            "two bars per symbol, or steps under a second); pass interval= to check gaps",
        )
        return GapFindings(notes=(note,))
    # Listed one by one only when they count as issues (and may be dropped).
    listed = None if config.gaps is GapPolicy.ERROR else _MAX_UNEXPECTED_NOTES
    found = find_gaps(parts, config.calendar, interval, max_unexpected=listed)
    if config.calendar is None and found.gaps and _trades_on_weekdays_only(parts, interval):
        hint = DataIssue(
            "calendar_hint",
            "no bar falls on a Saturday or Sunday (UTC), so many gaps may be a closed market: "
            "pass calendar= with the exchange's code (e.g. XNYS, or 24/5 for FX) so that "
            "closed hours are not counted as gaps",
        )
        return replace(found, notes=(*found.notes, hint))
    return found


def _trades_on_weekdays_only(parts: list[SymbolTimes], interval: Interval) -> bool:
    if interval.unit in (IntervalUnit.WEEK, IntervalUnit.MONTH):
        return False
    days = np.concatenate([part.times for part in parts]) // _NS_PER_DAY
    span = int(days.max() - days.min())
    # 1970-01-01 was a Thursday: (days + 3) % 7 numbers Monday 0 to Sunday 6.
    return span >= 7 and not bool(np.any((days + 3) % 7 >= 5))


def _merge(issues: tuple[DataIssue, ...], gap_findings: GapFindings) -> tuple[DataIssue, ...]:
    """Add gap findings to the row issues, keeping rows in order and row-less issues last."""
    with_rows = sorted(
        (*issues, *gap_findings.unexpected),
        key=lambda issue: -1 if issue.row is None else issue.row,
    )
    return (*with_rows, *gap_findings.notes, *(gap_issue(gap) for gap in gap_findings.gaps))


def _repair(kept: pl.DataFrame, findings: RowFindings) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """Widen high/low where only they are wrong and sort each symbol's rows by time."""
    repaired: set[int] = set()
    if findings.ohlc:
        widen = pl.col(ROW).is_in(sorted(findings.ohlc))
        kept = kept.with_columns(
            pl.when(widen)
            .then(pl.max_horizontal("high", "open", "close"))
            .otherwise(pl.col("high"))
            .alias("high"),
            pl.when(widen)
            .then(pl.min_horizontal("low", "open", "close"))
            .otherwise(pl.col("low"))
            .alias("low"),
        )
        repaired |= set(kept.filter(widen).get_column(ROW).to_list())
    if findings.out_of_order:
        before = kept.get_column(ROW)
        # Each symbol keeps its row slots, filled with its rows in time order.
        kept = kept.select(pl.all().sort_by("ts", ROW).over("symbol"))
        moved = kept.get_column(ROW) != before
        repaired |= set(kept.filter(moved).get_column(ROW).to_list())
    return kept, tuple(sorted(repaired))


def _error_message(issues: tuple[DataIssue, ...], rows: int) -> str:
    counts: dict[str, int] = {}
    for issue in issues:
        counts[issue.check] = counts.get(issue.check, 0) + 1
    listed = ", ".join(f"{check} x{count}" for check, count in counts.items())
    found = "1 issue" if len(issues) == 1 else f"{len(issues)} issues"
    return (
        f"{found} in {rows} bars ({listed}); pass policy='drop' to remove the bad "
        "rows or policy='repair' to fix what can be fixed"
    )
