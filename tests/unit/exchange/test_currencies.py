"""Cash per currency in the simulated exchange, and the one FX-rate rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.exchange import (
    ExchangeConfig,
    FxRates,
    MissingRateError,
    Prices,
    SimulatedExchange,
)
from quantstrata.exchange._currency import base_currency, pair_of
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import OrderRequest

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
SAP = Instrument.of("SAP", "equity", quote_currency="EUR", calendar=None)


def test_a_fill_settles_in_its_instruments_currency() -> None:
    config = ExchangeConfig(cash=1_000.0, base_currency="USD", instruments={"SAP": SAP})
    exchange = SimulatedExchange(config, ["SAP", "SPY"])
    exchange.submit(ClientOrderId("A"), OrderRequest.market("SAP", 2.0), T0, sized=True)
    exchange.submit(ClientOrderId("B"), OrderRequest.market("SPY", 1.0), T0, sized=True)
    later = T0 + timedelta(minutes=1)
    exchange.on_bar("SAP", later, Prices(100.0, 100.0, 100.0, 100.0, 1e6))
    exchange.on_bar("SPY", later, Prices(50.0, 50.0, 50.0, 50.0, 1e6))
    assert exchange.balances == {"USD": 950.0, "EUR": -200.0}
    assert exchange.cash == 950.0


def test_a_symbol_listed_later_settles_in_its_currency_too() -> None:
    config = ExchangeConfig(cash=1_000.0, base_currency="USD", instruments={"SAP": SAP})
    exchange = SimulatedExchange(config, [])
    exchange.list_symbol("SAP")
    exchange.submit(ClientOrderId("A"), OrderRequest.market("SAP", -1.0), T0, sized=True)
    exchange.on_bar("SAP", T0 + timedelta(minutes=1), Prices(90.0, 90.0, 90.0, 90.0, 1e6))
    assert exchange.balances == {"USD": 1_000.0, "EUR": 90.0}


def test_a_single_currency_account_has_one_balance() -> None:
    config = ExchangeConfig(cash=1_000.0, instruments={"SAP": SAP})
    assert config.account_currency() == "EUR"  # the one currency settled in
    assert SimulatedExchange(config, ["SAP"]).balances == {"EUR": 1_000.0}
    assert base_currency(None, {}) == "USD"


def test_pairs_are_read_in_both_spellings_and_bad_ones_are_named() -> None:
    assert pair_of("EUR/USD") == pair_of("EURUSD") == ("EUR", "USD")
    assert pair_of("btc/usdt") == ("BTC", "USDT")
    with pytest.raises(ConfigError, match="'EURO' is not a currency pair"):
        pair_of("EURO")


def test_rates_fed_one_by_one_are_read_as_of() -> None:
    rates = FxRates()
    rates.add("USD/JPY", T0, 150.0)
    rates.add("USD/JPY", T0 + timedelta(hours=1), 151.0)
    rates.add("USD/JPY", T0, 140.0)  # an older close changes nothing
    assert rates.rate("JPY", "USD", T0 + timedelta(minutes=59)) == pytest.approx(1 / 150.0)
    times = np.array([T0.timestamp() * 1e9, (T0.timestamp() + 7200) * 1e9], dtype=np.int64)
    assert rates.rates("USD", "JPY", times).tolist() == [150.0, 151.0]
    with pytest.raises(MissingRateError, match="JPY/USD at 2024-03-04T14:00:00"):
        rates.rate("JPY", "USD", T0 - timedelta(hours=1))
    with pytest.raises(MissingRateError, match="GBP/USD") as raised:
        rates.rate("GBP", "USD", T0)
    assert raised.value.currency == "GBP"
    assert "USD/JPY" in str(raised.value)
