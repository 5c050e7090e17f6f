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
first bar it meets, and when the book never fell below the maintenance margin of its margined
instruments: a margin call is the simulated exchange's), else are replayed through the event
loop. Paper and live trading reproduce
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

Given a :class:`~quantstrata.process.continuous.ContinuousFutures` instead of bars, a signal
strategy sees the continuous series of the root and trades the real contracts, rolling its
position at each roll (:mod:`quantstrata.backtest._continuous`); the results hold the contracts'
fills.

Instruments settling in more than one currency (``Instrument.settlement_currency``) need FX
bars (``fx=``): each fill settles in its instrument's currency, and cash, positions, equity
and the metrics are valued in ``config.base_currency`` at the FX closes as-of each bar
(:mod:`quantstrata.backtest._currencies`). Such a run goes through the event loop (the
simulated exchange), whichever the strategy style; ``size_at="fill"`` is refused for it.
See ``docs/currencies.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from quantstrata._version import __version__
from quantstrata.analytics import MetricsConfig
from quantstrata.backtest._align import AlignedBars, align_bars, canonical_bars
from quantstrata.backtest._continuous import check_closing_legs, contract_targets, signal_bars
from quantstrata.backtest._currencies import CurrencyBook, carry_costs_in_base, currency_book
from quantstrata.backtest._decided import compiled_decisions, run_decided
from quantstrata.backtest._event import run_event
from quantstrata.backtest._ledger import Ledger, margin_called, marks
from quantstrata.backtest._replay import TargetReplay
from quantstrata.backtest._signal import kernel_settings, run_signal, target_grid
from quantstrata.backtest.config import BacktestConfig, SizeAt
from quantstrata.backtest.record import RunRecord, fingerprint
from quantstrata.backtest.results import BacktestResult, build_result
from quantstrata.backtest.stream import StreamedBacktest
from quantstrata.core.clock import Clock, SimulatedClock
from quantstrata.core.errors import ConfigError
from quantstrata.data.catalog import Catalog
from quantstrata.exchange._currency import FxRates
from quantstrata.exchange._funding import FundingRates, funding_records
from quantstrata.execution._nb import carry_costs_nb
from quantstrata.model.interval import Interval, interval_from_times
from quantstrata.process._bar_frames import sort_by_symbol_time
from quantstrata.process.continuous import ContinuousFutures
from quantstrata.strategy.event import EventStrategy
from quantstrata.strategy.lookahead import check_no_lookahead
from quantstrata.strategy.origin import strategy_label
from quantstrata.strategy.signal import SignalStrategy, TargetUnit

__all__ = ["Backtest"]


class Backtest:
    """Simulate ``strategy`` on ``bars`` (a canonical bar frame, one or many symbols).

    ``bars`` may instead be a continuous futures series (:func:`~quantstrata.process.
    continuous_futures`) for a signal strategy: it decides on the series and trades its
    contracts.

    ``config`` defaults to :class:`BacktestConfig()`. ``clock`` stamps the run's
    ``started_at``; the default is a :class:`~quantstrata.core.clock.SimulatedClock` set to
    the first bar's time, so a run never reads the wall clock (the command line passes a
    :class:`~quantstrata.core.clock.LiveClock`: its reports say when they ran).

    ``fx``: FX bars (a bar frame of pairs such as ``"EUR/USD"`` or ``"EURUSD"``) that value
    instruments settling outside ``config.base_currency``; their closes are read as-of each
    bar time, never a later one.
    """

    def __init__(
        self,
        bars: pl.DataFrame | ContinuousFutures,
        strategy: SignalStrategy | EventStrategy,
        config: BacktestConfig | None = None,
        *,
        clock: Clock | None = None,
        fx: pl.DataFrame | None = None,
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
        self.config = config if config is not None else BacktestConfig()
        self.continuous = bars if isinstance(bars, ContinuousFutures) else None
        if self.continuous is not None:
            self.config = _with_chain(self.config, self.continuous)
            self.signal_bars, self.bars = _continuous_inputs(self.continuous, strategy, self.config)
        else:
            self.bars = self.signal_bars = canonical_bars(bars)  # type: ignore[arg-type]
        self.strategy = strategy
        self.clock = clock if clock is not None else SimulatedClock(self.bars["ts"][0])
        self.fx = FxRates.of(None if fx is None else canonical_bars(fx))

        self.funding = None if funding is None else FundingRates.from_frame(funding)
        if self.funding is not None and self.config.size_at is not SizeAt.DECISION:
            raise ConfigError(
                "funding is paid by the event loop: use size_at='decision' with a funding series"
            )
        if self.config.fill.round_lots:
            missing = sorted(set(self.bars["symbol"].unique()) - set(self.config.instruments))
            if missing:
                raise ConfigError(f"fill.round_lots needs an instrument for {missing}")

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        strategy: SignalStrategy,
        config: BacktestConfig | None = None,
        *,
        interval: str | Interval,
        output: str | Path,
        symbols: str | Iterable[str] | None = None,
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
        chunk_bars: int | None = None,
        clock: Clock | None = None,
    ) -> StreamedBacktest:
        """Return a backtest of ``strategy`` over a catalog query, streamed chunk by chunk.

        Its :meth:`~quantstrata.backtest.stream.StreamedBacktest.run` writes the result tables
        to ``output`` and gives the same numbers as running in memory on the same bars, with
        peak memory set by ``chunk_bars`` × symbols, not by the history
        (:mod:`quantstrata.backtest.stream`).
        """
        return StreamedBacktest(
            catalog, strategy, config, interval=interval, output=output, symbols=symbols,
            start=start, end=end, chunk_bars=chunk_bars, clock=clock,
        )  # fmt: skip

    def run(self) -> BacktestResult:
        """Run the simulation and return its result."""
        started_at = self.clock.now()
        aligned = align_bars(self.bars)
        strategy = self.strategy
        currencies = currency_book(self.config, aligned, self.fx)
        if currencies is not None and self.config.size_at is SizeAt.FILL:
            raise ConfigError(
                "size_at='fill' runs in one currency only: use size_at='decision' (the "
                f"default) for instruments settling in {', '.join(currencies.currencies)}"
            )
        if currencies is not None and self.continuous is not None:
            raise ConfigError(
                "a continuous futures series runs in one currency: give its contracts one "
                "settlement currency, or run the contracts' bars (series.contract_bars)"
            )
        if currencies is not None and self.funding is not None:
            raise ConfigError(
                "funding is paid in one currency: give the perpetuals the base currency "
                f"({self.config.account_currency()}) as their settlement currency"
            )
        if currencies is not None:
            ledger = _run_in_currencies(strategy, aligned, self.config, currencies, self.bars)
        elif isinstance(strategy, SignalStrategy):
            targets = strategy.compute_targets(self.signal_bars)
            if self.config.check_lookahead:
                check_no_lookahead(
                    strategy,
                    self.signal_bars,
                    samples=self.config.lookahead_samples,
                    targets=targets,
                )
            if self.continuous is not None:
                targets = contract_targets(targets, self.continuous)
            if self.funding is not None:
                replay = TargetReplay(strategy, target_grid(targets, aligned), aligned.symbols)
                ledger = run_event(replay, aligned, self.config, funding=self.funding)
            elif self.config.size_at is SizeAt.DECISION:
                ledger = _run_decided(strategy, targets, aligned, self.config)
            else:
                ledger = _run_at_fill(strategy, self.bars, targets, aligned, self.config)
        else:
            ledger = run_event(strategy, aligned, self.config, funding=self.funding)
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
    if config.charges_carry() and ledger.currencies is not None and ledger.balances is not None:
        costs = carry_costs_in_base(
            ledger.currencies, ledger.balances, ledger.positions, marks(aligned)
        )
        return replace(result, equity=result.equity.with_columns(pl.Series("carry_cost", costs)))
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
        if ledger is not None and not margin_called(ledger, config):
            return ledger
    return run_event(TargetReplay(strategy, grid, aligned.symbols), aligned, config)


