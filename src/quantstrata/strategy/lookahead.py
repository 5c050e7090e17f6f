"""Catch signal strategies that peek at the future.

A vectorised ``targets(bars)`` can read later rows by accident (``shift(-1)``, a centred
window, a whole-history mean or rank). Such a strategy backtests beautifully and cannot trade:
live, the later rows do not exist yet. :func:`check_no_lookahead` runs the strategy on a short
history and on the same history with later bars appended, and compares every target the two
runs share; any difference is a :class:`LookAheadError`. The backtester runs it on every signal
strategy, so it is built to cost a small part of the run it guards.

What it compares (bar times ``0 .. n-1`` of the whole frame, ``w`` the declared
:meth:`~quantstrata.strategy.base.Strategy.warmup_bars`):

- **the first decision against the full history**: the targets on the bars up to time ``w``
  against the full run (the backtest's own). Any peek at the first decisions, at any distance
  ahead (a whole-history statistic, ``shift(-k)`` for any ``k``), shows here.
- **windows across the whole history, the last one ending at the last bar**: a window of bars
  ``s .. e`` and its prefix ``s .. i`` (``i`` a cut time drawn at random with ``seed`` in each of
  equal strata of the history; ``w`` + *span* bars before it, *span* after), and the final window
  cut at the last bar but one and again *span* bars earlier. Every target at ``s .. i`` of the
  prefix run must equal the window run's: the two runs start at the same bar, so a strategy
  that reads only earlier bars agrees exactly, however long its memory (cumulative sums,
  exponential averages), and one that reads bars after ``i`` (up to ``e``) does not.
- **short histories at every bar**: when the history has at most ``samples`` bars after the
  warm-up, the prefix up to each of them is compared with the full run; when ``samples``
  prefixes of the whole history fit the row budget, the prefixes up to the first decision, the
  last time but one and one time drawn in each stratum between are.

Cost: at most ``samples`` calls of ``targets``, on windows that together hold about an eighth
of the bars (at least ``_MIN_ROWS``); *span* is what that budget leaves after the warm-up
(pairs of windows are dropped before the span falls below ``_MIN_SPAN``). See
``docs/layers/strategy.md`` for what it costs and catches.

What a pass proves: at every compared bar the target did not change when the later bars of its
window (or, for the first decision, of the whole history) were added. What it cannot prove:
that bars between the compared ones are honest (a peek that only some uncompared bars take —
the windows, not every bar, are checked), that a peek reaching further ahead than a window's
*span* is caught after the first decision, that a peek shows with histories longer than the
windows (a branch taken only after ``w`` + *span* bars of history), or anything about data that
does not trigger the peek. A sparse symbol (fewer bars than the frame has times) has fewer of its
own bars in each window. Passing is evidence, not a proof of causality: write targets with
backward-looking operations only.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from quantstrata.core.errors import ConfigError, DataError, QuantstrataError
from quantstrata.model.bar import time_values
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["LookAheadError", "check_no_lookahead"]

_ROW_SHARE = 8
"""The windows together hold at most 1/_ROW_SHARE of the bars (or ``_MIN_ROWS``)."""
_MIN_ROWS = 20_000
"""Row budget floor: on short histories a call costs its overhead, not its rows."""
_MIN_SPAN = 16
"""The fewest bars a window holds before and after its cut beyond the warm-up."""


class LookAheadError(QuantstrataError):
    """A signal strategy's target at a bar changed when later bars were added.

    ``strategy``, ``symbol`` and ``ts`` name the first such bar (in time); ``full_value`` is the
    target from the longer history (bars ``window_start`` to ``window_end``, the full history for
    the first decision), ``truncated_value`` the target from the bars ``window_start`` to
    ``cutoff`` (``None`` for no decision); ``violations`` counts every mismatch found.
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
        window_start: datetime | None = None,
        cutoff: datetime | None = None,
        window_end: datetime | None = None,
    ) -> None:
        """Describe the first mismatch, the two histories compared and how many there were."""
        self.strategy = strategy
        self.symbol = symbol
        self.ts = ts
        self.full_value = full_value
        self.truncated_value = truncated_value
        self.violations = violations
        self.window_start = window_start
        self.cutoff = cutoff
        self.window_end = window_end
        more = f" ({violations} mismatches among the compared bars)" if violations > 1 else ""
        longer, shorter = "the longer history", "the bars up to that time"
        if window_start is not None and cutoff is not None and window_end is not None:
            start = window_start.isoformat()
            longer = f"the bars from {start} to {window_end.isoformat()}"
            shorter = f"the bars from {start} to {cutoff.isoformat()}"
        super().__init__(
            f"{strategy} looks ahead: its target for {symbol!r} at {ts.isoformat()} is "
            f"{full_value!r} with {longer} but {truncated_value!r} with {shorter}{more}. "
            "targets() must use only bars at or before each row "
            "(no shift(-1), centred windows or whole-history statistics)."
        )


