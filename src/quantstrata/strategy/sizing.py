"""Position sizing as pure functions: from money, prices and risk to a number of units.

Every function takes what it needs as arguments (equity, prices, instruments) and returns
numbers; none reads an account or a clock. Units are rounded toward zero to whole lots with
:meth:`quantstrata.model.instrument.Instrument.round_quantity` when an instrument is given, so a
size never exceeds what was asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from quantstrata.core.errors import ConfigError, DataError, DataIssue, UnknownSymbolError
from quantstrata.model.instrument import Instrument

__all__ = [
    "fixed_units",
    "realised_volatility",
    "units_for_fraction",
    "units_for_weights",
    "volatility_target",
]

FloatArray = npt.NDArray[np.float64]


def fixed_units(units: float, instrument: Instrument | None = None) -> float:
    """Return ``units`` (signed), rounded toward zero to whole lots of ``instrument``."""
    units = _finite(units, "units")
    return instrument.round_quantity(units) if instrument is not None else units


def units_for_fraction(
    fraction: float, *, equity: float, price: float, instrument: Instrument | None = None
) -> float:
    """Return the units worth ``fraction`` of ``equity`` at ``price`` (signed; lot-rounded).

    ``fraction`` 1.0 is fully invested, -0.5 half short. Equity at or below zero sizes nothing.
    """
    fraction = _finite(fraction, "fraction")
    equity = _finite(equity, "equity")
    price = _positive_price(price, None)
    if equity <= 0.0:
        return 0.0
    return fixed_units(fraction * equity / price, instrument)


@overload
def volatility_target(
    realised: float, *, target_volatility: float, max_leverage: float = ...
) -> float: ...


@overload
def volatility_target(
    realised: FloatArray, *, target_volatility: float, max_leverage: float = ...
) -> FloatArray: ...


def volatility_target(
    realised: float | FloatArray, *, target_volatility: float, max_leverage: float = 1.0
) -> float | FloatArray:
    """Return the fraction of equity that targets ``target_volatility``: target / realised.

    Both volatilities are annualised and in the same units (0.15 = 15 % a year). The result is
    capped at ``max_leverage``; zero realised volatility gives ``max_leverage`` and NaN (not yet
    known, during warm-up) gives NaN. Works on one number or an array of them.
    """
    target_volatility = _positive(target_volatility, "target_volatility")
    max_leverage = _positive(max_leverage, "max_leverage")
    values = np.asarray(realised, dtype=np.float64)
    if np.any(values[~np.isnan(values)] < 0.0) or np.any(np.isinf(values)):
        raise DataError("realised volatility must be >= 0 and finite (NaN while unknown)")
    with np.errstate(divide="ignore"):
        fraction = np.where(
            values > 0.0, target_volatility / np.where(values > 0.0, values, 1.0), np.inf
        )
    result = np.where(np.isnan(values), np.nan, np.minimum(fraction, max_leverage))
    if result.ndim == 0:
        return float(result)
    return result.astype(np.float64, copy=False)


def realised_volatility(returns: Any, *, periods_per_year: float) -> float:
    """Return the annualised standard deviation (ddof = 1) of per-bar ``returns``.

    ``periods_per_year`` is the number of bars in a year (252 for daily equities, 365 for daily
    crypto). NaN returns are refused: pass the window you mean.
    """
    periods_per_year = _positive(periods_per_year, "periods_per_year")
    values = np.asarray(
        returns.to_numpy() if hasattr(returns, "to_numpy") else returns, dtype=np.float64
    )
    if values.ndim != 1 or values.shape[0] < 2:
        raise DataError(f"realised volatility needs at least 2 returns, got shape {values.shape}")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        issue = DataIssue("non_finite", "return is not finite", row, "returns", float(values[row]))
        raise DataError("realised volatility needs finite returns", (issue,))
    return float(np.std(values, ddof=1) * math.sqrt(periods_per_year))


def units_for_weights(
    weights: Mapping[str, float],
    *,
    equity: float,
    prices: Mapping[str, float],
    instruments: Mapping[str, Instrument] | None = None,
) -> dict[str, float]:
    """Return units per symbol for target ``weights`` (fractions of ``equity``, signed).

    Each symbol needs a price; an instrument, when given for a symbol, rounds its units to lots.
    """
    missing = sorted(symbol for symbol in weights if symbol not in prices)
    if missing:
        raise UnknownSymbolError(f"no price for {missing}; prices are given for {sorted(prices)}")
    instruments = instruments or {}
    return {
        symbol: units_for_fraction(
            weight,
            equity=equity,
            price=_positive_price(prices[symbol], symbol),
            instrument=instruments.get(symbol),
        )
        for symbol, weight in weights.items()
    }


def _finite(value: float, name: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise DataError(f"{name} must be finite, got {value!r}")
    return number


def _positive(value: float, name: str) -> float:
    number = float(value)
    if not (math.isfinite(number) and number > 0.0):
        raise ConfigError(f"{name} must be finite and > 0, got {value!r}")
    return number


def _positive_price(price: float, symbol: str | None) -> float:
    number = float(price)
    if not (math.isfinite(number) and number > 0.0):
        issue = DataIssue(
            "invalid_price", "price must be finite and > 0", None, "price", price, symbol
        )
        raise DataError("cannot size a position at this price", (issue,))
    return number
