"""One entry point for both strategy styles: ``Backtest(bars, strategy, config).run()``.

A :class:`~quantstrata.strategy.SignalStrategy`'s targets are computed once over the history
and simulated (through the event loop when sized at the decision, in a compiled loop when sized
at the fill); an :class:`~quantstrata.strategy.EventStrategy` by a Python loop that calls it
bar by bar. Both use the shared fill model (:mod:`quantstrata.execution`) and turn a target into an
order the same way, so the same strategy written in both styles gives the same fills.

Targets (fraction of equity, or units for a signal strategy with ``target_unit = "units"``)
are decided at a bar's close. A target that differs from the symbol's current target is sized
at that close (``size_at="decision"``, the default): the position it asks for at the close,
from the equity known then, netted against the position held and the working orders, capped at
``max_leverage``, rounded to lots when trading whole lots — by
:func:`~quantstrata.execution.targets.orders_for_targets`, the function the live runtime
calls — and sent as market orders that fill by the fill policy; orders that reduce a position
go first, so a rotation's sale funds its purchase. A signal strategy's targets, computed once
over the history, then run in a compiled loop that gives the event loop's run bit for bit
(:mod:`quantstrata.backtest._decided`; without risk checks, while every order fills on the
first bar it meets), else are replayed through the event loop. Paper and live trading reproduce
this backtest.

With ``size_at="fill"`` (the convention of backtesting.py and backtrader, for comparisons with
them; no live trader can size this way) a new target becomes pending and is executed when the
fill policy lets it meet the market (the symbol's next bar, or this bar's close with
``this_close``): the position is sized at that moment's price (the fill bar's open for
``next_open``, its close for the other policies) from the equity marked at that price, capped
and rounded alike, and sent as one market order, reductions first; a signal strategy runs in
the compiled loop, and a volume cap's unfilled rest is cancelled and the target retried on the
next bar. Either way, repeating the same target does not trade again (no rebalancing as prices
drift).

Orders an event strategy submits obey the same ``max_leverage``: a fill that would take gross
exposure above ``max_leverage × equity`` at fill time (the symbol marked at the fill price) is
reduced to what the cap allows and the order's rest cancelled, its ``tag`` noting "leverage cap
reduced <asked> to <allowed>"; with no room at all the order is cancelled with that reason.
Reductions toward flat are never capped. DAY orders expire at the close of the trading session
they were placed in (the instrument's calendar, else ``config.calendar``, else UTC days).
Event strategies may declare indicators (``context.indicator``), which a backtest computes in
batch once; see ``docs/event-backtests.md``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from quantstrata._version import __version__
from quantstrata.analytics import MetricsConfig
from quantstrata.backtest._align import AlignedBars, align_bars, canonical_bars
from quantstrata.backtest._decided import compiled_decisions, run_decided
from quantstrata.backtest._event import run_event
from quantstrata.backtest._ledger import Ledger, marks
from quantstrata.backtest._replay import TargetReplay
from quantstrata.backtest._signal import kernel_settings, run_signal, target_grid
from quantstrata.backtest.config import BacktestConfig, SizeAt
from quantstrata.backtest.record import RunRecord, fingerprint
from quantstrata.backtest.results import BacktestResult, build_result
from quantstrata.core.clock import Clock, SimulatedClock
from quantstrata.core.errors import ConfigError
from quantstrata.exchange._funding import FundingRates, funding_records
from quantstrata.execution._nb import carry_costs_nb
from quantstrata.model.interval import Interval, interval_from_times
from quantstrata.process._bar_frames import sort_by_symbol_time
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.lookahead import check_no_lookahead
from quantstrata.strategy.origin import strategy_label
from quantstrata.strategy.signal import SignalStrategy, TargetUnit

__all__ = ["Backtest"]


class Backtest:
    """Simulate ``strategy`` on ``bars`` (a canonical bar frame, one or many symbols).

    ``config`` defaults to :class:`BacktestConfig()`. ``clock`` stamps the run's
    ``started_at``; the default is a :class:`~quantstrata.core.clock.SimulatedClock` set to
    the first bar's time, so a run never reads the wall clock (the command line passes a
    :class:`~quantstrata.core.clock.LiveClock`: its reports say when they ran).
    """

    def __init__(
        self,
        bars: pl.DataFrame,
        strategy: SignalStrategy | EventStrategy,
        config: BacktestConfig | None = None,
        *,
        clock: Clock | None = None,
        funding: pl.DataFrame | None = None,
    ) -> None:
        """Check the inputs; nothing is simulated until :meth:`run`.

        ``funding``: a perpetual swaps' funding-rate series, a frame ``ts, symbol,
        funding_rate`` and optionally ``mark_price`` (:class:`~quantstrata.exchange.
        FundingRates`); each funding time is paid on the positions held then
        (``docs/futures.md``). It needs ``size_at="decision"``.
        """
        if not isinstance(strategy, SignalStrategy | EventStrategy):
            raise ConfigError(
                "a backtest runs a SignalStrategy or an EventStrategy, "
                f"got {type(strategy).__name__}"
            )
        if config is not None and not isinstance(config, BacktestConfig):
            raise ConfigError(f"config must be a BacktestConfig, got {type(config).__name__}")
        self.bars = canonical_bars(bars)
        self.strategy = strategy
        self.config = config if config is not None else BacktestConfig()
        self.clock = clock if clock is not None else SimulatedClock(self.bars["ts"][0])
        self.funding = None if funding is None else FundingRates.from_frame(funding)
        if self.funding is not None and self.config.size_at is not SizeAt.DECISION:
            raise ConfigError(
                "funding is paid by the event loop: use size_at='decision' with a funding series"
            )
        if self.config.fill.round_lots:
            missing = sorted(set(self.bars["symbol"].unique()) - set(self.config.instruments))
            if missing:
                raise ConfigError(f"fill.round_lots needs an instrument for {missing}")

    def run(self) -> BacktestResult:
        """Run the simulation and return its result."""
        started_at = self.clock.now()
        aligned = align_bars(self.bars)
        strategy = self.strategy
        if isinstance(strategy, SignalStrategy):
            targets = strategy.compute_targets(self.bars)
            if self.config.check_lookahead:
                check_no_lookahead(
                    strategy, self.bars, samples=self.config.lookahead_samples, targets=targets
                )
            if self.funding is not None:
                replay = TargetReplay(strategy, target_grid(targets, aligned), aligned.symbols)
                ledger = run_event(replay, aligned, self.config, self.funding)
            elif self.config.size_at is SizeAt.DECISION:
                ledger = _run_decided(strategy, targets, aligned, self.config)
            else:
                ledger = run_signal(strategy, self.bars, aligned, self.config, targets)
        else:
            ledger = run_event(strategy, aligned, self.config, self.funding)
        record = RunRecord(
            data_fingerprint=fingerprint(self.bars),
            strategy=strategy_label(type(strategy)),
            parameters=_parameters(strategy),
            config=self.config.summary(),
            fill_policy=self.config.fill.policy.value,
            package_version=__version__,
            started_at=started_at,
            bars=int(aligned.times.shape[0]),
            symbols=aligned.symbols,
            first_bar=self.bars["ts"][0],
            last_bar=self.bars["ts"][-1],
        )
        metrics = MetricsConfig(
            risk_free_rate=self.config.risk_free_rate, calendar=self.config.calendar
        )
        result = build_result(
            ledger,
            self.bars,
            record,
            metrics,
            interval=self._interval(),
            instruments=self.config.instruments,
        )
        return _with_funding(_with_carry_costs(result, ledger, self.config), ledger)

    def _interval(self) -> Interval | None:
        """Return the bars' interval when a calendar annualises the metrics, else None.

        The interval is the bar frame's own (:func:`~quantstrata.model.interval.
        interval_from_times`: the most common step, ties to the smaller, so a short daily range
        around a holiday is still daily); without a calendar the metrics
        infer the market from the timestamps (:func:`~quantstrata.analytics.
        resolve_periods_per_year`).
        """
        if self.config.calendar is None:
            return None
        return interval_from_times(sort_by_symbol_time(self.bars).symbol_times())


def _with_carry_costs(
    result: BacktestResult, ledger: Ledger, config: BacktestConfig
) -> BacktestResult:
    """Add the ``carry_cost`` column: borrow and financing charged at each bar.

    The engines deduct the charges from cash as they run; recomputing them here from the book
    after each bar, with the same compiled function and inputs, gives the same numbers.
    """
    aligned = ledger.aligned
    if not config.charges_carry():
        costs = np.zeros(aligned.times.shape[0])  # what carry_cost_nb charges at zero rates
        return replace(result, equity=result.equity.with_columns(pl.Series("carry_cost", costs)))
    costs = carry_costs_nb(
        ledger.cash, ledger.positions, marks(aligned), config.carry_factors(aligned.times)
    )
    return replace(result, equity=result.equity.with_columns(pl.Series("carry_cost", costs)))


def _with_funding(result: BacktestResult, ledger: Ledger) -> BacktestResult:
    """Attach the funding payments: the ``funding`` frame and the equity's ``funding`` column.

    The column is the funding paid at each bar time (negative: received); both are present,
    empty or zero, in every run.
    """
    paid = funding_records(list(ledger.funding))
    times = ledger.aligned.times
    per_bar = np.zeros(times.shape[0])
    if paid.height:
        bars = np.searchsorted(times, paid["ts"].cast(pl.Int64).to_numpy(), side="left")
        np.add.at(per_bar, bars, paid["payment"].to_numpy())
    equity = result.equity.with_columns(pl.Series("funding", per_bar))
    return replace(result, equity=equity, funding=paid)


def _run_decided(
    strategy: SignalStrategy, targets: pl.DataFrame, aligned: AlignedBars, config: BacktestConfig
) -> Ledger:
    """Simulate targets sized at the decision: compiled when that gives the event loop's run.

    :func:`~quantstrata.backtest._decided.compiled_decisions` and the compiled loop itself say
    when (no risk checks; every order filled on its first bar); otherwise the targets are
    replayed through the event loop.
    """
    grid = target_grid(targets, aligned)
    if compiled_decisions(config):
        units = strategy.target_unit is TargetUnit.UNITS
        settings, costs = kernel_settings(config, aligned.symbols, units=units)
        ledger = run_decided(grid, aligned, config, settings, costs)
        if ledger is not None:
            return ledger
    return run_event(TargetReplay(strategy, grid, aligned.symbols), aligned, config)


def _parameters(strategy: SignalStrategy | EventStrategy) -> dict[str, Any]:
    return dict(strategy.parameters.model_dump(mode="json"))
