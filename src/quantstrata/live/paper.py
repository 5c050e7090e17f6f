"""The parts of a one-call paper run: its settings, the bars it trades and where it resumes.

:meth:`quantstrata.live.Live.paper` assembles a paper run from these: the replayed bars, the
paper broker (the backtest's fill model) and the journal. A journal that already traded some
bar times is resumed after the last one (bars up to it warm the strategy up), provided the
run's settings are the ones it was started with; the settings are journaled as the
:data:`PAPER_RUN` checkpoint when the journal is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
from pydantic import ConfigDict, Field

from quantstrata.core.clock import Clock, LiveClock
from quantstrata.core.config import DEFAULT_CASH, FrozenConfig, StartingCash
from quantstrata.core.errors import ConfigError
from quantstrata.core.secrets import SecretUrl
from quantstrata.execution.config import CommissionConfig
from quantstrata.execution.fill_model import FillModel
from quantstrata.live.brokers.paper import PaperBroker
from quantstrata.live.config import LiveConfig
from quantstrata.live.feeds.replay import ReplayFeed, replay_interval
from quantstrata.live.journal import CashSet, Checkpoint, Journal, PostgresJournal, SqliteJournal
from quantstrata.live.journal.entries import CheckpointValue
from quantstrata.live.state import LiveState
from quantstrata.model.instrument import Instrument
from quantstrata.model.interval import Interval
from quantstrata.process.calendar import CalendarCode

__all__ = [
    "PAPER_RUN",
    "PaperConfig",
    "PaperParts",
    "PaperStart",
    "check_start",
    "open_journal",
    "paper_parts",
    "prepare_paper_journal",
    "resume_start",
]

PAPER_RUN = "paper_run"
"""Checkpoint label holding a paper run's settings: cash, symbols and strategy."""


class PaperConfig(FrozenConfig):
    """The paper broker's account: starting ``cash`` (positive, finite) and ``commission``.

    ``calendar`` (an exchange-calendars code) ends DAY orders at its session close (``None``:
    the UTC day, as the backtest without a calendar). ``instruments``: contract terms
    (multiplier, margin) by symbol, as the backtest's; with ``base_currency`` they say where
    fills settle (cash per currency, as in the backtest).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    cash: StartingCash = DEFAULT_CASH
    commission: CommissionConfig = Field(default_factory=CommissionConfig)
    calendar: CalendarCode = None
    instruments: dict[str, Instrument] = Field(default_factory=dict)
    base_currency: str | None = None

    def broker(
        self, clock: Clock, state: LiveState, bar_length: timedelta = timedelta(0)
    ) -> PaperBroker:
        """Return the paper broker: fresh, or holding the account of a resumed journal.

        ``bar_length`` is the replayed bars' interval (a DAY order works until the first
        session close after its decision bar's close).
        """
        fills = FillModel(commission=self.commission)
        calendar, instruments = self.calendar, self.instruments
        if state.last_bar is None and not state.orders:
            return PaperBroker(
                clock=clock,
                fill_model=fills,
                cash=self.cash,
                calendar=calendar,
                bar_length=bar_length,
                instruments=instruments,
                base_currency=self.base_currency,
            )
        return PaperBroker.resume(
            state,
            clock=clock,
            fill_model=fills,
            calendar=calendar,
            bar_length=bar_length,
            instruments=instruments,
        )


@dataclass(frozen=True, slots=True)
class PaperStart:
    """Where a paper run starts trading: ``start`` (``None``: the first bar) and why."""

    start: datetime | None
    resumed_after: datetime | None = None


def check_start(bars: pl.DataFrame, start: datetime | None, option: str = "start") -> None:
    """Refuse a ``start`` after the last bar: the run would trade nothing.

    ``option`` names the setting in the message (``--start`` on the command line).
    """
    if start is None or bars.is_empty():
        return
    last: datetime = bars["ts"].max()  # type: ignore[assignment]
    if start > last:
        names = ", ".join(sorted(bars["symbol"].unique().to_list()))
        raise ConfigError(
            f"{option} {start.date().isoformat()} is after the last bar "
            f"({last.date().isoformat()}) of {names}: nothing to trade; pick an earlier {option}"
        )


def prepare_paper_journal(
    journal: Journal,
    settings: PaperConfig,
    symbols: Sequence[str],
    strategy: str,
    *,
    clock: Clock,
    location: str,
) -> LiveState:
    """Return the journal's state; journal the run's settings when new, else check them.

    A journal started with other settings (cash, symbols, strategy) cannot be resumed by this
    run: the :class:`ConfigError` names the setting and the way to start a new run.
    """
    multipliers = {symbol: item.multiplier for symbol, item in settings.instruments.items()}
    state = LiveState.fold(journal.replay(), multipliers)
    wanted: dict[str, CheckpointValue] = {
        "cash": settings.cash,
        "symbols": ",".join(sorted(symbols)),
        "strategy": strategy,
    }
    held = state.checkpoints.get(PAPER_RUN)
    if held is None:
        if state.orders or state.last_bar is not None:
            raise ConfigError(
                f"journal {location} holds a run that is not a paper run; "
                "pass a fresh journal (--journal NEW.sqlite) to start a new paper run"
            )
        journal.append(Checkpoint(clock.now(), PAPER_RUN, wanted))
        journal.append(CashSet(clock.now(), settings.cash, "paper run: starting cash"))
        return LiveState.fold(journal.replay(), multipliers)
    for name, value in wanted.items():
        if held.data.get(name) != value:
            raise ConfigError(
                f"journal {location} holds a paper run with {name} {held.data.get(name)!r}, "
                f"not {value!r}: pass the same {name} to resume it, or a fresh journal "
                "(--journal NEW.sqlite) to start a new run"
            )
    return state


def resume_start(start: datetime | None, state: LiveState) -> PaperStart:
    """Return where to start trading: from ``start``, or after the journal's last bar time."""
    last = state.last_bar
    if last is None:
        return PaperStart(start)
    after = last + timedelta(microseconds=1)
    return PaperStart(after if start is None else max(start, after), resumed_after=last)


