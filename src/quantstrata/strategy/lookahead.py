"""Catch signal strategies that peek at the future.

A vectorised ``targets(bars)`` can read later rows by accident (``shift(-1)``, a centred
window, a whole-history mean or rank). Such a strategy backtests beautifully and cannot trade:
live, the later rows do not exist yet. :func:`check_no_lookahead` recomputes the targets on the
bars up to sampled times *t* and compares each value at *t* with the full-history run; any
difference is a :class:`LookAheadError`. The backtester runs it on every signal strategy.
"""

from __future__ import annotations

import math
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
) -> None:
    """Raise :class:`LookAheadError` if ``strategy``'s targets depend on later bars.

    For each symbol, ``samples`` bar times are drawn (always its last bar and its first bars
    after :meth:`~quantstrata.strategy.base.Strategy.warmup_bars`, the rest at random with
    ``seed``); for each drawn time *t* the targets are recomputed on every bar with ``ts <= t``
    and every symbol's value at *t* is compared with the full run. Values agree when both are
    null or they differ by at most ``tolerance`` × max(1, |value|). Cost: one ``targets`` call
    per distinct drawn time.
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
    full = strategy.compute_targets(bars)
    mismatches: list[tuple[datetime, str, float | None, float | None]] = []
    for cutoff_ns in _sample_times(full, strategy.warmup_bars(), samples, seed):
        cutoff = pl.lit(cutoff_ns, dtype=pl.Int64).cast(TIMESTAMP_DTYPE)
        truncated = strategy.compute_targets(bars.filter(pl.col("ts") <= cutoff))
        mismatches.extend(_compare_at(full, truncated, cutoff, tolerance))
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


def _sample_times(targets: pl.DataFrame, warmup: int, samples: int, seed: int) -> list[int]:
    """Return the sorted, distinct bar times (ns since the epoch) to recompute at.

    Per symbol: the last bar, the first bars after ``warmup`` and random ones in between, up to
    ``samples`` (all bars when there are fewer). A symbol with no bar past the warm-up
    contributes only its last bar.
    """
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    nanoseconds = targets.select(pl.col("ts").dt.epoch("ns").alias("ns"), "symbol")
    for part in nanoseconds.partition_by("symbol", maintain_order=True):
        times = part["ns"].sort().to_list()
        chosen.update(times[index] for index in _sample_indices(len(times), warmup, samples, rng))
    return sorted(chosen)


def _sample_indices(length: int, warmup: int, samples: int, rng: np.random.Generator) -> list[int]:
    last = length - 1
    first = min(max(warmup, 0), last)
    candidates = list(range(first, last))
    if len(candidates) < samples:
        return [*candidates, last]
    early_count = min(_EARLY_SAMPLES, samples - 1)
    rest = candidates[early_count:]
    count = min(samples - 1 - early_count, len(rest))
    drawn = rng.choice(len(rest), size=count, replace=False) if count else ()
    return [*candidates[:early_count], *(rest[int(index)] for index in drawn), last]


def _compare_at(
    full: pl.DataFrame, truncated: pl.DataFrame, cutoff: pl.Expr, tolerance: float
) -> list[tuple[datetime, str, float | None, float | None]]:
    at_full = full.filter(pl.col("ts") == cutoff)
    at_truncated = truncated.filter(pl.col("ts") == cutoff)
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