@dataclass(frozen=True, slots=True)
class _Window:
    """Bar times ``start .. end`` (``None``: the full run) compared with ``start .. cut``."""

    start: int
    end: int | None
    cuts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Mismatch:
    """The first differing target of one comparison, and the two histories compared."""

    ts: datetime
    symbol: str
    full_value: float | None
    truncated_value: float | None
    window_start: datetime
    cutoff: datetime
    window_end: datetime


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

    Makes at most ``samples`` calls of ``targets`` beyond the full run (see the module
    docstring for which histories are compared); ``seed`` draws the cut times. Values agree
    when both are null or they differ by at most ``tolerance`` × max(1, |value|). ``targets`` is
    the full run (``strategy.compute_targets(bars)``) when the caller already has it.
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
    ordered, ns = _in_time_order(bars)
    full = strategy.compute_targets(ordered) if targets is None else targets
    if full.height != ordered.height:
        raise ConfigError(
            f"targets has {full.height} rows but bars have {ordered.height}: pass "
            "strategy.compute_targets(bars)"
        )
    if ordered.is_empty():
        return
    timeline = _Timeline.of(ns)
    windows = _plan(timeline.times, ns.shape[0], strategy.warmup_bars(), samples, seed)
    mismatches: list[_Mismatch] = []
    count = 0
    for window in windows:
        first_row = timeline.first_row(window.start)
        if window.end is None:
            longer = full.slice(first_row)
        else:
            length = timeline.first_row(window.end + 1) - first_row
            longer = strategy.compute_targets(ordered.slice(first_row, length))
        for cut in window.cuts:
            shorter = strategy.compute_targets(
                ordered.slice(first_row, timeline.first_row(cut + 1) - first_row)
            )
            found, first = _compare(longer, shorter, tolerance)
            count += found
            if first is not None:
                mismatches.append(first)
    if mismatches:
        first = min(mismatches, key=lambda item: (item.ts, item.symbol))
        raise LookAheadError(
            strategy.name,
            symbol=first.symbol,
            ts=first.ts,
            full_value=first.full_value,
            truncated_value=first.truncated_value,
            violations=count,
            window_start=first.window_start,
            cutoff=first.cutoff,
            window_end=first.window_end,
        )


@dataclass(frozen=True, slots=True)
class _Timeline:
    """The distinct bar times of a time-ordered frame and the row where each begins."""

    times: int
    rows: int
    firsts: np.ndarray | None  # None: one row per time (row k is time k)

    @classmethod
    def of(cls, ns: np.ndarray) -> _Timeline:
        """Return the timeline of the time-ordered times ``ns``."""
        later = ns[1:] != ns[:-1]
        if bool(later.all()):
            return cls(ns.shape[0], ns.shape[0], None)
        firsts = np.flatnonzero(np.concatenate(([True], later)))
        return cls(firsts.shape[0], ns.shape[0], firsts)

    def first_row(self, time: int) -> int:
        """Return the first row at bar time ``time`` (the row count for one past the last)."""
        if time >= self.times:
            return self.rows
        return time if self.firsts is None else int(self.firsts[time])


