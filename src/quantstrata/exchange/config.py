"""Settings of the simulated exchange: money, the fill model, the order rules, the calendar.

One :class:`ExchangeConfig` holds everything the exchange needs and nothing about where it
runs: the backtest builds it from its :class:`~quantstrata.backtest.BacktestConfig`, the paper
broker and the venue from their own settings. Unknown fields are rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from quantstrata.core.config import DEFAULT_CASH, FrozenConfig, StartingCash
from quantstrata.exchange._currency import base_currency, settlement_currencies
from quantstrata.exchange._margin import MarginCallPolicy
from quantstrata.execution.config import CommissionConfig, FillConfig, SlippageConfig
from quantstrata.execution.margin import sizing_terms
from quantstrata.execution.targets import lot_rule
from quantstrata.model.instrument import Instrument
from quantstrata.process.calendar import CalendarCode

__all__ = ["ExchangeConfig", "OrderRules", "TradingRules"]


class OrderRules(FrozenConfig):
    """The order rules the backtest, the exchange and the live runtime's target sizing share.

    - ``allow_short``: whether a position may go below zero (sells beyond it are cut).
    - ``max_leverage``: the largest gross exposure (Σ |position × mark| / equity) a target or a
      fill of a non-reduce-only order may build; a fill beyond it is reduced and the rest
      cancelled.
    - ``fractional``: trade fractional units; ``False`` (or rounding lots) rounds to whole lots
      (:meth:`lot_size`).
    - ``instruments``: trading rules per symbol (lot size, minimum quantity, calendar) and
      contract terms: positions are valued with the instrument's multiplier, and an instrument
      with a ``margin`` may build positions while Σ initial margin ≤ equity (its own buying
      power) instead of the ``max_leverage`` cap (:mod:`quantstrata.execution.margin`).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    allow_short: bool = True
    max_leverage: float = Field(default=1.0, gt=0.0, allow_inf_nan=False)
    fractional: bool = True
    instruments: dict[str, Instrument] = Field(default_factory=dict)

    @field_validator("instruments")
    @classmethod
    def _keyed_by_symbol(cls, value: dict[str, Instrument]) -> dict[str, Instrument]:
        for symbol, instrument in value.items():
            if instrument.symbol != symbol:
                raise ValueError(f"instrument {instrument.symbol!r} is filed under {symbol!r}")
        return value

    def rounds_lots(self) -> bool:
        """Whether orders are rounded to whole lots even when ``fractional``."""
        return False

    def contract_terms(self) -> dict[str, tuple[float, float, float]]:
        """Return each instrument's ``(multiplier, weight, per_contract)`` for target sizing.

        The one rule is :func:`~quantstrata.execution.margin.sizing_terms`.
        """
        return {
            symbol: sizing_terms(instrument, self.max_leverage)
            for symbol, instrument in self.instruments.items()
        }

    def lot_size(self, symbol: str) -> tuple[float, float]:
        """Return ``(lot_size, min_quantity)`` of ``symbol``; ``(0, 0)`` trades any fraction.

        The one rule is :func:`~quantstrata.execution.targets.lot_rule`.
        """
        return lot_rule(
            symbol,
            fractional=self.fractional,
            round_lots=self.rounds_lots(),
            instruments=self.instruments,
        )


class TradingRules(OrderRules):
    """The account and order rules every simulation of trading shares (backtest, exchange).

    The :class:`OrderRules`, and:

    - ``cash``: the starting cash.
    - ``fill``, ``commission``, ``slippage``: the shared fill model's settings
      (``fill.round_lots`` rounds orders to whole lots).
    - ``margin_call``: what happens when equity falls below the maintenance margin of the
      positions held (instruments with a ``margin``): ``liquidate_largest_loser`` (default)
      closes the largest unrealized loser first until equity covers the rest,
      ``liquidate_all`` closes everything, ``none`` makes no call
      (:mod:`quantstrata.exchange._margin`).
    - ``base_currency``: the currency of ``cash``, equity and the metrics; each fill settles in
      its instrument's ``settlement_currency`` (cash per currency), valued in the base with FX
      rates as-of. ``None`` (default): the one currency the instruments settle in, else
      ``"USD"`` — a single-currency run converts nothing.
    """

    cash: StartingCash = DEFAULT_CASH
    base_currency: str | None = Field(default=None, min_length=3, pattern=r"^[A-Za-z0-9]+$")
    margin_call: MarginCallPolicy = MarginCallPolicy.LIQUIDATE_LARGEST_LOSER
    fill: FillConfig = Field(default_factory=FillConfig)
    commission: CommissionConfig = Field(default_factory=CommissionConfig)
    slippage: SlippageConfig = Field(default_factory=SlippageConfig)

    def rounds_lots(self) -> bool:
        """Whether the fill model rounds orders to whole lots (``fill.round_lots``)."""
        return self.fill.round_lots

    def account_currency(self) -> str:
        """Return the base currency (:func:`~quantstrata.exchange._currency.base_currency`)."""
        return base_currency(self.base_currency, self.instruments)

    def currencies_of(self, symbols: Iterable[str]) -> tuple[str, ...]:
        """Return the currency each of ``symbols`` settles in (the base without an instrument)."""
        return settlement_currencies(symbols, self.instruments, self.account_currency())

    def trading_rules(self) -> dict[str, Any]:
        """Return these rules as keyword arguments of another :class:`TradingRules` model."""
        return {name: getattr(self, name) for name in TradingRules.model_fields}


class ExchangeConfig(TradingRules):
    """How :class:`~quantstrata.exchange.SimulatedExchange` matches orders and keeps the account.

    The :class:`TradingRules`, and:

    - ``calendar``: the exchange-calendars code whose session close ends DAY orders of symbols
      without an instrument calendar; ``None``: every UTC day is a session.
    - ``bar_length``: the length of one bar; a DAY order decided on bar ``t`` works until the
      first session close after ``t + bar_length`` (so a daily-close decision works through the
      next session).
    """

    calendar: CalendarCode = None
    bar_length: timedelta = timedelta(0)

    @field_validator("bar_length")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError(f"bar_length must not be negative, got {value}")
        return value

    def calendar_of(self, symbol: str) -> str | None:
        """Return the calendar code of ``symbol``: its instrument's, else ``calendar``."""
        instrument = self.instruments.get(symbol)
        if instrument is not None and instrument.calendar is not None:
            return instrument.calendar
        return self.calendar
