"""Peer agreement: ``SmaCrossover`` trades exactly as backtesting.py and backtrader say it should.

The same long-only SMA(10)/SMA(30) crossover runs in our engine and in two independent
frameworks on real daily bars, with and without a percentage commission, and must give the same
round trips (entry and exit times, prices, sizes, net PnL), the same position left open and the
same final equity. Each peer is configured to our conventions (decide at the close, fill at the
next open, size whole units from equity at the fill price — ``size_at="fill"``, as both peers
size, not our default of sizing at the decision — commission on entry and exit, final equity
marked at the last close); every convention that needed a bridge is listed in
``docs/peer-conventions.md``. The peers' strategies are regime-based like ``SmaCrossover``
(long while fast > slow, from the first bar the slow average exists) rather than the classic
"buy on crossover" form, which waits one bar longer; a separate test shows the two definitions
agree on every later bar.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime
from typing import Any, ClassVar

import backtesting
import backtesting.lib
import backtrader as bt
import numpy as np
import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from quantstrata.backtest import Backtest, BacktestConfig, BacktestResult
from quantstrata.data.samples import load_sample
from quantstrata.execution import CommissionConfig
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.strategy.examples import SmaCrossover

CASH = 100_000.0
FAST, SLOW = 10, 30
SAMPLES = ["GOOG_1d", "SPX_1d"]
RATES = [0.0, 0.001]
_TRADE_COLUMNS = ["entry_ts", "exit_ts", "quantity", "entry_price", "exit_price", "pnl"]
_PANDAS_DEPRECATION = "ignore:DatetimeIndex.dayofweek is deprecated:DeprecationWarning"
_OPEN_TRADES = "ignore:Some trades remain open at the end of backtest:UserWarning"


@functools.cache
def _ours(sample: str, rate: float) -> BacktestResult:
    config = BacktestConfig(
        cash=CASH,
        commission=CommissionConfig(rate=rate),
        allow_short=False,
        fractional=False,
        size_at="fill",  # both peers size an order where it fills (docs/peer-conventions.md)
    )
    strategy = SmaCrossover(fast=FAST, slow=SLOW, allow_short=False)
    return Backtest(load_sample(sample), strategy, config).run()


def _our_trades(result: BacktestResult) -> pl.DataFrame:
    return result.trades.select(_TRADE_COLUMNS)


def _our_open_position(result: BacktestResult) -> float:
    return float(result.positions["quantity"][-1])


def _ohlcv(sample: str) -> pd.DataFrame:
    """Return the sample as the naive-UTC, capitalised OHLCV frame both peers read."""
    frame = load_sample(sample).select("ts", "open", "high", "low", "close", "volume").to_pandas()
    frame = frame.set_index("ts")
    frame.index = frame.index.tz_convert("UTC").tz_localize(None)
    return frame.rename(columns=str.capitalize)


def _trades_frame(
    rows: list[tuple[datetime, datetime, float, float, float, float]],
) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema={
            "entry_ts": pl.Datetime("ns"),
            "exit_ts": pl.Datetime("ns"),
            "quantity": pl.Float64,
            "entry_price": pl.Float64,
            "exit_price": pl.Float64,
            "pnl": pl.Float64,
        },
        orient="row",
    )
    return frame.with_columns(
        pl.col("entry_ts", "exit_ts").dt.replace_time_zone("UTC").cast(TIMESTAMP_DTYPE)
    )


def _assert_same_trades(ours: pl.DataFrame, peer: pl.DataFrame, *, price_tolerance: float) -> None:
    """Assert the same round trips: times and sizes exactly, prices to ``price_tolerance``."""
    assert ours.height > 20
    exact = ["entry_ts", "exit_ts", "quantity"]
    assert_frame_equal(ours.select(exact), peer.select(exact), check_exact=True)
    prices = ["entry_price", "exit_price"]
    assert_frame_equal(
        ours.select(prices),
        peer.select(prices),
        check_exact=price_tolerance == 0.0,
        rel_tol=price_tolerance,
        abs_tol=0.0,
    )
    assert_frame_equal(
        ours.select("pnl"), peer.select("pnl"), check_exact=False, rel_tol=1e-9, abs_tol=1e-6
    )


# backtesting.py ---------------------------------------------------------------------------


class _RegimeSmaCross(backtesting.Strategy):
    """Long while SMA(fast) > SMA(slow) of the close, flat otherwise (``SmaCrossover``'s rule).

    The averages are plain arrays, not ``self.I`` indicators, so backtesting.py does not skip
    its warm-up bars plus one: the decision at the first bar with a slow average counts, as in
    our engine. ``size`` just below 1 asks for all the margin available (see the bridge in
    :func:`_run_backtesting`).
    """

    fast = FAST
    slow = SLOW
    _all_in: ClassVar[float] = math.nextafter(1.0, 0.0)

    def init(self) -> None:
        close = pd.Series(self.data.Close)
        self._fast = close.rolling(self.fast).mean().to_numpy()
        self._slow = close.rolling(self.slow).mean().to_numpy()

    def next(self) -> None:
        bar = len(self.data) - 1
        if np.isnan(self._slow[bar]):
            return
        long = bool(self._fast[bar] > self._slow[bar])
        if long and not self.position:
            self.buy(size=self._all_in)
        elif not long and self.position:
            self.position.close()


def _run_backtesting(sample: str, rate: float) -> pd.Series:
    """Run the peer: ``margin = 1 / (1 + rate)`` cancels its commission reserve in sizing.

    backtesting.py sizes a fractional order as ``floor(margin_available × leverage × size /
    (price × (1 + rate)))``; our engine as ``floor(equity / price)`` and lets the commission
    come out of cash. With leverage ``1 + rate`` the two are the same number of units.
    """
    peer = backtesting.Backtest(
        _ohlcv(sample),
        _RegimeSmaCross,
        cash=CASH,
        commission=rate,
        margin=1.0 / (1.0 + rate),
        trade_on_close=False,
        hedging=False,
        exclusive_orders=False,
        finalize_trades=False,
    )
    return peer.run()


def _backtesting_trades(stats: pd.Series) -> pl.DataFrame:
    trades = stats["_trades"]
    rows = [
        (
            entry.to_pydatetime(),
            exit_.to_pydatetime(),
            float(size),
            float(entry_price),
            float(exit_price),
            float(pnl),
        )
        for entry, exit_, size, entry_price, exit_price, pnl in zip(
            trades["EntryTime"],
            trades["ExitTime"],
            trades["Size"],
            trades["EntryPrice"],
            trades["ExitPrice"],
            trades["PnL"],
            strict=True,
        )
    ]
    return _trades_frame(rows)


@pytest.mark.filterwarnings(_PANDAS_DEPRECATION)
@pytest.mark.filterwarnings(_OPEN_TRADES)
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("sample", SAMPLES)
def test_backtesting_py_gives_the_same_trades_and_equity(sample: str, rate: float) -> None:
    ours = _ours(sample, rate)
    stats = _run_backtesting(sample, rate)
    _assert_same_trades(_our_trades(ours), _backtesting_trades(stats), price_tolerance=0.0)
    assert float(stats["_strategy"].position.size) == _our_open_position(ours)
    assert ours.final_equity == pytest.approx(float(stats["Equity Final [$]"]), rel=1e-6)
    # Both mark the position at each bar's close after that bar's fills: the curves agree too.
    peer_curve = stats["_equity_curve"]["Equity"].to_numpy()
    np.testing.assert_allclose(ours.equity["equity"].to_numpy(), peer_curve, rtol=1e-9, atol=0)


# backtrader --------------------------------------------------------------------------------


class _RegimeSmaCrossTrader(bt.Strategy):
    """``SmaCrossover``'s rule, decided in ``next`` (close) and ordered in ``next_open``.

    With ``cheat_on_open`` the order is sized at the open it fills at, from the broker value
    less the ``overdraft`` cushion (see :func:`_run_backtrader`), as our engine sizes it.
    """

    params = (("fast", FAST), ("slow", SLOW), ("overdraft", 0.0))

    def __init__(self) -> None:
        self.fast_average = bt.indicators.SMA(self.data.close, period=self.p.fast)
        self.slow_average = bt.indicators.SMA(self.data.close, period=self.p.slow)
        self.want_long: bool | None = None
        self.fills: list[tuple[datetime, float, float, float]] = []
        self.net_pnl: list[float] = []
        self.refused: list[str] = []

    def next(self) -> None:
        self.want_long = bool(self.fast_average[0] > self.slow_average[0])

    def next_open(self) -> None:
        if self.want_long and not self.position:
            equity = self.broker.getvalue() - self.p.overdraft
            self.buy(size=int(equity // self.data.open[0]))
        elif self.want_long is False and self.position:
            self.close()

    def notify_order(self, order: Any) -> None:
        if order.status == order.Completed:
            executed = order.executed
            when = bt.num2date(executed.dt)
            self.fills.append((when, executed.size, executed.price, executed.comm))
        elif order.status in {order.Canceled, order.Margin, order.Rejected}:
            self.refused.append(order.getstatusname())

    def notify_trade(self, trade: Any) -> None:
        if trade.isclosed:
            self.net_pnl.append(trade.pnlcomm)


def _run_backtrader(sample: str, rate: float) -> tuple[_RegimeSmaCrossTrader, float]:
    """Run the peer; return the strategy and the final equity.

    backtrader refuses an execution that leaves cash below zero, while our engine buys
    ``floor(equity / price)`` units and lets the commission overdraw cash. The broker is given
    an ``overdraft`` cushion on top of the cash, taken off every value the strategy sizes from
    and off the final value, which leaves equity, sizes and PnL untouched.
    """
    overdraft = CASH
    cerebro = bt.Cerebro(cheat_on_open=True, stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=_ohlcv(sample).rename(columns=str.lower)))
    cerebro.addstrategy(_RegimeSmaCrossTrader, overdraft=overdraft)
    cerebro.broker.setcash(CASH + overdraft)
    cerebro.broker.set_coc(False)
    cerebro.broker.setcommission(
        commission=rate, commtype=bt.CommInfoBase.COMM_PERC, percabs=True, stocklike=True
    )
    (strategy,) = cerebro.run()
    return strategy, cerebro.broker.getvalue() - overdraft


def _backtrader_trades(strategy: _RegimeSmaCrossTrader) -> pl.DataFrame:
    fills = strategy.fills
    exits = fills[1::2]
    entries = fills[0::2][: len(exits)]  # an entry still open at the end is not a trade
    assert all(size > 0 for _, size, _, _ in entries)
    assert all(size < 0 for _, size, _, _ in exits)
    rows = [
        (entry[0], exit_[0], float(entry[1]), entry[2], exit_[2], pnl)
        for entry, exit_, pnl in zip(entries, exits, strategy.net_pnl, strict=True)
    ]
    return _trades_frame(rows)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("sample", SAMPLES)
def test_backtrader_gives_the_same_trades_and_equity(sample: str, rate: float) -> None:
    ours = _ours(sample, rate)
    strategy, final_equity = _run_backtrader(sample, rate)
    assert strategy.refused == []
    # backtrader reports a fill's price as a size-weighted average (size × price / size), which
    # can move it by one unit in the last place from the bar's open.
    _assert_same_trades(_our_trades(ours), _backtrader_trades(strategy), price_tolerance=1e-15)
    our_commissions = ours.fills["commission"].to_numpy()
    assert np.allclose([fill[3] for fill in strategy.fills], our_commissions, rtol=1e-9, atol=0)
    assert float(strategy.position.size) == _our_open_position(ours)
    assert ours.final_equity == pytest.approx(final_equity, rel=1e-6)


# the signal definitions --------------------------------------------------------------------


def _target_changes(sample: str) -> tuple[int, np.ndarray, np.ndarray]:
    """Return our first decision bar and the bars where our target turns long and flat."""
    bars = load_sample(sample)
    targets = SmaCrossover(fast=FAST, slow=SLOW).targets(bars)["target"].to_numpy()
    first = int(np.flatnonzero(~np.isnan(targets))[0])
    previous, current = targets[first:-1], targets[first + 1 :]
    up = np.flatnonzero((current == 1.0) & (previous == 0.0)) + first + 1
    down = np.flatnonzero((current == 0.0) & (previous == 1.0)) + first + 1
    return first, up, down


@pytest.mark.parametrize("sample", SAMPLES)
def test_classic_crossover_fires_exactly_where_our_target_changes(sample: str) -> None:
    """After the first decision bar, ``backtesting.lib.crossover`` flips exactly where we do.

    The classic rule (``fast[t-1] < slow[t-1] and fast[t] > slow[t]``) differs from our regime
    only at the first bar with a slow average (no previous bar to cross from) and when the
    averages are exactly equal; this pins that the peers' regime form is the only adaptation.
    """
    close = pd.Series(_ohlcv(sample)["Close"].to_numpy())
    fast = close.rolling(FAST).mean().to_numpy()
    slow = close.rolling(SLOW).mean().to_numpy()
    first, up, down = _target_changes(sample)
    assert first == SLOW - 1
    bars = range(first + 1, close.shape[0])
    crossed_up = [
        bar for bar in bars if backtesting.lib.crossover(fast[: bar + 1], slow[: bar + 1])
    ]
    crossed_down = [
        bar for bar in bars if backtesting.lib.crossover(slow[: bar + 1], fast[: bar + 1])
    ]
    assert up.tolist() == crossed_up
    assert down.tolist() == crossed_down
    assert len(crossed_up) > 20


def test_samples_cover_both_first_bar_cases() -> None:
    """GOOG starts above its slow average (an entry the classic rule skips); SPX below it."""
    starts = {}
    for sample in SAMPLES:
        close = load_sample(sample)["close"].to_numpy()
        fast = close[SLOW - FAST : SLOW].mean()
        slow = close[:SLOW].mean()
        starts[sample] = bool(fast > slow)
    assert starts == {"GOOG_1d": True, "SPX_1d": False}
    first_entry = _ours("GOOG_1d", 0.0).trades["entry_ts"][0]
    assert first_entry == load_sample("GOOG_1d")["ts"][SLOW]
