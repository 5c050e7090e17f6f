"""Pipeline terms: a value for every ``(ts, symbol)`` row of a long bar frame, as an expression.

A term is a recipe, not data: :class:`Factor` (numbers), :class:`Filter` (booleans) and
:class:`Classifier` (group labels) are built from bar columns and from each other, and a
:class:`~quantstrata.strategy.pipeline.engine.Pipeline` evaluates them with Polars. Two kinds of
step exist and neither can see the future:

* **time-series** steps (returns, rolling means, indicators) run per symbol over that symbol's
  bars up to each row (``over("symbol")`` on a frame sorted by time);
* **cross-sectional** steps (:meth:`Factor.rank`, :meth:`Factor.zscore`, :meth:`Factor.demean`,
  :meth:`Factor.quantiles`, :meth:`Factor.top`, :meth:`Factor.bottom`) compare the symbols that
  have a bar at the same ``ts`` (``over("ts")``), restricted to the pipeline's universe and to
  an optional ``mask`` filter; a row outside them gets null (a filter: False).

Every term knows its ``lookback``: the bars of history before its first start-independent
value, which is what a live runner must hold (the strategy's warm-up).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from quantstrata.core.errors import ConfigError

__all__ = ["Classifier", "Factor", "Filter", "Term"]

Build = Callable[[Sequence[pl.Expr], pl.Expr], pl.Expr]
"""Build a term's expression from its inputs' columns and the universe's boolean column."""
SeriesBuild = Callable[[pl.DataFrame], pl.Series]
"""Compute a term's values from the whole (time-sorted) frame, one per row, in row order."""

_TIME = "ts"


