"""Catch signal strategies that peek at the future.

A vectorised ``targets(bars)`` can read later rows by accident (``shift(-1)``, a centred
window, a whole-history mean or rank). Such a strategy backtests beautifully and cannot trade:
live, the later rows do not exist yet. :func:`check_no_lookahead` recomputes the targets on the
bars up to sampled times *t* and compares each value at *t* with the full-history run; any
difference is a :class:`LookAheadError`. The backtester runs it on every signal strategy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import numpy as np
import polars as pl

from quantstrata.core.errors import ConfigError, QuantstrataError
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["LookAheadError", "check_no_lookahead"]

_EARLY_SAMPLES = 3


class LookAheadError(QuantstrataError):
    """A signal strategy's target at a bar changed when later bars were added.

    ``strategy``, ``symbol`` and ``ts`` name the first such bar (in time); ``full_value`` is the
    target from the full history, ``truncated_value`` the target from the bars up to ``ts``
    (``None`` for no decision); ``violations`` counts every mismatch found.
    """

    def __init__(
        self,
        strategy: str,
        *,
        symbol: str,
        ts: datetime,
        full_value: float | None,
        truncated_value: float | None,
        violations: int = 1,
    ) -> None:
        """Describe the first mismatch and how many there were."""
        self.strategy = strategy
        self.symbol = symbol
        self.ts = ts
        self.full_value = full_value
        self.truncated_value = truncated_value
        self.violations = violations
        more = f" ({violations} mismatches among the sampled bars)" if violations > 1 else ""
        super().__init__(
            f"{strategy} looks ahead: its target for {symbol!r} at {ts.isoformat()} is "
            f"{full_value!r} with the full history but {truncated_value!r} with the bars up to "
            f"that time{more}. targets() must use only bars at or before each row "
            "(no shift(-1), centred windows or whole-history statistics)."
        )


def check_no_lookahead(
    strategy: SignalStrategy,
    bars: pl.DataFrame,
    samples: int = 20,
    seed: int = 0,
    *,
    tolerance: float = 1e-9,
    targets: pl.DataFrame | None = None,
) -> None:
    """Raise :class:`LookAheadError` if ``strategy``'s targets depend on later bars.

    For each symbol, ``samples`` bar times are drawn (always its last bar and its first bars
    after :meth:`~quantstrata.strategy.base.Strategy.warmup_bars`, the rest at random with
    ``seed``); for each drawn time *t* the targets are recomputed on every bar with ``ts <= t``
    and every symbol's value at *t* is compared with the full run. Values agree when both are
    null or they differ by at most ``tolerance`` × max(1, |value|). ``targets`` is the full
    run (``strategy.compute_targets(bars)``) when the caller already has it. Cost: one
    ``targets`` call per distinct drawn time, on the bars up to it.
    """
    if not isinstance(strategy, SignalStrategy):
        raise ConfigError(
            f"check_no_lookahead() takes a SignalStrategy, got {type(strategy).__name__} "
            "(event strategies see one bar at a time and cannot look ahead)"
        )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ConfigError(f"samples must be a positive integer, got {samples!r}")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise ConfigError(f"tolerance must be finite and >= 0, got {tolerance!r}")
    full = strategy.compute_targets(bars) if targets is None else targets
    full_ns = full.get_column("ts").dt.epoch("ns").to_numpy()
    prefix = _prefix_reader(bars)
    mismatches: list[tuple[datetime, str, float | None, float | None]] = []
    for cutoff_ns in _sample_times(full, strategy.warmup_bars(), samples, seed):
        truncated = strategy.compute_targets(prefix(cutoff_ns))
        at_full = _rows_at(full, full_ns, cutoff_ns)
        truncated_ns = truncated.get_column("ts").dt.epoch("ns").to_numpy()
        at_truncated = _rows_at(truncated, truncated_ns, cutoff_ns)
        mismatches.extend(_compare_at(at_full, at_truncated, tolerance))
    if mismatches:
        ts, symbol, full_value, truncated_value = min(mismatches, key=lambda item: item[:2])
        raise LookAheadError(
            strategy.name,
            symbol=symbol,
            ts=ts,
            full_value=full_value,
            truncated_value=truncated_value,
            violations=len(mismatches),
        )


def _prefix_reader(bars: pl.DataFrame) -> Callable[[int], pl.DataFrame]:
    """Return a function giving the bars with ``ts <= cutoff`` (ns), in their order.

    Bars in time order (the usual case) are cut with a zero-copy slice; others are filtered.
    """
    column = bars.get_column("ts")
    if isinstance(column.dtype, pl.Datetime) and column.null_count() == 0:
        ns = column.dt.epoch("ns").to_numpy()
        if bool((ns[1:] >= ns[:-1]).all()):
            return lambda cutoff: bars.slice(0, int(np.searchsorted(ns, cutoff, side="right")))

    def filtered(cutoff_ns: int) -> pl.DataFrame:
        cutoff = pl.lit(cutoff_ns, dtype=pl.Int64).cast(TIMESTAMP_DTYPE)
        return bars.filter(pl.col("ts") <= cutoff)

    return filtered


def _rows_at(targets: pl.DataFrame, ns: np.ndarray, cutoff_ns: int) -> pl.DataFrame:
    """Return the rows of ``targets`` (sorted by time; ``ns`` its times) at ``cutoff_ns``."""
    start = int(np.searchsorted(ns, cutoff_ns, side="left"))
    end = int(np.searchsorted(ns, cutoff_ns, side="right"))
    return targets.slice(start, end - start)


def _sample_times(targets: pl.DataFrame, warmup: int, samples: int, seed: int) -> list[int]:
    """Return the sorted, distinct bar times (ns since the epoch) to recompute at.

    Per symbol: the last bar, the first bars after ``warmup`` and random ones in between, up to
    ``samples`` (all bars when there are fewer). A symbol with no bar past the warm-up
    contributes only its last bar. Every symbol draws with the same seed, so symbols on one
    timeline (a universe of daily series) share their sampled times and a check over hundreds
    of symbols costs about as many recomputations as one over a single symbol.
    """
    chosen: set[int] = set()
    nanoseconds = targets.select(pl.col("ts").dt.epoch("ns").alias("ns"), "symbol")
    symbol = nanoseconds.get_column("symbol")
    if symbol.len() and symbol.null_count() == 0 and bool((symbol == symbol[0]).all()):
        parts = [nanoseconds]
    else:
        parts = nanoseconds.partition_by("symbol", maintain_order=True)
    for part in parts:
        times = np.sort(part.get_column("ns").to_numpy())
        rng = np.random.default_rng(seed)
        picked = _sample_indices(times.shape[0], warmup, samples, rng)
        chosen.update(int(value) for value in times[picked])
    return sorted(chosen)


def _sample_indices(length: int, warmup: int, samples: int, rng: np.random.Generator) -> list[int]:
    """Return the bar indices to check: early ones after ``warmup``, random ones, the last."""
    last = length - 1
    first = min(max(warmup, 0), last)
    candidates = last - first  # the indices first .. last - 1
    if candidates < samples:
        return [*range(first, last), last]
    early_count = min(_EARLY_SAMPLES, samples - 1)
    rest = candidates - early_count  # the indices first + early_count .. last - 1
    count = min(samples - 1 - early_count, rest)
    drawn = rng.choice(rest, size=count, replace=False) if count else ()
    early = range(first, first + early_count)
    return [*early, *(first + early_count + int(index) for index in drawn), last]


def _compare_at(
    at_full: pl.DataFrame, at_truncated: pl.DataFrame, tolerance: float
) -> list[tuple[datetime, str, float | None, float | None]]:
    joined = at_full.join(
        at_truncated, on=["ts", "symbol"], how="full", suffix="_truncated", coalesce=True
    )
    found = []
    for ts, symbol, full_value, truncated_value in joined.select(
        "ts", "symbol", "target", "target_truncated"
    ).iter_rows():
        if not _agree(full_value, truncated_value, tolerance):
            found.append((ts, symbol, full_value, truncated_value))
    return found


def _agree(first: float | None, second: float | None, tolerance: float) -> bool:
    if first is None or second is None:
        return first is None and second is None
    return abs(first - second) <= tolerance * max(1.0, abs(first), abs(second))
