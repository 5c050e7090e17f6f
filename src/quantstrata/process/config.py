"""Settings of bar validation: what to do with bad rows and with missing bars.

:class:`ValidationConfig` gathers the keyword arguments of
:func:`~quantstrata.process.validate.validate_bars`, so a validation setup can live in a TOML
file (``load_config(path, ValidationConfig, section="validation")``) and be applied with
``validate_bars(frame, **config.model_dump())``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from quantstrata.core.config import FrozenConfig
from quantstrata.model.interval import Interval

__all__ = ["GapPolicy", "ValidationConfig", "ValidationPolicy"]


class ValidationPolicy(StrEnum):
    """What validation does with rows that fail a check.

    ``raise``: raise :class:`~quantstrata.core.errors.BarValidationError` listing every issue.
    ``drop``: remove every row with an issue and keep the rest.
    ``repair``: fix what has one well-defined fix (sort out-of-order rows within their symbol,
    drop the extra copies of exactly duplicated rows, widen high/low to include open and close)
    and drop what has none (missing or non-finite values, non-positive prices, duplicates that
    disagree).
    """

    RAISE = "raise"
    DROP = "drop"
    REPAIR = "repair"


class GapPolicy(StrEnum):
    """How missing bars and bars outside the expected grid count.

    ``report`` (default): listed in the report, never an error — missing bars are not wrong bars.
    ``error``: they count as issues too, so the ``raise`` policy raises on them and the ``drop``
    policy drops bars outside the expected grid.
    """

    REPORT = "report"
    ERROR = "error"


class ValidationConfig(FrozenConfig):
    """Every setting of :func:`~quantstrata.process.validate.validate_bars`."""

    policy: ValidationPolicy = ValidationPolicy.RAISE
    calendar: str | None = Field(
        default=None,
        description="exchange-calendars code such as XNYS or 24/5; None for a 24/7 market",
    )
    interval: str | None = Field(
        default=None, description="bar interval such as 1m or 1d; None to infer it from the data"
    )
    check_gaps: bool = True
    gaps: GapPolicy = GapPolicy.REPORT

    @field_validator("interval", mode="before")
    @classmethod
    def _canonical_interval(cls, value: object) -> object:
        """Store the interval in its canonical spelling, refusing one that cannot be read."""
        if value is None:
            return None
        if isinstance(value, Interval | str):
            return str(Interval.parse(value))
        return value

    @property
    def parsed_interval(self) -> Interval | None:
        """The interval as an :class:`Interval`, or ``None`` when it is to be inferred."""
        return None if self.interval is None else Interval.parse(self.interval)