def _in_time_order(bars: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """Return ``bars`` in time order (as they are when already so) and their integer times.

    A slice of time-ordered bars holds exactly the bars of a time range, so its targets are the
    same rows, in the same order, as that range of the full run's.
    """
    if not isinstance(bars, pl.DataFrame) or "ts" not in bars.columns:
        raise ConfigError("check_no_lookahead() takes a bar frame with a 'ts' column")
    column = bars.get_column("ts")
    if not isinstance(column.dtype, pl.Datetime) or column.null_count():
        raise DataError(f"bars' 'ts' must be datetimes without nulls, got {column.dtype}")
    ns = time_values(column)  # one time unit per frame: order and ties are kept
    if bool((ns[1:] >= ns[:-1]).all()):
        return bars, ns
    ordered = bars.sort("ts", "symbol", maintain_order=True)
    return ordered, time_values(ordered.get_column("ts"))


def _plan(times: int, rows: int, warmup: int, samples: int, seed: int) -> list[_Window]:
    """Return the windows to compare, over ``times`` bar times holding ``rows`` bars.

    At most ``samples`` recomputations. Histories with at most ``samples`` times after the
    warm-up are compared with the full run at every one of them; histories whose prefixes fit
    the row budget, at the first decision, the last time but one and one time drawn in each of
    equal strata between. Longer ones: the first decision against the full run, then pairs (a
    window and its prefix) while they fit, the last window cut at the last time but one, the
    others at one time drawn in each of equal strata; a call left over cuts the last window
    again one span earlier.
    """
    first = min(max(warmup, 0), times - 1)
    if times - first <= samples:
        return [_Window(0, None, tuple(range(first, times)))]
    budget = max(rows // _ROW_SHARE, _MIN_ROWS)
    rng = np.random.default_rng(seed)
    last = times - 2
    if samples * rows <= 2 * budget:  # prefixes average half the history
        inner = _stratified(first + 1, last, samples - 2, rng)
        return [_Window(0, None, (first, *inner, last)[:samples])]
    windows = [_Window(0, None, (first,))]
    pairs = (samples - 1) // 2
    if not pairs:
        return windows
    pairs, span = _fit(pairs, warmup, rows / times, budget)
    windows.extend(
        _window(cut - warmup - span, cut + span, (cut,), times)
        for cut in _stratified(first + 1, last, pairs - 1, rng)
    )
    cuts: tuple[int, ...] = (last,)
    if (samples - 1) % 2:
        cuts = (max(last - span, (first + last) // 2), last)
    windows.append(_window(cuts[0] - warmup - span, times - 1, cuts, times))
    return windows


def _stratified(low: int, high: int, count: int, rng: np.random.Generator) -> list[int]:
    """Return ``count`` indices in ``low .. high - 1``, one drawn in each of equal strata."""
    if count <= 0:
        return []
    edges = [int(edge) for edge in np.linspace(low, high, count + 1)]
    return [
        int(rng.integers(bottom, max(top, bottom + 1))) for bottom, top in itertools.pairwise(edges)
    ]


def _window(start: int, end: int, cuts: tuple[int, ...], times: int) -> _Window:
    """Return the window ``start .. end`` clamped to the history (the full run if it is all)."""
    start, end = max(start, 0), min(end, times - 1)
    return _Window(start, None if start == 0 and end == times - 1 else end, cuts)


def _fit(pairs: int, warmup: int, rows_per_time: float, budget: int) -> tuple[int, int]:
    """Return how many window pairs fit ``budget`` rows, and the span each window gets.

    A pair costs a window of ``warmup + 2·span`` times and its prefix of ``warmup + span``.
    Pairs are dropped while the span would fall below ``_MIN_SPAN``; one pair always stays
    (a long warm-up then costs more than the budget).
    """
    steps = budget / max(rows_per_time, 1.0)
    while True:
        span = int((steps / pairs - 2 * warmup) / 3)
        if span >= _MIN_SPAN or pairs == 1:
            return pairs, max(span, _MIN_SPAN)
        pairs -= 1


def _compare(
    longer: pl.DataFrame, shorter: pl.DataFrame, tolerance: float
) -> tuple[int, _Mismatch | None]:
    """Compare ``shorter``'s targets with the first rows of ``longer``'s (the same bars).

    Return how many differ and the first that does. Targets are finite or null (checked by
    ``compute_targets``), so NaN in the arrays is null.
    """
    height = shorter.height
    values = longer.get_column("target").slice(0, height).to_numpy()
    truncated = shorter.get_column("target").to_numpy()
    both_null = np.isnan(values) & np.isnan(truncated)
    scale = tolerance * np.maximum(1.0, np.maximum(np.abs(values), np.abs(truncated)))
    close = np.abs(values - truncated) <= scale  # False where either is null
    differ = np.flatnonzero(~(both_null | close))
    if not differ.shape[0]:
        return 0, None
    row = int(differ[0])
    times = shorter.get_column("ts")
    return differ.shape[0], _Mismatch(
        ts=times[row],
        symbol=shorter.get_column("symbol")[row],
        full_value=longer.get_column("target")[row],
        truncated_value=shorter.get_column("target")[row],
        window_start=times[0],
        cutoff=times[-1],
        window_end=longer.get_column("ts")[-1],
    )
