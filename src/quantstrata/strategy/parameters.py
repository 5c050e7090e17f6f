"""A strategy's parameters: a frozen pydantic model whose fields the optimiser and CLI can list.

A strategy declares its parameters as a nested model with defaults and bounds::

    class Parameters(StrategyParameters):
        fast: int = Field(10, ge=2, le=500)
        slow: int = Field(30, ge=2, le=1000)

        @model_validator(mode="after")
        def _fast_below_slow(self) -> Self:
            if self.fast >= self.slow:
                raise ConfigError(f"fast ({self.fast}) must be less than slow ({self.slow})")
            return self

:func:`parameter_space` reads the fields (type, default, bounds, choices) from the model's own
metadata, so the optimiser and the CLI list the same search space the model validates.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import annotated_types
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo

from quantstrata.core.config import FrozenConfig
from quantstrata.core.errors import ConfigError

__all__ = ["ParameterSpec", "StrategyParameters", "parameter_space"]

ParametersT = TypeVar("ParametersT", bound="StrategyParameters")


class StrategyParameters(FrozenConfig):
    """Base of every strategy's parameters: frozen, typed, unknown names refused.

    Build parameters with :meth:`build` (or through the strategy's constructor) to get a
    :class:`~quantstrata.core.errors.ConfigError` naming the strategy and each bad field.
    Cross-field rules belong in a pydantic ``model_validator(mode="after")`` that raises
    :class:`~quantstrata.core.errors.ConfigError` with a message naming both fields.
    """

    @classmethod
    def build(cls: type[ParametersT], **values: Any) -> ParametersT:
        """Validate ``values`` into these parameters; raise :class:`ConfigError` on any problem."""
        try:
            return cls(**values)
        except PydanticValidationError as error:
            raise ConfigError(_describe(cls.__qualname__, error)) from None

    def replace(self: ParametersT, **changes: Any) -> ParametersT:
        """Return a validated copy with ``changes`` applied (the optimiser's step)."""
        return type(self).build(**{**self.model_dump(), **changes})


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One parameter as the optimiser and CLI see it.

    ``type`` is the field's annotation (``int``, ``float``, ``bool``, an enum class …);
    ``lower`` and ``upper`` are the bounds declared with ``ge``/``gt``/``le``/``lt`` (``None``
    when unbounded), inclusive unless ``lower_inclusive``/``upper_inclusive`` say otherwise
    (strict bounds on integers are turned into inclusive ones: ``gt=1`` is ``lower=2``);
    ``choices`` lists the allowed values of a ``Literal``, enum or ``bool`` field.
    """

    name: str
    type: Any
    default: Any
    lower: float | None = None
    upper: float | None = None
    choices: tuple[Any, ...] | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = True
    description: str | None = None

    def contains(self, value: Any) -> bool:
        """Return whether ``value`` lies inside the declared bounds and choices."""
        if self.choices is not None:
            return value in self.choices
        if self.lower is not None and (
            value < self.lower or (not self.lower_inclusive and value == self.lower)
        ):
            return False
        return not (
            self.upper is not None
            and (value > self.upper or (not self.upper_inclusive and value == self.upper))
        )


def parameter_space(parameters_type: type[StrategyParameters]) -> list[ParameterSpec]:
    """Return one :class:`ParameterSpec` per field of ``parameters_type``, in declaration order."""
    if not (isinstance(parameters_type, type) and issubclass(parameters_type, StrategyParameters)):
        raise ConfigError(
            f"parameter_space() takes a StrategyParameters subclass, got {parameters_type!r}"
        )
    return [_spec(name, field) for name, field in parameters_type.model_fields.items()]


def _spec(name: str, field: FieldInfo) -> ParameterSpec:
    annotation = _strip_optional(field.annotation)
    integral = annotation is int
    lower: float | None = None
    upper: float | None = None
    lower_inclusive = upper_inclusive = True
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            lower = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Gt):
            lower, lower_inclusive = float(item.gt), False  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Le):
            upper = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Lt):
            upper, upper_inclusive = float(item.lt), False  # type: ignore[arg-type]
    if integral and lower is not None and not lower_inclusive:
        lower, lower_inclusive = lower + 1, True
    if integral and upper is not None and not upper_inclusive:
        upper, upper_inclusive = upper - 1, True
    return ParameterSpec(
        name=name,
        type=annotation,
        default=field.get_default(call_default_factory=True),
        lower=_integral_bound(lower) if integral else lower,
        upper=_integral_bound(upper) if integral else upper,
        choices=_choices(annotation),
        lower_inclusive=lower_inclusive,
        upper_inclusive=upper_inclusive,
        description=field.description,
    )


def _strip_optional(annotation: Any) -> Any:
    """Return ``X`` for ``X | None`` (the bounds and choices describe ``X``)."""
    if typing.get_origin(annotation) in {typing.Union, types.UnionType}:
        members = [item for item in typing.get_args(annotation) if item is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _integral_bound(bound: float | None) -> float | None:
    return None if bound is None else int(bound)


def _choices(annotation: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(annotation) is Literal:
        return tuple(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(annotation)
    if annotation is bool:
        return (False, True)
    return None


def _describe(name: str, error: PydanticValidationError) -> str:
    lines = [f"invalid {name}:"]
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "(model)"
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"  {field}: {message}")
    return "\n".join(lines)
