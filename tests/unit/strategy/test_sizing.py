"""Sizing functions: units from money and prices, lot rounding, volatility targeting."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError, DataError, UnknownSymbolError
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.strategy.sizing import (
    fixed_units,
    realised_volatility,
    units_for_fraction,
    units_for_weights,
    volatility_target,
)

SHARES = Instrument("AAA", AssetClass.EQUITY, "USD", lot_size=1.0)  # type: ignore[arg-type]
COINS = Instrument("BTC", AssetClass.CRYPTO, "USD", lot_size=0.001, min_quantity=0.01)  # type: ignore[arg-type]


def test_fixed_units_round_toward_zero_to_whole_lots():
    assert fixed_units(10.7) == 10.7
    assert fixed_units(10.7, SHARES) == 10.0
    assert fixed_units(-10.7, SHARES) == -10.0
    assert fixed_units(0.0059, COINS) == 0.0  # below the minimum quantity
    with pytest.raises(DataError, match="units must be finite"):
        fixed_units(math.nan)


def test_fraction_of_equity_becomes_units_at_the_price():
    assert units_for_fraction(0.5, equity=10_000.0, price=40.0) == 125.0
    assert units_for_fraction(-0.5, equity=10_000.0, price=30.0, instrument=SHARES) == -166.0
    assert units_for_fraction(1.0, equity=10_000.0, price=42_123.0, instrument=COINS) == 0.237
    assert units_for_fraction(1.0, equity=-5.0, price=10.0) == 0.0


@settings(max_examples=80, deadline=None)
@given(
    fraction=st.floats(-3.0, 3.0),
    equity=st.floats(1.0, 1e9),
    price=st.floats(0.01, 1e6),
)
def test_rounded_units_never_exceed_the_fraction_and_miss_by_less_than_a_lot(
    fraction, equity, price
):
    units = units_for_fraction(fraction, equity=equity, price=price, instrument=SHARES)
    exact = fraction * equity / price
    assert abs(units) <= abs(exact) + 1e-9 * max(1.0, abs(exact))
    assert abs(exact - units) < 1.0 + 1e-9 * abs(exact)
    assert units == int(units)


def test_bad_prices_are_refused_naming_the_symbol():
    with pytest.raises(DataError, match="cannot size"):
        units_for_fraction(1.0, equity=100.0, price=0.0)
    with pytest.raises(DataError) as caught:
        units_for_weights({"AAA": 0.5}, equity=100.0, prices={"AAA": -1.0})
    assert caught.value.issues[0].symbol == "AAA"


def test_weights_become_units_per_symbol_with_each_instrument_rounding():
    weights = {"AAA": 0.6, "BTC": 0.4}
    prices = {"AAA": 33.0, "BTC": 20_000.0}
    units = units_for_weights(
        weights, equity=50_000.0, prices=prices, instruments={"AAA": SHARES, "BTC": COINS}
    )
    assert units == {
        "AAA": math.floor(0.6 * 50_000 / 33.0),
        "BTC": math.floor(0.4 * 50_000 / 20_000.0 / 0.001) * 0.001,
    }
    unrounded = units_for_weights(weights, equity=50_000.0, prices=prices)
    assert unrounded["AAA"] == pytest.approx(0.6 * 50_000 / 33.0)


def test_weights_without_a_price_name_the_symbol():
    with pytest.raises(UnknownSymbolError, match="CCC"):
        units_for_weights({"AAA": 0.5, "CCC": 0.5}, equity=1.0, prices={"AAA": 1.0})


def test_volatility_target_is_target_over_realised_capped_at_the_leverage():
    assert volatility_target(0.30, target_volatility=0.15) == pytest.approx(0.5)
    assert volatility_target(0.05, target_volatility=0.15, max_leverage=2.0) == 2.0
    assert volatility_target(0.0, target_volatility=0.15, max_leverage=1.5) == 1.5
    assert math.isnan(volatility_target(math.nan, target_volatility=0.15))
    array = volatility_target(np.array([0.3, np.nan, 0.1]), target_volatility=0.15)
    np.testing.assert_allclose(array, [0.5, np.nan, 1.0])


def test_volatility_target_refuses_bad_settings_and_values():
    with pytest.raises(ConfigError, match="target_volatility"):
        volatility_target(0.2, target_volatility=0.0)
    with pytest.raises(ConfigError, match="max_leverage"):
        volatility_target(0.2, target_volatility=0.1, max_leverage=-1.0)
    with pytest.raises(DataError, match="realised volatility"):
        volatility_target(-0.2, target_volatility=0.1)


def test_realised_volatility_matches_pandas_annualised_std():
    returns = np.random.default_rng(7).normal(0.0, 0.01, 300)
    expected = pd.Series(returns).std() * math.sqrt(252)
    assert realised_volatility(returns, periods_per_year=252) == pytest.approx(expected, rel=1e-12)
    assert realised_volatility(pd.Series(returns), periods_per_year=252) == pytest.approx(expected)


def test_realised_volatility_refuses_short_or_gappy_returns():
    with pytest.raises(DataError, match="at least 2"):
        realised_volatility([0.01], periods_per_year=252)
    with pytest.raises(DataError) as caught:
        realised_volatility([0.01, math.nan, 0.02], periods_per_year=252)
    assert caught.value.issues[0].row == 1
    with pytest.raises(ConfigError, match="periods_per_year"):
        realised_volatility([0.01, 0.02], periods_per_year=0)
