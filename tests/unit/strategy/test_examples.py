"""The example strategies: checked against independent computations, look-ahead free, parity."""

from __future__ import annotations

import ast
import importlib
import math
import warnings
from datetime import date
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import polars as pl
import pytest
import talib

from quantstrata.core.errors import ConfigError
from quantstrata.data.samples import load_sample
from quantstrata.model.bar import BAR_COLUMNS
from quantstrata.strategy import check_no_lookahead, parameter_space
from quantstrata.strategy.examples import (
    BollingerZScore,
    EventSmaCrossover,
    MomentumRotation,
    RsiMeanReversion,
    SmaCrossover,
)
from tests.kit.bars import make_multi_symbol_bars
from tests.kit.strategy_context import replay

PUBLIC_SUBPACKAGES = frozenset({"quantstrata.strategy.pipeline"})
EXAMPLES_DIR = Path(importlib.import_module("quantstrata.strategy.examples").__file__).parent
ALLOWED_IMPORTS = {
    "__future__",
    "math",
    "typing",
    "typing_extensions",
    "numpy",
    "polars",
    "pydantic",
}


@pytest.fixture(scope="module")
def spx() -> pl.DataFrame:
    """Return S&P 500 daily bars 2008–2013 (real data: crashes, rallies, flat stretches)."""
    bars = load_sample("SPX_1d").select(BAR_COLUMNS)
    return bars.filter(pl.col("ts").dt.year().is_between(2008, 2013))


@pytest.fixture(scope="module")
def three_markets() -> pl.DataFrame:
    """Return SPX, NASDAQ and GOOG daily bars 2005–2012, interleaved by time."""
    parts = [load_sample(name).select(BAR_COLUMNS) for name in ("SPX_1d", "IXIC_1d", "GOOG_1d")]
    bars = pl.concat(parts).filter(pl.col("ts").dt.year().is_between(2005, 2012))
    return bars.sort("ts", "symbol")


def plain_state_machine(entries, exits, short_entries, short_exits) -> list[float]:
    """The documented entry/exit rules, walked bar by bar (unit size)."""
    position, out = 0.0, []
    for long_in, long_out, short_in, short_out in zip(
        entries, exits, short_entries, short_exits, strict=True
    ):
        if position > 0 and (long_out or short_in):
            position = -1.0 if (short_in and not short_out and not long_in) else 0.0
        elif position < 0 and (short_out or long_in):
            position = 1.0 if (long_in and not long_out and not short_in) else 0.0
        elif position == 0 and long_in and not long_out and not short_in:
            position = 1.0
        elif position == 0 and short_in and not short_out and not long_in:
            position = -1.0
        out.append(position)
    return out


