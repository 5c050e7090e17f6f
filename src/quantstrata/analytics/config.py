"""How performance metrics are computed: risk-free rate, annualisation and thresholds.

Rates are annual decimals (``0.04`` is 4 % a year); :func:`~quantstrata.analytics.metrics.
compute_metrics` turns them into per-bar rates as ``(1 + rate) ** (1 / periods_per_year) - 1``.
``docs/metrics.md`` gives every formula.
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from quantstrata.core.config import FrozenConfig
from quantstrata.process.calendar import CalendarCode

__all__ = ["MetricsConfig"]


class MetricsConfig(FrozenConfig):
    """Settings of :func:`~quantstrata.analytics.metrics.compute_metrics`.

    - ``risk_free_rate``: annual risk-free rate subtracted from every bar's return for Sharpe.
    - ``periods_per_year``: annualisation factor; ``None`` derives it from the interval and the
      calendar, or from the timestamps when no interval is given.
    - ``calendar``: exchange-calendars code of the market (``"XNYS"``…); ``None`` is a market
      that never closes (24/7 crypto).
    - ``minimum_acceptable_return``: annual threshold of the Sortino ratio; ``None`` uses the
      risk-free rate (the quantstats and empyrical convention).
    - ``sqn_trade_cap``: cap on the number of trades in the SQN's square root (Van Tharp caps
      it at 100 to compare systems); ``None`` uses every trade.
    """

    risk_free_rate: float = Field(default=0.0, gt=-1.0)
    periods_per_year: float | None = Field(default=None, gt=0.0)
    calendar: CalendarCode = None
    minimum_acceptable_return: float | None = Field(default=None, gt=-1.0)
    sqn_trade_cap: int | None = Field(default=None, ge=1)

    @field_validator("risk_free_rate", "periods_per_year", "minimum_acceptable_return")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @property
    def sortino_threshold(self) -> float:
        """The annual minimum acceptable return actually used by the Sortino ratio."""
        if self.minimum_acceptable_return is None:
            return self.risk_free_rate
        return self.minimum_acceptable_return
