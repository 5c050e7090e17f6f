"""The conformance checks every indicator family runs, written once.

An :class:`IndicatorCase` describes one indicator: its batch function, streaming class, oracle,
the bar columns it reads, the parameters the fixed-size checks use, its oracle tolerance and
whether streaming must equal batch bit for bit. Each ``check_*`` function is one contract; the
family test files declare their cases and call the checks from thin parametrised tests, and
keep their family-specific tests (SAR's start rule, Aroon's ties, VWAP sessions, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from quantstrata.core.errors import ConfigError, DataError
from quantstrata.indicators.definition import IndicatorDefinition
from tests.kit.indicator_data import (
    OHLCV,
    assert_same_numbers,
    each_output,
    first_valid,
    stream_values,
)

__all__ = [
    "EXACT",
    "RELATIVE_1E9",
    "IndicatorCase",
    "Oracle",
    "Tolerance",
    "assert_outputs",
    "check_bad_parameter",
    "check_batch_matches_oracle",
    "check_declared_lookback_is_first_valid",
    "check_later_nan_is_refused",
    "check_leading_nan_is_skipped",
    "check_lookback_equals_oracle",
    "check_output_kind",
    "check_ready_flips_at",
    "check_streaming_equals_batch",
    "check_streaming_refuses_non_finite",
    "check_unequal_lengths",
    "check_warmup_makes_the_start_irrelevant",
    "ids",
    "ohlcv_from_frame",
    "raw_outputs",
    "talib_oracle",
]

Oracle = Callable[..., Any]


@dataclass(frozen=True)
class Tolerance:
    """How close two results must be: 0/0 means bit for bit.

    ``scale``, when given, multiplies ``absolute`` by a magnitude taken from the inputs (for
    outputs that cross zero, where a purely relative tolerance means nothing).
    """

    relative: float = 0.0
    absolute: float = 0.0
    scale: Callable[[Sequence[np.ndarray]], float] | None = None

    def resolve(self, inputs: Sequence[np.ndarray]) -> dict[str, float]:
        """Return the ``assert_same_numbers`` keywords for these inputs."""
        factor = self.scale(inputs) if self.scale is not None else 1.0
        return {"relative": self.relative, "absolute": self.absolute * factor}


EXACT = Tolerance()
RELATIVE_1E9 = Tolerance(relative=1e-9)


@dataclass(frozen=True)
class IndicatorCase:
    """One indicator under the shared checks.

    ``batch(*inputs, **parameters)`` and ``streaming(**parameters)`` are the two forms;
    ``oracle(*inputs, **parameters)`` is the independent reference (TA-Lib or a plain
    computation); ``inputs`` names the :class:`OHLCV` columns in the batch function's order;
    ``example`` holds the parameters of the fixed-size checks; ``tolerance`` bounds the oracle
    comparison; ``bit_identical`` says streaming must equal batch bit for bit (otherwise within
    ``tolerance``); ``nan_aware_oracle`` says the oracle also skips leading NaN, so padded input
    is compared with it too. ``at_period`` turns one drawn period into the keyword parameters (for
    the period-driven Hypothesis tests; it may pin other parameters or ignore the period).
    """

    name: str
    batch: Callable[..., Any]
    streaming: Callable[..., Any]
    inputs: tuple[str, ...]
    example: Mapping[str, Any] = field(default_factory=dict)
    oracle: Oracle | None = None
    tolerance: Tolerance = RELATIVE_1E9
    bit_identical: bool = True
    nan_aware_oracle: bool = False
    definition: IndicatorDefinition | None = None
    at_period: Callable[[int], dict[str, Any]] = field(default=lambda period: {"period": period})

    def __post_init__(self) -> None:
        """Refuse a definition that names other functions than the case."""
        if self.definition is not None:
            assert self.definition.name == self.name
            assert self.definition.batch is self.batch
            assert self.definition.streaming is self.streaming

    def columns(self, bars: OHLCV) -> list[np.ndarray]:
        """Return the case's input columns of ``bars``, in the batch function's order."""
        return [getattr(bars, name) for name in self.inputs]

    def run(self, inputs: Sequence[Any], parameters: Mapping[str, Any]) -> Any:
        """Return the batch result."""
        return self.batch(*inputs, **parameters)

    def stream(self, inputs: Sequence[np.ndarray], parameters: Mapping[str, Any]) -> Any:
        """Return the streaming results fed bar by bar, stacked like the batch result."""
        return stream_values(self.streaming(**parameters), *inputs)

    def call_oracle(self, inputs: Sequence[np.ndarray], parameters: Mapping[str, Any]) -> Any:
        """Return the oracle's result."""
        assert self.oracle is not None, f"{self.name} has no oracle"
        return self.oracle(*inputs, **parameters)

    @property
    def registered(self) -> IndicatorDefinition:
        """Return the registry definition (the case must carry one)."""
        assert self.definition is not None, f"{self.name} has no definition"
        return self.definition


