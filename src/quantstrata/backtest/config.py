"""Settings of a backtest: money, the shared fill model's settings, risk limits and reporting.

Every default is one a live trader could reproduce: 100 000 in cash, decisions at a bar's close
filled at the next bar's open, targets sized at that close (as the live runtime sizes them), no
costs until configured, gross exposure capped at 1× equity, and the look-ahead check on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import numpy as np
import numpy.typing as npt
from pydantic import Field

from quantstrata.exchange import MarginCallPolicy
from quantstrata.exchange._margin import margin_rates
from quantstrata.exchange.config import ExchangeConfig, TradingRules
from quantstrata.execution.costs import carry_factors, lot_scale
from quantstrata.execution.risk import RiskConfig
from quantstrata.execution.targets import SizingRules
from quantstrata.process.calendar import CalendarCode

__all__ = ["BacktestConfig", "SizeAt"]


class SizeAt(StrEnum):
    """When a backtest turns a target into an order quantity.

    - ``decision`` (default): at the deciding bar's close, from the equity known then, with
      :func:`~quantstrata.execution.targets.orders_for_targets`; the market orders fill by the
      fill policy. This is what the live runtime does (it cannot know the next open), so paper
      and live trading reproduce this backtest.
    - ``fill``: where the order executes, from the equity marked at the fill price (the
      convention of backtesting.py and backtrader); for comparisons with such peers. A live
      trader cannot size this way.
    """

    DECISION = "decision"
    FILL = "fill"


class BacktestConfig(TradingRules):
    """How :class:`~quantstrata.backtest.engine.Backtest` simulates a strategy.

    - ``cash``: the starting cash (and equity), in the account currency.
    - ``fill``, ``commission``, ``slippage``: the shared fill model's settings
      (:mod:`quantstrata.execution`); the policy says when a decided order meets the market.
    - ``allow_short``: whether positions may go below zero; when ``False`` a short target is
      held flat and sells never go beyond the position.
    - ``max_leverage``: the **sizing cap**, the same setting as
      :class:`~quantstrata.live.LiveConfig`'s: the largest gross exposure (Σ |position value|
      / equity) a target may build. A target order that would exceed it is *cut* to the cap
      and the cut is recorded in the order's ``tag``
      (:func:`~quantstrata.execution.targets.leverage_note`). The backtest also cuts a fill
      of an order the strategy submitted (valued at the execution price; the rest of the order
      cancelled, an order with no room at all cancelled with the reason); live trading has no
      fill to cut, so give ``risk.max_leverage`` to refuse such orders in both.
    - ``risk``: the pre-trade checks (:class:`~quantstrata.execution.risk.RiskConfig`, the
      live runtime's ``LiveConfig.risk``) every order the strategy submits passes first;
      ``None`` (the default) checks nothing. A refused order is recorded ``rejected`` in the
      results, the :attr:`~quantstrata.execution.risk.RiskViolation.reason` in its ``tag``,
      as the live runtime journals it. ``risk.max_leverage`` *rejects* an order past it; it
      does not cut. Target orders are not risk-checked in a backtest.
    - ``fractional``: trade fractional units; ``False`` (or ``fill.round_lots``) rounds every
      target order toward zero to whole lots of ``instruments[symbol]`` (one unit for symbols
      without an instrument).
    - ``instruments``: trading rules per symbol (lot size, minimum quantity).
    - ``borrow_rate``: annual cost of borrowing shorted instruments, a fraction of the short
      positions' market value (``0.03`` = 3 % a year); 0 (default) charges nothing.
    - ``financing_rate``: annual interest on negative cash (buying on margin), a fraction of
      the amount borrowed; 0 (default) charges nothing. Both accrue between bar times,
      actual/365, and are deducted from cash (``docs/backtest-realism.md``).
    - ``borrow_rates`` / ``financing_rates``: the same rates per currency (``{"EUR": 0.02}``),
      charged on that currency's shorts and negative balance and taken from its cash; a
      currency not named pays ``borrow_rate`` / ``financing_rate``.
    - ``risk_free_rate``: annual rate for the Sharpe ratio of the metrics.
    - ``calendar``: exchange-calendars code used to annualise metrics and to end the trading
      session of symbols without an instrument calendar (DAY orders expire at the session
      close); ``None`` infers the bars per year from the timestamps and ends sessions at
      00:00 UTC.
    - ``check_lookahead``: run :func:`~quantstrata.strategy.check_no_lookahead` on a signal
      strategy before simulating it; a violation raises
      :class:`~quantstrata.strategy.LookAheadError`.
    - ``lookahead_samples``: the most ``targets`` recomputations that check makes (on short
      windows across the history; ``docs/layers/strategy.md``).
    - ``size_at``: when a target becomes an order quantity (:class:`SizeAt`).
      ``"decision"`` (default) sizes it at the deciding bar's close, as live trading does, so
      paper and live trading reproduce the backtest; ``"fill"`` sizes it where it executes,
      from the equity at the fill price, as backtesting.py and backtrader do.
    """

    risk: RiskConfig | None = None
    borrow_rate: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    financing_rate: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    borrow_rates: dict[str, Annotated[float, Field(ge=0.0, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    financing_rates: dict[str, Annotated[float, Field(ge=0.0, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    risk_free_rate: float = Field(default=0.0, gt=-1.0, allow_inf_nan=False)
    calendar: CalendarCode = None
    check_lookahead: bool = True
    lookahead_samples: int = Field(default=20, ge=1)
    size_at: SizeAt = SizeAt.DECISION

    def exchange_config(self, bar_length: timedelta) -> ExchangeConfig:
        """Return the simulated exchange's settings of this backtest, bars ``bar_length`` long."""
        return ExchangeConfig(**self.trading_rules(), calendar=self.calendar, bar_length=bar_length)

    def sizing(self, units: bool, symbols: Sequence[str]) -> SizingRules:
        """Return the sizing rules of targets of ``symbols`` (``units`` or fractions of equity).

        The same rules :meth:`LiveConfig.sizing <quantstrata.live.LiveConfig.sizing>` gives
        for the same settings, so a target is sized alike at the decision in both.
        """
        return SizingRules(
            units=units,
            allow_short=self.allow_short,
            max_leverage=self.max_leverage,
            lots={symbol: self.lot_size(symbol) for symbol in symbols},
            terms=self.contract_terms(),
        )

    def lot_rules(self, symbol: str) -> tuple[float, float, float]:
        """Return :meth:`lot_size` and the lot's decimal scale, as the compiled loops take them.

        The scale (:func:`~quantstrata.execution.costs.lot_scale`) lets compiled code round a
        volume-capped fill to lots exactly as the fill model does under ``fill.round_lots``.
        """
        lot_size, min_quantity = self.lot_size(symbol)
        return lot_size, min_quantity, lot_scale(lot_size)

    def calls_margin(self, symbols: Sequence[str]) -> bool:
        """Return whether a run of ``symbols`` checks margin (a policy, and a margined symbol)."""
        if self.margin_call is MarginCallPolicy.NONE:
            return False
        rates = margin_rates(symbols, self.instruments)
        return bool(rates[0].any() or rates[1].any())

    def charges_carry(self) -> bool:
        """Return whether a run charges borrow or financing (a rate above zero)."""
        return self.borrow_rate != 0.0 or self.financing_rate != 0.0 or self.per_currency_carry()

    def per_currency_carry(self) -> bool:
        """Return whether any currency has a borrow or financing rate of its own."""
        return bool(self.borrow_rates or self.financing_rates)

    def carry_rates(self, currency: str) -> tuple[float, float]:
        """Return the borrow and financing rate of ``currency`` (its own, else the one rate)."""
        return (
            self.borrow_rates.get(currency, self.borrow_rate),
            self.financing_rates.get(currency, self.financing_rate),
        )

    def carry_factors(self, times: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Return the borrow and financing factors of each bar's interval (both engines use it).

        With both rates zero every factor is zero: the zeros are returned without computing
        the intervals (the factors would be ``0 × years``, also exactly zero).
        """
        if not self.charges_carry():
            return np.zeros((times.shape[0], 2))
        return carry_factors(times, self.borrow_rate, self.financing_rate)

    def summary(self) -> dict[str, object]:
        """Return the settings as plain values (instruments by their lot rules) for records."""
        values = self.model_dump(mode="json", exclude={"instruments"})
        values["instruments"] = {
            symbol: {"lot_size": item.lot_size, "min_quantity": item.min_quantity}
            for symbol, item in sorted(self.instruments.items())
        }
        return values
