"""The indicator suites: batch throughput vs TA-Lib, pandas and pandas-ta; streaming updates/s.

Four suites share one set of inputs (a seeded 10M-value random walk with consistent high/low):

- ``indicators``: quantstrata's batch functions vs TA-Lib's C on the same NumPy arrays.
  Goal (from the issue): quantstrata within 1.5x of TA-Lib, i.e. ratio >= 0.67.
- ``indicators_pandas``: quantstrata on pandas Series vs pandas ``rolling``/``ewm`` written the
  way a competent user reproduces TA-Lib's definitions (seeded EMAs, Wilder smoothing), so
  both sides compute the same numbers. Goal: quantstrata ahead, ratio > 1.
- ``indicators_pandas_ta``: the same against pandas-ta, when it imports; otherwise every peer
  run fails with the reason (pandas-ta has no release for this Python), so the gap is visible.
- ``indicators_streaming``: updates/s from a Python loop feeding one float at a time,
  quantstrata's streaming classes vs TA-Lib 0.8's own O(1) stream objects. Goal: >= 1M/s.

SMA, EMA, RSI and MACD come from quantstrata's moving-average and momentum families; BBANDS and
ATR from whichever family provides them (looked up at run time, so a missing one is reported as
a failed row naming what is missing). Parameters are the usual ones: SMA/EMA 20, RSI 14, MACD
12/26/9, BBANDS 20 +-2, ATR 14.

``python -m bench.indicators_suite [--size ...]`` runs all four and adds one combined table
(values/s per library, time ratio to TA-Lib, both goals).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from bench.harness import (
    REPO_ROOT,
    Goal,
    Side,
    Size,
    Suite,
    Task,
    TaskResult,
    format_rate,
    render,
    run_suite,
    warn_if_busy,
    write_json,
)

__all__ = ["PANDAS_SUITE", "PANDAS_TA_SUITE", "STREAMING_SUITE", "SUITE", "SUITES", "main"]

BATCH_ROWS = 10_000_000
STREAM_ROWS = 1_000_000
STREAM_HISTORY = 100
SEED = 20_240_601
STEP_VOLATILITY = 0.0002
TALIB_RATIO_GOAL = 1.5
INDICATORS = ("sma", "ema", "rsi", "macd", "bbands", "atr")
STREAMED = ("sma", "ema", "rsi")
FAMILIES = (
    "quantstrata.indicators",
    "quantstrata.indicators.moving_average",
    "quantstrata.indicators.momentum",
    "quantstrata.indicators.volatility",
    "quantstrata.indicators.trend",
    "quantstrata.indicators.statistics",
)


@dataclass(frozen=True, slots=True)
class Prices:
    """One random walk: close with a consistent high and low around it."""

    high: Any
    low: Any
    close: Any


def _walk(rows: int) -> Prices:
    """Return a random walk with 1-minute-bar volatility (0.02 % a step, about 60 % over 10M).

    A daily-size step (1 %) would carry 10M values across thirty orders of magnitude, where
    running-sum variances lose every digit and no two libraries agree.
    """
    rng = np.random.default_rng(SEED)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, STEP_VOLATILITY, rows)))
    spread = np.abs(rng.normal(0.0, 0.005, rows)) * close
    return Prices(high=close + spread, low=close - spread * rng.random(rows), close=close)


def _as_pandas(prices: Prices) -> Prices:
    return Prices(
        *(pd.Series(values, copy=False) for values in (prices.high, prices.low, prices.close))
    )


def _digest(_context: Any, result: Any) -> str:
    """Summarise every output: valid count, first valid index, sum of |value| (6 digits)."""
    outputs = list(result) if isinstance(result, tuple) else [result]
    parts = []
    for output in outputs:
        values = np.asarray(output, dtype=np.float64)
        valid = np.flatnonzero(~np.isnan(values))
        first = int(valid[0]) if valid.size else -1
        parts.append(f"{valid.size}@{first}:{np.nansum(np.abs(values)):.6e}")
    return " ".join(parts)


# ------------------------------------------------------------------ quantstrata


def quantstrata_function(name: str) -> Callable[..., Any]:
    """Return quantstrata's batch function ``name`` from whichever family defines it."""
    for module_name in FAMILIES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, name, None)
        if callable(function):
            return function
    raise RuntimeError(f"missing: no batch function {name!r} in {', '.join(FAMILIES)}")


