"""The backtest suite: one SMA crossover in quantstrata and in vectorbt, backtesting.py, backtrader.

The workload (from the issue): long-only, all-in SMA(10)/SMA(30) crossover of the close, decided
at a bar's close and filled at the next bar's open, 0.1 % commission on every fill, 100 000 in
cash, on seeded synthetic 1-minute bars (:func:`quantstrata.data.synthetic.generate_bars`).
Each timed call is end to end: from the library's native bar input to trades and final equity.

Tasks (quantstrata side first, then its peer):

- ``signal_vectorbt``: the compiled path: ``Backtest(bars, SmaCrossover(...), config).run()``
  with the look-ahead check off, vs ``vectorbt.Portfolio.from_signals`` on a tz-naive index
  (its own ``MA`` indicator, signals shifted one bar, filled at the open). 1M bars. Goals:
  >= 10M bars/s, and >= 4x vectorbt.
- ``signal_vectorbt_lookahead``: the same with the default look-ahead check on (for reference).
- ``polars_vectorbt``: the default path: the user's Polars-expression crossover
  (``examples/sma_cross.py``) with the default config (look-ahead check on, sized at the
  decision; only the cash and the commission set) vs the same vectorbt run. 1M bars. Goal:
  >= 2x vectorbt. Both vectorbt tasks run in the same ``make bench`` run, so the two ratios
  share one machine state.
- ``signal_size_at``: the same crossover (check off) with the default ``size_at="decision"``
  vs ``size_at="fill"``: the default path within 10 % of the fastest. 1M bars.
- ``polars_lookahead``: what users run: a strategy written with Polars expressions
  (``examples/sma_cross.py``, loaded as the command line loads a file) with the defaults, so the
  look-ahead check on, vs the same run with the check off. The ratio is the check's price; goal:
  >= 0.75x (the check takes at most a quarter of the run). 1M bars.
- ``event_backtesting``: ``EventSmaCrossover`` vs backtesting.py 0.6.6. 100k bars. Goal: >= 5x.
- ``event_backtrader``: ``EventSmaCrossover`` vs backtrader 1.9.78. 100k bars. Goal: >= 20x.

The peers follow ``docs/peer-conventions.md`` (the bridges of
``tests/integration/test_peer_agreement.py``) so they trade the same units at the same bars:
quantstrata runs whole units (``fractional=False``) against backtesting.py and backtrader, and
fractional units against vectorbt, which sizes fractionally.

Same-result digests: against backtesting.py and backtrader, the closed-trade count, the units
left open and the final equity to 6 significant digits (the peers agree to 1e-6 relative).
Against vectorbt the final equity cannot be compared: vectorbt reserves the commission when it
sizes an all-in buy (``cash / (price × (1 + fee))``, no leverage setting cancels it), so its
positions are 0.1 % smaller; and over 1M one-minute bars about 19k round trips at 0.2 % each
shrink equity about 1e-17 times, below the digits vectorbt's running cash sum keeps. So the
vectorbt tasks start with ``SIGNAL_CASH`` = 1e18 (with 100 000 vectorbt stops trading once an
all-in order falls below its size tolerance), and their digest is the closed-trade count, a
hash of every closed trade's entry and exit bar (exact), and the net PnL per unit summed over
the trades to 6 significant digits (independent of position size; checks fill prices and
commission).

vectorbt is optional: when it does not import, its rows fail with "unavailable: <reason>" and
:func:`fatal` tells ``python -m bench`` not to count that as a failure.
"""

from __future__ import annotations

import hashlib
import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import polars as pl
from rich.table import Table

from bench.currency_tasks import CURRENCY_RATIO_GOAL, currency_tasks
from bench.harness import (
    Goal,
    Side,
    Size,
    Suite,
    Task,
    TaskResult,
    format_bytes,
    format_rate,
)

__all__ = ["SUITE", "PeerUnavailableError", "fatal", "goal_table"]

