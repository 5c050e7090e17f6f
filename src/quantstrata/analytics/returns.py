"""Per-bar returns of an equity curve.

The return of bar ``t`` is ``equity[t] / equity[t-1] - 1`` (simple) or
``log(equity[t] / equity[t-1])`` (log), labelled with bar ``t``'s timestamp; a curve of ``n``
points gives ``n - 1`` returns. The first equity point is the starting capital, so it has no
return of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

from quantstrata.analytics._inputs import EquityCurve, FloatArray, read_equity

__all__ = ["equity_log_returns", "equity_simple_returns", "simple_returns_array"]


def equity_simple_returns(equity: pl.DataFrame | pd.Series) -> pl.DataFrame:
    """Return the simple returns of ``equity`` as a frame with ``ts`` and ``return``."""
    curve = read_equity(equity)
    return _frame(curve, simple_returns_array(curve.equity))


def equity_log_returns(equity: pl.DataFrame | pd.Series) -> pl.DataFrame:
    """Return the log returns of ``equity`` as a frame with ``ts`` and ``return``."""
    curve = read_equity(equity)
    return _frame(curve, np.log(curve.equity[1:] / curve.equity[:-1]))


def simple_returns_array(equity: FloatArray) -> FloatArray:
    """Return ``equity[1:] / equity[:-1] - 1`` for an array of positive equity values."""
    values = np.asarray(equity, dtype=np.float64)
    returns = np.divide(values[1:], values[:-1])
    return np.subtract(returns, 1.0, out=returns)  # in place: no second temporary


def _frame(curve: EquityCurve, values: FloatArray) -> pl.DataFrame:
    return pl.DataFrame(
        [curve.timestamps().slice(1), pl.Series("return", values, dtype=pl.Float64)]
    )
