from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantstrata.core.errors import ConfigError
from quantstrata.model import AssetClass, Instrument, Symbol


@pytest.mark.parametrize("text", ["SPX", "AAPL.US", "BTC/USDT", "700.HK", "EURUSD"])
def test_symbols_keep_their_text(text: str):
    symbol = Symbol(text)
    assert symbol == text
    assert isinstance(symbol, str)
    assert repr(symbol) == f"Symbol({text!r})"


@pytest.mark.parametrize("text", ["", " SPX", "SPX ", "A\tB", "a=b", "x\x00"])
def test_bad_symbols_are_refused(text: str):
    with pytest.raises(ConfigError, match="symbol"):
        Symbol(text)


def test_non_text_symbol_is_refused():
    with pytest.raises(ConfigError, match="text"):
        Symbol(42)  # type: ignore[arg-type]


def _btc() -> Instrument:
    return Instrument(Symbol("BTC/USDT"), AssetClass.CRYPTO, "USDT", tick_size=0.01, lot_size=0.001)


def test_crypto_trades_around_the_clock_and_equities_follow_a_calendar():
    assert _btc().trades_around_the_clock
    spy = Instrument(Symbol("SPY"), AssetClass.EQUITY, "USD", calendar="XNYS")
    assert not spy.trades_around_the_clock


@pytest.mark.parametrize(
    ("field", "value"),
    [("tick_size", 0.0), ("lot_size", -1.0), ("min_quantity", -0.5), ("quote_currency", "$")],
)
def test_instrument_rules_are_checked(field: str, value: object):
    arguments = {"symbol": "X", "asset_class": "equity", "quote_currency": "USD", field: value}
    with pytest.raises(ConfigError, match=field):
        Instrument(**arguments)  # type: ignore[arg-type]


def test_rounding_to_ticks_and_lots():
    btc = _btc()
    assert btc.round_price(30123.456) == 30123.46
    assert btc.round_quantity(0.12345) == 0.123
    assert btc.round_quantity(-0.12345) == -0.123
    with_minimum = Instrument(Symbol("X"), AssetClass.EQUITY, "USD", lot_size=1, min_quantity=5)
    assert with_minimum.round_quantity(4.9) == 0.0


@given(quantity=st.floats(-1e6, 1e6, allow_nan=False), lots=st.sampled_from([0.001, 0.01, 1.0]))
def test_rounded_quantities_are_whole_lots_never_larger(quantity: float, lots: float):
    instrument = Instrument(Symbol("X"), AssetClass.CRYPTO, "USDT", lot_size=lots)
    rounded = instrument.round_quantity(quantity)
    assert abs(rounded) <= abs(quantity) + 1e-9
    assert abs(rounded / lots - round(rounded / lots)) < 1e-6