SIGNAL_BARS = 1_000_000
EVENT_BARS = 100_000
TINY_BARS = 2_000
SEED = 20_240_601
CASH = 100_000.0
SIGNAL_CASH = 1e18
"""Starting cash of the vectorbt tasks: ~19k round trips at 0.2 % shrink equity ~1e-17 times."""
RATE = 0.001
_SMA_CROSS_FILE = Path(__file__).resolve().parent.parent / "examples" / "sma_cross.py"
LOOKAHEAD_RATIO_GOAL = 0.75
"""Check off over check on: the look-ahead check takes at most a quarter of the run."""
SIZE_AT_RATIO_GOAL = 0.9
"""Sized at the fill over sized at the decision: the default within 10 % of the fastest."""
FAST, SLOW = 10, 30
SIGNAL_GOAL = 10_000_000
BACKTESTING_RATIO_GOAL = 5.0
BACKTRADER_RATIO_GOAL = 20.0
_UNAVAILABLE = "PeerUnavailableError: "
COMPILED_RATIO_GOAL = 4.0
"""The compiled path (``SmaCrossover``, check off) over vectorbt's ``from_signals``."""
DEFAULT_RATIO_GOAL = 2.0
"""The default path (a user's Polars strategy, check on) over vectorbt's ``from_signals``."""


