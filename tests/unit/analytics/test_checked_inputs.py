"""The entry for inputs ordered by construction gives compute_metrics' result and errors.

A backtest calls :func:`compute_checked_metrics` with :func:`ordered_equity` and
:func:`ordered_positions` instead of reading its own curve and positions again; the metrics
must be the same as reading them, and bad values must still be refused naming the row.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.analytics import MetricsConfig, compute_metrics
from quantstrata.analytics._activity import ordered_positions
from quantstrata.analytics._inputs import ordered_equity
from quantstrata.analytics.metrics import compute_checked_metrics
from quantstrata.core.errors import DataError

_START = datetime(2024, 1, 1, tzinfo=UTC)
_UTC_NS = pl.Datetime("ns", "UTC")


def _times(count: int) -> pl.Series:
    return pl.Series("ts", [_START + timedelta(minutes=m) for m in range(count)]).cast(_UTC_NS)


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or left == right
    return left == right


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.floats(-0.05, 0.05), min_size=1, max_size=60),
    held=st.lists(st.sampled_from([0.0, 1.5, -2.0]), min_size=61, max_size=61),
    risk_free=st.sampled_from([0.0, 0.03]),
    threshold=st.sampled_from([0.0, 0.01]),
)
def test_checked_entry_equals_reading_the_frames(
    steps: list[float], held: list[float], risk_free: float, threshold: float
) -> None:
    equity = 100.0 * np.cumprod([1.0, *(1.0 + step for step in steps)])
    ts = _times(equity.shape[0])
    price = pl.Series("price", np.linspace(10.0, 20.0, equity.shape[0]))
    position = np.array(held[: equity.shape[0]])
    config = MetricsConfig(risk_free_rate=risk_free, minimum_acceptable_return=threshold)
    read = compute_metrics(
        pl.DataFrame([ts, pl.Series("equity", equity)]),
        positions=pl.DataFrame([ts, pl.Series("position", position), price]).with_columns(
            symbol=pl.lit("X")
        ),
        config=config,
    )
    checked = compute_checked_metrics(
        ordered_equity(ts.dt.epoch("ns").to_numpy(), equity),
        trades=None,
        positions=ordered_positions("X", ts, position, price),
        config=config,
    )
    for name, value in read.to_dict().items():
        assert _same(value, getattr(checked, name)), name


def test_ordered_equity_refuses_non_positive_values_naming_the_row() -> None:
    ts = np.arange(4, dtype=np.int64)
    with pytest.raises(DataError, match="cannot be analysed") as caught:
        ordered_equity(ts, np.array([100.0, 50.0, -1.0, 20.0]))
    assert [issue.row for issue in caught.value.issues] == [2]
    with pytest.raises(DataError, match="equal, non-zero lengths"):
        ordered_equity(ts, np.array([1.0, 2.0]))


def test_ordered_positions_refuses_non_finite_positions_naming_the_row() -> None:
    ts = _times(3)
    price = pl.Series("price", [1.0, 2.0, 3.0])
    with pytest.raises(DataError, match="finite") as caught:
        ordered_positions("X", ts, np.array([0.0, np.inf, 1.0]), price)
    assert [issue.row for issue in caught.value.issues] == [1]
    frame = ordered_positions("X", ts, np.array([0.0, 2.0, 1.0]), price)
    assert frame.columns == ["symbol", "ts", "position", "price"]
    assert frame["symbol"].to_list() == ["X", "X", "X"]
