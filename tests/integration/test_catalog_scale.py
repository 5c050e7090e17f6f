"""The billion-bar bench of ``make bench`` (``bench.catalog_scale``), run here at a reduced size.

The catalog is generated once and reused; the streamed run gives the in-memory run's fills and
equity exactly; the bench strategy's dense-panel path gives its symbol-by-symbol targets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from polars.testing import assert_frame_equal

from bench.catalog_scale import (
    CONFIG,
    SharedCashSma,
    ensure_catalog,
    stream_run,
)
from quantstrata.backtest import Backtest
from quantstrata.strategy.crossover import sma_crossover_targets
from quantstrata.strategy.signal import targets_per_symbol

_SYMBOLS, _BARS = 12, 1_500


def test_the_catalog_is_generated_once_then_reused(tmp_path: Path) -> None:
    catalog, seconds = ensure_catalog(tmp_path, _SYMBOLS, _BARS)
    again, reused = ensure_catalog(tmp_path, _SYMBOLS, _BARS)

    assert seconds > 0.0
    assert reused == 0.0
    assert catalog.symbols("1m") == again.symbols("1m")
    assert len(catalog.symbols("1m")) == _SYMBOLS
    assert catalog.read(interval="1m").height == _SYMBOLS * _BARS


def test_a_reduced_streamed_run_equals_the_in_memory_run(tmp_path: Path) -> None:
    catalog, _ = ensure_catalog(tmp_path / "data", _SYMBOLS, _BARS)
    total = _SYMBOLS * 1_000
    figures = stream_run(catalog, total, tmp_path / "run", chunk_bars=97)
    times = catalog.read("S0000", interval="1m")["ts"]
    bars = catalog.read(interval="1m", end=times[1_000])
    expected = Backtest(bars, SharedCashSma(weight=1.0 / _SYMBOLS), CONFIG).run()

    assert figures.bars == total
    assert figures.peak_rss > 0
    assert figures.fills == expected.fills.height > 0
    assert figures.final_equity == expected.final_equity
    streamed = Backtest.from_catalog(
        catalog, SharedCashSma(weight=1.0 / _SYMBOLS), CONFIG, interval="1m",
        output=tmp_path / "again", end=times[1_000], chunk_bars=250,
    ).run()  # fmt: skip
    assert_frame_equal(streamed.read("equity"), expected.equity, check_exact=True)


def test_the_dense_panel_targets_equal_the_symbol_by_symbol_targets(tmp_path: Path) -> None:
    catalog, _ = ensure_catalog(tmp_path, _SYMBOLS, _BARS)
    bars = catalog.read(interval="1m").sort("ts", "symbol")
    strategy = SharedCashSma(fast=5, slow=20, weight=0.1)

    dense = strategy.compute_targets(bars)
    expected = targets_per_symbol(
        bars, lambda frame: sma_crossover_targets(frame["close"], 5, 20) * 0.1
    )

    assert_frame_equal(dense, expected, check_exact=True)
    values = dense["target"].drop_nulls().to_numpy()
    assert set(np.unique(values)) == {0.0, 0.1}