class PeerUnavailableError(RuntimeError):
    """A peer library does not import here; its rows report why instead of a measurement."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """The naive-UTC pandas OHLCV frame vectorbt reads, and its number of bars."""

    bars: Any
    rows: int


def _rows(full: int) -> Callable[[Size], int]:
    return lambda size: size.rows(full, tiny=TINY_BARS)


def _bars(rows: int) -> pl.DataFrame:
    from quantstrata.data.synthetic import generate_bars

    return generate_bars(bars=rows, interval="1m", seed=SEED)


def _ohlcv(bars: pl.DataFrame) -> pd.DataFrame:
    """Return the naive-UTC, capitalised OHLCV frame the Python peers read."""
    frame = bars.select("ts", "open", "high", "low", "close", "volume").to_pandas()
    frame = frame.set_index("ts")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC").tz_localize(None)
    return frame.rename(columns=str.capitalize)


def _digest(closed: int, open_units: float, equity: float) -> str:
    return f"{closed} trades, {open_units:g} open, equity {equity:.6g}"


# ------------------------------------------------------------------ quantstrata


def _config(
    *, fractional: bool, check_lookahead: bool, cash: float = CASH, size_at: str = "fill"
) -> Any:
    from quantstrata.backtest import BacktestConfig
    from quantstrata.execution import CommissionConfig

    return BacktestConfig(
        cash=cash,
        commission=CommissionConfig(rate=RATE),
        allow_short=False,
        fractional=fractional,
        check_lookahead=check_lookahead,
        size_at=size_at,  # the peers size at the fill (docs/peer-conventions.md)
    )


def _signal_side(*, check_lookahead: bool, size_at: str = "fill", label: str = "") -> Side:
    def setup(size: Size, _workdir: Path) -> tuple[pl.DataFrame, Any]:
        rows = size.rows(SIGNAL_BARS, tiny=TINY_BARS)
        config = _config(
            fractional=True, check_lookahead=check_lookahead, cash=SIGNAL_CASH, size_at=size_at
        )
        return _bars(rows), config

    def run(context: tuple[pl.DataFrame, Any]) -> Any:
        from quantstrata.backtest import Backtest
        from quantstrata.strategy.examples import SmaCrossover

        bars, config = context
        strategy = SmaCrossover(fast=FAST, slow=SLOW, allow_short=False)
        return Backtest(bars, strategy, config).run()

    if size_at != "fill":  # sized at the decision: not vectorbt's convention, no shared digest
        return Side(label, setup, run)
    label = label or "quantstrata signal" + (" + look-ahead check" if check_lookahead else "")
    return Side(label, setup, run, digest=_vectorbt_style_digest)


def _polars_strategy_side(label: str, *, check_lookahead: bool, cash: float = CASH) -> Side:
    """The user's Polars-expression crossover of ``examples/sma_cross.py``, default config.

    With ``cash=SIGNAL_CASH`` its result is checked against vectorbt's (same trades at the same
    bars, same net PnL per unit: the default sizing at the decision trades the same bars).
    """

    def setup(size: Size, _workdir: Path) -> tuple[pl.DataFrame, Any, Any]:
        from quantstrata.backtest import BacktestConfig
        from quantstrata.cli._strategy_source import load_strategy_class
        from quantstrata.execution import CommissionConfig

        strategy_class = load_strategy_class(str(_SMA_CROSS_FILE))
        config = BacktestConfig(
            cash=cash, commission=CommissionConfig(rate=RATE), check_lookahead=check_lookahead
        )
        bars = _bars(size.rows(SIGNAL_BARS, tiny=TINY_BARS))
        return bars, strategy_class(fast=FAST, slow=SLOW), config

    def run(context: tuple[pl.DataFrame, Any, Any]) -> Any:
        from quantstrata.backtest import Backtest

        bars, strategy, config = context
        return Backtest(bars, strategy, config).run()

    digest = _vectorbt_style_digest if cash == SIGNAL_CASH else _event_digest
    return Side(label, setup, run, digest=digest)


def _vectorbt_style_digest(context: tuple[Any, ...], result: Any) -> str:
    bars = context[0]
    index = bars.select(pl.col("ts"), pl.int_range(pl.len()).alias("bar"))
    trades = result.trades
    entries = trades.join(index, left_on="entry_ts", right_on="ts", how="left")["bar"]
    exits = trades.join(index, left_on="exit_ts", right_on="ts", how="left")["bar"]
    per_unit = (trades["pnl"] / trades["quantity"]).to_numpy()
    return _trades_digest(entries.to_numpy(), exits.to_numpy(), per_unit)


def _trades_digest(entries: np.ndarray, exits: np.ndarray, per_unit: np.ndarray) -> str:
    """Count, hash of every (entry bar, exit bar), and the net PnL per unit summed over trades."""
    pairs = np.stack([entries.astype(np.int64), exits.astype(np.int64)])
    fingerprint = hashlib.sha256(np.ascontiguousarray(pairs).tobytes()).hexdigest()[:12]
    total = float(np.sum(per_unit))
    return f"{entries.shape[0]} trades at bars #{fingerprint}, net PnL/unit {total:.6g}"


def _event_setup(size: Size, _workdir: Path) -> tuple[pl.DataFrame, Any]:
    rows = size.rows(EVENT_BARS, tiny=TINY_BARS)
    return _bars(rows), _config(fractional=False, check_lookahead=False)


def _event_run(context: tuple[pl.DataFrame, Any]) -> Any:
    from quantstrata.backtest import Backtest
    from quantstrata.strategy.examples import EventSmaCrossover

    bars, config = context
    strategy = EventSmaCrossover(fast=FAST, slow=SLOW, allow_short=False)
    return Backtest(bars, strategy, config).run()


def _event_digest(_context: Any, result: Any) -> str:
    open_units = float(result.positions["quantity"][-1])
    return _digest(result.trades.height, open_units, result.final_equity)


def _event_side() -> Side:
    return Side("quantstrata event", _event_setup, _event_run, digest=_event_digest)


# ------------------------------------------------------------------ vectorbt


def _vectorbt() -> Any:
    try:
        return importlib.import_module("vectorbt")
    except Exception as error:  # any import failure is the reason to show
        raise PeerUnavailableError(
            f"unavailable: vectorbt does not import ({type(error).__name__}: {error}); "
            "install it with `pip install vectorbt` if that leaves numpy, numba, pandas "
            "and polars unchanged"
        ) from None


def _vectorbt_setup(size: Size, _workdir: Path) -> Inputs:
    _vectorbt()
    rows = size.rows(SIGNAL_BARS, tiny=TINY_BARS)
    return Inputs(bars=_ohlcv(_bars(rows)), rows=rows)


def _vectorbt_run(inputs: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the crossover with vectorbt's own tools: ``MA`` for the averages, ``from_signals``."""
    vbt = _vectorbt()
    frame = inputs.bars
    close = frame["Close"]
    fast = vbt.MA.run(close, FAST).ma.to_numpy()
    slow = vbt.MA.run(close, SLOW).ma.to_numpy()
    decided = ~np.isnan(slow)
    long = decided & (fast > slow)
    entries = np.zeros(long.shape[0], dtype=bool)
    exits = np.zeros(long.shape[0], dtype=bool)
    entries[1:] = long[:-1]  # decided at bar t's close, filled at bar t+1's open
    exits[1:] = decided[:-1] & ~long[:-1]
    portfolio = vbt.Portfolio.from_signals(
        close,
        entries,
        exits,
        price=frame["Open"],
        fees=RATE,
        init_cash=SIGNAL_CASH,
        size=np.inf,
        freq="1min",
    )
    records = portfolio.trades.closed.records
    return (
        records["entry_idx"].to_numpy(),
        records["exit_idx"].to_numpy(),
        (records["pnl"] / records["size"]).to_numpy(),
    )


