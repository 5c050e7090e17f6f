"""Continuous futures: one series per root, stitched from its contracts, with the rolls recorded.

A futures contract trades for a few months and expires; a strategy wants one long series. The
chain is the root's contracts (:class:`~quantstrata.model.instrument.Instrument` futures) in
expiry order. Each contract is the *front* from the session after the previous roll up to and
including its own roll session; the continuous series takes the front contract's bars.

**When to roll** (:class:`RollRule`; a session is a UTC date on which the chain has bars, the
date daily bars are labelled with):

- ``calendar``: at the close of the ``offset``-th session before the front's expiry date
  (``offset=1``: its last session before expiry).
- ``volume`` / ``open_interest``: at the close of the first session on which the next contract's
  ``volume`` (or ``open_interest`` column) exceeds the front's, but no later than the calendar
  roll above.

**Back-adjustment** removes the price gap of each roll from the history, so returns across a
roll are the market's own. With the front's close ``A`` and the next contract's close ``B`` on
the roll session: ``difference`` adds ``B - A`` to every earlier open, high, low and close (the
adjustments of later rolls add up); ``ratio`` multiplies them by ``B / A`` (the factors
multiply); ``none`` leaves prices as traded. The latest contract's prices are never changed, and
volumes are never adjusted.

The result (:class:`ContinuousFutures`) holds the series (``symbol`` is the root; a
``contract`` column names the real contract of each bar), the roll table (one row per roll:
``ts`` and ``date`` of the roll session, ``from_contract``, ``to_contract``, both closes and the
``adjustment`` applied) and the contracts' own bars, which a backtest trades
(``Backtest(series, strategy)``; ``docs/layers/process.md``). :func:`front_contract` is the
calendar rule as a pure function of dates, for a live broker choosing the contract to trade.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import polars as pl
from pydantic import Field

from quantstrata.core.config import FrozenConfig
from quantstrata.core.errors import ConfigError, DataError, DataIssue
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.instrument import AssetClass, Instrument
from quantstrata.process._bar_frames import check_bar_frame, require_columns
from quantstrata.process.calendar import session_table

__all__ = [
    "ROLL_SCHEMA",
    "Adjustment",
    "ContinuousFutures",
    "RollMethod",
    "RollRule",
    "continuous_futures",
    "front_contract",
    "roll_session",
]

_PRICES = ("open", "high", "low", "close")
_OPEN_INTEREST = "open_interest"

ROLL_SCHEMA: dict[str, pl.DataType] = {
    "ts": TIMESTAMP_DTYPE,
    "date": pl.Date(),
    "from_contract": pl.String(),
    "to_contract": pl.String(),
    "from_close": pl.Float64(),
    "to_close": pl.Float64(),
    "adjustment": pl.Float64(),
}
"""Columns of the roll table: the roll bar's ``ts`` and ``date``, the contracts, both closes on
the roll bar and the adjustment applied (``to - from`` for ``difference``, ``to / from`` for
``ratio``, null for ``none``)."""


class RollMethod(StrEnum):
    """What decides the roll session (see the module docstring)."""

    CALENDAR = "calendar"
    VOLUME = "volume"
    OPEN_INTEREST = "open_interest"


class Adjustment(StrEnum):
    """How earlier contracts' prices are back-adjusted at each roll."""

    DIFFERENCE = "difference"
    RATIO = "ratio"
    NONE = "none"


class RollRule(FrozenConfig):
    """When the continuous series rolls and how it is adjusted.

    ``offset``: the roll session counted back from expiry (``1``: the last session before the
    expiry date); for the crossover methods, the latest roll. ``adjustment``: see
    :class:`Adjustment`.
    """

    method: RollMethod = RollMethod.CALENDAR
    offset: int = Field(default=1, ge=1)
    adjustment: Adjustment = Adjustment.DIFFERENCE