class Term:
    """A value per row of the pipeline frame: a Polars expression over its inputs' columns.

    Build terms with the functions of :mod:`.factors`, :mod:`.filters`, :mod:`.classifiers`
    and :mod:`.weights`, or with this class's operators and methods; ``label`` names the term
    in errors and in :meth:`Pipeline.run` output.
    """

    __slots__ = ("_build", "_compute", "inputs", "label", "lookback")

    def __init__(
        self,
        build: Build | None,
        inputs: Sequence[Term] = (),
        *,
        lookback: int = 0,
        label: str = "term",
        compute: SeriesBuild | None = None,
    ) -> None:
        """Keep the recipe; ``lookback`` is this step's own window (inputs' are added)."""
        if (build is None) == (compute is None):
            raise ConfigError(f"term {label!r} needs exactly one of build and compute")
        if lookback < 0:
            raise ConfigError(f"term {label!r}: lookback must be >= 0, got {lookback}")
        for item in inputs:
            if not isinstance(item, Term):
                raise ConfigError(f"term {label!r}: input {item!r} is not a pipeline term")
        self._build = build
        self._compute = compute
        self.inputs: tuple[Term, ...] = tuple(inputs)
        self.label = label
        self.lookback: int = lookback + max((item.lookback for item in self.inputs), default=0)

    def expression(self, inputs: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
        """Return this term's expression given its inputs' columns and the universe column."""
        if self._build is None:
            raise ConfigError(f"term {self.label!r} is computed from the frame, not an expression")
        return self._build(inputs, universe)

    def compute(self, frame: pl.DataFrame) -> pl.Series | None:
        """Return the term's values computed from the whole frame, or ``None`` for expressions."""
        return None if self._compute is None else self._compute(frame)

    def __repr__(self) -> str:
        """Show the kind, label and lookback."""
        return f"{type(self).__name__}({self.label!r}, lookback={self.lookback})"


def _masked(value: pl.Expr, universe: pl.Expr, mask: pl.Expr | None) -> pl.Expr:
    """Return ``value`` where the row is in the universe (and the mask), else null."""
    keep = universe if mask is None else universe & mask
    return pl.when(keep).then(value).otherwise(None)


def _keys(group: pl.Expr | None) -> list[pl.Expr]:
    return [pl.col(_TIME)] if group is None else [pl.col(_TIME), group]


def _cross_inputs(
    values: Term, mask: Filter | None, groupby: Classifier | None
) -> tuple[list[Term], Callable[[Sequence[pl.Expr]], tuple[pl.Expr | None, pl.Expr | None]]]:
    """Return the inputs of a cross-sectional step and a reader of its mask and group columns."""
    if mask is not None and not isinstance(mask, Filter):
        raise ConfigError(f"mask must be a Filter, got {type(mask).__name__}")
    if groupby is not None and not isinstance(groupby, Classifier):
        raise ConfigError(f"groupby must be a Classifier, got {type(groupby).__name__}")
    inputs: list[Term] = [values]
    if mask is not None:
        inputs.append(mask)
    if groupby is not None:
        inputs.append(groupby)

    def read(columns: Sequence[pl.Expr]) -> tuple[pl.Expr | None, pl.Expr | None]:
        rest = list(columns[1:])
        chosen_mask = rest.pop(0) if mask is not None else None
        group = rest.pop(0) if groupby is not None else None
        return chosen_mask, group

    return inputs, read


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


class Factor(Term):
    """A numeric term: a score per ``(ts, symbol)``; null means no value."""

    __slots__ = ()

    def _binary(self, other: Factor | float, apply: Callable[[Any, Any], Any], sign: str) -> Factor:
        if isinstance(other, Term):
            if not isinstance(other, Factor):
                raise ConfigError(f"cannot combine a factor with a {type(other).__name__}")
            return Factor(
                lambda columns, _universe: apply(columns[0], columns[1]),
                (self, other),
                label=f"({self.label} {sign} {other.label})",
            )
        constant = float(other)
        return Factor(
            lambda columns, _universe: apply(columns[0], pl.lit(constant)),
            (self,),
            label=f"({self.label} {sign} {constant:g})",
        )

    def _reflected(self, other: float, apply: Callable[[Any, Any], Any], sign: str) -> Factor:
        constant = float(other)
        return Factor(
            lambda columns, _universe: apply(pl.lit(constant), columns[0]),
            (self,),
            label=f"({constant:g} {sign} {self.label})",
        )

    def __add__(self, other: Factor | float) -> Factor:
        """Add a factor or a number, row by row."""
        return self._binary(other, operator.add, "+")

    def __radd__(self, other: float) -> Factor:
        """Add to a number, row by row."""
        return self._reflected(other, operator.add, "+")

    def __sub__(self, other: Factor | float) -> Factor:
        """Subtract a factor or a number, row by row."""
        return self._binary(other, operator.sub, "-")

    def __rsub__(self, other: float) -> Factor:
        """Subtract from a number, row by row."""
        return self._reflected(other, operator.sub, "-")

    def __mul__(self, other: Factor | float) -> Factor:
        """Multiply by a factor or a number, row by row."""
        return self._binary(other, operator.mul, "*")

    def __rmul__(self, other: float) -> Factor:
        """Multiply a number, row by row."""
        return self._reflected(other, operator.mul, "*")

    def __truediv__(self, other: Factor | float) -> Factor:
        """Divide by a factor or a number, row by row (a zero divisor gives null)."""
        return self._safe(self._binary(other, operator.truediv, "/"))

    def __neg__(self) -> Factor:
        """Negate, row by row."""
        return Factor(lambda columns, _universe: -columns[0], (self,), label=f"-{self.label}")

    def _safe(self, factor: Factor) -> Factor:
        """Return ``factor`` with infinities and NaN turned into null."""
        return Factor(lambda columns, _universe: _finite(columns[0]), (factor,), label=factor.label)

    def _compare(
        self, other: Factor | float, apply: Callable[[Any, Any], Any], sign: str
    ) -> Filter:
        combined = self._binary(other, apply, sign)
        return Filter(
            lambda columns, _universe: columns[0].fill_null(value=False),
            (combined,),
            label=combined.label,
        )

    def __lt__(self, other: Factor | float) -> Filter:
        """Return the filter ``self < other`` (null compares False)."""
        return self._compare(other, operator.lt, "<")

    def __le__(self, other: Factor | float) -> Filter:
        """Return the filter ``self <= other`` (null compares False)."""
        return self._compare(other, operator.le, "<=")

    def __gt__(self, other: Factor | float) -> Filter:
        """Return the filter ``self > other`` (null compares False)."""
        return self._compare(other, operator.gt, ">")

    def __ge__(self, other: Factor | float) -> Filter:
        """Return the filter ``self >= other`` (null compares False)."""
        return self._compare(other, operator.ge, ">=")

    def abs(self) -> Factor:
        """Return the absolute value, row by row."""
        return Factor(lambda columns, _universe: columns[0].abs(), (self,), label=f"|{self.label}|")

    def log(self) -> Factor:
        """Return the natural logarithm, row by row (non-positive values give null)."""
        return Factor(
            lambda columns, _universe: _finite(
                pl.when(columns[0] > 0.0).then(columns[0].log()).otherwise(None)
            ),
            (self,),
            label=f"log({self.label})",
        )

    def fill_null(self, value: float) -> Factor:
        """Return the factor with null replaced by ``value``."""
        constant = float(value)
        return Factor(
            lambda columns, _universe: columns[0].fill_null(constant),
            (self,),
            label=self.label,
        )

    def where(self, condition: Filter) -> Factor:
        """Return the factor where ``condition`` holds, null elsewhere."""
        if not isinstance(condition, Filter):
            raise ConfigError(f"where() takes a Filter, got {type(condition).__name__}")
        return Factor(
            lambda columns, _universe: pl.when(columns[1]).then(columns[0]).otherwise(None),
            (self, condition),
            label=f"{self.label} where {condition.label}",
        )

    def rank(
        self,
        *,
        ascending: bool = True,
        mask: Filter | None = None,
        groupby: Classifier | None = None,
    ) -> Factor:
        """Return each row's rank among the symbols at the same ``ts`` (1 = lowest by default).

        Ties share their average rank, as :meth:`pandas.Series.rank` does; null values, rows
        outside the universe or ``mask`` get null; ``groupby`` ranks within each group.
        """
        inputs, read = _cross_inputs(self, mask, groupby)

        def build(columns: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
            chosen, group = read(columns)
            value = _masked(columns[0], universe, chosen)
            ranked = value.rank("average", descending=not ascending).cast(pl.Float64)
            return ranked.over(_keys(group))

        return Factor(build, inputs, label=f"rank({self.label})")

    def demean(self, *, mask: Filter | None = None, groupby: Classifier | None = None) -> Factor:
        """Return the value minus the mean of the symbols at the same ``ts`` (and group)."""
        inputs, read = _cross_inputs(self, mask, groupby)

        def build(columns: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
            chosen, group = read(columns)
            value = _masked(columns[0], universe, chosen)
            return (value - value.mean()).over(_keys(group))

        return Factor(build, inputs, label=f"demean({self.label})")

    def zscore(self, *, mask: Filter | None = None, groupby: Classifier | None = None) -> Factor:
        """Return ``(value - mean) / std`` across the symbols at the same ``ts`` (and group).

        The standard deviation is the population one (``ddof=0``), as zipline's ``zscore``; a
        cross-section with no spread gives null.
        """
        inputs, read = _cross_inputs(self, mask, groupby)

        def build(columns: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
            chosen, group = read(columns)
            value = _masked(columns[0], universe, chosen)
            spread = value.std(ddof=0)
            score = pl.when(spread > 0.0).then((value - value.mean()) / spread).otherwise(None)
            return score.over(_keys(group))

        return Factor(build, inputs, label=f"zscore({self.label})")

    def quantiles(
        self, bins: int, *, mask: Filter | None = None, groupby: Classifier | None = None
    ) -> Classifier:
        """Return each row's quantile bucket, 0 (lowest) to ``bins - 1``, at the same ``ts``.

        Rows are ordered by value (ties by symbol) and the ``n`` valued rows cut into ``bins``
        buckets of (nearly) equal size: the row of 1-based order ``k`` is in bucket
        ``floor((k - 1) * bins / n)``.
        """
        _positive(bins, "bins")
        inputs, read = _cross_inputs(self, mask, groupby)

        def build(columns: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
            chosen, group = read(columns)
            value = _masked(columns[0], universe, chosen)
            order = value.rank("ordinal").cast(pl.Int64)
            return ((order - 1) * bins // value.count()).over(_keys(group))

        return Classifier(build, inputs, label=f"quantiles({self.label}, {bins})")

    def top(
        self, count: int, *, mask: Filter | None = None, groupby: Classifier | None = None
    ) -> Filter:
        """Return the filter "among the ``count`` highest values at this ``ts``" (ties: symbol)."""
        return self._extreme(count, mask, groupby, descending=True)

    def bottom(
        self, count: int, *, mask: Filter | None = None, groupby: Classifier | None = None
    ) -> Filter:
        """Return the filter "among the ``count`` lowest values at this ``ts``" (ties: symbol)."""
        return self._extreme(count, mask, groupby, descending=False)

    def _extreme(
        self, count: int, mask: Filter | None, groupby: Classifier | None, *, descending: bool
    ) -> Filter:
        _positive(count, "count")
        inputs, read = _cross_inputs(self, mask, groupby)

        def build(columns: Sequence[pl.Expr], universe: pl.Expr) -> pl.Expr:
            chosen, group = read(columns)
            value = _masked(columns[0], universe, chosen)
            order = value.rank("ordinal", descending=descending)
            return (order <= count).fill_null(value=False).over(_keys(group))

        word = "top" if descending else "bottom"
        return Filter(build, inputs, label=f"{word}({self.label}, {count})")


class Filter(Term):
    """A boolean term: whether a row passes; null counts as False."""

    __slots__ = ()

    def _logic(self, other: Filter, apply: Callable[[Any, Any], Any], sign: str) -> Filter:
        if not isinstance(other, Filter):
            raise ConfigError(f"a filter combines with a Filter, got {type(other).__name__}")
        return Filter(
            lambda columns, _universe: apply(columns[0], columns[1]),
            (self, other),
            label=f"({self.label} {sign} {other.label})",
        )

    def __and__(self, other: Filter) -> Filter:
        """Return the filter passing rows both pass."""
        return self._logic(other, operator.and_, "&")

    def __or__(self, other: Filter) -> Filter:
        """Return the filter passing rows either passes."""
        return self._logic(other, operator.or_, "|")

    def __invert__(self) -> Filter:
        """Return the filter passing the rows this one does not."""
        return Filter(lambda columns, _universe: ~columns[0], (self,), label=f"~{self.label}")

    def as_factor(self) -> Factor:
        """Return 1.0 where the filter passes, 0.0 elsewhere."""
        return Factor(
            lambda columns, _universe: columns[0].cast(pl.Float64),
            (self,),
            label=f"float({self.label})",
        )


class Classifier(Term):
    """A label term: the group of each row (an integer or a string); null means no group."""

    __slots__ = ()

    def eq(self, label: int | str) -> Filter:
        """Return the filter "this row's group is ``label``"."""
        return Filter(
            lambda columns, _universe: (columns[0] == label).fill_null(value=False),
            (self,),
            label=f"({self.label} == {label!r})",
        )

    def isin(self, labels: Sequence[int | str]) -> Filter:
        """Return the filter "this row's group is one of ``labels``"."""
        chosen = list(labels)
        return Filter(
            lambda columns, _universe: columns[0].is_in(chosen).fill_null(value=False),
            (self,),
            label=f"({self.label} in {chosen!r})",
        )


def _finite(value: pl.Expr) -> pl.Expr:
    """Return ``value`` with NaN and infinities as null."""
    return pl.when(value.is_finite()).then(value).otherwise(None)