def _vectorbt_digest(_inputs: Inputs, result: tuple[np.ndarray, np.ndarray, np.ndarray]) -> str:
    return _trades_digest(*result)


def _vectorbt_side() -> Side:
    return Side("vectorbt", _vectorbt_setup, _vectorbt_run, digest=_vectorbt_digest)


# ------------------------------------------------------------------ backtesting.py


def _backtesting_strategy() -> type:
    """Return the regime crossover of ``test_peer_agreement`` (built after the import)."""
    import backtesting  # type: ignore[import-untyped,unused-ignore]

    class RegimeSmaCross(backtesting.Strategy):  # type: ignore[misc]
        """Long while SMA(fast) > SMA(slow), flat otherwise; plain arrays, not ``self.I``."""

        all_in: ClassVar[float] = math.nextafter(1.0, 0.0)

        def init(self) -> None:
            close = pd.Series(self.data.Close)
            self.fast_average = close.rolling(FAST).mean().to_numpy()
            self.slow_average = close.rolling(SLOW).mean().to_numpy()

        def next(self) -> None:
            bar = len(self.data) - 1
            if np.isnan(self.slow_average[bar]):
                return
            long = bool(self.fast_average[bar] > self.slow_average[bar])
            if long and not self.position:
                self.buy(size=self.all_in)
            elif not long and self.position:
                self.position.close()

    return RegimeSmaCross


def _backtesting_setup(size: Size, _workdir: Path) -> tuple[pd.DataFrame, type]:
    import warnings

    # Open trades at the end and pandas 3's dayofweek deprecation, as in the peer tests.
    warnings.filterwarnings("ignore", "Some trades remain open", UserWarning)
    warnings.filterwarnings("ignore", "DatetimeIndex.dayofweek is deprecated", DeprecationWarning)
    rows = size.rows(EVENT_BARS, tiny=TINY_BARS)
    return _ohlcv(_bars(rows)), _backtesting_strategy()


def _backtesting_run(context: tuple[pd.DataFrame, type]) -> pd.Series:
    """Run backtesting.py; ``margin = 1 / (1 + rate)`` cancels its commission reserve."""
    import backtesting  # type: ignore[import-untyped,unused-ignore]

    frame, strategy = context
    peer = backtesting.Backtest(
        frame,
        strategy,
        cash=CASH,
        commission=RATE,
        margin=1.0 / (1.0 + RATE),
        trade_on_close=False,
        hedging=False,
        exclusive_orders=False,
        finalize_trades=False,
    )
    stats: pd.Series = peer.run()
    return stats


def _backtesting_digest(_context: Any, stats: pd.Series) -> str:
    open_units = float(stats["_strategy"].position.size)
    return _digest(len(stats["_trades"]), open_units, float(stats["Equity Final [$]"]))


# ------------------------------------------------------------------ backtrader