def ids(cases: Sequence[IndicatorCase]) -> list[str]:
    """Return the pytest ids of ``cases``: their names."""
    return [case.name for case in cases]


def talib_oracle(function: Callable[..., Any], **names: str) -> Oracle:
    """Wrap a TA-Lib function so it takes our parameter names (mapped by ``names``)."""

    def oracle(*inputs: np.ndarray, **parameters: Any) -> Any:
        return function(*inputs, **{names[key]: value for key, value in parameters.items()})

    return oracle


def assert_outputs(ours: Any, theirs: Any, *, relative: float = 0.0, absolute: float = 0.0) -> None:
    """Compare every output of a (possibly multi-output) result, NaN-aware (0/0: bit for bit)."""
    left, right = each_output(ours), each_output(theirs)
    assert len(left) == len(right)
    for mine, other in zip(left, right, strict=True):
        assert_same_numbers(mine, other, relative=relative, absolute=absolute)


def raw_outputs(result: Any) -> list[Any]:
    """Return the outputs without converting them (to check their container kind)."""
    return list(result) if isinstance(result, tuple) else [result]


def ohlcv_from_frame(frame: pd.DataFrame) -> OHLCV:
    """Return capitalised Open/High/Low/Close/Volume frame columns as float64 OHLCV arrays."""
    columns = ("Open", "High", "Low", "Close", "Volume")
    return OHLCV(*(frame[name].to_numpy(dtype=np.float64) for name in columns))


# ------------------------------------------------------------------------------ the checks


def check_streaming_equals_batch(
    case: IndicatorCase, inputs: Sequence[np.ndarray], parameters: Mapping[str, Any]
) -> None:
    """Feed ``inputs`` bar by bar: every output equals the batch result (bit for bit)."""
    tolerance = EXACT if case.bit_identical else case.tolerance
    expected = case.run(inputs, parameters)
    assert_outputs(case.stream(inputs, parameters), expected, **tolerance.resolve(inputs))


def check_batch_matches_oracle(
    case: IndicatorCase,
    inputs: Sequence[np.ndarray],
    parameters: Mapping[str, Any],
    tolerance: Tolerance | None = None,
) -> None:
    """Compare the batch result with the oracle's, within the case's (or a given) tolerance."""
    chosen = case.tolerance if tolerance is None else tolerance
    ours = case.run(inputs, parameters)
    assert_outputs(ours, case.call_oracle(inputs, parameters), **chosen.resolve(inputs))


