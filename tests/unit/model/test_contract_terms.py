"""Contract terms of instruments (multiplier, currencies, futures' root and expiry) and margins."""

from datetime import date

import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.model import REG_T, AssetClass, Instrument, Margin, MarginBasis


def test_a_future_carries_its_point_value_root_and_expiry():
    es = Instrument.of(
        "ESZ6",
        "future",
        root="ES",
        expiry=date(2026, 12, 18),
        multiplier=50,
        margin=Margin(12_000, 11_000, MarginBasis.PER_CONTRACT),
    )
    assert es.asset_class is AssetClass.FUTURE
    assert es.tick_size == 0.25
    assert es.tick_value == 12.5
    assert es.notional(-2, 6000.0) == -600_000.0
    assert es.settlement_currency == "USD"
    assert es.margin is not None
    assert es.margin.initial_for(-2, 6000.0, es.multiplier) == 24_000.0


def test_a_future_without_expiry_or_root_is_refused_with_an_example():
    with pytest.raises(ConfigError, match=r"root and expiry.*Instrument\.of"):
        Instrument.of("ESZ6", "future", multiplier=50)


def test_only_futures_expire():
    with pytest.raises(ConfigError, match="only a future has an expiry"):
        Instrument.of("SPY", "etf", expiry=date(2026, 1, 2))


def test_asset_class_defaults():
    spy = Instrument.of("SPY", "etf")
    assert (spy.calendar, spy.quote_currency, spy.margin) == ("XNYS", "USD", REG_T)
    eurusd = Instrument.of("EUR/USD", "forex")
    assert eurusd.quote_currency == "USD"
    perp = Instrument.of("BTC/USDT:USDT", "perpetual", multiplier=1)
    assert perp.calendar is None
    assert perp.asset_class.has_contracts
    assert not Instrument.of("SPX", "index").tradable
    assert Instrument.of("EURSTOXX", "equity", quote_currency="EUR").settlement_currency == "EUR"


def test_notional_margin_is_a_fraction():
    assert REG_T.initial_for(100, 50.0) == 2_500.0
    assert REG_T.maintenance_for(-100, 50.0) == 1_250.0
    with pytest.raises(ConfigError, match="per_contract"):
        Margin(1000, 900)
    with pytest.raises(ConfigError, match="exceeds initial"):
        Margin(0.25, 0.5)
    with pytest.raises(ConfigError, match="positive"):
        Margin(0.0, 0.0)


@pytest.mark.parametrize("field", ["multiplier", "tick_size"])
def test_contract_numbers_must_be_positive(field: str):
    with pytest.raises(ConfigError, match=field):
        Instrument.of("X", "equity", **{field: 0.0})


def test_with_terms_is_checked_again():
    spy = Instrument.of("SPY", "equity")
    assert spy.with_terms(multiplier=10).multiplier == 10
    with pytest.raises(ConfigError, match="settlement_currency"):
        spy.with_terms(settlement_currency="$")
