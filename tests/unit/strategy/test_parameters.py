"""Strategy parameters: validation with clear errors, and the search space read from the model."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

import polars as pl
import pytest
from pydantic import Field, model_validator

from quantstrata.core.errors import ConfigError
from quantstrata.strategy.base import Strategy
from quantstrata.strategy.parameters import ParameterSpec, StrategyParameters, parameter_space
from quantstrata.strategy.signal import SignalStrategy


class Mode(StrEnum):
    FAST = "fast"
    SLOW = "slow"


class Windows(StrategyParameters):
    fast: int = Field(10, ge=2, le=500, description="fast window")
    slow: int = Field(30, gt=2, lt=1000)
    threshold: float = Field(0.5, gt=0.0, le=1.0)
    side: Literal["long", "short", "both"] = "long"
    mode: Mode = Mode.FAST
    enabled: bool = True
    cap: float | None = Field(None, ge=0.0)
    label: str = "x"

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Self:
        if self.fast >= self.slow:
            raise ConfigError(f"fast ({self.fast}) must be less than slow ({self.slow})")
        return self


class Crossing(SignalStrategy):
    Parameters = Windows
    parameters: Windows

    def warmup_bars(self) -> int:
        return self.parameters.slow

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol", target=pl.lit(0.0))


class NoParameters(SignalStrategy):
    def warmup_bars(self) -> int:
        return 0

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        return bars.select("ts", "symbol", target=pl.lit(1.0))


def test_parameter_space_reads_types_defaults_bounds_and_choices_in_declaration_order():
    space = {spec.name: spec for spec in parameter_space(Windows)}
    assert list(space) == list(Windows.model_fields)
    assert space["fast"] == ParameterSpec("fast", int, 10, 2, 500, description="fast window")
    # strict integer bounds become inclusive ones
    assert (space["slow"].lower, space["slow"].upper) == (3, 999)
    assert space["slow"].lower_inclusive
    assert space["slow"].upper_inclusive
    threshold = space["threshold"]
    assert (threshold.type, threshold.lower, threshold.upper) == (float, 0.0, 1.0)
    assert not threshold.lower_inclusive
    assert threshold.upper_inclusive
    assert space["side"].choices == ("long", "short", "both")
    assert space["mode"].choices == (Mode.FAST, Mode.SLOW)
    assert space["enabled"].choices == (False, True)
    assert (space["cap"].type, space["cap"].default, space["cap"].lower) == (float, None, 0.0)
    assert space["label"] == ParameterSpec("label", str, "x")


def test_parameter_spec_contains_respects_inclusive_and_strict_bounds():
    space = {spec.name: spec for spec in parameter_space(Windows)}
    assert space["fast"].contains(2)
    assert space["fast"].contains(500)
    assert not space["fast"].contains(1)
    assert not space["fast"].contains(501)
    assert not space["threshold"].contains(0.0)
    assert space["threshold"].contains(1.0)
    assert space["side"].contains("both")
    assert not space["side"].contains("none")


def test_every_default_lies_inside_its_declared_space():
    for spec in parameter_space(Windows):
        if spec.default is not None:
            assert spec.contains(spec.default), spec.name


def test_parameter_space_refuses_anything_but_a_parameters_model():
    with pytest.raises(ConfigError, match="StrategyParameters subclass"):
        parameter_space(dict)  # type: ignore[arg-type]


def test_build_names_the_model_and_the_field():
    with pytest.raises(ConfigError, match=r"invalid Windows:\n  fast: Input should be greater"):
        Windows.build(fast=1)


def test_cross_field_rule_reads_clearly():
    with pytest.raises(ConfigError) as caught:
        Windows.build(fast=40, slow=30)
    assert "fast (40) must be less than slow (30)" in str(caught.value)
    assert "Value error" not in str(caught.value)


def test_unknown_parameter_is_refused():
    with pytest.raises(ConfigError, match="fastt"):
        Windows.build(fastt=3)


def test_parameters_are_frozen_and_replace_validates():
    parameters = Windows.build(fast=5)
    with pytest.raises(ValueError, match="frozen"):
        parameters.fast = 6  # type: ignore[misc]
    assert parameters.replace(slow=50).slow == 50
    assert parameters.replace(slow=50).fast == 5
    with pytest.raises(ConfigError, match="must be less than"):
        parameters.replace(fast=60)


def test_strategy_takes_keywords_a_parameters_object_or_nothing():
    assert Crossing().parameters == Windows()
    assert Crossing(fast=4).parameters.fast == 4
    built = Windows.build(fast=7)
    assert Crossing(built).parameters is built


def test_strategy_refuses_bad_values_mixed_arguments_and_foreign_parameters():
    with pytest.raises(ConfigError, match="fast"):
        Crossing(fast=0)
    with pytest.raises(ConfigError, match="not both"):
        Crossing(Windows(), fast=4)  # type: ignore[call-arg]

    class Other(StrategyParameters):
        fast: int = 3

    with pytest.raises(ConfigError, match="Crossing takes Windows, got"):
        Crossing(Other())


def test_with_parameters_returns_a_new_validated_strategy():
    strategy = Crossing(fast=4)
    changed = strategy.with_parameters(slow=80)
    assert isinstance(changed, Crossing)
    assert changed is not strategy
    assert (changed.parameters.fast, changed.parameters.slow) == (4, 80)
    assert strategy.parameters.slow == 30
    with pytest.raises(ConfigError):
        strategy.with_parameters(slow=3)


def test_name_and_repr_show_the_class_and_values():
    strategy = Crossing(fast=4)
    assert strategy.name == "Crossing"
    assert repr(strategy).startswith("Crossing(fast=4, slow=30, threshold=0.5")


def test_a_strategy_without_parameters_has_an_empty_space_and_refuses_keywords():
    assert parameter_space(NoParameters.Parameters) == []
    assert repr(NoParameters()) == "NoParameters()"
    with pytest.raises(ConfigError, match="period"):
        NoParameters(period=3)


def test_base_classes_are_abstract():
    with pytest.raises(TypeError):
        Strategy()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        SignalStrategy()  # type: ignore[abstract]