@dataclass(frozen=True, slots=True)
class ContinuousFutures:
    """A continuous series, its rolls and the contract bars it was built from.

    ``bars`` is a canonical bar frame of ``root`` plus a ``contract`` column; ``rolls`` follows
    :data:`ROLL_SCHEMA`; ``contract_bars`` holds the chain's own bars (what is traded).
    """

    root: str
    rule: RollRule
    chain: tuple[Instrument, ...]
    bars: pl.DataFrame
    rolls: pl.DataFrame
    contract_bars: pl.DataFrame

    def front(self, at: datetime | date) -> str:
        """Return the contract the series holds at ``at`` (the contract of its last bar ≤ at)."""
        day = at.date() if isinstance(at, datetime) else at
        roll_dates = list(self.rolls.get_column("date"))
        return self.chain[bisect_left(roll_dates, day)].symbol


def roll_session(contract: Instrument, sessions: Sequence[date], offset: int = 1) -> date:
    """Return the calendar roll session of ``contract``: the ``offset``-th session before expiry.

    ``sessions`` are the trading dates, sorted. Raise :class:`DataError` naming the contract,
    its expiry and the first session when fewer than ``offset`` sessions precede the expiry.
    """
    expiry = _expiry(contract)
    before = bisect_left(sessions, expiry)
    if before < offset:
        first = sessions[0] if sessions else None
        message = (
            f"contract {contract.symbol} expiring {expiry} has {before} session(s) before "
            f"expiry, fewer than the roll offset {offset} (data starts {first})"
        )
        raise _chain_error("no_data_before_expiry", message, contract.symbol, expiry)
    return sessions[before - offset]


def front_contract(
    chain: Iterable[Instrument],
    at: date | datetime,
    sessions: Sequence[date] | None = None,
    offset: int = 1,
) -> Instrument:
    """Return the contract to hold on session ``at`` under the calendar rule.

    A contract is the front from the session after the previous contract's roll session up to
    and including its own (:func:`roll_session`); orders decided at the close of a roll
    session go to the next contract. ``sessions`` are the trading dates (sorted); ``None``
    takes them from the contracts' exchange calendar (``Instrument.calendar``; none: every
    UTC day). Raise :class:`DataError` when ``at`` lies after the last contract's roll.
    """
    day = at.date() if isinstance(at, datetime) else at
    ordered = _ordered_chain(chain)
    if sessions is None:
        sessions = _calendar_sessions(ordered, day, offset)
    for contract in ordered:
        if day <= roll_session(contract, sessions, offset):
            return contract
    last = ordered[-1]
    message = f"{day} is after the roll of the last contract {last.symbol} in the chain"
    raise _chain_error("chain_ended", message, last.symbol, day)


def _calendar_sessions(chain: list[Instrument], day: date, offset: int) -> list[date]:
    """Return the sessions of the chain's calendar from before ``day`` to the last expiry."""
    first = min(day, _expiry(chain[0])) - timedelta(days=7 * offset + 14)
    table = session_table(chain[0].calendar, first, _expiry(chain[-1]))
    return list(table.get_column("session"))


def continuous_futures(
    bars: pl.DataFrame, chain: Iterable[Instrument], rule: RollRule | None = None
) -> ContinuousFutures:
    """Return the continuous series of ``chain`` built from the contracts' ``bars``.

    ``bars`` is a canonical bar frame holding each contract's bars under its symbol (other
    symbols are ignored); ``chain`` lists the contracts (futures of one root, any order). Raise
    :class:`ConfigError` for a chain that is empty, mixes roots or holds a non-future or two
    contracts with one expiry; :class:`DataError` naming the contract and dates when a contract
    has no bars, has no session before its expiry, when the next contract has no bar on a roll
    session, or when a contract's roll falls on or before the previous roll (an overlapping
    chain); :class:`SchemaError` when the open-interest rule is asked for bars without an
    ``open_interest`` column.
    """
    rule = rule if rule is not None else RollRule()
    contracts = _ordered_chain(chain)
    frame = check_bar_frame(bars)
    symbols = [contract.symbol for contract in contracts]
    own = frame.filter(pl.col("symbol").is_in(symbols)).sort("symbol", "ts")
    _check_present(own, contracts)
    if rule.method is RollMethod.OPEN_INTEREST:
        require_columns(own, (_OPEN_INTEREST,), f"bars of {contracts[0].root} (open-interest roll)")
        _check_open_interest(own)
    sessions = sorted(set(own.get_column("ts").dt.date()))
    rolls = _rolls(own, contracts, sessions, rule)
    series = _stitch(own, contracts, rolls, rule)
    root = str(contracts[0].root)
    rows = [
        (roll.ts, roll.day, roll.front, roll.following, roll.old, roll.new, roll.adjustment)
        for roll in rolls
    ]
    table = pl.DataFrame(rows, schema=ROLL_SCHEMA, orient="row")
    return ContinuousFutures(root, rule, tuple(contracts), series, table, own)


