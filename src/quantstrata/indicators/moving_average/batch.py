"""Moving averages over whole arrays: ``sma``, ``ema``.

Each function accepts a NumPy array, a pandas Series or a Polars Series and returns the same
kind. Values before the first full window are NaN (null for Polars); leading NaN input is skipped
(see :mod:`quantstrata.indicators._inputs`).
"""

from __future__ import annotations

from typing import Any

from quantstrata.indicators._inputs import check_period, first_finite, prepare
from quantstrata.indicators.moving_average import _nb

__all__ = ["ema", "ema_smoothing", "sma"]


def sma(close: Any, period: int = 30) -> Any:
    """Return the simple moving average: the mean of the last ``period`` values."""
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.sma_nb(values, period, first_finite(values)))


def ema_smoothing(period: int) -> float:
    """Return the EMA smoothing factor ``2 / (period + 1)``, TA-Lib's choice."""
    return 2.0 / (period + 1)


def ema(close: Any, period: int = 30) -> Any:
    """Return the exponential moving average with factor ``2 / (period + 1)``.

    The first value (at index ``period - 1``) is the simple average of the first ``period``
    values, as in TA-Lib; the seed's influence then decays by ``1 - 2 / (period + 1)`` per bar.
    """
    period = check_period(period)
    (values,), kind = prepare(close, names=("close",))
    return kind.wrap(_nb.ema_nb(values, period, first_finite(values), ema_smoothing(period)))
