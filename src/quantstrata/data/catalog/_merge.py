"""Merging new bars into a stored period file: de-duplication and conflict resolution.

Rows are keyed by ``ts`` inside one symbol's file. A stored and a new row with the same ``ts``
and the same values (over the columns both have) are a duplicate and are skipped; with different
values they are a conflict, resolved by :class:`OnConflict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from quantstrata.core.errors import DataIssue

__all__ = ["ROW_COLUMN", "MergeResult", "OnConflict", "conflict_issues", "merge_period"]

ROW_COLUMN = "__quantstrata_row"
_NEW_SUFFIX = "__new"
_MAX_REPORTED_CONFLICTS = 100


class OnConflict(StrEnum):
    """What to do when a new bar has the same ``(symbol, ts)`` as a stored one but other values."""

    RAISE = "raise"
    OVERWRITE = "overwrite"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The outcome of merging one period: the frame to store (None if unchanged) and counts."""

    frame: pl.DataFrame | None
    rows_written: int
    rows_skipped_duplicate: int
    conflicts: pl.DataFrame


def merge_period(
    stored: pl.DataFrame | None, incoming: pl.DataFrame, on_conflict: OnConflict
) -> MergeResult:
    """Merge ``incoming`` (file columns plus the input row number) into ``stored``.

    Both frames hold one symbol, sorted by ``ts`` with unique ``ts``. The returned frame is sorted
    by ``ts`` and has the stored columns first, then any new extra columns.
    """
    new = incoming.drop(ROW_COLUMN)
    if stored is None or stored.height == 0:
        return MergeResult(new, new.height, 0, _no_conflicts(incoming))
    shared = [name for name in new.columns if name != "ts" and name in stored.columns]
    overlap = stored.join(incoming, on="ts", how="inner", suffix=_NEW_SUFFIX)
    differs = pl.any_horizontal(
        [pl.col(name).ne_missing(pl.col(f"{name}{_NEW_SUFFIX}")) for name in shared]
        or [pl.lit(value=False)]
    )
    conflicts = overlap.filter(differs)
    duplicates = overlap.height - conflicts.height
    if on_conflict is OnConflict.OVERWRITE:
        replaced = conflicts.get_column("ts")
        kept = stored.filter(~pl.col("ts").is_in(replaced.implode()))
        added = new.filter(~pl.col("ts").is_in(overlap.get_column("ts").implode()))
        merged_parts = [kept, added, new.filter(pl.col("ts").is_in(replaced.implode()))]
        written = added.height + conflicts.height
    else:
        added = new.filter(~pl.col("ts").is_in(overlap.get_column("ts").implode()))
        merged_parts = [stored, added]
        written = added.height
    if written == 0:
        return MergeResult(None, 0, duplicates, conflicts)
    merged = pl.concat(merged_parts, how="diagonal").sort("ts")
    return MergeResult(merged, written, duplicates, conflicts)


def conflict_issues(conflicts: pl.DataFrame, symbol: str) -> list[DataIssue]:
    """Describe each conflicting value: symbol, ts, input row, column, stored and new value."""
    issues: list[DataIssue] = []
    value_columns = [
        name[: -len(_NEW_SUFFIX)] for name in conflicts.columns if name.endswith(_NEW_SUFFIX)
    ]
    for record in conflicts.head(_MAX_REPORTED_CONFLICTS).iter_rows(named=True):
        for name in value_columns:
            stored, new = record[name], record[f"{name}{_NEW_SUFFIX}"]
            if _same(stored, new):
                continue
            issues.append(
                DataIssue(
                    "catalog_conflict",
                    f"bar at {record['ts'].isoformat()} is stored with {name}={stored!r}, "
                    f"the new bar has {name}={new!r}",
                    row=record[ROW_COLUMN],
                    column=name,
                    value=new,
                    symbol=symbol,
                )
            )
    return issues


def _same(left: object, right: object) -> bool:
    if left is None or right is None:
        return left is right
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)  # Polars compares NaN equal to NaN, so must we
    return left == right


def _no_conflicts(incoming: pl.DataFrame) -> pl.DataFrame:
    return incoming.clear()