# -- the examples are written as users would write them ---------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES_DIR.glob("[!_]*.py")), ids=lambda path: path.stem)
def test_examples_import_only_public_names_and_no_io(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= ALLOWED_IMPORTS, path.name
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith("quantstrata"):
                public = importlib.import_module(module).__all__
                for alias in node.names:
                    assert alias.name in public, f"{path.name}: {module}.{alias.name} is not public"
                assert "._" not in module, module
                assert module.count(".") == 1 or module in PUBLIC_SUBPACKAGES, module
            else:
                assert module.split(".")[0] in ALLOWED_IMPORTS, f"{path.name}: {module}"


@pytest.mark.parametrize(
    "strategy_type", [SmaCrossover, RsiMeanReversion, BollingerZScore, MomentumRotation]
)
def test_example_parameters_declare_a_space_whose_defaults_are_valid(strategy_type):
    space = parameter_space(strategy_type.Parameters)
    assert space
    for spec in space:
        assert spec.contains(spec.default) or spec.default is None, spec.name
        assert spec.description, spec.name
    assert strategy_type().warmup_bars() >= 1


@pytest.mark.parametrize(
    ("strategy_type", "values", "message"),
    [
        (SmaCrossover, {"fast": 30, "slow": 30}, "fast \\(30\\) must be less than slow \\(30\\)"),
        (RsiMeanReversion, {"oversold": 60.0}, "oversold \\(60.0\\) < exit_level"),
        (BollingerZScore, {"exit": 2.5}, "exit \\(2.5\\) must be less than entry"),
        (MomentumRotation, {"calendar": "NOPE"}, "unknown trading calendar"),
        (MomentumRotation, {"top": 0}, "top"),
    ],
)
def test_example_parameters_refuse_inconsistent_values(strategy_type, values, message):
    with pytest.raises(ConfigError, match=message):
        strategy_type(**values)


# -- SMA crossover -----------------------------------------------------------------------------


def pandas_crossover(bars: pl.DataFrame, fast: int, slow: int, below: float) -> pd.DataFrame:
    frame = bars.to_pandas().sort_values(["symbol", "ts"])
    grouped = frame.groupby("symbol")["close"]
    frame["fast"] = grouped.transform(lambda close: close.rolling(fast).mean())
    frame["slow"] = grouped.transform(lambda close: close.rolling(slow).mean())
    frame["expected"] = np.where(
        frame["slow"].isna(), np.nan, np.where(frame["fast"] > frame["slow"], 1.0, below)
    )
    # a near-tie may fall either way between two summation orders; ignore those bars
    frame["tie"] = (frame["fast"] - frame["slow"]).abs() <= 1e-9 * frame["close"]
    return frame


@pytest.mark.parametrize(("fast", "slow", "allow_short"), [(10, 30, False), (5, 50, True)])
def test_sma_crossover_equals_an_independent_pandas_computation(spx, fast, slow, allow_short):
    bars = pl.concat([spx, spx.with_columns(symbol=pl.lit("SPX2"), close=pl.col("close") * 0.5)])
    strategy = SmaCrossover(fast=fast, slow=slow, allow_short=allow_short)
    expected = pandas_crossover(bars, fast, slow, -1.0 if allow_short else 0.0)
    result = strategy.compute_targets(bars).to_pandas().sort_values(["symbol", "ts"])
    assert (result["ts"].to_numpy() == expected["ts"].to_numpy()).all()
    keep = ~expected["tie"].to_numpy()
    np.testing.assert_array_equal(
        result["target"].to_numpy()[keep], expected["expected"].to_numpy()[keep]
    )
    assert keep.mean() > 0.99
    assert set(result["target"].dropna()) == ({1.0, -1.0} if allow_short else {1.0, 0.0})


def test_sma_crossover_makes_no_decision_before_the_slow_average_exists(spx):
    strategy = SmaCrossover(fast=3, slow=12)
    targets = strategy.compute_targets(spx)["target"]
    assert targets.head(strategy.warmup_bars()).null_count() == strategy.warmup_bars() == 11
    assert targets[strategy.warmup_bars()] is not None


@pytest.mark.parametrize("allow_short", [False, True])
def test_event_sma_crossover_gives_the_signal_version_targets_bar_by_bar(spx, allow_short):
    bars = pl.concat(
        [
            spx,
            spx.with_columns(symbol=pl.lit("LATE"), close=pl.col("close") * 1.5).filter(
                pl.col("ts").dt.year() >= 2010
            ),
        ]
    ).with_columns(high=pl.max_horizontal("high", "close"), low=pl.min_horizontal("low", "close"))
    values = {"fast": 7, "slow": 25, "allow_short": allow_short}
    signal_targets = SmaCrossover(**values).compute_targets(bars).drop_nulls("target")
    recorded = replay(EventSmaCrossover(**values), bars).target_frame()
    assert recorded.height == signal_targets.height > 0
    assert recorded.equals(signal_targets)


def test_event_sma_crossover_shares_the_parameters_and_warmup():
    assert EventSmaCrossover.Parameters is SmaCrossover.Parameters
    assert EventSmaCrossover(slow=40).warmup_bars() == SmaCrossover(slow=40).warmup_bars()
    with pytest.raises(ConfigError, match="must be less than"):
        EventSmaCrossover(fast=50, slow=40)


# -- RSI and Bollinger reversion ---------------------------------------------------------------


def test_rsi_mean_reversion_follows_talib_rsi_through_the_documented_rules(spx):
    strategy = RsiMeanReversion(period=10, oversold=35.0, overbought=65.0, exit_level=50.0)
    strength = talib.RSI(spx["close"].to_numpy(), timeperiod=10)
    warmup = strategy.warmup_bars()
    ready = np.arange(len(strength)) >= warmup
    expected = plain_state_machine(
        ready & (strength < 35.0), strength > 50.0, ready & (strength > 65.0), strength < 50.0
    )
    result = strategy.compute_targets(spx)["target"].to_numpy()
    assert np.isnan(result[:warmup]).all()
    np.testing.assert_array_equal(result[warmup:], np.array(expected)[warmup:])
    assert {-1.0, 0.0, 1.0} <= set(result[warmup:])


def test_rsi_mean_reversion_long_only_never_shorts(spx):
    result = RsiMeanReversion(allow_short=False).compute_targets(spx)["target"].drop_nulls()
    assert set(result.to_list()) == {0.0, 1.0}


def test_bollinger_zscore_uses_the_band_distance_and_the_documented_rules(spx):
    period, entry, exit_ = 20, 1.8, 0.3
    strategy = BollingerZScore(period=period, entry=entry, exit=exit_)
    close = spx["close"].to_pandas()
    score = (close - close.rolling(period).mean()) / close.rolling(period).std(ddof=0)
    upper, middle, _ = talib.BBANDS(close.to_numpy(), timeperiod=period, nbdevup=1.0, nbdevdn=1.0)
    np.testing.assert_allclose(score, (close - middle) / (upper - middle), rtol=1e-7)
    z = score.to_numpy()
    expected = plain_state_machine(z < -entry, z >= -exit_, z > entry, z <= exit_)
    expected = np.where(np.isnan(z), np.nan, expected)
    result = strategy.compute_targets(spx)["target"].to_numpy()
    near = np.abs(np.abs(np.nan_to_num(z)) - entry) < 1e-9
    assert not near.any()
    np.testing.assert_array_equal(result, expected)
    assert {-1.0, 0.0, 1.0} <= set(result[period:])


# -- momentum rotation -------------------------------------------------------------------------


def pandas_rotation(bars: pl.DataFrame, lookback: int, top: int, calendar: str) -> pd.DataFrame:
    frame = bars.to_pandas()
    frame["date"] = frame["ts"].dt.tz_convert("UTC").dt.date
    frame = frame.sort_values(["symbol", "ts"])
    frame["momentum"] = frame.groupby("symbol")["close"].transform(
        lambda close: close / close.shift(lookback) - 1.0
    )
    first, last = frame["date"].min(), frame["date"].max()
    with warnings.catch_warnings():  # exchange-calendars trips pandas deprecations
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        exchange = xcals.get_calendar(
            calendar, start=date(first.year, 1, 1), end=date(last.year, 12, 31)
        )
        sessions = exchange.sessions_in_range(first, date(last.year, 12, 31))
    month_ends = {day.date() for day in pd.Series(sessions).groupby(sessions.to_period("M")).max()}
    weights: dict[tuple[object, str], float] = {}
    symbols = sorted(frame["symbol"].unique())
    for day, rows in frame[frame["date"].isin(month_ends)].groupby("date"):
        eligible = rows.dropna(subset=["momentum"])
        ordered = sorted(
            zip(eligible["momentum"], eligible["symbol"], strict=False), key=lambda p: (-p[0], p[1])
        )
        chosen = {symbol for _, symbol in ordered[:top]}
        for symbol in symbols:
            weights[(day, symbol)] = 1.0 / top if symbol in chosen else 0.0
    held = []
    for symbol, rows in frame.groupby("symbol"):
        current = math.nan
        for day in rows["date"]:
            decided = [key for key in weights if key[1] == symbol and key[0] <= day]
            current = weights[max(decided)] if decided else math.nan
            held.append(current)
    frame["expected"] = held
    return frame


def test_momentum_rotation_equals_an_independent_pandas_ranking_on_real_markets(three_markets):
    bars = three_markets.filter(pl.col("ts").dt.year() <= 2007)
    strategy = MomentumRotation(lookback=42, top=1)
    expected = pandas_rotation(bars, 42, 1, "XNYS").sort_values(["ts", "symbol"])
    result = strategy.compute_targets(bars).to_pandas()
    np.testing.assert_array_equal(result["target"].to_numpy(), expected["expected"].to_numpy())
    held = result.dropna(subset=["target"]).groupby("ts")["target"].sum()
    assert set(held.unique()) == {0.0, 1.0}  # 0 until the first month end with a full lookback
    assert held.is_monotonic_increasing
    assert result.dropna().query("target > 0")["symbol"].nunique() >= 2  # it really rotates


def test_momentum_rotation_holds_top_n_equally_between_month_ends():
    bars = make_multi_symbol_bars(
        160, ("AAA", "BBB", "CCC", "DDD"), interval="1d", calendar="XNYS", seed=5
    )
    strategy = MomentumRotation(lookback=20, top=2, calendar="XNYS")
    result = strategy.compute_targets(bars)
    expected = pandas_rotation(bars, 20, 2, "XNYS").sort_values(["ts", "symbol"])
    np.testing.assert_array_equal(result["target"].to_numpy(), expected["expected"].to_numpy())
    per_time = (
        result.drop_nulls()
        .group_by("ts")
        .agg(pl.col("target").sum(), (pl.col("target") > 0).sum().alias("held"))
    )
    invested = per_time.filter(pl.col("held") > 0)
    assert (invested["target"] == 1.0).all()
    assert (invested["held"] == 2).all()
    assert invested.height > per_time.height / 2
    changes = result.drop_nulls().group_by("symbol").agg(pl.col("target").diff().abs().gt(0).sum())
    assert changes["target"].sum() > 0


def test_momentum_rotation_on_a_24_7_calendar_rebalances_on_the_last_day_of_the_month():
    bars = make_multi_symbol_bars(120, ("AAA", "BBB", "CCC"), interval="1d", seed=2)
    strategy = MomentumRotation(lookback=10, top=1, calendar=None)
    result = strategy.compute_targets(bars).drop_nulls()
    changed = result.filter(pl.col("target").diff().over("symbol").fill_null(0.0) != 0.0)
    days = changed["ts"].dt.date().unique().to_list()
    assert days
    assert all((day + pd.Timedelta(days=1)).day == 1 for day in days)


# -- no look-ahead -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "strategy",
    [SmaCrossover(), RsiMeanReversion(), BollingerZScore(), MomentumRotation(lookback=21, top=2)],
    ids=lambda strategy: strategy.name,
)
def test_every_example_passes_the_lookahead_check(strategy, three_markets):
    check_no_lookahead(strategy, three_markets, samples=8, seed=11)
