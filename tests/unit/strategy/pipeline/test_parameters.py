"""The parameters a pipeline strategy shares: its schedule by name and its calendar."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import Field, ValidationError

from quantstrata.strategy.pipeline import (
    PipelineConfig,
    PipelineParameters,
    Rebalance,
    RebalanceName,
)


def test_every_schedule_name_is_a_rebalance_and_back() -> None:
    assert set(get_args(RebalanceName)) == {schedule.value for schedule in Rebalance}


def test_the_parameters_give_the_pipeline_config_of_their_schedule_and_calendar() -> None:
    class Weekly(PipelineParameters):
        rebalance: RebalanceName = Field("week_end")

    assert Weekly().pipeline_config() == PipelineConfig(
        rebalance=Rebalance.WEEK_END, calendar="XNYS"
    )
    assert PipelineParameters(calendar=None).pipeline_config() == PipelineConfig(
        rebalance=Rebalance.MONTH_END, calendar=None
    )


def test_an_unknown_schedule_or_calendar_is_refused_at_construction() -> None:
    with pytest.raises(ValidationError, match="rebalance"):
        PipelineParameters(rebalance="quarter_end")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="calendar"):
        PipelineParameters(calendar="NOT-A-CALENDAR")
