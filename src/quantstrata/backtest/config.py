"""Settings of a backtest: money, the shared fill model's settings, risk limits and reporting.

Every default is one a live trader could reproduce: 100 000 in cash, decisions at a bar's close
filled at the next bar's open, no costs until configured, gross exposure capped at 1× equity,
and the look-ahead check on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from quantstrata.exchange.config import CalendarCode, ExchangeConfig, TradingRules
from quantstrata.execution.costs import carry_factors, lot_scale

__all__ = ["BacktestConfig"]


class BacktestConfig(TradingRules):
    """How :class:`~quantstrata.backtest.engine.Backtest` simulates a strategy.

    - ``cash``: the starting cash (and equity), in the account currency.
    - ``fill``, ``commission``, ``slippage``: the shared fill model's settings
      (:mod:`quantstrata.execution`); the policy says when a decided order meets the market.
    - ``allow_short``: whether positions may go below zero; when ``False`` a short target is
      held flat and sells never go beyond the position.
    - ``max_leverage``: the largest gross exposure (Σ |position value| / equity, valued at the
      execution price) a target or an order may build; a target order, or a fill of an order
      the strategy submitted, that would exceed it is reduced to the cap (the rest of the
      order cancelled) and the reduction is recorded in the order's ``tag``; an order with no
      room at all is cancelled with the reason.
    - ``fractional``: trade fractional units; ``False`` (or ``fill.round_lots``) rounds every
      target order toward zero to whole lots of ``instruments[symbol]`` (one unit for symbols
      without an instrument).
    - ``instruments``: trading rules per symbol (lot size, minimum quantity).
    - ``borrow_rate``: annual cost of borrowing shorted instruments, a fraction of the short
      positions' market value (``0.03`` = 3 % a year); 0 (default) charges nothing.
    - ``financing_rate``: annual interest on negative cash (buying on margin), a fraction of
      the amount borrowed; 0 (default) charges nothing. Both accrue between bar times,
      actual/365, and are deducted from cash (``docs/backtest-realism.md``).
    - ``risk_free_rate``: annual rate for the Sharpe ratio of the metrics.
    - ``calendar``: exchange-calendars code used to annualise metrics and to end the trading
      session of symbols without an instrument calendar (DAY orders expire at the session
      close); ``None`` infers the bars per year from the timestamps and ends sessions at
      00:00 UTC.
    - ``check_lookahead``: run :func:`~quantstrata.strategy.check_no_lookahead` on a signal
      strategy before simulating it; a violation raises
      :class:`~quantstrata.strategy.LookAheadError`.
    - ``lookahead_samples``: how many bar times per symbol that check recomputes at.
    - ``size_at``: when a target becomes an order quantity. ``"fill"`` (default, the
      convention of backtesting.py and backtrader) sizes it where it executes, from the
      equity at the fill price; ``"decision"`` sizes it at the deciding bar's close with
      :func:`~quantstrata.execution.targets.orders_for_targets` and sends market orders that
      fill by the fill policy — what the live runtime must do, since it cannot know the next
      open; the parity test runs backtests this way.
    """

    borrow_rate: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    financing_rate: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    risk_free_rate: float = Field(default=0.0, gt=-1.0, allow_inf_nan=False)
    calendar: CalendarCode = None
    check_lookahead: bool = True
    lookahead_samples: int = Field(default=20, ge=1)
    size_at: Literal["fill", "decision"] = "fill"

    def exchange_config(self, bar_length: timedelta) -> ExchangeConfig:
        """Return the simulated exchange's settings of this backtest, bars ``bar_length`` long."""
        return ExchangeConfig(**self.trading_rules(), calendar=self.calendar, bar_length=bar_length)

    def lot_rules(self, symbol: str) -> tuple[float, float, float]:
        """Return :meth:`lot_size` and the lot's decimal scale, as the compiled loops take them.

        The scale (:func:`~quantstrata.execution.costs.lot_scale`) lets compiled code round a
        volume-capped fill to lots exactly as the fill model does under ``fill.round_lots``.
        """
        lot_size, min_quantity = self.lot_size(symbol)
        return lot_size, min_quantity, lot_scale(lot_size)

    def charges_carry(self) -> bool:
        """Return whether a run charges borrow or financing (a rate above zero)."""
        return self.borrow_rate != 0.0 or self.financing_rate != 0.0

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
