"""Signal-style strategies: one vectorised function from bars to target positions.

A :class:`SignalStrategy` implements ``targets(bars)``: given a bar frame (one or many symbols,
sorted by ``ts`` then ``symbol``) it returns a frame ``ts, symbol, target`` where ``target`` is the
position wanted *after* that bar, decided at the bar's close. The unit is
:attr:`SignalStrategy.target_unit`: a fraction of equity by default (1.0 = fully long, -0.5 =
half short), or a number of units. A null target means "no decision at this bar": the runner
keeps the previous target (flat before the first decision).

In a backtest ``targets`` runs once over the whole history; in live trading the same method runs
on a trailing window of at least :meth:`~quantstrata.strategy.base.Strategy.warmup_bars` + 1 bars
and **the last row of each symbol is the target live trading acts on**
(:meth:`SignalStrategy.latest_targets`). The two agree only if a target never depends on later
bars; :func:`quantstrata.strategy.lookahead.check_no_lookahead` checks exactly that, and the
backtester runs it on every signal strategy.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
import polars as pl

from quantstrata.core.errors import DataError, DataIssue, SchemaError
from quantstrata.model.bar import (
    TIMESTAMP_DTYPE,
    keys_strictly_increasing,
    same_times,
    time_values,
)
from quantstrata.strategy import _nb
from quantstrata.strategy._inputs import as_bool_array, as_float_array, kind_of
from quantstrata.strategy.base import Strategy

__all__ = [
    "TARGET_COLUMNS",
    "TARGET_SCHEMA",
    "SignalStrategy",
    "TargetUnit",
    "check_targets",
    "targets_from_signals",
    "targets_per_symbol",
]

TARGET_SCHEMA = pl.Schema({"ts": TIMESTAMP_DTYPE, "symbol": pl.String(), "target": pl.Float64()})
TARGET_COLUMNS: tuple[str, ...] = tuple(TARGET_SCHEMA.names())
_MAX_ISSUES = 10


class TargetUnit(StrEnum):
    """What a target number means."""

    FRACTION_OF_EQUITY = "fraction_of_equity"
    """The position's value as a fraction of account equity (signed; 1.0 = fully invested)."""
    UNITS = "units"
    """A number of units of the instrument (signed; rounded to lots by the runner)."""


class SignalStrategy(Strategy):
    """A strategy written as one pure, vectorised function from bars to targets.

    Subclasses implement :meth:`targets` and :meth:`warmup_bars` and may set
    :attr:`target_unit`. ``targets`` must use only bars at or before each row (no ``shift(-1)``,
    no whole-history statistics): a target at bar *t* must not change when later bars arrive.
    """

    target_unit: ClassVar[TargetUnit] = TargetUnit.FRACTION_OF_EQUITY

    @abstractmethod
    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return ``ts, symbol, target``: the position wanted after each bar, decided at its close.

        ``bars`` is a canonical bar frame sorted by ``ts`` then ``symbol``. Rows may be left out
        or hold null where the strategy makes no decision; extra columns are ignored.
        """

    def compute_targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Run :meth:`targets` on ``bars`` and return checked targets, one row per bar.

        The result has exactly the rows of ``bars`` (sorted by ``ts`` then ``symbol``) and the
        columns of :data:`TARGET_SCHEMA`; bars the strategy left out get a null target.
        """
        ordered, unique = _sorted_bars(bars)
        return _checked_targets(self.targets(ordered), ordered, self.name, unique_keys=unique)

    def latest_targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return each symbol's target at its last bar: what live trading acts on.

        ``bars`` is the trailing window the live runtime holds (at least ``warmup_bars() + 1``
        bars per symbol).
        """
        targets = self.compute_targets(bars)
        return targets.filter(pl.col("ts") == pl.col("ts").max().over("symbol"))


def targets_per_symbol(bars: pl.DataFrame, compute: Callable[[pl.DataFrame], Any]) -> pl.DataFrame:
    """Return ``ts, symbol, target`` with ``compute`` applied to each symbol's bars on their own.

    ``compute`` receives one symbol's bars sorted by time and returns one target per row (a
    NumPy array, a pandas or Polars Series, or a list; NaN or null means no decision). Symbols
    never see each other's bars, so no value leaks across symbols.
    """
    _require_columns(bars, ("ts", "symbol"), "bars")
    if _one_symbol_in_time_order(bars):
        return _symbol_targets(bars, compute)
    parts = [
        _symbol_targets(frame, compute)
        for frame in bars.sort("symbol", "ts", maintain_order=True).partition_by(
            "symbol", maintain_order=True
        )
    ]
    if not parts:
        return pl.DataFrame(schema=TARGET_SCHEMA)
    return pl.concat(parts).sort("ts", "symbol", maintain_order=True)


def _symbol_targets(frame: pl.DataFrame, compute: Callable[[pl.DataFrame], Any]) -> pl.DataFrame:
    """Return ``ts, symbol, target`` for one symbol's bars (sorted by time)."""
    values = as_float_array(compute(frame), "the computed targets", frame.height)
    target = pl.Series("target", values, dtype=pl.Float64, nan_to_null=True)
    return pl.DataFrame([frame.get_column("ts"), frame.get_column("symbol"), target])


