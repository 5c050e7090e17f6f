"""Settings of the simulated exchange: money, the fill model, the order rules, the calendar.

One :class:`ExchangeConfig` holds everything the exchange needs and nothing about where it
runs: the backtest builds it from its :class:`~quantstrata.backtest.BacktestConfig`, the paper
broker and the venue from their own settings. Unknown fields are rejected.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import ConfigDict, Field, field_validator

from quantstrata.core.config import DEFAULT_CASH, FrozenConfig, StartingCash
from quantstrata.execution.config import CommissionConfig, FillConfig, SlippageConfig
from quantstrata.model.instrument import Instrument
from quantstrata.process.calendar import canonical_calendar_code

__all__ = ["ExchangeConfig", "lot_size"]


def lot_size(
    instrument: Instrument | None, *, fractional: bool, round_lots: bool
) -> tuple[float, float]:
    """Return ``(lot_size, min_quantity)`` a quantity is rounded to; ``(0, 0)`` trades any amount.

    Fractional trading without ``fill.round_lots`` rounds nothing; otherwise the instrument's
    lot rules apply (one whole unit for a symbol without an instrument).
    """
    if fractional and not round_lots:
        return 0.0, 0.0
    if instrument is None:
        return 1.0, 0.0
    return instrument.lot_size, instrument.min_quantity


class ExchangeConfig(FrozenConfig):
    """How :class:`~quantstrata.exchange.SimulatedExchange` matches orders and keeps the account.

    - ``cash``: the starting cash.
    - ``fill``, ``commission``, ``slippage``: the shared fill model's settings.
    - ``allow_short``: whether a position may go below zero (sells beyond it are cut).
    - ``max_leverage``: the largest gross exposure (Σ |position × mark| / equity) a fill of a
      non-reduce-only order may build; a fill beyond it is reduced and the rest cancelled.
    - ``fractional``: trade fractional units; ``False`` (or ``fill.round_lots``) rounds a fill
      cut by the leverage cap toward zero to whole lots (:func:`lot_size`).
    - ``instruments``: trading rules per symbol (lot size, minimum quantity, calendar).
    - ``calendar``: the exchange-calendars code whose session close ends DAY orders of symbols
      without an instrument calendar; ``None``: every UTC day is a session.
    - ``bar_length``: the length of one bar; a DAY order decided on bar ``t`` works until the
      first session close after ``t + bar_length`` (so a daily-close decision works through the
      next session).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    cash: StartingCash = DEFAULT_CASH
    fill: FillConfig = Field(default_factory=FillConfig)
    commission: CommissionConfig = Field(default_factory=CommissionConfig)
    slippage: SlippageConfig = Field(default_factory=SlippageConfig)
    allow_short: bool = True
    max_leverage: float = Field(default=1.0, gt=0.0, allow_inf_nan=False)
    fractional: bool = True
    instruments: dict[str, Instrument] = Field(default_factory=dict)
    calendar: str | None = None
    bar_length: timedelta = timedelta(0)

    @field_validator("calendar")
    @classmethod
    def _known_calendar(cls, value: str | None) -> str | None:
        return None if value is None else canonical_calendar_code(value)

    @field_validator("bar_length")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError(f"bar_length must not be negative, got {value}")
        return value

    def lot_size(self, symbol: str) -> tuple[float, float]:
        """Return ``(lot_size, min_quantity)`` of ``symbol`` (see :func:`lot_size`)."""
        return lot_size(
            self.instruments.get(symbol),
            fractional=self.fractional,
            round_lots=self.fill.round_lots,
        )

    def calendar_of(self, symbol: str) -> str | None:
        """Return the calendar code of ``symbol``: its instrument's, else ``calendar``."""
        instrument = self.instruments.get(symbol)
        if instrument is not None and instrument.calendar is not None:
            return instrument.calendar
        return self.calendar