def _quantstrata_call(name: str, prices: Prices) -> Any:
    function = quantstrata_function(name)
    if name in {"sma", "ema"}:
        return function(prices.close, 20)
    if name == "rsi":
        return function(prices.close, 14)
    if name == "macd":
        return tuple(function(prices.close, 12, 26, 9))
    if name == "bbands":
        return tuple(function(prices.close, 20, 2.0, 2.0))
    return function(prices.high, prices.low, prices.close, 14)


# ------------------------------------------------------------------ TA-Lib


def _talib_call(name: str, prices: Prices) -> Any:
    import talib

    close = prices.close
    if name == "sma":
        return talib.SMA(close, 20)
    if name == "ema":
        return talib.EMA(close, 20)
    if name == "rsi":
        return talib.RSI(close, 14)
    if name == "macd":
        return tuple(talib.MACD(close, 12, 26, 9))
    if name == "bbands":
        return tuple(talib.BBANDS(close, 20, 2.0, 2.0, 0))
    return talib.ATR(prices.high, prices.low, close, 14)


# ------------------------------------------------------------------ pandas, TA-Lib's definitions


def _seeded_ewm(series: pd.Series, alpha: float, seed_end: int, window: int) -> pd.Series:
    """EMA seeded with the mean of ``window`` values ending at ``seed_end`` (TA-Lib's seed)."""
    seeded = series.copy()
    seeded.iloc[:seed_end] = np.nan
    seeded.iloc[seed_end] = series.iloc[seed_end - window + 1 : seed_end + 1].mean()
    return seeded.ewm(alpha=alpha, adjust=False).mean()


def pandas_rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's RSI: mean seeds over the first ``period`` changes, then ``ewm(alpha=1/period)``."""
    change = close.diff()
    gain = _seeded_ewm(change.clip(lower=0.0), 1.0 / period, period, period)
    loss = _seeded_ewm(-change.clip(upper=0.0), 1.0 / period, period, period)
    return 100.0 * gain / (gain + loss)