def check_output_kind(
    case: IndicatorCase,
    inputs: Sequence[np.ndarray],
    parameters: Mapping[str, Any],
    *,
    only_leading_nulls: bool = False,
) -> None:
    """Pandas in gives pandas out on the same index; polars in gives polars, null where NaN.

    ``only_leading_nulls``: the polars nulls are exactly the warm-up (no NaN after it).
    """
    expected = each_output(case.run(inputs, parameters))
    index = pd.RangeIndex(100, 100 + len(inputs[0]))
    names = case.inputs if len(case.inputs) == len(inputs) else _numbered(inputs)
    as_pandas = case.run(
        [pd.Series(x, index=index, name=name) for name, x in zip(names, inputs, strict=True)],
        parameters,
    )
    as_polars = case.run(
        [pl.Series(name, x) for name, x in zip(names, inputs, strict=True)], parameters
    )
    pandas_outputs, polars_outputs = raw_outputs(as_pandas), raw_outputs(as_polars)
    assert len(pandas_outputs) == len(polars_outputs) == len(expected)
    for pandas_out, polars_out, reference in zip(
        pandas_outputs, polars_outputs, expected, strict=True
    ):
        assert isinstance(pandas_out, pd.Series)
        assert list(pandas_out.index) == list(index)
        assert_same_numbers(pandas_out.to_numpy(), reference)
        assert isinstance(polars_out, pl.Series)
        nulls = polars_out.is_null().to_numpy()
        assert polars_out.null_count() == int(np.isnan(reference).sum())
        assert (nulls == np.isnan(reference)).all()
        if only_leading_nulls:
            assert polars_out.null_count() == first_valid(reference)
        assert_same_numbers(polars_out.fill_null(np.nan).to_numpy(), reference)


def _numbered(inputs: Sequence[Any]) -> list[str]:
    return [f"x{position}" for position in range(len(inputs))]


def check_leading_nan_is_skipped(
    case: IndicatorCase,
    inputs: Sequence[np.ndarray],
    parameters: Mapping[str, Any],
    pad: int = 5,
) -> None:
    """Prefix ``pad`` NaN: the output is NaN there and otherwise the unpadded one, bit for bit."""
    padded = [np.concatenate([[np.nan] * pad, x]) for x in inputs]
    shifted_result = case.run(padded, parameters)
    shifted, plain = each_output(shifted_result), each_output(case.run(inputs, parameters))
    assert len(shifted) == len(plain)
    for late, early in zip(shifted, plain, strict=True):
        assert np.isnan(late[:pad]).all()
        assert_same_numbers(late[pad:], early)
    if case.nan_aware_oracle:
        theirs = case.call_oracle(padded, parameters)
        assert_outputs(shifted_result, theirs, **case.tolerance.resolve(inputs))


def check_later_nan_is_refused(
    case: IndicatorCase,
    inputs: Sequence[np.ndarray],
    parameters: Mapping[str, Any],
    *,
    row: int,
    broken: Sequence[str],
    value: float = np.nan,
    column: str | None = None,
) -> None:
    """Put ``value`` at ``row`` of the ``broken`` inputs: a DataError names the row (and column)."""
    damaged = [x.copy() for x in inputs]
    for name in broken:
        damaged[case.inputs.index(name)][row] = value
    with pytest.raises(DataError, match="non-finite") as caught:
        case.run(damaged, parameters)
    assert caught.value.issues[0].row == row
    if column is not None:
        assert caught.value.issues[0].column == column


def check_streaming_refuses_non_finite(
    case: IndicatorCase,
    inputs: Sequence[np.ndarray],
    parameters: Mapping[str, Any],
    *,
    broken: Sequence[str],
    value: float = np.nan,
    after: int = 0,
) -> None:
    """Feed ``after`` good bars, then one with ``value`` in the ``broken`` inputs: a DataError."""
    indicator = case.streaming(**parameters)
    for position in range(after):
        indicator.update(*(float(x[position]) for x in inputs))
    bar = [float(x[after]) for x in inputs]
    for name in broken:
        bar[case.inputs.index(name)] = value
    with pytest.raises(DataError, match="non-finite"):
        indicator.update(*bar)


