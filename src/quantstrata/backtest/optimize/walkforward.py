"""Walk-forward analysis: optimise in-sample, test out-of-sample, window after window.

History (its distinct bar times) is cut by :class:`WalkForwardConfig`: rolling windows keep
``in_sample`` bars, anchored ones start at the first bar and grow; each is followed by
``out_of_sample`` bars. The best in-sample candidate is run on the out-of-sample bars preceded
by its own warm-up (``strategy.warmup_bars()`` bars, so no in-sample position is carried in);
its equity from the first out-of-sample bar on, divided by the equity just before, is chained
window after window into one stitched out-of-sample equity curve starting at the cash.

Every window runs on the same runner, so the bars reach the workers once for the whole
analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from quantstrata.analytics import MetricsConfig, PerformanceMetrics, compute_metrics
from quantstrata.backtest.config import BacktestConfig
from quantstrata.backtest.optimize._notebook import plot_walk_forward, walk_forward_html
from quantstrata.backtest.optimize._search import rank_rows, run_search
from quantstrata.backtest.optimize._tasks import Objective, StrategyClass, Task
from quantstrata.backtest.optimize.config import OptimizeConfig, WalkForwardConfig
from quantstrata.backtest.optimize.engine import open_runner, resolve_job, resolve_space
from quantstrata.backtest.optimize.space import Constraint, SearchSpace
from quantstrata.core.errors import ConfigError

__all__ = ["WalkForwardResult", "WalkForwardWindow", "walk_forward", "walk_forward_windows"]


@dataclass(frozen=True, slots=True)
class WalkForwardWindow:
    """Bar-time indices of a window: in-sample ``[start, split)``, test ``[split, end)``."""

    start: int
    split: int
    end: int


def walk_forward_windows(bar_times: int, config: WalkForwardConfig) -> list[WalkForwardWindow]:
    """Return the windows over ``bar_times`` distinct times; the last test period may be short."""
    windows = []
    split = config.in_sample
    while split < bar_times:
        start = 0 if config.anchored else split - config.in_sample
        windows.append(
            WalkForwardWindow(start, split, min(split + config.out_of_sample, bar_times))
        )
        split += config.out_of_sample
    if not windows:
        raise ConfigError(
            f"in_sample ({config.in_sample}) leaves no out-of-sample bars in {bar_times} bar times"
        )
    return windows


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    """Per-window choices and scores, the stitched out-of-sample equity and its metrics.

    ``windows`` has one row per window: its bounds (``in_sample_start``, ``out_of_sample_start``,
    ``out_of_sample_end``, bar open times, end exclusive), the chosen parameters, the in-sample
    objective and the out-of-sample ``total_return``, ``sharpe`` and ``max_drawdown``.
    ``searches`` holds each window's full in-sample ranking. ``equity`` is ``ts, equity, window``.
    """

    windows: pl.DataFrame
    equity: pl.DataFrame
    metrics: PerformanceMetrics
    searches: tuple[pl.DataFrame, ...]
    parameters: tuple[str, ...]
    interrupted: bool

    def plot(self) -> Any:
        """Return a Plotly figure of the stitched out-of-sample equity, one trace per window."""
        return plot_walk_forward(self)

    def _repr_html_(self) -> str:
        """Show the analysis in a notebook: equity sparkline, metrics and the windows."""
        return walk_forward_html(self)


def walk_forward(
    bars: pl.DataFrame,
    strategy_class: StrategyClass,
    space: SearchSpace | Mapping[str, Sequence[Any]],
    walk: WalkForwardConfig,
    config: OptimizeConfig | None = None,
    *,
    backtest: BacktestConfig | None = None,
    objective: Objective | None = None,
    constraints: Sequence[Constraint] = (),
) -> WalkForwardResult:
    """Run the walk-forward analysis of the strategy's parameters on ``bars``."""
    settings = config if config is not None else OptimizeConfig()
    searched = resolve_space(strategy_class, space, constraints)
    job, name, maximize = resolve_job(strategy_class, settings, backtest, objective)
    times = bars["ts"].unique().sort().dt.epoch("ns").to_numpy()
    windows = walk_forward_windows(times.size, walk)
    rows: list[dict[str, Any]] = []
    pieces: list[pl.DataFrame] = []
    searches: list[pl.DataFrame] = []
    interrupted = False
    runner = open_runner(settings, job, bars)
    try:
        for number, window in enumerate(windows):
            bounds = (int(times[window.start]), int(times[window.split]))
            outcome = run_search(
                runner, searched, settings, bounds, f"window {number + 1}/{len(windows)}"
            )
            ranked = rank_rows(outcome.rows, searched.names, maximize)
            interrupted = outcome.interrupted
            if interrupted or ranked.is_empty():
                break
            searches.append(ranked)
            best = ranked.row(0, named=True)
            chosen = {key: best[key] for key in searched.names}
            warmup = strategy_class(**chosen).warmup_bars()
            task = Task(
                trials=(number,),
                candidates=(chosen,),
                start=int(times[max(0, window.split - warmup)]),
                end=int(times[window.end]) if window.end < times.size else None,
                equity_from=int(times[window.split]),
            )
            (tested,) = [row for rows in runner.run([task]) for row in rows]
            piece = tested["equity"].with_columns(window=pl.lit(number))
            pieces.append(piece)
            rows.append(
                _window_row(
                    number,
                    window=window,
                    times=times,
                    chosen=chosen,
                    in_sample=best["objective"],
                    piece=piece,
                )
            )
    except KeyboardInterrupt:
        interrupted = True
    finally:
        runner.close()
    if not pieces:
        raise ConfigError(
            "the walk-forward analysis tested no window (interrupted or no candidate)"
        )
    equity = _stitch(pieces, job.config.cash)
    metrics = compute_metrics(
        equity.select("ts", "equity"),
        config=MetricsConfig(
            risk_free_rate=job.config.risk_free_rate, calendar=job.config.calendar
        ),
    )
    return WalkForwardResult(
        windows=pl.DataFrame(rows).rename({"in_sample_objective": f"in_sample_{name}"}),
        equity=equity,
        metrics=metrics,
        searches=tuple(searches),
        parameters=tuple(searched.names),
        interrupted=interrupted,
    )