def _one_symbol_in_time_order(bars: pl.DataFrame) -> bool:
    """Return whether ``bars`` hold one symbol at strictly increasing times (no sort needed)."""
    if bars.is_empty():
        return False
    symbol = bars.get_column("symbol")
    if symbol.null_count() or not bool((symbol == symbol[0]).all()):
        return False
    return _ordered_keys(bars)


def _ordered_keys(frame: pl.DataFrame) -> bool:
    """Return whether ``frame``'s ``(ts, symbol)`` keys strictly increase (false if untyped)."""
    dtype = frame.schema["ts"]
    if not (dtype.is_temporal() or dtype.is_numeric()):
        return False
    return keys_strictly_increasing(frame)


def targets_from_signals(
    entries: Any,
    exits: Any,
    size: Any = 1.0,
    short_entries: Any = None,
    short_exits: Any = None,
) -> Any:
    """Turn boolean entry and exit signals into targets: ``+size`` long, ``-size`` short, 0 flat.

    Signals are read at each bar's close, in order, by this state machine:

    * flat: an entry opens a long unless the same bar also carries an exit or a short entry;
      a short entry opens a short unless the same bar also carries a short exit or an entry;
    * long: an exit or a short entry closes the long; a short entry also opens a short unless
      the same bar carries an entry or a short exit (a conflicting bar only closes);
    * short: the mirror image (a short exit or an entry closes; an entry may reverse).

    ``size`` (a positive number, or one per bar) is taken from the entry bar and held until the
    position closes. Missing signal values count as False. The result has the container kind of
    ``entries`` (NumPy array, pandas Series with its index, or Polars Series named ``target``).

    The position at a bar depends on every earlier signal passed in, not only on a fixed window:
    two runs agree from the first bar at which both are flat. A live runner recomputing on a
    trailing window therefore needs a window that reaches back to a flat bar (or the history
    since the backtest's start).
    """
    long_in = as_bool_array(entries, "entries")
    length = long_in.shape[0]
    long_out = _optional_signal(exits, "exits", length)
    short_in = _optional_signal(short_entries, "short_entries", length)
    short_out = _optional_signal(short_exits, "short_exits", length)
    sizes = as_float_array(size, "size", length)
    invalid = ~(np.isfinite(sizes) & (sizes > 0.0))
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        issue = DataIssue("invalid_size", "size must be finite and > 0", row, "size", sizes[row])
        raise DataError("targets_from_signals: invalid size", (issue,))
    out = np.empty(length, dtype=np.float64)
    _nb.targets_from_signals_nb(long_in, long_out, short_in, short_out, sizes, out)
    return kind_of(entries).wrap(out, name="target")


def check_targets(
    targets: pl.DataFrame, bars: pl.DataFrame, *, strategy: str = "strategy"
) -> pl.DataFrame:
    """Check ``targets`` against ``bars`` and return one target row per bar, in bar order.

    Refuse (naming ``strategy``) anything but a Polars frame with ``ts``, ``symbol`` and numeric
    ``target`` columns, duplicate ``(ts, symbol)`` rows, rows for bars that do not exist and
    infinite or NaN targets (use null for "no decision").
    """
    ordered, unique = _sorted_bars(bars)
    return _checked_targets(targets, ordered, strategy, unique_keys=unique)