def check_unequal_lengths(
    case: IndicatorCase,
    inputs: Sequence[np.ndarray],
    parameters: Mapping[str, Any],
    trim: Mapping[str, int],
) -> None:
    """Drop ``trim[name]`` trailing bars of some inputs: a DataError asks for equal lengths."""
    uneven = [x[: len(x) - trim.get(name, 0)] for name, x in zip(case.inputs, inputs, strict=True)]
    assert any(len(x) != len(inputs[0]) for x in uneven)
    with pytest.raises(DataError, match="equal lengths"):
        case.run(uneven, parameters)


def check_bad_parameter(
    case: IndicatorCase,
    inputs: Sequence[Any],
    parameters: Mapping[str, Any],
    name: str,
    value: Any,
) -> None:
    """Set parameter ``name`` to ``value``: both forms raise a ConfigError naming it."""
    bad = {**parameters, name: value}
    with pytest.raises(ConfigError, match=name):
        case.run(inputs, bad)
    with pytest.raises(ConfigError, match=name):
        case.streaming(**bad)


def check_lookback_equals_oracle(
    case: IndicatorCase, inputs: Sequence[np.ndarray], parameters: Mapping[str, Any]
) -> int:
    """Assert the declared lookback is where the oracle's outputs start; return it."""
    definition = case.registered
    outputs = each_output(case.call_oracle(inputs, parameters))
    starts = [first_valid(output) for output in outputs]
    declared = definition.lookback(**definition.parameters(**parameters))
    assert declared == starts[0] == min(starts)
    assert declared == int(np.isnan(outputs[0]).sum())
    return declared


def check_ready_flips_at(
    case: IndicatorCase,
    inputs: Sequence[np.ndarray],
    parameters: Mapping[str, Any],
    lookback: int,
) -> None:
    """Feed ``inputs``: ``ready`` turns true at ``lookback`` and stays; ``value`` is the last."""
    indicator = case.streaming(**parameters)
    flags = []
    for row in zip(*inputs, strict=True):
        indicator.update(*(float(x) for x in row))
        flags.append(indicator.ready)
    assert flags.index(True) == lookback
    assert all(flags[lookback:])
    latest = [output[-1:] for output in each_output(case.run(inputs, parameters))]
    assert_outputs(tuple(np.atleast_1d(v) for v in each_output(indicator.value)), tuple(latest))


def check_declared_lookback_is_first_valid(
    case: IndicatorCase, inputs: Sequence[np.ndarray], *, aligned: bool = True
) -> None:
    """With the default parameters, the first output starts at the declared lookback.

    ``aligned``: every output starts there (else no later). Streaming gives the same numbers.
    """
    definition = case.registered
    parameters = definition.parameters()
    result = case.run(inputs, parameters)
    outputs = each_output(result)
    assert len(outputs) == len(definition.outputs)
    lookback = definition.lookback(**parameters)
    assert first_valid(outputs[0]) == lookback
    assert all(first_valid(output) <= lookback for output in outputs)
    if aligned:
        assert all(first_valid(output) == lookback for output in outputs)
    assert_outputs(case.stream(inputs, parameters), result)


def check_warmup_makes_the_start_irrelevant(
    case: IndicatorCase,
    inputs: Sequence[np.ndarray],
    parameters: Mapping[str, Any],
    *,
    cut: int,
    relative: float = 1e-5,
    absolute: float = 0.0,
    beyond_lookback: bool = True,
) -> None:
    """Start ``cut`` bars late: after the declared warm-up both runs agree to the tolerance."""
    definition = case.registered
    warmup = definition.warmup(**parameters)
    if beyond_lookback:
        assert warmup > definition.lookback(**definition.parameters(**parameters))
    assert len(inputs[0]) >= cut + warmup + 100
    full = each_output(case.run(inputs, parameters))
    late = each_output(case.run([x[cut:] for x in inputs], parameters))
    assert len(full) == len(late)
    for whole, started_late in zip(full, late, strict=True):
        np.testing.assert_allclose(
            started_late[warmup:], whole[cut:][warmup:], rtol=relative, atol=absolute
        )
