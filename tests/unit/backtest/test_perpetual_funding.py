"""Perpetual swap funding in the backtest: a week of 8-hour funding times, computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.core.clock import SimulatedClock
from quantstrata.core.errors import ConfigError
from quantstrata.exchange import FundingRates, funding_payment
from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.model import Instrument, Margin
from quantstrata.model.bar import BAR_SCHEMA, Bar
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.orders import OrderRequest
from quantstrata.venue.book import VenueBook
from quantstrata.venue.config import VenueConfig
from tests.kit.backtest import FixedTargets, ScriptedOrders

SYMBOL = "BTC/USDT:USDT"
START = datetime(2026, 3, 2, tzinfo=UTC)
STEP = timedelta(hours=4)
BARS = 43  # every 4 hours from day 0 00:00 to day 7 00:00
MULTIPLIER = 0.5
# The 21 funding times of a week, every 8 hours from day 0 08:00 to day 7 00:00; one negative.
RATES = [
    1e-4, 2e-4, 1e-4, 3e-4, 1e-4, 1e-4, 2e-4, -4e-4, 1e-4, 1e-4, 2e-4,
    5e-4, 1e-4, 1e-4, 1e-4, 2e-4, 3e-4, 1e-4, 1e-4, 2e-4, 1e-4,
]  # fmt: skip
FUNDING_TIMES = [START + 2 * STEP * (number + 1) for number in range(21)]


def _bars() -> pl.DataFrame:
    """Bars whose open, high, low and close at bar ``k`` are all ``100 + k``."""
    prices = [100.0 + k for k in range(BARS)]
    return pl.DataFrame(
        {
            "ts": [START + STEP * k for k in range(BARS)],
            "symbol": [SYMBOL] * BARS,
            "open": prices,
            "high": prices,
            "low": prices,
            "close": prices,
            "volume": [1e6] * BARS,
        },
        schema=BAR_SCHEMA,
    )


def _funding(**extra: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"ts": FUNDING_TIMES, "symbol": [SYMBOL] * 21, "funding_rate": RATES, **extra}
    )


def _config() -> BacktestConfig:
    perpetual = Instrument.of(SYMBOL, "perpetual", multiplier=MULTIPLIER, margin=Margin(0.1, 0.05))
    return BacktestConfig.build(instruments={SYMBOL: perpetual}, max_leverage=10.0)


def _long_then_short(funding: pl.DataFrame) -> BacktestResult:
    # Buy 2 contracts at bar 0's close (filled at bar 1's open, 101); sell 5 at bar 20's close
    # (filled at bar 21's open, 121): short 3 from then on.
    script = {0: [OrderRequest.market(SYMBOL, 2.0)], 20: [OrderRequest.market(SYMBOL, -5.0)]}
    return Backtest(_bars(), ScriptedOrders(script), _config(), funding=funding).run()


def _booked_cash(result: BacktestResult) -> list[float]:
    """Cash as booked (equity less the positions at their closes with the multiplier)."""
    equity = result.equity["equity"].to_list()
    quantities = result.positions.filter(pl.col("symbol") == SYMBOL)["quantity"].to_list()
    closes = [100.0 + k for k in range(BARS)]
    return [e - q * MULTIPLIER * c for e, q, c in zip(equity, quantities, closes, strict=True)]


def test_a_long_pays_and_a_short_receives_funding_at_each_8_hour_time() -> None:
    result = _long_then_short(_funding())
    # By hand: funding time number n (0..20) falls at bar j = 2n + 2 and is paid at that bar's
    # start on the position held after bar j - 1, marked at bar j - 1's close, 99 + j.
    cash = 100_000.0 - 2 * 101.0 * MULTIPLIER  # the long's notional at bar 1
    expected_cash, expected_payments = [], []
    for number, rate in enumerate(RATES):
        bar = 2 * number + 2
        if bar == 22:
            cash += 5 * 121.0 * MULTIPLIER  # the sale at bar 21, before this funding time
        held = 2.0 if bar <= 21 else -3.0
        payment = held * MULTIPLIER * (99.0 + bar) * rate
        cash -= payment
        expected_payments.append(payment)
        expected_cash.append(cash)
    paid = result.funding
    assert paid["ts"].to_list() == FUNDING_TIMES
    assert paid["payment"].to_list() == pytest.approx(expected_payments, rel=1e-12)
    assert paid["quantity"].to_list() == [2.0] * 10 + [-3.0] * 11
    booked = _booked_cash(result)
    for number in range(21):
        assert booked[2 * number + 2] == pytest.approx(expected_cash[number], rel=1e-12)
    # Spot checks: the first payment (long 2 × 0.5 × 101 × 0.01 %), the negative rate's
    # (the long receives 2 × 0.5 × 115 × 0.04 %) and a short's (receives 3 × 0.5 × 121 × 0.05 %).
    assert expected_payments[0] == pytest.approx(0.0101, rel=1e-12)
    assert expected_payments[7] == pytest.approx(-0.046, rel=1e-12)
    assert expected_payments[11] == pytest.approx(-3 * 0.5 * 123.0 * 5e-4, rel=1e-12)
    column = result.equity["funding"].to_list()
    assert sum(column) == pytest.approx(sum(expected_payments), rel=1e-12)
    assert [column[2 * n + 2] for n in range(21)] == pytest.approx(expected_payments, rel=1e-12)


def test_a_mark_price_in_the_series_replaces_the_close() -> None:
    marks = [200.0 + n for n in range(21)]
    result = _long_then_short(_funding(mark_price=marks))
    assert result.funding["mark"].to_list() == marks
    assert result.funding["payment"][0] == pytest.approx(2 * MULTIPLIER * 200.0 * RATES[0])


def test_funding_reaches_targets_and_is_empty_without_a_series() -> None:
    targets = (
        _bars()
        .select("ts", "symbol")
        .with_columns(pl.Series("target", [0.5] + [None] * (BARS - 1)))
    )
    config = _config()
    with_funding = Backtest(_bars(), FixedTargets(targets), config, funding=_funding()).run()
    assert with_funding.funding.height == 21
    without = Backtest(_bars(), FixedTargets(targets), config).run()
    assert without.funding.height == 0
    assert (without.equity["funding"] == 0.0).all()
    assert with_funding.fills.equals(without.fills)
    paid = with_funding.funding["payment"].sum()
    assert with_funding.final_equity == pytest.approx(without.final_equity - paid, rel=1e-12)


def test_the_rule_and_bad_series() -> None:
    # A short pays when the rate is negative: -2 × 10 × 50 × -0.1 % = 1.
    assert funding_payment(-2.0, 10.0, 50.0, -1e-3) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="funding_rate"):
        FundingRates.from_frame(_funding().drop("funding_rate"))
    bad = _funding().with_columns(
        pl.when(pl.int_range(21) == 4)
        .then(float("nan"))
        .otherwise(pl.col("funding_rate"))
        .alias("funding_rate")
    )
    with pytest.raises(ConfigError, match="row 4: funding_rate"):
        FundingRates.from_frame(bad)
    # A missing mark (the close is used) is no error; a mark of zero is, named by its row.
    marks: list[float | None] = [100.0] * 21
    marks[2], marks[5] = None, 0.0
    with pytest.raises(ConfigError, match=r"row 5: mark_price is 0\.0"):
        FundingRates.from_frame(_funding().with_columns(pl.Series("mark_price", marks)))
    with pytest.raises(ConfigError, match="two rates"):
        FundingRates.from_frame(pl.concat([_funding(), _funding().head(1)]))
    with pytest.raises(ConfigError, match="size_at"):
        Backtest(
            _bars(),
            FixedTargets(_bars().select("ts", "symbol")),
            BacktestConfig.build(size_at="fill"),
            funding=_funding(),
        )


@pytest.mark.asyncio
async def test_the_paper_broker_pays_the_backtests_funding() -> None:
    # The same orders fed bar by bar to the paper broker: the same fills, payments and cash.
    backtest = _long_then_short(_funding())
    perpetual = _config().instruments[SYMBOL]
    paper = PaperBroker(
        clock=SimulatedClock(START),
        cash=100_000.0,
        bar_length=STEP,
        instruments={SYMBOL: perpetual},
        funding=_funding(),
    )
    script = {0: 2.0, 20: -5.0}
    for index, row in enumerate(_bars().iter_rows(named=True)):
        await paper.on_bar(Bar(**row))
        if index in script:
            await paper.submit(
                ClientOrderId(f"o-{index}"), OrderRequest.market(SYMBOL, script[index])
            )
    fills = [(f.price, f.signed_quantity, f.ts) for f in await paper.fills()]
    assert fills == [
        (row["price"], row["quantity"] * (1 if row["side"] == "buy" else -1), row["ts"])
        for row in backtest.fills.iter_rows(named=True)
    ]
    assert paper.funding_paid == list(backtest.funding.iter_rows())
    account = await paper.account()
    assert account.cash == pytest.approx(_booked_cash(backtest)[-1], rel=1e-12)


def test_the_venue_book_pays_the_backtests_funding() -> None:
    backtest = _long_then_short(_funding())
    config = VenueConfig(cash=100_000.0, instruments=_config().instruments)
    book = VenueBook(config, [SYMBOL], bar_length=STEP, funding=FundingRates.from_frame(_funding()))
    script = {0: 2.0, 20: -5.0}
    for index, row in enumerate(_bars().iter_rows(named=True)):
        bar = Bar(**row)
        book.on_bars({bar.symbol: bar})
        if index in script:
            request = OrderRequest.market(SYMBOL, script[index])
            book.submit(ClientOrderId(f"o-{index}"), request, bar.ts)
    assert [(f.price, f.signed_quantity) for f in book.fills] == [(101.0, 2.0), (121.0, -5.0)]
    assert book.funding_paid == list(backtest.funding.iter_rows())
    assert book.cash == pytest.approx(_booked_cash(backtest)[-1], rel=1e-12)
