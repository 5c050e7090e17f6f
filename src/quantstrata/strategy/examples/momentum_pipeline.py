"""Momentum pipeline: each month end, hold the strongest liquid symbols of a large universe.

The universe at each time is the ``liquid`` symbols with the highest 20-bar average dollar
volume; among those priced above ``min_price`` the ``top`` highest by momentum (the return from
``lookback`` bars ago to ``skip`` bars ago, the "12-1" style) get ``1 / top`` of equity each and
every other symbol 0, decided at the last session of the month (``rebalance``) and held until
the next. Written with :mod:`quantstrata.strategy.pipeline`, so the same weights can be
inspected with ``Pipeline.run`` before trading them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from quantstrata.process import canonical_calendar_code
from quantstrata.strategy import StrategyParameters
from quantstrata.strategy.pipeline import (
    Pipeline,
    PipelineConfig,
    PipelineStrategy,
    average_dollar_volume,
    equal_weight,
    latest,
    momentum,
)

__all__ = ["MomentumPipeline"]


Schedule = Literal["daily", "week_start", "week_end", "month_start", "month_end"]
"""The rebalance schedules of :class:`~quantstrata.strategy.pipeline.Rebalance`, by name."""


class MomentumPipeline(PipelineStrategy):
    """Rotate into the ``top`` momentum names of the ``liquid`` most traded symbols."""

    class Parameters(StrategyParameters):
        """The momentum window, the universe and holding sizes, the schedule and calendar."""

        lookback: int = Field(126, ge=2, le=2520, description="bars back the momentum starts")
        skip: int = Field(21, ge=0, le=2519, description="most recent bars the momentum skips")
        top: int = Field(50, ge=1, le=5000, description="symbols held, each at 1 / top")
        liquid: int = Field(300, ge=1, le=100_000, description="universe: most traded symbols")
        min_price: float = Field(5.0, ge=0.0, description="symbols below this close are skipped")
        rebalance: Schedule = Field("month_end", description="when weights change")
        calendar: str | None = Field(
            "XNYS", description="exchange-calendars code for sessions; None = every UTC day"
        )

        @field_validator("calendar")
        @classmethod
        def _known_calendar(cls, code: str | None) -> str | None:
            return None if code is None else canonical_calendar_code(code)

    parameters: Parameters

    def pipeline(self) -> Pipeline:
        """Return the momentum pipeline these parameters describe."""
        values = self.parameters
        score = momentum(values.lookback, min(values.skip, values.lookback - 1))
        tradable = latest("close") > values.min_price
        return Pipeline(
            weights=equal_weight(score.top(values.top, mask=tradable)),
            universe=average_dollar_volume(20).top(values.liquid),
            columns={"momentum": score},
            config=PipelineConfig(rebalance=values.rebalance, calendar=values.calendar),
        )