def pandas_macd(
    close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """MACD with TA-Lib's alignment: both EMAs seeded where the slow one starts."""
    fast_ema = _seeded_ewm(close, 2.0 / (fast + 1), slow - 1, fast)
    slow_ema = _seeded_ewm(close, 2.0 / (slow + 1), slow - 1, slow)
    line = fast_ema - slow_ema
    first = slow + signal - 2
    signal_line = _seeded_ewm(line, 2.0 / (signal + 1), first, signal)
    line = line.where(line.index >= first)
    return line, signal_line, line - signal_line


def pandas_bbands(
    close: pd.Series, period: int = 20, deviations: float = 2.0
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Bollinger Bands: rolling mean +- deviations x rolling population std."""
    rolling = close.rolling(period)
    middle = rolling.mean()
    spread = deviations * rolling.std(ddof=0)
    return middle + spread, middle, middle - spread


def pandas_atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's ATR: true range, mean seed over its first ``period`` values, then Wilder."""
    previous = close.shift(1)
    true_range = pd.concat(
        [high - low, (high - previous).abs(), (low - previous).abs()], axis=1
    ).max(axis=1, skipna=False)
    return _seeded_ewm(true_range, 1.0 / period, period, period)


def _pandas_call(name: str, prices: Prices) -> Any:
    close = prices.close
    if name == "sma":
        return close.rolling(20).mean()
    if name == "ema":
        return _seeded_ewm(close, 2.0 / 21, 19, 20)
    if name == "rsi":
        return pandas_rsi(close)
    if name == "macd":
        return pandas_macd(close)
    if name == "bbands":
        return pandas_bbands(close)
    return pandas_atr(prices.high, prices.low, close)


# ------------------------------------------------------------------ pandas-ta


def _pandas_ta() -> Any:
    try:
        return importlib.import_module("pandas_ta")
    except Exception as error:  # any import failure is the reason to show
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        hint = (
            f"`pip install pandas-ta` finds no release for Python {version} (its releases "
            "need Python >= 3.12)"
            if sys.version_info < (3, 12)
            else "install it with `pip install pandas-ta`"
        )
        raise RuntimeError(
            f"pandas-ta unavailable: {hint}; import failed with {type(error).__name__}: {error}"
        ) from None


def _pandas_ta_setup(size: Size, _workdir: Path) -> Prices:
    _pandas_ta()
    return _as_pandas(_walk(size.rows(BATCH_ROWS)))


def _pandas_ta_call(name: str, prices: Prices) -> Any:
    ta = _pandas_ta()
    close = prices.close
    if name in {"sma", "ema"}:
        return getattr(ta, name)(close, length=20)
    if name == "rsi":
        return ta.rsi(close, length=14)
    if name == "macd":
        return ta.macd(close, fast=12, slow=26, signal=9)
    if name == "bbands":
        return ta.bbands(close, length=20, std=2.0)
    return ta.atr(prices.high, prices.low, close, length=14)


# ------------------------------------------------------------------ batch tasks


def _numpy_setup(size: Size, _workdir: Path) -> Prices:
    importlib.import_module("talib")
    return _walk(size.rows(BATCH_ROWS))


def _pandas_setup(size: Size, _workdir: Path) -> Prices:
    return _as_pandas(_walk(size.rows(BATCH_ROWS)))


def _calls(name: str) -> str:
    return {
        "sma": "sma(close, 20)",
        "ema": "ema(close, 20)",
        "rsi": "rsi(close, 14)",
        "macd": "macd(close, 12, 26, 9)",
        "bbands": "bbands(close, 20, 2, 2)",
        "atr": "atr(high, low, close, 14)",
    }[name]


def _batch_task(name: str, peer: str) -> Task:
    setups = {"TA-Lib": _numpy_setup, "pandas": _pandas_setup, "pandas-ta": _pandas_ta_setup}
    calls = {"TA-Lib": _talib_call, "pandas": _pandas_call, "pandas-ta": _pandas_ta_call}
    goal_text = {
        "TA-Lib": f"goal: ratio >= {1 / TALIB_RATIO_GOAL:.2f} (within {TALIB_RATIO_GOAL}x of C)",
        "pandas": "goal: ratio > 1 (ahead of pandas)",
        "pandas-ta": "for reference",
    }[peer]
    ours_data = _numpy_setup if peer == "TA-Lib" else _pandas_setup

    def ours_setup(size: Size, workdir: Path) -> Prices:
        quantstrata_function(name)  # import outside the measured first call
        return ours_data(size, workdir)

    return Task(
        name=name,
        description=f"10M-value random walk: quantstrata {_calls(name)} vs {peer}; {goal_text}",
        rows=lambda size: size.rows(BATCH_ROWS),
        quantstrata=Side(
            "quantstrata",
            ours_setup,
            lambda prices: _quantstrata_call(name, prices),
            digest=_digest,
        ),
        peer=Side(
            peer,
            setups[peer],
            lambda prices: calls[peer](name, prices),
            digest=None if peer == "pandas-ta" else _digest,
        ),
    )


# ------------------------------------------------------------------ streaming tasks


@dataclass(frozen=True, slots=True)
class StreamInput:
    """Python floats to feed, and the history a TA-Lib stream object opens on."""

    history: Any
    values: list[float]


def _stream_setup(size: Size, _workdir: Path) -> StreamInput:
    importlib.import_module("talib.stream")
    quantstrata_function("RelativeStrengthIndex")
    close = _walk(size.rows(STREAM_ROWS) + STREAM_HISTORY).close
    return StreamInput(history=close[:STREAM_HISTORY], values=close.tolist())


def _stream_period(name: str) -> int:
    return 14 if name == "rsi" else 20


def _quantstrata_stream(name: str, data: StreamInput) -> float:
    classes = {
        "sma": "SimpleMovingAverage",
        "ema": "ExponentialMovingAverage",
        "rsi": "RelativeStrengthIndex",
    }
    indicator_class = quantstrata_function(classes[name])
    update = indicator_class(_stream_period(name)).update
    last = float("nan")
    for value in data.values:
        last = update(value)
    return float(last)


def _talib_stream(name: str, data: StreamInput) -> float:
    import talib.stream

    stream = getattr(talib.stream, name.upper())(data.history, _stream_period(name))
    update = stream.update
    last = float("nan")
    for value in data.values[STREAM_HISTORY:]:
        last = update(value)
    return float(last)


def _stream_task(name: str) -> Task:
    return Task(
        name=f"{name}_stream",
        description=f"{name.upper()}({_stream_period(name)}) updated one Python float at a time "
        "(1M updates): quantstrata streaming class .update vs talib.stream object .update",
        rows=lambda size: size.rows(STREAM_ROWS),
        goal=Goal.rate(1_000_000),
        repeat=3,
        quantstrata=Side(
            "quantstrata",
            _stream_setup,
            lambda data: _quantstrata_stream(name, data),
            digest=lambda _context, last: f"last={last:.9e}",
        ),
        peer=Side(
            "TA-Lib stream",
            _stream_setup,
            lambda data: _talib_stream(name, data),
            digest=lambda _context, last: f"last={last:.9e}",
        ),
    )


SUITE = Suite(
    name="indicators",
    description="batch indicators on 10M values: quantstrata vs TA-Lib (C)",
    peer="TA-Lib",
    tasks=tuple(_batch_task(name, "TA-Lib") for name in INDICATORS),
)
PANDAS_SUITE = Suite(
    name="indicators_pandas",
    description="batch indicators on 10M values: quantstrata vs pandas rolling/ewm",
    peer="pandas",
    tasks=tuple(_batch_task(name, "pandas") for name in INDICATORS),
)
PANDAS_TA_SUITE = Suite(
    name="indicators_pandas_ta",
    description="batch indicators on 10M values: quantstrata vs pandas-ta",
    peer="pandas-ta",
    tasks=tuple(_batch_task(name, "pandas-ta") for name in INDICATORS),
)
STREAMING_SUITE = Suite(
    name="indicators_streaming",
    description="streaming updates from Python: quantstrata vs TA-Lib stream objects",
    peer="TA-Lib stream",
    tasks=tuple(_stream_task(name) for name in STREAMED),
)
SUITES: tuple[Suite, ...] = (SUITE, PANDAS_SUITE, PANDAS_TA_SUITE, STREAMING_SUITE)
"""The indicator suites, registered in ``bench/__main__.py``."""


# ------------------------------------------------------------------ combined report


def _rate(result: TaskResult | None, side: str) -> float | None:
    if result is None:
        return None
    measurement = result.quantstrata if side == "quantstrata" else result.peer
    return None if measurement is None else measurement.rows_per_second


def _cell(result: TaskResult | None, side: str) -> str:
    rate = _rate(result, side)
    if rate is not None:
        return format_rate(rate)
    return "[red]failed[/red]" if result is not None and result.errors else "-"


def summary_table(results: dict[str, list[TaskResult]], size: Size) -> Table:
    """Return one table: values/s per library, quantstrata vs TA-Lib and vs pandas, the goals.

    Each comparison uses the pair measured together: quantstrata on NumPy arrays against
    TA-Lib, quantstrata on pandas Series against pandas (and pandas-ta).
    """
    table = Table(title=f"indicators (size {size.value}): values/s, higher is better")
    columns = (
        "indicator",
        "qs (ndarray)",
        "TA-Lib",
        "qs time / TA-Lib",
        f"<= {TALIB_RATIO_GOAL}x",
        "qs (Series)",
        "pandas",
        "pandas time / qs",
        "ahead",
        "pandas-ta",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "indicator" else "right")
    by_task = {
        suite: {result.task.name: result for result in suite_results}
        for suite, suite_results in results.items()
    }
    for name in INDICATORS:
        talib_result = by_task.get(SUITE.name, {}).get(name)
        pandas_result = by_task.get(PANDAS_SUITE.name, {}).get(name)
        talib_ratio = (
            None
            if talib_result is None or talib_result.ratio is None
            else (1.0 / talib_result.ratio)
        )
        pandas_ratio = None if pandas_result is None else pandas_result.ratio
        table.add_row(
            name,
            _cell(talib_result, "quantstrata"),
            _cell(talib_result, "peer"),
            "-" if talib_ratio is None else f"{talib_ratio:.2f}x",
            _verdict(None if talib_ratio is None else talib_ratio <= TALIB_RATIO_GOAL),
            _cell(pandas_result, "quantstrata"),
            _cell(pandas_result, "peer"),
            "-" if pandas_ratio is None else f"{pandas_ratio:.2f}x",
            _verdict(None if pandas_ratio is None else pandas_ratio > 1.0),
            _cell(by_task.get(PANDAS_TA_SUITE.name, {}).get(name), "peer"),
        )
    return table


def _verdict(met: bool | None) -> str:
    return {None: "-", True: "[green]yes[/green]", False: "[red]NO[/red]"}[met]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the four indicator suites and print their tables plus the combined one."""
    parser = argparse.ArgumentParser(prog="python -m bench.indicators_suite")
    parser.add_argument("--size", choices=[size.value for size in Size], default=Size.FULL.value)
    parser.add_argument("--repeat", type=int, default=None)
    arguments = parser.parse_args(argv)
    size = Size(arguments.size)
    console = Console(width=None if sys.stdout.isatty() else 200)
    warn_if_busy(console)
    results: dict[str, list[TaskResult]] = {}
    for suite in SUITES:
        results[suite.name] = run_suite(suite, size, arguments.repeat, console)
        render(suite, size, results[suite.name], console)
        write_json(suite, size, results[suite.name], REPO_ROOT / ".bench-results")
    warn_if_busy(console)
    console.print(summary_table(results, size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