def _window_row(
    number: int,
    *,
    window: WalkForwardWindow,
    times: np.ndarray,
    chosen: dict[str, Any],
    in_sample: float,
    piece: pl.DataFrame,
) -> dict[str, Any]:
    growth = piece["equity"].to_numpy() / float(piece["base"][0])
    returns = np.diff(np.concatenate([[1.0], growth])) / np.concatenate([[1.0], growth[:-1]])
    deviation = float(returns.std())
    peak = np.maximum.accumulate(np.concatenate([[1.0], growth]))
    return {
        "window": number,
        "in_sample_start": _time(times[window.start]),
        "out_of_sample_start": _time(times[window.split]),
        "out_of_sample_end": _time(times[window.end]) if window.end < times.size else None,
        **chosen,
        "in_sample_objective": float(in_sample),
        "total_return": float(growth[-1] - 1.0),
        "sharpe_per_bar": float(returns.mean()) / deviation if deviation > 0 else float("nan"),
        "max_drawdown": float(np.max(1.0 - np.concatenate([[1.0], growth]) / peak)),
    }


def _time(nanoseconds: Any) -> Any:
    return pl.Series([int(nanoseconds)], dtype=pl.Int64).cast(pl.Datetime("ns", "UTC"))[0]


def _stitch(pieces: list[pl.DataFrame], cash: float) -> pl.DataFrame:
    """Chain each window's growth (equity / equity just before it) into one curve from ``cash``."""
    level = cash
    parts = []
    for piece in pieces:
        growth = piece["equity"].to_numpy() / float(piece["base"][0])
        parts.append(piece.select("ts", "window").with_columns(equity=pl.Series(level * growth)))
        level *= float(growth[-1])
    return pl.concat(parts).select("ts", "equity", "window")
