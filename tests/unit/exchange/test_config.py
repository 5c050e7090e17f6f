"""The exchange's settings: unknown fields and bad values are refused, by name."""

from __future__ import annotations

from datetime import timedelta

import pytest

from quantstrata.backtest import BacktestConfig
from quantstrata.core.errors import ConfigError
from quantstrata.exchange import ExchangeConfig, SimulatedExchange
from quantstrata.model.instrument import AssetClass, Instrument


def test_unknown_fields_and_bad_values_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="leverage"):
        ExchangeConfig.build(leverage=2.0)
    with pytest.raises(ConfigError, match="bar_length"):
        ExchangeConfig.build(bar_length=timedelta(minutes=-1))
    with pytest.raises(ConfigError, match="calendar"):
        ExchangeConfig.build(calendar="NOT-A-CALENDAR")
    with pytest.raises(ConfigError, match="id"):
        SimulatedExchange(ExchangeConfig(), ["AAA"], id_prefix="bad prefix")


def test_calendar_codes_are_canonical_and_an_instruments_calendar_wins() -> None:
    instrument = Instrument("AAA", AssetClass.EQUITY, "USD", calendar="XLON")  # type: ignore[arg-type]
    config = ExchangeConfig(calendar="xnys", instruments={"AAA": instrument})
    assert config.calendar == "XNYS"
    assert (config.calendar_of("AAA"), config.calendar_of("BBB")) == ("XLON", "XNYS")


def test_a_backtest_hands_its_trading_rules_to_the_exchange() -> None:
    backtest = BacktestConfig(cash=5_000.0, allow_short=False, max_leverage=2.0, calendar="XNYS")
    config = backtest.exchange_config(timedelta(days=1))
    assert (config.cash, config.allow_short, config.max_leverage) == (5_000.0, False, 2.0)
    assert (config.calendar, config.bar_length) == ("XNYS", timedelta(days=1))
    assert config.lot_size("AAA") == backtest.lot_size("AAA")
