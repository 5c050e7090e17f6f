"""Back-adjust bar prices for splits and cash dividends.

Method (multiplicative back-adjustment, as CRSP's cumulative factors and Yahoo's "Adj Close"):
the latest prices stay as traded and every bar *before* an ex-date is scaled, so that the
adjusted series has no jump on the ex-date other than the market's own move.

- **Split** with ``value = r`` new shares per old share (2.0 for a 2-for-1 split, 0.1 for a
  1-for-10 reverse split): prices before the ex-date are multiplied by ``1 / r`` and volumes by
  ``r``.
- **Cash dividend** of ``value = D`` per share: prices before the ex-date are multiplied by
  ``1 - D / C``, where ``C`` is the close of the last bar before the ex-date; volumes are
  unchanged. ``D`` is per share as of the ex-date, so when a split has the same ex-date ``C`` is
  taken in post-split terms (``C / r``).
- A bar is *before* an action when its ``ts`` is earlier than the ex-date. A ``Date`` ex-date
  means 00:00 UTC of that day, which suits daily bars (labelled at the session date) and
  intraday bars of exchanges whose sessions start after midnight UTC; pass a UTC ``Datetime``
  for others (e.g. the ASX session opening on the previous UTC day).
- Factors of several actions multiply. With these factors the adjusted close-to-close return
  across an ex-date is ``C[t] * r / (C[t-1] - D * r) - 1``: the return against the ex-dividend
  reference price, which is what the method defines (it differs slightly from a return with the
  dividend reinvested at the ex-date close).

The output keeps every input row and column in order: ``open``, ``high``, ``low``, ``close``
and ``volume`` are adjusted, other columns (``adj_close`` included) are left alone, and
``unadjusted_open`` … ``unadjusted_volume`` plus ``adjustment_factor`` (the price multiplier)
are appended.

Idempotence: a frame that already carries ``unadjusted_*`` columns is adjusted again from those
columns, never from its adjusted prices, so ``adjust_for_actions(adjust_for_actions(b, a), a)``
equals ``adjust_for_actions(b, a)``, and re-adjusting with a longer action list is safe.
Actions for symbols that have no bars are ignored.
"""

from __future__ import annotations

import math
from enum import StrEnum

import polars as pl

from quantstrata.core.errors import DataError, DataIssue, SchemaError, TimezoneError
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.process._bar_frames import check_bar_frame, require_columns, sort_by_symbol_time

__all__ = ["ACTION_COLUMNS", "ActionKind", "adjust_for_actions"]

ACTION_COLUMNS: tuple[str, ...] = ("symbol", "ex_date", "kind", "value")
"""Columns of a corporate-action frame."""

_ADJUSTED = ("open", "high", "low", "close", "volume")
_UNADJUSTED = tuple(f"unadjusted_{name}" for name in _ADJUSTED)
_FACTOR = "adjustment_factor"
_ROW = "__action_row"
_EX = "__ex_ts"
_MAX_ISSUES = 50


class ActionKind(StrEnum):
    """The corporate actions :func:`adjust_for_actions` understands."""

    SPLIT = "split"
    """``value`` is the ratio of new to old shares (2.0 for a 2-for-1 split)."""
    DIVIDEND = "dividend"
    """``value`` is the cash paid per share."""


