"""Momentum pipeline: each month end, hold the strongest liquid symbols of a large universe.

The universe at each time is the ``liquid`` symbols with the highest 20-bar average dollar
volume; among those priced above ``min_price`` the ``top`` highest by momentum (the return from
``lookback`` bars ago to ``skip`` bars ago, the "12-1" style) get ``1 / top`` of equity each and
every other symbol 0, decided at the last session of the month (``rebalance``) and held until
the next. Written with :mod:`quantstrata.strategy.pipeline`, so the same weights can be
inspected with ``Pipeline.run`` before trading them.
"""

from __future__ import annotations

from pydantic import Field

from quantstrata.strategy.pipeline import (
    Pipeline,
    PipelineParameters,
    PipelineStrategy,
    average_dollar_volume,
    equal_weight,
    latest,
    momentum,
)

__all__ = ["MomentumPipeline"]


class MomentumPipeline(PipelineStrategy):
    """Rotate into the ``top`` momentum names of the ``liquid`` most traded symbols."""

    class Parameters(PipelineParameters):
        """The momentum window, the universe and holding sizes, the schedule and calendar."""

        lookback: int = Field(126, ge=2, le=2520, description="bars back the momentum starts")
        skip: int = Field(21, ge=0, le=2519, description="most recent bars the momentum skips")
        top: int = Field(50, ge=1, le=5000, description="symbols held, each at 1 / top")
        liquid: int = Field(300, ge=1, le=100_000, description="universe: most traded symbols")
        min_price: float = Field(5.0, ge=0.0, description="symbols below this close are skipped")

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
            config=values.pipeline_config(),
        )
