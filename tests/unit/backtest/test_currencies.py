"""A base currency: fills settle per currency, valued in USD with EURUSD closes as-of each bar."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.exchange._currency import FxRates, MissingRateError
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import OrderRequest
from tests.kit.backtest import START, ScriptedOrders, constant_targets, make_bars

# SAP is quoted and settled in EUR, SPY in USD; (open, high, low, close) per day.
SAP = make_bars(
    [
        (100.0, 100.0, 100.0, 100.0),
        (101.0, 102.0, 101.0, 102.0),
        (103.0, 104.0, 103.0, 104.0),
        (105.0, 105.0, 103.0, 103.0),
        (103.0, 106.0, 103.0, 106.0),
    ],
    symbol="SAP",
)
SPY = make_bars(
    [
        (50.0, 50.0, 50.0, 50.0),
        (51.0, 52.0, 51.0, 52.0),
        (52.0, 53.0, 52.0, 53.0),
        (54.0, 55.0, 54.0, 55.0),
        (55.0, 56.0, 55.0, 56.0),
    ],
    symbol="SPY",
)
BARS = pl.concat([SAP, SPY])
DAY = timedelta(days=1)
# EURUSD closes. None on day 2 itself: its rate is day 1's, because the close stamped 12 hours
# after day 2 opens is not known at day 2 (never a rate from the future); day 3 has its own.
FX_CLOSES = [
    (START, 1.10),
    (START + DAY, 1.12),
    (START + 2 * DAY + timedelta(hours=12), 1.09),
    (START + 3 * DAY, 1.15),
    (START + 4 * DAY, 1.20),
]


def _fx(symbol: str = "EUR/USD", *, invert: bool = False) -> pl.DataFrame:
    closes = [1.0 / close if invert else close for _, close in FX_CLOSES]
    return pl.DataFrame(
        {
            "ts": [ts for ts, _ in FX_CLOSES],
            "symbol": [symbol] * len(closes),
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": [0.0] * len(closes),
        },
        schema=BARS.schema,
    )


CONFIG = BacktestConfig.build(
    cash=10_000.0,
    base_currency="USD",
    instruments={"SAP": Instrument.of("SAP", "equity", quote_currency="EUR")},
)
SCRIPT = {
    0: [OrderRequest.market("SAP", 10.0), OrderRequest.market("SPY", 20.0)],
    2: [OrderRequest.market("SAP", -10.0)],
}

# By hand. Day 1: buy 10 SAP at 101 EUR (EUR cash -1010) and 20 SPY at 51 USD (USD cash 8980).
# Day 3: sell 10 SAP at 105 EUR (EUR cash +40). Equity = USD cash + SPY × close
#                                                   + (EUR cash + SAP × close) × EURUSD.
HAND_EQUITY = [
    10_000.0,  # day 0: nothing filled yet
    8_980.0 + 20 * 52.0 + (-1_010.0 + 10 * 102.0) * 1.12,  # 10_031.2
    8_980.0 + 20 * 53.0 + (-1_010.0 + 10 * 104.0) * 1.12,  # 10_073.6 (day 1's rate)
    8_980.0 + 20 * 55.0 + 40.0 * 1.15,  # 10_126.0
    8_980.0 + 20 * 56.0 + 40.0 * 1.20,  # 10_148.0
]
HAND_CASH_EUR = [0.0, -1_010.0, -1_010.0, 40.0, 40.0]
HAND_CASH_USD = [10_000.0, 8_980.0, 8_980.0, 8_980.0, 8_980.0]


def test_two_currency_equity_equals_the_hand_calculation_at_every_bar() -> None:
    result = Backtest(BARS, ScriptedOrders(SCRIPT), CONFIG, fx=_fx()).run()
    equity = result.equity
    assert equity["equity"].to_list() == pytest.approx(HAND_EQUITY, rel=1e-12)
    assert equity["cash_EUR"].to_list() == pytest.approx(HAND_CASH_EUR)
    assert equity["cash_USD"].to_list() == pytest.approx(HAND_CASH_USD)
    assert equity["rate_EUR"].to_list() == pytest.approx([1.10, 1.12, 1.12, 1.15, 1.20])
    assert equity["pnl_EUR"].to_list() == pytest.approx([0.0, 10.0, 30.0, 40.0, 40.0])
    assert equity["pnl_USD"].to_list() == pytest.approx([0.0, 20.0, 40.0, 80.0, 100.0])
    assert result.fills["price"].to_list() == [101.0, 51.0, 105.0]
    table = result.currencies
    assert table["currency"].to_list() == ["USD", "EUR"]
    assert table["pnl_base"].to_list() == pytest.approx([100.0, 48.0])
    assert result.final_equity == pytest.approx(10_000.0 + 100.0 + 48.0)


def test_a_pair_quoted_the_other_way_is_inverted() -> None:
    result = Backtest(BARS, ScriptedOrders(SCRIPT), CONFIG, fx=_fx("USDEUR", invert=True)).run()
    assert result.equity["equity"].to_list() == pytest.approx(HAND_EQUITY, rel=1e-12)


def test_a_missing_rate_names_the_pair_and_the_first_bar_without_one() -> None:
    late = _fx().filter(pl.col("ts") > START)
    with pytest.raises(MissingRateError, match=r"EUR/USD at 2024-01-01T00:00:00\+00:00") as raised:
        Backtest(BARS, ScriptedOrders(SCRIPT), CONFIG, fx=late).run()
    assert raised.value.ts == START
    with pytest.raises(MissingRateError, match=r"fx=fx_bars"):
        Backtest(BARS, ScriptedOrders(SCRIPT), CONFIG).run()


def test_rates_are_read_as_of_never_later() -> None:
    rates = FxRates.of(_fx())
    assert rates.rate("EUR", "USD", START + 2 * DAY) == 1.12
    assert rates.rate("EUR", "USD", START + 2 * DAY + timedelta(hours=12)) == 1.09
    assert rates.rate("USD", "EUR", START) == pytest.approx(1 / 1.10)
    assert rates.rate("USD", "USD", START) == 1.0


def test_a_signal_strategy_sizes_targets_in_the_base_currency() -> None:
    result = Backtest(BARS, constant_targets(BARS, 0.5), CONFIG, fx=_fx()).run()
    fills = result.fills.sort("symbol")
    # Decided at day 0's closes: 5_000 USD each; SAP at 100 EUR x 1.10 = 110 USD a share.
    assert fills["quantity"].to_list() == pytest.approx([5_000.0 / 110.0, 5_000.0 / 50.0])
    assert result.equity["cash_EUR"][1] == pytest.approx(-5_000.0 / 110.0 * 101.0)


def test_carry_is_charged_per_currency_in_its_own_cash() -> None:
    config = CONFIG.model_copy(update={"financing_rates": {"EUR": 0.365}})
    result = Backtest(BARS, ScriptedOrders(SCRIPT), config, fx=_fx()).run()
    # EUR cash is -1010 after day 1: day 2 charges 1010 x 0.365 / 365 = 1.01 EUR, from EUR cash.
    assert result.equity["cash_EUR"][2] == pytest.approx(-1_011.01)
    assert result.equity["cash_USD"][2] == pytest.approx(8_980.0)
    assert result.equity["carry_cost"][2] == pytest.approx(1.01 * 1.12)
