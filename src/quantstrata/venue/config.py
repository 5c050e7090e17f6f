"""Settings of the simulated venue: the account, the shared fill model, replay speed and faults.

Every setting has a default a user can run with: 100 000 in cash, the backtest's default fill
policy (decide on a close, fill at the next open), no costs, replay as fast as possible, no
faults, and a server bound to 127.0.0.1 only. :func:`load_venue_config` reads the same settings
from a TOML file.
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path

from pydantic import ConfigDict, Field, field_validator

from quantstrata.core.config import DEFAULT_CASH, FrozenConfig, load_config
from quantstrata.core.errors import ConfigError
from quantstrata.exchange.config import TradingRules
from quantstrata.process.calendar import CalendarCode

__all__ = [
    "DEFAULT_HOST",
    "FaultConfig",
    "ReplayMode",
    "VenueConfig",
    "load_venue_config",
    "parse_speed",
]

DEFAULT_HOST = "127.0.0.1"
_LIMIT = 1e12


class ReplayMode(StrEnum):
    """How fast the venue replays bars.

    - ``max``: publish bars as fast as the event loop allows.
    - ``realtime``: one bar per bar interval of wall time (``multiple`` > 1 speeds it up: ×N).
    - ``lockstep``: publish bar *t*, wait until every client subscribed to bars acknowledged
      *t*, then fill working orders against bar *t + 1* and publish it. Deterministic at any
      speed: orders sent before the acknowledgement fill exactly as in a backtest.
    """

    MAX = "max"
    REALTIME = "realtime"
    LOCKSTEP = "lockstep"


def parse_speed(text: str) -> tuple[ReplayMode, float]:
    """Read ``max``, ``realtime``, ``lockstep`` or a positive number ``N`` (realtime ×N)."""
    value = text.strip().lower()
    try:
        return ReplayMode(value), 1.0
    except ValueError:
        pass
    try:
        multiple = float(value.removeprefix("x").removesuffix("x"))
    except ValueError:
        raise ConfigError(
            f"speed={text!r} is not max, realtime, lockstep or a positive number (×N)"
        ) from None
    if not (math.isfinite(multiple) and multiple > 0):
        raise ConfigError(f"speed={text!r} must be a positive, finite multiple of real time")
    return ReplayMode.REALTIME, multiple


class FaultConfig(FrozenConfig):
    """Faults the venue injects on purpose, all off by default.

    - ``reject_next``: reject the next N submitted orders (reason ``"fault: rejected"``).
    - ``delay_next_submits``: for the next N submits, record the order, then hold the HTTP
      answer for ``submit_delay_seconds`` (beyond a client's timeout: its outcome is unknown).
    - ``fill_before_ack``: publish an order's ``accepted`` update only after its first fill.
    - ``volume_cap``: cap every fill at this fraction of the bar's volume (partial fills),
      on top of the fill model's own cap.
    - ``cancel_races_fill``: a cancel of a working order loses the race: the order fills its
      rest at the latest close first, and the cancel is answered ``409`` (too late).
    - ``drop_stream_every``: close every WebSocket connection after each N published bars.
    """

    reject_next: int = Field(default=0, ge=0, le=1_000_000)
    delay_next_submits: int = Field(default=0, ge=0, le=1_000_000)
    submit_delay_seconds: float = Field(default=5.0, ge=0.0, le=3_600.0, allow_inf_nan=False)
    fill_before_ack: bool = False
    volume_cap: float | None = Field(default=None, gt=0.0, le=1.0, allow_inf_nan=False)
    cancel_races_fill: bool = False
    drop_stream_every: int | None = Field(default=None, ge=1, le=1_000_000)


class VenueConfig(TradingRules):
    """How the simulated venue runs.

    - ``host``, ``port``: where the server listens (``127.0.0.1`` and a free port by default;
      binding elsewhere exposes the venue beyond this machine, still behind the API key).
    - the :class:`~quantstrata.exchange.config.TradingRules` the backtest has too (``cash``,
      ``fill``, ``commission``, ``slippage``, ``allow_short``, ``max_leverage``, lots), so
      fills equal the backtest's; ``cash`` here is at most 10¹².
    - ``calendar``: the exchange-calendars code whose session close ends DAY orders, as
      :attr:`BacktestConfig.calendar <quantstrata.backtest.BacktestConfig>` (``None``: the UTC
      day, as the backtest without a calendar).
    - ``speed``: ``max``, ``realtime``, ``lockstep`` or a number N (realtime ×N).
    - ``state``: the SQLite file that keeps orders, fills, positions, cash and the replay
      position across restarts (``None``: in memory, lost on exit).
    - ``faults``: injected faults (:class:`FaultConfig`).
    - ``instruments``, ``base_currency``: contract terms (multiplier, margin, the currency each
      symbol settles in) and the currency of ``cash``, as in
      :class:`~quantstrata.backtest.BacktestConfig`: fills settle per currency and
      ``GET /v1/account`` reports the cash per currency.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    host: str = DEFAULT_HOST
    port: int = Field(default=0, ge=0, le=65_535)
    cash: float = Field(default=DEFAULT_CASH, gt=0.0, le=_LIMIT, allow_inf_nan=False)
    calendar: CalendarCode = None
    speed: str = "max"
    state: Path | None = None
    faults: FaultConfig = Field(default_factory=FaultConfig)

    @field_validator("speed")
    @classmethod
    def _known_speed(cls, value: str) -> str:
        try:
            parse_speed(value)
        except ConfigError as error:
            raise ValueError(str(error)) from None
        return value.strip().lower()

    @property
    def replay_mode(self) -> ReplayMode:
        """The replay mode ``speed`` names."""
        return parse_speed(self.speed)[0]

    @property
    def speed_multiple(self) -> float:
        """How many bar intervals pass per interval of wall time in realtime mode."""
        return parse_speed(self.speed)[1]


def load_venue_config(path: str | Path, section: str | None = "venue") -> VenueConfig:
    """Read a :class:`VenueConfig` from a TOML file (its ``[venue]`` section by default)."""
    return load_config(path, VenueConfig, section)