def _with_chain(config: BacktestConfig, series: ContinuousFutures) -> BacktestConfig:
    """Return ``config`` with the chain's contracts as instruments, unless it names them."""
    chain = {contract.symbol: contract for contract in series.chain}
    return config.model_copy(update={"instruments": chain | config.instruments})


def _continuous_inputs(
    series: ContinuousFutures, strategy: SignalStrategy | EventStrategy, config: BacktestConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the bars the strategy sees (the series) and those it trades (the contracts)."""
    if not isinstance(strategy, SignalStrategy):
        raise ConfigError(
            "a continuous futures series runs a SignalStrategy; give an EventStrategy "
            "the contracts' bars (series.contract_bars) instead"
        )
    if config.fill.policy.bar_offset:
        check_closing_legs(series)
    return canonical_bars(signal_bars(series)), canonical_bars(series.contract_bars)


def _run_in_currencies(
    strategy: SignalStrategy | EventStrategy,
    aligned: AlignedBars,
    config: BacktestConfig,
    currencies: CurrencyBook,
    bars: pl.DataFrame,
) -> Ledger:
    """Simulate a run in more than one currency: through the event loop, targets replayed."""
    if isinstance(strategy, SignalStrategy):
        targets = strategy.compute_targets(bars)
        if config.check_lookahead:
            check_no_lookahead(strategy, bars, samples=config.lookahead_samples, targets=targets)
        grid = target_grid(targets, aligned)
        strategy = TargetReplay(strategy, grid, aligned.symbols)
    return run_event(strategy, aligned, config, currencies)


def _run_at_fill(
    strategy: SignalStrategy,
    bars: pl.DataFrame,
    targets: pl.DataFrame,
    aligned: AlignedBars,
    config: BacktestConfig,
) -> Ledger:
    """Simulate targets sized at the fill in the compiled loop; the event loop after a call.

    The compiled loop makes no margin calls: a run in which equity never fell below the
    maintenance margin is the event loop's run; one in which it did is run again through the
    event loop, whose simulated exchange makes the call.
    """
    ledger = run_signal(strategy, bars, aligned, config, targets)
    if not margin_called(ledger, config):
        return ledger
    if strategy.target_unit is TargetUnit.UNITS:
        raise ConfigError(
            "a margin call in a run sizing unit targets at the fill: only the event loop makes "
            "margin calls, and it sizes unit targets at the decision; use size_at='decision' "
            "(or margin_call='none')"
        )
    return run_event(
        TargetReplay(strategy, target_grid(targets, aligned), aligned.symbols), aligned, config
    )


def _parameters(strategy: SignalStrategy | EventStrategy) -> dict[str, Any]:
    return dict(strategy.parameters.model_dump(mode="json"))
