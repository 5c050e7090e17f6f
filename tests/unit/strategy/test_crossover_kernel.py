"""``sma_crossover_targets`` (one compiled pass) equals comparing two ``sma`` arrays exactly."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, DataError
from quantstrata.indicators import sma
from quantstrata.strategy import sma_crossover_targets
from quantstrata.strategy.examples import SmaCrossover


def _reference(close: np.ndarray, fast: int, slow: int, below: float) -> np.ndarray:
    fast_average, slow_average = sma(close, fast), sma(close, slow)
    return np.where(
        np.isnan(slow_average), np.nan, np.where(fast_average > slow_average, 1.0, below)
    )


@settings(max_examples=150, deadline=None)
@given(
    prices=st.lists(st.floats(0.01, 1e6), min_size=0, max_size=80),
    leading=st.integers(0, 5),
    fast=st.integers(2, 12),
    gap=st.integers(1, 20),
    allow_short=st.booleans(),
)
def test_kernel_targets_equal_the_sma_comparison(
    prices: list[float], leading: int, fast: int, gap: int, allow_short: bool
) -> None:
    close = np.array([np.nan] * leading + prices, dtype=np.float64)
    strategy = SmaCrossover(fast=fast, slow=fast + gap, allow_short=allow_short)
    bars = pl.DataFrame({"close": close}).fill_nan(None)
    got = strategy._symbol_targets(bars)
    expected = _reference(close, fast, fast + gap, -1.0 if allow_short else 0.0)
    np.testing.assert_array_equal(got, expected)


def test_kernel_refuses_a_gap_in_the_closes_like_sma() -> None:
    close = pl.Series("close", [1.0, 2.0, None, 4.0] * 10)
    with pytest.raises(DataError, match="NaN or infinity"):
        SmaCrossover(fast=2, slow=3)._symbol_targets(pl.DataFrame([close]))


def test_public_function_takes_any_close_and_refuses_bad_windows() -> None:
    close = np.linspace(10.0, 1.0, 40) ** 2
    expected = _reference(close, 3, 7, -1.0)
    for given_close in (close, pl.Series("close", close), list(close)):
        got = sma_crossover_targets(given_close, 3, 7, below=-1.0)
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ConfigError, match="less than"):
        sma_crossover_targets(close, 7, 7)
    with pytest.raises(ConfigError, match="fast"):
        sma_crossover_targets(close, 0, 7)