def _chain_error(check: str, message: str, symbol: str, day: date) -> DataError:
    """Return the :class:`DataError` of one chain problem, naming the contract and the date."""
    return DataError(message, (DataIssue(check, message, value=str(day), symbol=symbol),))


def _expiry(contract: Instrument) -> date:
    if contract.expiry is None:
        raise ConfigError(f"contract {contract.symbol} has no expiry; a chain holds futures")
    return contract.expiry


def _ordered_chain(chain: Iterable[Instrument]) -> list[Instrument]:
    """Return the chain sorted by expiry after checking it is one root's futures."""
    contracts = list(chain)
    if not contracts:
        raise ConfigError("a futures chain needs at least one contract")
    for contract in contracts:
        if not isinstance(contract, Instrument) or contract.asset_class is not AssetClass.FUTURE:
            raise ConfigError(
                f"chain entry {contract!r} is not a future; build contracts with "
                "Instrument.of('ESZ6', 'future', root='ES', expiry=date(2026, 12, 18))"
            )
    roots = sorted({str(contract.root) for contract in contracts})
    if len(roots) > 1:
        raise ConfigError(f"a chain holds one root's contracts, got roots {roots}")
    ordered = sorted(contracts, key=_expiry)
    for earlier, later in itertools.pairwise(ordered):
        if earlier.expiry == later.expiry:
            raise ConfigError(
                f"contracts {earlier.symbol} and {later.symbol} both expire on {later.expiry}; "
                "a chain has one contract per expiry"
            )
    return ordered


def _check_present(own: pl.DataFrame, contracts: list[Instrument]) -> None:
    held = set(own.get_column("symbol").unique())
    missing = [contract for contract in contracts if contract.symbol not in held]
    if missing:
        issues = tuple(
            DataIssue(
                "missing_contract",
                f"no bars for contract {contract.symbol} (expiry {contract.expiry})",
                symbol=contract.symbol,
            )
            for contract in missing
        )
        names = [contract.symbol for contract in missing]
        raise DataError(f"the chain's bars lack contract(s) {names}", issues)


def _check_open_interest(own: pl.DataFrame) -> None:
    bad = own.filter(~pl.col(_OPEN_INTEREST).cast(pl.Float64).is_finite().fill_null(value=False))
    if bad.height:
        issues = tuple(
            DataIssue(
                "missing_open_interest",
                f"open_interest missing on {row['ts']}",
                column=_OPEN_INTEREST,
                value=row[_OPEN_INTEREST],
                symbol=row["symbol"],
            )
            for row in bad.head(10).iter_rows(named=True)
        )
        raise DataError(f"open_interest is missing on {bad.height} bar(s)", issues)


@dataclass(frozen=True, slots=True)
class _Roll:
    """One row of the roll table."""

    ts: datetime
    day: date
    front: str
    following: str
    old: float
    new: float
    adjustment: float | None


@dataclass(frozen=True, slots=True)
class _Session:
    """A contract's last bar of a session: its ``ts``, close and crossover value."""

    ts: datetime
    close: float
    crossover: float


Sessions = dict[str, dict[date, _Session]]
"""Per contract, per session date, that session's :class:`_Session`."""


def _by_session(own: pl.DataFrame, rule: RollRule) -> Sessions:
    crossover = {
        RollMethod.CALENDAR: "close",
        RollMethod.VOLUME: "volume",
        RollMethod.OPEN_INTEREST: _OPEN_INTEREST,
    }[rule.method]
    last = own.group_by("symbol", pl.col("ts").dt.date().alias("day"), maintain_order=True).agg(
        pl.col("ts").last(), pl.col("close").last(), pl.col(crossover).last().alias("crossover")
    )
    found: Sessions = {}
    for symbol, day, ts, close, value in last.iter_rows():
        found.setdefault(symbol, {})[day] = _Session(ts, float(close), float(value))
    return found


