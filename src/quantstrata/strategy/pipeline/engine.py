"""The pipeline: terms evaluated over a universe, weights decided on a rebalance schedule.

>>> pipeline = Pipeline(
...     weights=equal_weight(momentum(126, 21).top(50, mask=latest("close") > 5.0)),
...     universe=average_dollar_volume(20).top(300),
...     config=PipelineConfig(rebalance="month_end", calendar="XNYS"),
... )
>>> pipeline.run(bars)          # every term and the weight at every (ts, symbol) row
>>> pipeline.rebalances(bars)   # the weights decided at each rebalance time

A :class:`PipelineStrategy` is a normal :class:`~quantstrata.strategy.signal.SignalStrategy`
whose targets are the pipeline's weights at rebalance times and null (keep the previous target)
between them, so the backtester and the live runtime run it unchanged. Its weights at a
rebalance time use only bars at or before that time: time-series steps look back per symbol,
cross-sectional steps compare the symbols with a bar at that time, and the schedule never reads
later bars.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import polars as pl

from quantstrata.core.errors import ConfigError, SchemaError
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.strategy.pipeline.config import PipelineConfig
from quantstrata.strategy.pipeline.schedule import rebalance_times
from quantstrata.strategy.pipeline.terms import Factor, Filter, Term
from quantstrata.strategy.signal import SignalStrategy

__all__ = ["Pipeline", "PipelineStrategy"]

_UNIVERSE = "__pipeline_universe__"
_RESERVED = frozenset({"ts", "symbol", "in_universe", "weight", "rebalance"})


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Terms to compute over many symbols and the weights they decide.

    ``weights`` is a factor of target fractions of equity (see :mod:`.weights`); ``universe``
    an optional filter of the symbols in play at each ``ts`` (every cross-sectional step and the
    weights see only those; others get weight 0); ``columns`` extra named terms to show in
    :meth:`run`; ``config`` the rebalance schedule.
    """

    weights: Factor
    universe: Filter | None = None
    columns: Mapping[str, Term] = field(default_factory=dict)
    config: PipelineConfig = field(default_factory=PipelineConfig)

    def __post_init__(self) -> None:
        """Check the terms' kinds and the column names now, not at evaluation."""
        if not isinstance(self.weights, Factor):
            raise ConfigError(f"weights must be a Factor, got {type(self.weights).__name__}")
        if self.universe is not None and not isinstance(self.universe, Filter):
            raise ConfigError(f"universe must be a Filter, got {type(self.universe).__name__}")
        if not isinstance(self.config, PipelineConfig):
            raise ConfigError(f"config must be a PipelineConfig, got {type(self.config).__name__}")
        for name, term in self.columns.items():
            if not isinstance(term, Term):
                raise ConfigError(f"column {name!r} is not a pipeline term: {term!r}")
            if name in _RESERVED or name.startswith("__pipeline"):
                raise ConfigError(f"column name {name!r} is reserved")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    @property
    def lookback(self) -> int:
        """The bars of history before the weights are start-independent (the warm-up)."""
        terms = [self.weights, *self.columns.values()]
        if self.universe is not None:
            terms.append(self.universe)
        return max(term.lookback for term in terms)

    def run(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return all rows of ``bars`` with the columns, ``in_universe``, ``weight``, ``rebalance``.

        Rows are sorted by ``ts`` then ``symbol``; ``weight`` is the weight the row would get if
        its ``ts`` were a rebalance time, ``rebalance`` says whether it is.
        """
        frame = _prepared(bars)
        named: dict[str, Term] = {**self.columns, "weight": self.weights}
        evaluated = _evaluate(frame, named, self.universe)
        times = rebalance_times(frame.get_column("ts"), self.config)
        return evaluated.select(
            "ts",
            "symbol",
            *self.columns,
            in_universe=pl.col(_UNIVERSE),
            weight=pl.when(pl.col(_UNIVERSE)).then(pl.col("weight").fill_null(0.0)).otherwise(0.0),
            rebalance=pl.col("ts").is_in(times.implode()),
        )

    def rebalances(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return ``ts, symbol, weight`` at every rebalance time, for every symbol with a bar."""
        return self.run(bars).filter("rebalance").select("ts", "symbol", "weight")

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return ``ts, symbol, target``: the weight at rebalance rows, null between them."""
        table = self.run(bars)
        return table.select(
            "ts", "symbol", target=pl.when("rebalance").then("weight").otherwise(None)
        )


class PipelineStrategy(SignalStrategy):
    """A signal strategy whose targets are a :class:`Pipeline`'s weights.

    Subclasses declare ``Parameters`` and implement :meth:`pipeline`, building the pipeline
    from them. Targets are fractions of equity decided at rebalance times and held between
    them (a null target keeps the previous one); the warm-up is the pipeline's lookback.
    """

    @abstractmethod
    def pipeline(self) -> Pipeline:
        """Return the pipeline this strategy trades (built from its parameters)."""

    def warmup_bars(self) -> int:
        """Return the pipeline's lookback: the bars before its weights are start-independent."""
        return self.pipeline().lookback

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return the pipeline's weights at rebalance times and null between them."""
        return self.pipeline().targets(bars)


def _prepared(bars: pl.DataFrame) -> pl.DataFrame:
    """Return ``bars`` sorted by ``ts`` then ``symbol`` with a UTC nanosecond ``ts``."""
    if not isinstance(bars, pl.DataFrame):
        raise SchemaError(f"bars must be a Polars DataFrame, got {type(bars).__name__}")
    missing = [name for name in ("ts", "symbol") if name not in bars.columns]
    if missing:
        raise SchemaError(f"bars lack column(s) {missing}; they have {bars.columns}")
    return bars.with_columns(pl.col("ts").cast(TIMESTAMP_DTYPE)).sort(
        "ts", "symbol", maintain_order=True
    )


def _evaluate(
    frame: pl.DataFrame, named: Mapping[str, Term], universe: Filter | None
) -> pl.DataFrame:
    """Return ``frame`` with the universe column and one column per named term.

    Terms are computed once each, deepest first; the steps at one depth are added in a single
    ``with_columns`` so Polars runs them together.
    """
    columns: dict[int, str] = {}
    if universe is None:
        frame = frame.with_columns(pl.lit(value=True).alias(_UNIVERSE))
    else:
        frame = _add_terms(frame, [universe], columns, pl.lit(value=True))
        frame = frame.with_columns(pl.col(columns[id(universe)]).alias(_UNIVERSE))
    frame = _add_terms(frame, list(named.values()), columns, pl.col(_UNIVERSE))
    return frame.with_columns(pl.col(columns[id(term)]).alias(name) for name, term in named.items())


def _add_terms(
    frame: pl.DataFrame, roots: list[Term], columns: dict[int, str], universe: pl.Expr
) -> pl.DataFrame:
    """Add the columns of ``roots`` and everything they need that ``columns`` lacks."""
    levels: dict[int, list[Term]] = {}
    depth: dict[int, int] = {}

    def visit(term: Term) -> int:
        key = id(term)
        if key in columns:
            return -1
        if key not in depth:
            depth[key] = 1 + max((visit(item) for item in term.inputs), default=-1)
            levels.setdefault(depth[key], []).append(term)
        return depth[key]

    for root in roots:
        visit(root)
    for level in sorted(levels):
        additions: list[pl.Expr | pl.Series] = []
        for term in levels[level]:
            name = f"__pipeline_{len(columns)}__"
            columns[id(term)] = name
            computed = term.compute(frame)
            if computed is not None:
                additions.append(computed.alias(name))
                continue
            inputs = [pl.col(columns[id(item)]) for item in term.inputs]
            additions.append(term.expression(inputs, universe).alias(name))
        frame = _with_columns(frame, additions)
    return frame


def _with_columns(frame: pl.DataFrame, additions: list[pl.Expr | pl.Series]) -> pl.DataFrame:
    """Add ``additions``; a missing bar column becomes a :class:`SchemaError`."""
    try:
        return frame.with_columns(additions)
    except pl.exceptions.ColumnNotFoundError as error:
        raise SchemaError(f"a pipeline term needs a column the bars lack: {error}") from None
