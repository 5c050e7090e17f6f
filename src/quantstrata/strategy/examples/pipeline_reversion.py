"""Cross-sectional mean reversion: long last week's losers, short its winners, dollar neutral.

At each week's last session the symbols' ``window``-bar returns are z-scored across the
universe; each symbol's weight is minus its z-score scaled so the absolute weights sum to
``gross``. The z-scores sum to zero, so the book is dollar neutral: the losers are bought with
what shorting the winners raises. Built with :mod:`quantstrata.strategy.pipeline`.
"""

from __future__ import annotations

from pydantic import Field

from quantstrata.strategy.pipeline import (
    Pipeline,
    PipelineParameters,
    PipelineStrategy,
    RebalanceName,
    proportional,
    trailing_return,
)

__all__ = ["ReversionPipeline"]


class ReversionPipeline(PipelineStrategy):
    """Dollar-neutral long/short on the reversal of recent returns across symbols."""

    class Parameters(PipelineParameters):
        """The return window, the gross exposure, the schedule and calendar."""

        window: int = Field(5, ge=1, le=252, description="bars of return to revert")
        gross: float = Field(1.0, gt=0.0, le=4.0, description="sum of absolute weights")
        rebalance: RebalanceName = Field("week_end", description="when weights change")

    parameters: Parameters

    def pipeline(self) -> Pipeline:
        """Return the reversal pipeline these parameters describe."""
        values = self.parameters
        score = trailing_return(values.window).zscore()
        return Pipeline(
            weights=proportional(-score, gross=values.gross),
            columns={"zscore": score},
            config=values.pipeline_config(),
        )