def adjust_for_actions(bars: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """Return ``bars`` back-adjusted for the splits and dividends in ``actions``.

    ``actions`` has columns ``symbol``, ``ex_date`` (Date, or aware Datetime), ``kind``
    (``"split"`` or ``"dividend"``) and ``value``. See the module docstring for the method. Raise
    :class:`SchemaError` for missing columns, :class:`TimezoneError` for naive ex-dates and
    :class:`DataError` naming the action row for an unknown kind, a non-positive or non-finite
    value, a duplicate action, an ex-date with no earlier bar, or a dividend not below the
    prior close.
    """
    frame = _restore_unadjusted(check_bar_frame(bars))
    ordered = sort_by_symbol_time(frame)
    checked = _checked_actions(actions, frame.get_column("symbol").unique())
    by_time = ordered.frame().with_columns(pl.Series(_ROW + "bar", ordered.rows)).sort("ts")
    factors = _action_factors(checked, by_time)
    cumulative = _cumulative(factors)
    adjusted = by_time.join_asof(
        cumulative,
        left_on="ts",
        right_on=_EX,
        by="symbol",
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    ).sort(_ROW + "bar")
    price = pl.col("price_factor").fill_null(1.0)
    volume = pl.col("volume_factor").fill_null(1.0)
    return adjusted.select(
        *(
            (pl.col(name) * (volume if name == "volume" else price)).alias(name)
            if name in _ADJUSTED
            else pl.col(name)
            for name in frame.columns
        ),
        *(pl.col(name).alias(f"unadjusted_{name}") for name in _ADJUSTED),
        price.alias(_FACTOR),
    )


def _restore_unadjusted(frame: pl.DataFrame) -> pl.DataFrame:
    """Undo an earlier adjustment: take prices from ``unadjusted_*`` columns when present."""
    present = [name for name in (*_UNADJUSTED, _FACTOR) if name in frame.columns]
    if not present:
        return frame
    require_columns(frame, (*_UNADJUSTED, _FACTOR), "an adjusted bar frame")
    return frame.with_columns(pl.col(f"unadjusted_{name}").alias(name) for name in _ADJUSTED).drop(
        *_UNADJUSTED, _FACTOR
    )


def _checked_actions(actions: pl.DataFrame, symbols: pl.Series) -> pl.DataFrame:
    """Return valid actions of the known symbols with ``__ex_ts`` and their input row."""
    if not isinstance(actions, pl.DataFrame):
        raise SchemaError(f"actions must be a Polars DataFrame, got {type(actions).__name__}")
    require_columns(actions, ACTION_COLUMNS, "actions")
    indexed = actions.select(ACTION_COLUMNS).with_row_index(_ROW)
    indexed = indexed.with_columns(_ex_timestamp(actions.schema["ex_date"]).alias(_EX))
    issues = [issue for row in indexed.iter_rows(named=True) for issue in _row_issues(row)]
    keys = pl.struct("symbol", _EX, "kind")
    duplicated = indexed.filter(keys.is_duplicated() & keys.is_first_distinct().not_())
    issues.extend(
        DataIssue(
            "duplicate_action",
            "same symbol, ex_date and kind as an earlier row",
            row=int(row[_ROW]),
            column="ex_date",
            value=row["ex_date"],
            symbol=row["symbol"],
        )
        for row in duplicated.iter_rows(named=True)
    )
    _raise_if(issues)
    return indexed.filter(pl.col("symbol").is_in(symbols.implode())).with_columns(
        pl.col("value").cast(pl.Float64)
    )


def _ex_timestamp(dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Date):
        return pl.col("ex_date").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise TimezoneError(
                "actions: ex_date holds naive datetimes; use dates or UTC datetimes",
                (DataIssue("naive_timestamp", "ex_date has no time zone", column="ex_date"),),
            )
        return pl.col("ex_date").dt.convert_time_zone("UTC").cast(TIMESTAMP_DTYPE)
    raise SchemaError(
        f"actions: ex_date must be a Date or a UTC Datetime, got {dtype}",
        (DataIssue("ex_date_dtype", "ex_date is not a date", column="ex_date", value=str(dtype)),),
    )


def _row_issues(row: dict[str, object]) -> list[DataIssue]:
    position, symbol = int(row[_ROW]), row["symbol"]  # type: ignore[call-overload]
    at = {"row": position, "symbol": None if symbol is None else str(symbol)}
    missing = [name for name in ACTION_COLUMNS if row[name] is None]
    if missing:
        return [DataIssue("null_value", "value is missing", column=name, **at) for name in missing]
    issues = []
    if row["kind"] not in {kind.value for kind in ActionKind}:
        issues.append(
            DataIssue(
                "unknown_kind",
                "kind must be 'split' or 'dividend'",
                column="kind",
                value=row["kind"],
                **at,
            )
        )
    value = row["value"]
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        issues.append(
            DataIssue(
                "non_positive_value",
                "value must be a finite number > 0",
                column="value",
                value=value,
                **at,
            )
        )
    return issues


def _action_factors(actions: pl.DataFrame, by_time: pl.DataFrame) -> pl.DataFrame:
    """Return one row per ``(symbol, __ex_ts)`` with the price and volume factors."""
    prior = (
        actions.sort(_EX)
        .join_asof(
            by_time.select("ts", "symbol", pl.col("close").alias("prior_close")),
            left_on=_EX,
            right_on="ts",
            by="symbol",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .with_columns(
            pl.col("value")
            .filter(pl.col("kind") == ActionKind.SPLIT.value)
            .product()
            .over("symbol", _EX)
            .alias("same_day_split")
        )
    )
    _check_prior_closes(prior)
    is_split = pl.col("kind") == ActionKind.SPLIT.value
    reference = pl.col("prior_close") / pl.col("same_day_split")
    price = (
        pl.when(is_split).then(1.0 / pl.col("value")).otherwise(1.0 - pl.col("value") / reference)
    )
    volume = pl.when(is_split).then(pl.col("value")).otherwise(1.0)
    return prior.group_by("symbol", _EX).agg(
        price.product().alias("price_factor"), volume.product().alias("volume_factor")
    )


def _check_prior_closes(prior: pl.DataFrame) -> None:
    issues = []
    for row in prior.sort(_ROW).iter_rows(named=True):
        position, symbol = int(row[_ROW]), row["symbol"]
        if row["prior_close"] is None:
            message = "no bar of this symbol before the ex_date; drop actions older than the data"
            issues.append(
                DataIssue("no_prior_bar", message, position, "ex_date", row["ex_date"], symbol)
            )
            continue
        reference = row["prior_close"] / row["same_day_split"]
        if row["kind"] == ActionKind.DIVIDEND.value and row["value"] >= reference:
            message = f"dividend is not below the close before the ex_date ({reference})"
            issues.append(
                DataIssue("dividend_too_large", message, position, "value", row["value"], symbol)
            )
    _raise_if(issues)


def _cumulative(factors: pl.DataFrame) -> pl.DataFrame:
    """Return, per action date, the product of its factors and those of every later action."""
    later_first = factors.sort("symbol", _EX, descending=[False, True])
    return later_first.with_columns(
        pl.col("price_factor").cum_prod().over("symbol"),
        pl.col("volume_factor").cum_prod().over("symbol"),
    ).sort(_EX)


def _raise_if(issues: list[DataIssue]) -> None:
    if issues:
        raise DataError(
            f"invalid corporate actions ({len(issues)} problems)", tuple(issues[:_MAX_ISSUES])
        )