@dataclass(frozen=True, slots=True)
class PaperParts:
    """What a paper run is assembled from: the runtime's inputs, ready to trade."""

    feed: ReplayFeed
    broker: PaperBroker
    config: LiveConfig
    clock: Clock
    journal: Journal


def paper_parts(
    strategy_name: str,
    bars: pl.DataFrame,
    settings: PaperConfig,
    config: LiveConfig,
    *,
    start: datetime | None = None,
    pause: float = 0.0,
) -> PaperParts:
    """Open ``config``'s journal and return the feed, broker and config of a paper run.

    ``config`` must trade the symbols of ``bars``; its interval and warm-up are set here
    (the bars' interval; warm up when some bars come before the first bar traded).
    """
    symbols = tuple(sorted(bars["symbol"].unique().to_list()))
    if tuple(sorted(config.symbols)) != symbols:
        raise ConfigError(f"config trades {list(config.symbols)} but the bars hold {list(symbols)}")
    check_start(bars, start)
    clock = LiveClock()
    location = str(config.journal)
    journal = open_journal(config)
    try:
        state = prepare_paper_journal(
            journal, settings, symbols, strategy_name, clock=clock, location=location
        )
    except BaseException:
        journal.close()
        raise
    begin = resume_start(start, state)
    interval = replay_interval(bars)
    values = {**dict(config), "interval": interval, "warm_up": begin.start is not None}
    return PaperParts(
        feed=ReplayFeed(bars, interval, start=begin.start, pause=pause),
        broker=settings.broker(clock, state, Interval.parse(interval).bar_length),
        config=LiveConfig.build(**values),
        clock=clock,
        journal=journal,
    )


def open_journal(config: LiveConfig) -> Journal:
    """Open ``config``'s journal: PostgreSQL for a DSN, else the SQLite file."""
    if isinstance(config.journal, SecretUrl):
        return PostgresJournal(config.journal, durability=config.journal_durability)
    return SqliteJournal(config.journal, durability=config.journal_durability)
