"""Peer agreement for futures: the SMA crossover as a future trades exactly as backtrader says.

backtrader's own strategy test runs an SMA cross as a future with ``setcommission(commission=2.0,
mult=10.0, margin=1000.0)``: 2.0 per contract each way, a point worth 10, 1,000 of margin per
contract. quantstrata says the same with an :class:`~quantstrata.model.Instrument` (``future``,
``multiplier=10``, ``Margin(1000, 1000, per_contract)``) and ``CommissionConfig(per_unit=2.0)``.
Both size at the open they fill at (``size_at="fill"``, ``int(value // (open × 10))``
contracts: the notional of one contract is ``open × 10``), decide at the close, and must give the
same trades (times, sizes, prices, PnL), the same commissions, the same position left, the same
final value and the same cash: backtrader's ``getcash()`` is equity less the margin posted,
which is what our result's ``cash`` reports for futures.
"""

from __future__ import annotations

import functools
from datetime import date

import backtrader as bt
import numpy as np
import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.data.samples import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.model import Instrument, Margin
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.strategy.examples import SmaCrossover
from tests.integration.test_peer_agreement import _RegimeSmaCrossTrader

CASH = 100_000.0
FAST, SLOW = 10, 30
MULTIPLIER, MARGIN, PER_CONTRACT = 10.0, 1_000.0, 2.0
SAMPLES = ["GOOG_1d", "SPX_1d"]
_COLUMNS = ["entry_ts", "exit_ts", "quantity", "entry_price", "exit_price", "pnl"]


def _future(symbol: str) -> Instrument:
    return Instrument.of(
        symbol,
        "future",
        root=symbol[:2],
        expiry=date(2099, 12, 18),
        multiplier=MULTIPLIER,
        margin=Margin(MARGIN, MARGIN, basis="per_contract"),
    )


@functools.cache
def _ours(sample: str, size_at: str = "fill") -> BacktestResult:
    bars = load_sample(sample)
    symbol = str(bars["symbol"][0])
    config = BacktestConfig(
        cash=CASH,
        commission=CommissionConfig(per_unit=PER_CONTRACT),
        allow_short=False,
        fractional=False,
        size_at=size_at,
        instruments={symbol: _future(symbol)},
    )
    strategy = SmaCrossover(fast=FAST, slow=SLOW, allow_short=False)
    return Backtest(bars, strategy, config).run()


class _FutureSmaCross(_RegimeSmaCrossTrader):
    """The peer-agreement strategy, sized in contracts: ``value // (open × multiplier)``."""

    def next_open(self) -> None:
        if self.want_long and not self.position:
            contract = self.data.open[0] * MULTIPLIER
            self.buy(size=int(self.broker.getvalue() // contract))
        elif self.want_long is False and self.position:
            self.close()


@functools.cache
def _backtrader(sample: str) -> tuple[_FutureSmaCross, float, float]:
    """Run the peer; return the strategy, its final value and its final cash."""
    frame = load_sample(sample).select("ts", "open", "high", "low", "close", "volume").to_pandas()
    frame = frame.set_index("ts")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC").tz_localize(None)
    cerebro = bt.Cerebro(cheat_on_open=True, stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(_FutureSmaCross)
    cerebro.broker.setcash(CASH)
    cerebro.broker.set_coc(False)
    cerebro.broker.setcommission(commission=PER_CONTRACT, mult=MULTIPLIER, margin=MARGIN)
    (strategy,) = cerebro.run()
    return strategy, cerebro.broker.getvalue(), cerebro.broker.getcash()


def _peer_trades(strategy: _FutureSmaCross) -> pl.DataFrame:
    fills = strategy.fills
    exits = fills[1::2]
    entries = fills[0::2][: len(exits)]
    rows = [
        (entry[0], exit_[0], float(entry[1]), entry[2], exit_[2], pnl)
        for entry, exit_, pnl in zip(entries, exits, strategy.net_pnl, strict=True)
    ]
    schema = dict.fromkeys(_COLUMNS, pl.Float64) | {
        "entry_ts": pl.Datetime("ns"),
        "exit_ts": pl.Datetime("ns"),
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(
        pl.col("entry_ts", "exit_ts").dt.replace_time_zone("UTC").cast(TIMESTAMP_DTYPE)
    )


@pytest.mark.parametrize("sample", SAMPLES)
def test_backtrader_futures_scheme_gives_the_same_trades_value_and_cash(sample: str) -> None:
    ours = _ours(sample)
    strategy, value, cash = _backtrader(sample)
    assert strategy.refused == []
    theirs = _peer_trades(strategy)
    mine = ours.trades.select(_COLUMNS)
    assert mine.height > 10
    exact = ["entry_ts", "exit_ts", "quantity"]
    assert_frame_equal(mine.select(exact), theirs.select(exact), check_exact=True)
    assert_frame_equal(
        mine.drop(exact), theirs.drop(exact), check_exact=False, rel_tol=1e-9, abs_tol=1e-6
    )
    commissions = ours.fills["commission"].to_numpy()
    assert np.allclose([fill[3] for fill in strategy.fills], commissions, rtol=1e-12, atol=0)
    assert float(strategy.position.size) == float(ours.positions["quantity"][-1])
    assert ours.final_equity == pytest.approx(value, rel=1e-9)
    assert float(ours.equity["cash"][-1]) == pytest.approx(cash, rel=1e-9)


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_future_is_worth_its_multiplier_times_the_equity_run(sample: str) -> None:
    """Equity moves by contracts × price move × 10: the PnL of each trade says so."""
    ours = _ours(sample)
    trades = ours.trades
    moves = trades["quantity"] * (trades["exit_price"] - trades["entry_price"]) * MULTIPLIER
    fees = trades["commission"]
    assert np.allclose(trades["pnl"].to_numpy(), (moves - fees).to_numpy(), rtol=1e-12)
    # Equity is the starting cash plus every closed trade's PnL plus what is open now.
    final = CASH + float(trades["pnl"].sum())
    if float(ours.positions["quantity"][-1]) == 0.0:
        assert ours.final_equity == pytest.approx(final, rel=1e-12)
