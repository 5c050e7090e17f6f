"""Random and real price series for indicator tests, and the two checks every indicator passes.

- :func:`ohlcv_arrays` is a Hypothesis strategy for consistent OHLCV arrays with flat stretches,
  zero-volume stretches and extreme magnitudes.
- :func:`stream_values` feeds a streaming indicator bar by bar and collects its outputs.
- :func:`assert_same_numbers` compares batch, streaming and TA-Lib outputs, NaN-aware.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

REAL_CLOSE_SAMPLE = "SPX"


@dataclass(frozen=True)
class OHLCV:
    """Consistent bar arrays: low <= open, close <= high; volume >= 0."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.close)


def make_ohlcv(
    size: int,
    seed: int = 0,
    scale: float = 100.0,
    flat_fraction: float = 0.0,
    zero_volume_fraction: float = 0.0,
) -> OHLCV:
    """Build a random walk of bars with optional flat and zero-volume stretches."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.01, size)
    if flat_fraction:
        steps[rng.random(size) < flat_fraction] = 0.0
    close = scale * np.exp(np.cumsum(steps))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0.0, 0.005, size)) * close
    if flat_fraction:
        spread[steps == 0.0] = 0.0
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread * rng.random(size)
    low = np.maximum(low, np.minimum(open_, close) * 0.5)
    volume = rng.integers(0, 1_000_000, size).astype(np.float64)
    if zero_volume_fraction:
        volume[rng.random(size) < zero_volume_fraction] = 0.0
    return OHLCV(open_, high, low, close, volume)


@st.composite
def ohlcv_arrays(draw: st.DrawFn, min_size: int = 1, max_size: int = 300) -> OHLCV:
    """Draw random consistent bars: random length, scale, flat and zero-volume stretches."""
    size = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-4, 0.5, 100.0, 1e6]))
    flat = draw(st.sampled_from([0.0, 0.3, 1.0]))
    zero_volume = draw(st.sampled_from([0.0, 0.5, 1.0]))
    return make_ohlcv(size, seed, scale, flat, zero_volume)


def stream_values(indicator: Any, *inputs: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
    """Feed ``inputs`` bar by bar to ``indicator.update`` and stack what it returns."""
    outputs = [
        indicator.update(*(float(column[i]) for column in inputs)) for i in range(len(inputs[0]))
    ]
    if outputs and isinstance(outputs[0], tuple):
        return tuple(np.array(series, dtype=np.float64) for series in zip(*outputs, strict=True))
    return np.array(outputs, dtype=np.float64)


def assert_same_numbers(
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    relative: float = 0.0,
    start: int = 0,
    absolute: float = 0.0,
) -> None:
    """Assert equal NaN positions and values (bit-identical when both tolerances are 0)."""
    actual = np.asarray(actual, dtype=np.float64)[start:]
    expected = np.asarray(expected, dtype=np.float64)[start:]
    assert actual.shape == expected.shape
    nan_actual, nan_expected = np.isnan(actual), np.isnan(expected)
    mismatched = np.flatnonzero(nan_actual != nan_expected)
    assert mismatched.size == 0, f"NaN positions differ first at index {start + mismatched[0]}"
    if relative == 0.0 and absolute == 0.0:
        left, right = actual[~nan_actual], expected[~nan_expected]
        diff = np.flatnonzero(left != right)
        assert diff.size == 0, f"values differ at {diff[:5]}: {left[diff[:5]]} vs {right[diff[:5]]}"
        return
    np.testing.assert_allclose(
        actual[~nan_actual], expected[~nan_expected], rtol=relative, atol=absolute
    )


def first_valid(values: np.ndarray) -> int:
    """Return the index of the first non-NaN value (len if none)."""
    valid = np.flatnonzero(~np.isnan(values))
    return int(valid[0]) if valid.size else len(values)


def each_output(result: Any) -> Sequence[np.ndarray]:
    """Return a multi-output result as a sequence of arrays (a 1-tuple for single outputs)."""
    if isinstance(result, tuple):
        return [np.asarray(item, dtype=np.float64) for item in result]
    return [np.asarray(result, dtype=np.float64)]


Oracle = Callable[..., Any]
