"""A backtest streamed from the catalog in chunks gives the in-memory run, bit for bit.

The catalog holds three symbols of 30-minute bars on the NYSE calendar, starting on different
days and crossing a month (two catalog periods); Hypothesis draws the chunk size (one bar,
primes, sizes that split a session or the whole history) and the settings. Every table the
streamed run writes must equal the in-memory result's frame exactly, and so must the metrics
(turnover to 1e-12: it is summed over the position changes only).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig, StreamedBacktestError
from quantstrata.core.errors import ConfigError
from quantstrata.data import generate_bars
from quantstrata.data.catalog import Catalog
from quantstrata.execution import CommissionConfig
from quantstrata.execution.risk import RiskConfig
from quantstrata.strategy import SignalStrategy, StrategyParameters
from quantstrata.strategy.examples import EventSmaCrossover, SmaCrossover

_START = datetime(2023, 12, 18, 14, 30, tzinfo=UTC)
_CONFIGS = (
    BacktestConfig(),
    BacktestConfig(commission=CommissionConfig(rate=0.001), allow_short=True),
    BacktestConfig(
        fill={"policy": "this_close"},
        borrow_rate=0.05,
        financing_rate=0.03,
        allow_short=True,
        max_leverage=2.0,
    ),
    BacktestConfig(fill={"policy": "next_close"}, fractional=False),
)


def _bars() -> pl.DataFrame:
    """Three symbols, 30-minute NYSE bars, each starting on another day."""
    parts = [
        generate_bars(
            symbols=name,
            bars=bars,
            interval="30m",
            start=start,
            calendar="XNYS",
            seed=seed,
            volatility=0.6,
        )
        for seed, (name, bars, start) in enumerate(
            [
                ("AAA", 190, _START),
                ("BBB", 120, datetime(2023, 12, 22, 14, 30, tzinfo=UTC)),
                ("CCC", 60, datetime(2024, 1, 3, 14, 30, tzinfo=UTC)),
            ]
        )
    ]
    return pl.concat(parts)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    store = Catalog(str(tmp_path_factory.mktemp("catalog")))
    store.write(_bars(), interval="30m")
    return store


def _streamed(catalog: Catalog, strategy: SignalStrategy, config: BacktestConfig,
              output: Path, chunk: int) -> object:  # fmt: skip
    return Backtest.from_catalog(
        catalog, strategy, config, interval="30m", output=output, chunk_bars=chunk
    ).run()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    chunk=st.one_of(st.sampled_from([1, 2, 3, 7, 13, 29, 97, 1_000]), st.integers(1, 260)),
    config=st.sampled_from(_CONFIGS),
    windows=st.sampled_from([(3, 8), (5, 21)]),
)
def test_streamed_run_equals_the_in_memory_run(
    catalog: Catalog,
    tmp_path_factory: pytest.TempPathFactory,
    chunk: int,
    config: BacktestConfig,
    windows: tuple[int, int],
) -> None:
    strategy = SmaCrossover(fast=windows[0], slow=windows[1], allow_short=config.allow_short)
    expected = Backtest(catalog.read(interval="30m"), strategy, config).run()
    output = tmp_path_factory.mktemp("run")
    streamed = _streamed(catalog, strategy, config, output, chunk)

    assert expected.orders.height > 10  # the run trades: the comparison is not vacuous
    for table in ("equity", "orders", "fills", "trades"):
        assert_frame_equal(streamed.read(table), getattr(expected, table), check_exact=True)
    want, got = expected.metrics.to_dict(), streamed.metrics.to_dict()
    assert math.isclose(got.pop("turnover"), want.pop("turnover"), rel_tol=1e-12)
    assert got.keys() == want.keys()
    for name, value in want.items():
        same = value == got[name] or (_nan(value) and _nan(got[name]))
        assert same, (name, value, got[name])
    assert streamed.final_equity == expected.final_equity
    assert streamed.record.bars == expected.record.bars


def _nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def test_a_query_range_and_symbol_subset_stream_like_the_same_bars_in_memory(
    catalog: Catalog, tmp_path: Path
) -> None:
    strategy = SmaCrossover(fast=3, slow=8)
    begin, end = datetime(2023, 12, 21, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC)
    bars = catalog.read(["AAA", "BBB"], interval="30m", start=begin, end=end)
    expected = Backtest(bars, strategy).run()
    streamed = Backtest.from_catalog(
        catalog, strategy, interval="30m", output=tmp_path, symbols=["BBB", "AAA"],
        start=begin, end=end, chunk_bars=11,
    ).run()  # fmt: skip
    assert_frame_equal(streamed.read("equity"), expected.equity, check_exact=True)
    assert_frame_equal(streamed.read("fills"), expected.fills, check_exact=True)
    assert streamed.record.symbols == ("AAA", "BBB")


class _Parity(SignalStrategy):
    """Long after an odd number of up bars so far: the target depends on the whole history."""

    class Parameters(StrategyParameters):
        """None."""

    parameters: Parameters
    name: ClassVar[str] = "Parity"

    def warmup_bars(self) -> int:
        return 4  # a lie: every earlier bar matters

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        up = (pl.col("close") > pl.col("open")).cast(pl.Int64)
        odd = (up.cum_sum().over("symbol") % 2).cast(pl.Float64)
        return bars.select("ts", "symbol", odd.alias("target"))


def test_a_strategy_needing_more_history_than_it_declares_is_refused_naming_the_fix(
    catalog: Catalog, tmp_path: Path
) -> None:
    with pytest.raises(StreamedBacktestError, match=r"warmup_bars\(\) = 4") as raised:
        _streamed(catalog, _Parity(), BacktestConfig(check_lookahead=False), tmp_path, 20)
    assert "run in memory" in str(raised.value)


@pytest.mark.parametrize(
    ("strategy", "config", "hint"),
    [
        (EventSmaCrossover(), BacktestConfig(), "runs a SignalStrategy"),
        (SmaCrossover(), BacktestConfig(size_at="fill"), "size_at='decision'"),
        (SmaCrossover(), BacktestConfig(risk=RiskConfig(max_position_units=10.0)), "risk=None"),
    ],
)
def test_what_cannot_stream_is_refused_before_reading(
    catalog: Catalog, tmp_path: Path, strategy: object, config: BacktestConfig, hint: str
) -> None:
    with pytest.raises(StreamedBacktestError, match=hint):
        Backtest.from_catalog(catalog, strategy, config, interval="30m", output=tmp_path)  # type: ignore[arg-type]


def test_a_partial_fill_stops_the_run_with_the_in_memory_hint(
    catalog: Catalog, tmp_path: Path
) -> None:
    config = BacktestConfig(fill={"volume_cap": 1e-9})
    with pytest.raises(StreamedBacktestError, match="volume_cap"):
        _streamed(catalog, SmaCrossover(fast=3, slow=8), config, tmp_path, 50)


def test_a_non_empty_output_directory_is_refused(catalog: Catalog, tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        Backtest.from_catalog(catalog, SmaCrossover(), interval="30m", output=tmp_path)


def test_small_chunks_write_one_curve_in_time_order(catalog: Catalog, tmp_path: Path) -> None:
    """Chunks append to the tables: one row per bar time, times increasing across chunks."""
    run = Backtest.from_catalog(
        catalog, SmaCrossover(fast=3, slow=8), interval="30m", output=tmp_path, chunk_bars=5
    )
    result = run.run()
    parts = sorted((tmp_path / "equity").glob("*.parquet"))
    assert parts
    assert result.chunks > 30
    assert np.all(np.diff(result.read("equity")["ts"].dt.epoch("ns").to_numpy()) > 0)