def _checked_targets(
    targets: pl.DataFrame, ordered: pl.DataFrame, strategy: str, *, unique_keys: bool
) -> pl.DataFrame:
    """Check ``targets`` against ``ordered`` bars (sorted; ``unique_keys``: no key repeats)."""
    if not isinstance(targets, pl.DataFrame):
        raise SchemaError(
            f"{strategy}.targets() must return a Polars DataFrame, got {type(targets).__name__}"
        )
    _require_columns(targets, TARGET_COLUMNS, f"{strategy}.targets() result")
    if not targets["target"].dtype.is_numeric():
        raise SchemaError(
            f"{strategy}.targets(): column 'target' must be numeric, got {targets['target'].dtype}"
        )
    # Frames built from columns, not select(): no query to plan (the look-ahead check runs
    # this on many small windows, where each Polars query costs ~0.1 ms).
    schema = targets.schema
    if schema["ts"] == TIMESTAMP_DTYPE and schema["target"] == pl.Float64:
        frame = pl.DataFrame([targets.get_column(name) for name in TARGET_COLUMNS])
    else:
        frame = targets.select(
            pl.col("ts").cast(TIMESTAMP_DTYPE), "symbol", pl.col("target").cast(pl.Float64)
        )
    _check_target_values(frame, strategy)
    keys = pl.DataFrame([ordered.get_column("ts"), ordered.get_column("symbol")])
    if unique_keys and _same_keys(frame, keys):
        return keys.hstack([frame.get_column("target")])  # the key types are TARGET_SCHEMA's
    _check_unique(frame, strategy)
    unknown = frame.join(keys, on=["ts", "symbol"], how="anti", nulls_equal=True)
    if unknown.height:
        raise DataError(
            f"{strategy}.targets() returned rows for bars that do not exist",
            _row_issues(unknown, "unknown_bar", "no bar at this time for this symbol"),
        )
    return keys.join(frame, on=["ts", "symbol"], how="left", maintain_order="left").cast(
        dict(TARGET_SCHEMA)  # type: ignore[arg-type]
    )


def _same_keys(targets: pl.DataFrame, keys: pl.DataFrame) -> bool:
    """Return whether ``targets`` has exactly the (unique) bar keys ``keys``, in order.

    Then every target names a bar, none twice, and the targets are already in bar order: the
    common case (targets computed row for row from the bars) needs no join.
    """
    if targets.height != keys.height or keys.is_empty():
        return False
    if keys.schema != pl.Schema({"ts": TIMESTAMP_DTYPE, "symbol": pl.String()}):
        return False
    if targets.schema["symbol"] != pl.String:
        return False
    ours, theirs = targets.get_column("ts"), keys.get_column("ts")
    if ours.null_count() or not same_times(time_values(ours), time_values(theirs)):
        return False
    return bool(targets.get_column("symbol").eq_missing(keys.get_column("symbol")).all())


def _sorted_bars(bars: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """Return ``bars`` sorted by ``ts`` then ``symbol``, and whether no key repeats (known)."""
    if not isinstance(bars, pl.DataFrame):
        raise SchemaError(f"bars must be a Polars DataFrame, got {type(bars).__name__}")
    _require_columns(bars, ("ts", "symbol"), "bars")
    if not bars.is_empty() and _ordered_keys(bars):
        return bars, True
    return bars.sort("ts", "symbol", maintain_order=True), False


def _optional_signal(value: Any, name: str, length: int) -> np.ndarray:
    if value is None:
        return np.zeros(length, dtype=np.bool_)
    array = as_bool_array(value, name)
    if array.shape[0] != length:
        raise DataError(f"{name} has {array.shape[0]} values but entries has {length}")
    return array


def _require_columns(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what} lacks column(s) {missing}; it has {frame.columns}",
            tuple(
                DataIssue("missing_column", "column is missing", column=name) for name in missing
            ),
        )


def _check_target_values(frame: pl.DataFrame, strategy: str) -> None:
    values = frame.get_column("target")  # Float64; nulls are "no decision"
    if not (values.is_nan().any() or values.max() == math.inf or values.min() == -math.inf):
        return  # one NaN screen and two reductions: cheaper than is_finite row by row
    bad = frame.with_row_index("row").filter(
        pl.col("target").is_not_null() & ~pl.col("target").is_finite()
    )
    if bad.height:
        raise DataError(
            f"{strategy}.targets() returned non-finite targets (use null for no decision)",
            tuple(
                DataIssue(
                    "non_finite_target", "target is NaN or infinite", row, "target", value, symbol
                )
                for row, symbol, value in bad.select("row", "symbol", "target")
                .head(_MAX_ISSUES)
                .iter_rows()
            ),
        )


def _check_unique(frame: pl.DataFrame, strategy: str) -> None:
    duplicated = frame.filter(pl.struct("ts", "symbol").is_duplicated())
    if duplicated.height:
        raise DataError(
            f"{strategy}.targets() returned more than one row for the same bar",
            _row_issues(duplicated, "duplicate_target", "more than one target for this bar"),
        )


def _row_issues(frame: pl.DataFrame, check: str, message: str) -> tuple[DataIssue, ...]:
    return tuple(
        DataIssue(check, message, None, "ts", ts, symbol)
        for ts, symbol in frame.select("ts", "symbol").head(_MAX_ISSUES).iter_rows()
    )
