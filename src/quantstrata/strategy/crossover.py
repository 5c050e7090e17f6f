"""Targets of a moving-average crossover, computed in one compiled pass over the closes."""

from __future__ import annotations

from typing import Any

import numpy as np

from quantstrata.core.errors import ConfigError
from quantstrata.indicators._inputs import check_period, first_finite, prepare
from quantstrata.strategy import _nb

__all__ = ["sma_crossover_targets"]


def sma_crossover_targets(close: Any, fast: int, slow: int, *, below: float = 0.0) -> np.ndarray:
    """Return ``1.0`` while SMA(``fast``) > SMA(``slow``) of ``close``, else ``below``.

    Values are NaN (no decision) until the slow average exists. The averages are exactly
    :func:`~quantstrata.indicators.sma`'s (the same running totals, bit for bit), and ``close``
    (NumPy, pandas or Polars) is checked the same way: leading missing values are skipped, a
    gap after the first value is a :class:`~quantstrata.core.errors.DataError`. Both averages
    and the comparison take one compiled pass instead of three array passes and two
    temporaries. The result is a float64 NumPy array, one value per close.
    """
    fast, slow = check_period(fast, "fast"), check_period(slow, "slow")
    if fast >= slow:
        raise ConfigError(f"fast ({fast}) must be less than slow ({slow})")
    (values,), _ = prepare(close, names=("close",))
    out = np.empty_like(values)
    return _nb.crossover_targets_nb(values, fast, slow, first_finite(values), below, out)