def _rolls(
    own: pl.DataFrame, contracts: list[Instrument], sessions: list[date], rule: RollRule
) -> list[_Roll]:
    """Return one roll per consecutive pair of contracts."""
    by_day = _by_session(own, rule)
    rolls: list[_Roll] = []
    previous: date | None = None
    for front, following in itertools.pairwise(contracts):
        latest = roll_session(front, sessions, rule.offset)
        day = _crossover(by_day, front, following, sessions, previous, latest, rule) or latest
        if previous is not None and day <= previous:
            message = (
                f"contract {front.symbol} would roll on {day}, not after the previous roll on "
                f"{previous}: the chain overlaps (expiries too close for offset {rule.offset})"
            )
            raise _chain_error("overlapping_chain", message, front.symbol, day)
        rolls.append(_roll(by_day, front, following, day, rule))
        previous = day
    return rolls


def _crossover(  # noqa: PLR0917
    by_day: Sessions,
    front: Instrument,
    following: Instrument,
    sessions: list[date],
    previous: date | None,
    latest: date,
    rule: RollRule,
) -> date | None:
    """Return the first session the next contract's volume (or OI) exceeds the front's."""
    if rule.method is RollMethod.CALENDAR:
        return None
    mine, theirs = by_day[front.symbol], by_day[following.symbol]
    for day in sessions:
        if (previous is not None and day <= previous) or day not in mine or day not in theirs:
            continue
        if day > latest:
            return None
        if theirs[day].crossover > mine[day].crossover:
            return day
    return None


def _roll(
    by_day: Sessions, front: Instrument, following: Instrument, day: date, rule: RollRule
) -> _Roll:
    for contract in (front, following):
        if day not in by_day[contract.symbol]:
            message = (
                f"contract {contract.symbol} has no bar on the roll session {day} "
                f"({front.symbol} → {following.symbol}); the chain has a gap there"
            )
            raise _chain_error("gapped_chain", message, contract.symbol, day)
    old, new = by_day[front.symbol][day], by_day[following.symbol][day]
    if rule.adjustment is Adjustment.RATIO and not (old.close > 0 and new.close > 0):
        message = (
            f"ratio adjustment needs positive closes on the roll session {day}: "
            f"{front.symbol} {old.close}, {following.symbol} {new.close}; use 'difference'"
        )
        raise _chain_error("non_positive_close", message, front.symbol, day)
    adjustment = {
        Adjustment.DIFFERENCE: new.close - old.close,
        Adjustment.RATIO: new.close / old.close,
        Adjustment.NONE: None,
    }[rule.adjustment]
    return _Roll(old.ts, day, front.symbol, following.symbol, old.close, new.close, adjustment)


def _stitch(
    own: pl.DataFrame, contracts: list[Instrument], rolls: list[_Roll], rule: RollRule
) -> pl.DataFrame:
    """Take each contract's bars in its segment and apply the later rolls' adjustments."""
    parts = []
    lower: date | None = None
    for index, contract in enumerate(contracts):
        day = pl.col("ts").dt.date()
        if index < len(rolls):
            upper = rolls[index].day
            inside = day <= upper
        else:
            upper = _expiry(contract)
            inside = day < upper
        if lower is not None:
            inside &= day > lower
        segment = own.filter((pl.col("symbol") == contract.symbol) & inside)
        later = [roll.adjustment for roll in rolls[index:] if roll.adjustment is not None]
        parts.append(_adjusted(segment, later, rule).with_columns(contract=pl.col("symbol")))
        lower = upper
    root = str(contracts[0].root)
    return pl.concat(parts, how="diagonal_relaxed").sort("ts").with_columns(symbol=pl.lit(root))


def _adjusted(segment: pl.DataFrame, later: list[float], rule: RollRule) -> pl.DataFrame:
    """Apply the adjustments of ``later`` rolls (sum of gaps, or product of ratios)."""
    if rule.adjustment is Adjustment.DIFFERENCE:
        shift = math.fsum(later)
        return segment.with_columns(pl.col(name) + shift for name in _PRICES)
    if rule.adjustment is Adjustment.RATIO:
        factor = math.prod(later)
        return segment.with_columns(pl.col(name) * factor for name in _PRICES)
    return segment