def _backtrader_strategy() -> type:
    """Return the crossover of ``test_peer_agreement``: decide in ``next``, order at the open."""
    import backtrader as bt  # type: ignore[import-untyped,unused-ignore]

    class RegimeSmaCrossTrader(bt.Strategy):  # type: ignore[misc]
        """Long while SMA(fast) > SMA(slow), sized at the open it fills at (cheat-on-open)."""

        params = (("overdraft", 0.0),)

        def __init__(self) -> None:
            self.fast_average = bt.indicators.SMA(self.data.close, period=FAST)
            self.slow_average = bt.indicators.SMA(self.data.close, period=SLOW)
            self.want_long: bool | None = None
            self.closed = 0

        def next(self) -> None:
            self.want_long = bool(self.fast_average[0] > self.slow_average[0])

        def next_open(self) -> None:
            if self.want_long and not self.position:
                equity = self.broker.getvalue() - self.p.overdraft
                self.buy(size=int(equity // self.data.open[0]))
            elif self.want_long is False and self.position:
                self.close()

        def notify_trade(self, trade: Any) -> None:
            if trade.isclosed:
                self.closed += 1

    return RegimeSmaCrossTrader


def _backtrader_setup(size: Size, _workdir: Path) -> tuple[pd.DataFrame, type]:
    rows = size.rows(EVENT_BARS, tiny=TINY_BARS)
    return _ohlcv(_bars(rows)).rename(columns=str.lower), _backtrader_strategy()


def _backtrader_run(context: tuple[pd.DataFrame, type]) -> tuple[int, float, float]:
    """Run backtrader with an overdraft cushion (our engine may overdraw cash by commission)."""
    import backtrader as bt  # type: ignore[import-untyped,unused-ignore]

    frame, strategy_class = context
    cerebro = bt.Cerebro(cheat_on_open=True, stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(strategy_class, overdraft=CASH)
    cerebro.broker.setcash(2 * CASH)
    cerebro.broker.set_coc(False)
    cerebro.broker.setcommission(
        commission=RATE, commtype=bt.CommInfoBase.COMM_PERC, percabs=True, stocklike=True
    )
    (strategy,) = cerebro.run()
    return strategy.closed, float(strategy.position.size), cerebro.broker.getvalue() - CASH


def _backtrader_digest(_context: Any, result: tuple[int, float, float]) -> str:
    return _digest(*result)


# ------------------------------------------------------------------ tasks and goals


def _signal_task(*, check_lookahead: bool) -> Task:
    check = "on (the default)" if check_lookahead else "off"
    return Task(
        name="signal_vectorbt_lookahead" if check_lookahead else "signal_vectorbt",
        description=f"1M 1-minute bars, SMA 10/30 crossover, look-ahead check {check}: "
        "Backtest(bars, SmaCrossover, config).run() vs vectorbt Portfolio.from_signals "
        "(tz-naive index)"
        + ("" if check_lookahead else f"; goals >= 10M bars/s, ratio >= {COMPILED_RATIO_GOAL:g}x"),
        rows=_rows(SIGNAL_BARS),
        quantstrata=_signal_side(check_lookahead=check_lookahead),
        peer=_vectorbt_side(),
        goal=None if check_lookahead else Goal.rate(SIGNAL_GOAL),
        repeat=5,  # a ~0.1 s call: best of 5 rides out a shared machine's bursts
    )


SUITE = Suite(
    name="backtest",
    description="SMA 10/30 crossover backtests: quantstrata signal and event styles vs peers",
    peer="peer",
    tasks=(
        _signal_task(check_lookahead=False),
        _signal_task(check_lookahead=True),
        Task(
            name="polars_vectorbt",
            description="1M 1-minute bars, the default path: a user's Polars-expression SMA "
            "10/30 crossover (examples/sma_cross.py), default config (look-ahead check on, sized "
            "at the decision) vs vectorbt Portfolio.from_signals (tz-naive index); goal ratio "
            f">= {DEFAULT_RATIO_GOAL:g}x",
            rows=_rows(SIGNAL_BARS),
            quantstrata=_polars_strategy_side(
                "user Polars strategy, defaults", check_lookahead=True, cash=SIGNAL_CASH
            ),
            peer=_vectorbt_side(),
            repeat=5,
        ),
        Task(
            name="signal_size_at",
            description="1M 1-minute bars, SmaCrossover, look-ahead check off: targets sized at "
            "the decision (the default, what live trading does) vs at the fill (the peers' "
            f"convention); goal ratio >= {SIZE_AT_RATIO_GOAL:g}x (the default as fast)",
            rows=_rows(SIGNAL_BARS),
            quantstrata=_signal_side(
                check_lookahead=False, size_at="decision", label="sized at the decision"
            ),
            peer=_signal_side(check_lookahead=False, label="sized at the fill"),
            repeat=5,
        ),
        Task(
            name="polars_lookahead",
            description="1M 1-minute bars, a user's Polars-expression SMA 10/30 crossover "
            "(examples/sma_cross.py) with the default config (look-ahead check on) vs the same "
            f"with the check off; goal ratio >= {LOOKAHEAD_RATIO_GOAL:g}x (the check <= 1/4 "
            "of the run)",
            rows=_rows(SIGNAL_BARS),
            quantstrata=_polars_strategy_side(
                "user Polars strategy, defaults", check_lookahead=True
            ),
            peer=_polars_strategy_side("check off", check_lookahead=False),
            repeat=5,
        ),
        Task(
            name="event_backtesting",
            description="100k 1-minute bars: EventSmaCrossover vs backtesting.py 0.6.6; "
            f"goal ratio >= {BACKTESTING_RATIO_GOAL:g}x",
            rows=_rows(EVENT_BARS),
            quantstrata=_event_side(),
            peer=Side(
                "backtesting.py",
                _backtesting_setup,
                _backtesting_run,
                digest=_backtesting_digest,
            ),
            repeat=3,
        ),
        Task(
            name="event_backtrader",
            description="100k 1-minute bars: EventSmaCrossover vs backtrader 1.9.78; "
            f"goal ratio >= {BACKTRADER_RATIO_GOAL:g}x",
            rows=_rows(EVENT_BARS),
            quantstrata=_event_side(),
            peer=Side("backtrader", _backtrader_setup, _backtrader_run, digest=_backtrader_digest),
            repeat=3,
        ),
        *currency_tasks(),
    ),
)
"""The backtest suite, registered in ``bench/__main__.py``."""

_RATIO_GOALS = {
    "signal_vectorbt": COMPILED_RATIO_GOAL,
    "polars_vectorbt": DEFAULT_RATIO_GOAL,
    "event_backtesting": BACKTESTING_RATIO_GOAL,
    "event_backtrader": BACKTRADER_RATIO_GOAL,
    "polars_lookahead": LOOKAHEAD_RATIO_GOAL,
    "signal_size_at": SIZE_AT_RATIO_GOAL,
    "event_five_currencies": CURRENCY_RATIO_GOAL,
    "signal_five_currencies": CURRENCY_RATIO_GOAL,
}


def _unavailable(result: TaskResult) -> str | None:
    for message in result.errors.values():
        if message.startswith(_UNAVAILABLE):
            return message.removeprefix(_UNAVAILABLE)
    return None


def fatal(result: TaskResult) -> bool:
    """Whether ``result`` failed for a reason other than an unavailable optional peer."""
    return any(not message.startswith(_UNAVAILABLE) for message in result.errors.values())


def _verdict(met: bool | None) -> str:
    return {None: "-", True: "[green]yes[/green]", False: "[red]NO[/red]"}[met]


def _goal_rows(result: TaskResult) -> list[tuple[str, bool | None]]:
    """Return each goal of ``result`` with whether it is met (``None``: not evaluated)."""
    full = result.size is Size.FULL
    goals: list[tuple[str, bool | None]] = []
    if result.task.goal is not None:
        goals.append((f"quantstrata {result.task.goal.text}", result.goal_met))
    ratio_goal = _RATIO_GOALS.get(result.task.name)
    if ratio_goal is not None:
        text = f"ratio >= {ratio_goal:g}x {result.task.peer.label}"
        met: bool | None = None
        if full and result.ratio is not None:
            met = result.ratio >= ratio_goal
        goals.append((text, met))
    return goals or [("for reference", None)]


def goal_table(size: Size, results: Sequence[TaskResult]) -> Table:
    """Return the suite's summary: bars/s and peak memory per side, the ratio and every goal.

    Peak memory is the growth of the resident set during the side's first call, measured in
    its own fresh process (see :mod:`bench.harness`).
    """
    table = Table(
        title=f"backtest goals (size {size.value}; checked at size full only)",
        caption="peak mem = peak RSS growth during the first call, one fresh process per side",
    )
    columns = (
        "task",
        "quantstrata side",
        "bars/s",
        "peak mem",
        "peer",
        "bars/s ",
        "peak mem ",
        "ratio",
        "goal",
        "met",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in {"task", "goal"} else "right")
    for result in results:
        ours, peer = result.quantstrata, result.peer
        reason = _unavailable(result)
        if peer is not None:
            peer_cell = format_rate(peer.rows_per_second)
        elif reason is not None:
            peer_cell = f"[yellow]{reason}[/yellow]"
        else:
            peer_cell = "[red]failed[/red]"
        for goal, met in _goal_rows(result):
            table.add_row(
                result.task.name,
                result.task.quantstrata.label,
                "[red]failed[/red]" if ours is None else format_rate(ours.rows_per_second),
                "-" if ours is None else format_bytes(ours.peak_rss_bytes),
                result.task.peer.label,
                peer_cell,
                "-" if peer is None else format_bytes(peer.peak_rss_bytes),
                "-" if result.ratio is None else f"{result.ratio:.2f}x",
                goal,
                _verdict(met),
            )
    return table
