"""Run one event strategy in the three environments and compare what each one booked.

The promise of quantstrata is that a strategy object fills the same in a backtest
(:class:`~quantstrata.backtest.Backtest`, the event loop), in paper trading through the live
runtime (:meth:`Live.for_paper <quantstrata.live.Live.for_paper>`, the paper broker replaying the
bars) and on the simulated venue in lockstep (:meth:`Live.for_venue
<quantstrata.live.Live.for_venue>` against a real server on 127.0.0.1, port 0). This kit runs a
fresh strategy object (from a factory) in each, and returns every run as one :class:`Outcome`:
the fills as a frame (time, symbol, side, quantity, price, commission), the final positions and
the cash. :func:`mismatches` says in words where two outcomes differ, per symbol, so a test
whose symbols are the cells of a matrix can name the cells that disagree.

:class:`Scripted` is the strategy the parity tests use: a plan (any callable) decides, bar by
bar, what to submit and cancel; the strategy keeps the ids it was given, in order, so a plan
can cancel "the third order it placed" in every environment alike.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polars as pl

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.execution import CommissionConfig
from quantstrata.live import Live, LiveConfig
from quantstrata.live.summary import LiveSummary
from quantstrata.model.identifiers import ClientOrderId
from quantstrata.model.instrument import Instrument
from quantstrata.model.orders import Bracket, Fill, OneCancelsOther, OrderRequest
from quantstrata.strategy import BarSnapshot, EventStrategy, StrategyContext
from tests.kit.live_checks import fills_frame
from tests.kit.venue import KEY, broker, running_venue

__all__ = [
    "ENVIRONMENTS",
    "FILL_KEYS",
    "Outcome",
    "Plan",
    "Scripted",
    "Setup",
    "mismatches",
    "run_backtest",
    "run_everywhere",
    "run_paper",
    "run_venue",
    "submit",
]

ENVIRONMENTS = ("backtest", "paper", "venue")
"""The environments a strategy must fill identically in; the backtest is the reference."""

FILL_KEYS = ("ts", "symbol", "side", "quantity", "price", "commission")
"""What a fill is compared on."""

_REL = 1e-9
_ABS = 1e-9


class Plan(Protocol):
    """Decide the orders of one bar time: submit and cancel through ``context``."""

    def __call__(
        self, index: int, bars: BarSnapshot, context: StrategyContext, placed: list[ClientOrderId]
    ) -> None: ...


class Scripted(EventStrategy):
    """An event strategy whose every decision is made by ``plan`` (``index`` counts bar times).

    ``placed`` holds the ids the context returned, in submission order: the same list position
    names the same order in every environment, whatever its id text.
    """

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def warmup_bars(self) -> int:
        return 0

    def on_start(self, context: StrategyContext) -> None:
        self.index = 0
        self.placed: list[ClientOrderId] = []

    def on_bar(self, bars: BarSnapshot, context: StrategyContext) -> None:
        self.plan(self.index, bars, context, self.placed)
        self.index += 1


def submit(
    context: StrategyContext,
    placed: list[ClientOrderId],
    request: OrderRequest | Bracket | OneCancelsOther,
) -> None:
    """Submit ``request`` and remember its id (the helper every plan places orders with)."""
    placed.append(context.submit(request))


@dataclass(frozen=True)
class Setup:
    """What every environment is given: the bars, their interval and calendar, cash and costs.

    ``calendar`` is the exchange calendar whose session close ends a DAY order (``None``: the
    UTC day). ``rate`` is the commission, a fraction of the traded value; ``per_unit`` a fee
    per unit (per contract). ``instruments``: contract terms (futures' multiplier and margin)
    every environment is given; without ``fractional`` targets are whole lots (contracts).
    """

    bars: pl.DataFrame
    interval: str = "1d"
    calendar: str | None = None
    cash: float = 100_000.0
    rate: float = 0.001
    per_unit: float = 0.0
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    fractional: bool = True

    @property
    def symbols(self) -> tuple[str, ...]:
        """The traded symbols, sorted."""
        return tuple(sorted(self.bars["symbol"].unique().to_list()))

    @property
    def commission(self) -> CommissionConfig:
        """The commission rules every environment charges."""
        return CommissionConfig(rate=self.rate, per_unit=self.per_unit)


@dataclass(frozen=True)
class Outcome:
    """What one environment booked: fills (sorted frame), final positions (non-zero) and cash."""

    fills: pl.DataFrame
    positions: Mapping[str, float] = field(default_factory=dict)
    cash: float = 0.0


def _outcome(fills: pl.DataFrame, positions: Mapping[str, float], cash: float) -> Outcome:
    ordered = fills.select(FILL_KEYS).sort("ts", "symbol", "side", "quantity", "price")
    held = {str(name): float(value) for name, value in positions.items() if abs(value) > _ABS}
    return Outcome(ordered, dict(sorted(held.items())), float(cash))


def _live_fills(fills: list[Fill]) -> pl.DataFrame:
    return fills_frame(fills, FILL_KEYS)


def run_backtest(strategy: EventStrategy, setup: Setup) -> Outcome:
    """Run ``strategy`` through the backtest's event loop on ``setup``'s bars."""
    config = BacktestConfig(
        cash=setup.cash,
        commission=setup.commission,
        calendar=setup.calendar,
        check_lookahead=False,
        size_at="decision",
        instruments=dict(setup.instruments),
        fractional=setup.fractional,
    )
    result = Backtest(setup.bars, strategy, config).run()
    last = result.positions.group_by("symbol").agg(pl.col("quantity", "value").last())
    positions = dict(zip(last["symbol"].to_list(), last["quantity"].to_list(), strict=True))
    cash = float(result.equity["cash"][-1])
    if setup.instruments:  # a broker's cash is as booked: equity less the positions' value
        cash = float(result.equity["equity"][-1]) - float(last["value"].sum())
    return _outcome(result.fills, positions, cash)


def _check_ran(name: str, summary: LiveSummary, setup: Setup) -> None:
    """Refuse a live run that stopped early or skipped bar times: its fills would say nothing."""
    times = setup.bars["ts"].n_unique()
    if summary.stopped_by != "feed ended" or summary.bar_times != times:
        raise AssertionError(
            f"the {name} run stopped by {summary.stopped_by!r} after {summary.bar_times} "
            f"of {times} bar times"
        )


def _live_config(setup: Setup, journal: Path) -> LiveConfig:
    # A DAY order's session is the broker's: the paper broker and the venue take the calendar.
    return LiveConfig(
        symbols=setup.symbols,
        interval=setup.interval,
        journal=str(journal),
        warm_up=False,
        reconcile_interval=3600,
        instruments=dict(setup.instruments),
        fractional=setup.fractional,
    )


async def run_paper(strategy: EventStrategy, setup: Setup, folder: Path) -> Outcome:
    """Paper-trade ``strategy`` through the live runtime, the paper broker replaying the bars."""
    live = Live.for_paper(
        strategy,
        setup.bars,
        journal=folder / "paper.sqlite",
        cash=setup.cash,
        commission=setup.commission,
        config=_live_config(setup, folder / "paper.sqlite"),
        calendar=setup.calendar,
    )
    _check_ran("paper", await live.run_async(), setup)
    account = await live.broker.account()
    return _outcome(_live_fills(await live.broker.fills()), account.positions, account.cash)


async def run_venue(strategy: EventStrategy, setup: Setup, folder: Path) -> Outcome:
    """Trade ``strategy`` through the live runtime on the venue, replaying in lockstep."""
    async with running_venue(
        setup.bars,
        interval=setup.interval,
        speed="lockstep",
        cash=setup.cash,
        commission=setup.commission,
        calendar=setup.calendar,
        instruments=dict(setup.instruments),
    ) as server:
        config = _live_config(setup, folder / "venue.sqlite")
        summary = await Live.for_venue(strategy, server.url, KEY, config).run_async()
        client = broker(server)
        try:
            fills = await client.fills()
            account = await client.account()
        finally:
            await client.close()
    _check_ran("venue", summary, setup)
    return _outcome(_live_fills(fills), account.positions, account.cash)


def run_everywhere(make: Callable[[], EventStrategy], setup: Setup) -> dict[str, Outcome]:
    """Run a fresh ``make()`` in every environment; return the outcomes by environment."""

    async def live_runs(folder: Path) -> tuple[Outcome, Outcome]:
        return (
            await run_paper(make(), setup, folder / "paper"),
            await run_venue(make(), setup, folder / "venue"),
        )

    with tempfile.TemporaryDirectory(prefix="quantstrata-parity-") as name:
        folder = Path(name)
        (folder / "paper").mkdir()
        (folder / "venue").mkdir()
        paper, venue = asyncio.run(live_runs(folder))
    return {"backtest": run_backtest(make(), setup), "paper": paper, "venue": venue}


# ------------------------------------------------------------------------------ comparing


def _rows(fills: pl.DataFrame, symbol: str | None) -> list[tuple[object, ...]]:
    chosen = fills if symbol is None else fills.filter(pl.col("symbol") == symbol)
    return [tuple(row) for row in chosen.iter_rows()]


def _same_row(left: tuple[object, ...], right: tuple[object, ...]) -> bool:
    for one, other in zip(left, right, strict=True):
        if isinstance(one, float) and isinstance(other, float):
            if not math.isclose(one, other, rel_tol=_REL, abs_tol=_ABS):
                return False
        elif one != other:
            return False
    return True


def _describe(row: tuple[object, ...]) -> str:
    ts, symbol, side, quantity, price, commission = row
    return f"{ts:%Y-%m-%d %H:%M} {symbol} {side} {quantity:g} @ {price:.6g} fee {commission:.4g}"  # type: ignore[str-format]


def _fill_mismatch(
    name: str, reference: list[tuple[object, ...]], other: list[tuple[object, ...]]
) -> str | None:
    if len(reference) == len(other) and all(map(_same_row, reference, other)):
        return None
    lines = [f"{name}: {len(other)} fills, backtest {len(reference)}"]
    for index in range(max(len(reference), len(other))):
        want = reference[index] if index < len(reference) else None
        got = other[index] if index < len(other) else None
        if want is not None and got is not None and _same_row(want, got):
            continue
        lines.append(
            f"  #{index}: backtest {'-' if want is None else _describe(want)}"
            f" | {name} {'-' if got is None else _describe(got)}"
        )
        if len(lines) > 6:
            break
    return "\n".join(lines)


def mismatches(outcomes: Mapping[str, Outcome], symbol: str | None = None) -> list[str]:
    """Describe every way an environment's outcome differs from the backtest's.

    With ``symbol`` only that symbol's fills and position are compared (the cash is the
    account's, shared by all symbols); without it, every fill, every position and the cash.
    """
    reference = outcomes["backtest"]
    found: list[str] = []
    for name, outcome in outcomes.items():
        if name == "backtest":
            continue
        text = _fill_mismatch(name, _rows(reference.fills, symbol), _rows(outcome.fills, symbol))
        if text is not None:
            found.append(text)
        names = (
            [symbol] if symbol is not None else sorted({*reference.positions, *outcome.positions})
        )
        for held in names:
            want = reference.positions.get(held, 0.0)
            got = outcome.positions.get(held, 0.0)
            if not math.isclose(want, got, rel_tol=_REL, abs_tol=_ABS):
                found.append(f"{name}: position {held} {got:g}, backtest {want:g}")
        if symbol is None and not math.isclose(reference.cash, outcome.cash, rel_tol=_REL):
            found.append(f"{name}: cash {outcome.cash:.6f}, backtest {reference.cash:.6f}")
    return found
