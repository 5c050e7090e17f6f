"""How a pipeline turns its weights into decisions: the rebalance schedule and its calendar."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from quantstrata.core.config import FrozenConfig
from quantstrata.process.calendar import CalendarCode
from quantstrata.strategy.parameters import StrategyParameters

__all__ = ["PipelineConfig", "PipelineParameters", "Rebalance", "RebalanceName"]


class Rebalance(StrEnum):
    """When a pipeline decides new weights.

    ``*_end`` schedules need the exchange calendar (the last session of a period is known in
    advance from the calendar, never from the data); ``*_start`` schedules are read from the bars
    themselves: the first bar time of a new period, which needs no future bar either.
    """

    DAILY = "daily"
    """Every bar."""
    WEEK_START = "week_start"
    """The first bar of each ISO week (Monday-based) the bars reach."""
    WEEK_END = "week_end"
    """The last session of each ISO week by the calendar."""
    MONTH_START = "month_start"
    """The first bar of each calendar month the bars reach."""
    MONTH_END = "month_end"
    """The last session of each calendar month by the calendar."""


class PipelineConfig(FrozenConfig):
    """The rebalance schedule and the calendar that defines sessions.

    ``calendar`` is an exchange-calendars code (``"XNYS"``) or ``None`` for one session per UTC
    day (24/7 markets): on weekday-only data without a calendar, a ``*_end`` falling on a
    weekend has no bar and that period is skipped, so pass the market's calendar (or use a
    ``*_start`` schedule). The schedules act on daily bars labelled by their session date, as
    the catalog stores them; on intraday bars every bar of a rebalance session decides.
    """

    rebalance: Rebalance = Rebalance.MONTH_END
    calendar: CalendarCode = None


RebalanceName = Literal["daily", "week_start", "week_end", "month_start", "month_end"]
"""The :class:`Rebalance` schedules by name (a plain string keeps parameter reprs and sweep
choices readable)."""


class PipelineParameters(StrategyParameters):
    """The parameters every pipeline strategy declares: its schedule and its calendar.

    Subclass it for a strategy's own parameters (override a field to change its default) and
    build the pipeline with ``config=parameters.pipeline_config()``.
    """

    rebalance: RebalanceName = Field("month_end", description="when weights change")
    calendar: CalendarCode = Field(
        "XNYS", description="exchange-calendars code for sessions; None = every UTC day"
    )

    def pipeline_config(self) -> PipelineConfig:
        """Return the :class:`PipelineConfig` of this schedule and calendar."""
        return PipelineConfig(rebalance=Rebalance(self.rebalance), calendar=self.calendar)
