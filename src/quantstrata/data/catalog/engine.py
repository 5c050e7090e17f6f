"""The local bar catalog: a hive-partitioned Parquet dataset read lazily with Polars.

Layout (see :mod:`quantstrata.data.catalog._layout` for the period rule)::

    <root>/interval=1m/symbol=BTC%2FUSDT/2024-03.parquet
    <root>/interval=1d/symbol=SPX/2010s.parquet

Files hold ``ts``, ``open``, ``high``, ``low``, ``close``, ``volume`` and any extra float columns,
sorted by ``ts``; ``interval`` and ``symbol`` come from the path only. DuckDB reads the same files
with ``read_parquet('<root>/interval=1d/*/*.parquet', hive_partitioning=true)`` (add
``union_by_name=true`` when some files carry extra columns that others lack).

Files cover one period each, chosen by the interval: seconds → a UTC day (``2024-03-15``),
minutes → a month (``2024-03``), hours → a year (``2024``), days and longer → a decade
(``2020s``). Reads skip files whose period lies outside the requested time range.

Writes are atomic per file (temporary file, then rename) and de-duplicate on ``(symbol, ts)``.
One process should write to a catalog at a time: there is no cross-process lock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from quantstrata.core.clock import datetime_from_ns, ns_from_datetime, utc_bound
from quantstrata.core.errors import (
    CatalogConflictError,
    ConfigError,
    DataIssue,
    SchemaError,
    UnknownSymbolError,
)
from quantstrata.core.secrets import redact
from quantstrata.data._notebook import catalog_html, plot_coverage
from quantstrata.data.catalog import _layout as layout
from quantstrata.data.catalog._frames import (
    canonical_order,
    check_bar_frame,
    empty_bars,
    sort_and_deduplicate,
    timestamp_literal,
    validate_rows,
)
from quantstrata.data.catalog._merge import (
    ROW_COLUMN,
    MergeResult,
    OnConflict,
    conflict_issues,
    merge_period,
)
from quantstrata.data.catalog._storage import Storage
from quantstrata.data.catalog.config import CatalogConfig
from quantstrata.model.bar import TIMESTAMP_DTYPE
from quantstrata.model.instrument import Instrument
from quantstrata.model.interval import Interval
from quantstrata.process.continuous import ContinuousFutures, RollRule, continuous_futures

__all__ = ["Catalog", "OnConflict", "WriteSummary"]

_DESCRIBE_SCHEMA = {
    "interval": pl.String(),
    "symbol": pl.String(),
    "rows": pl.Int64(),
    "first": TIMESTAMP_DTYPE,
    "last": TIMESTAMP_DTYPE,
    "files": pl.Int64(),
    "bytes": pl.Int64(),
}


@dataclass(frozen=True, slots=True)
class WriteSummary:
    """What one :meth:`Catalog.write` did.

    ``rows_written`` counts input rows now stored (new bars, plus replaced ones under
    ``on_conflict="overwrite"``); ``rows_skipped_duplicate`` counts input rows identical to a
    stored bar or to an earlier input row; ``rows_conflicting`` counts input rows that had the
    ``(symbol, ts)`` of a stored bar with other values (resolved by ``on_conflict``).
    """

    rows_written: int
    rows_skipped_duplicate: int
    files_written: int
    symbols: tuple[str, ...]
    rows_conflicting: int = 0

    def __post_init__(self) -> None:
        """Refuse negative counts."""
        for name in ("rows_written", "rows_skipped_duplicate", "files_written", "rows_conflicting"):
            if getattr(self, name) < 0:
                raise ConfigError(f"WriteSummary.{name} cannot be negative")


@dataclass(frozen=True, slots=True)
class _PlannedFile:
    path: str
    symbol: str
    result: MergeResult


@dataclass(slots=True)
class _WritePlan:
    files: list[_PlannedFile] = field(default_factory=list)
    skipped_in_input: int = 0


class Catalog:
    """Bars on disk (or object storage), partitioned by interval and symbol.

    ``root`` is a local path or any fsspec URL (``memory://demo``, ``s3://bucket/bars``); ``None``
    means ``$QUANTSTRATA_CATALOG`` or, when that is unset, ``catalog`` under the user data
    directory. ``storage_options`` go to fsspec (credentials, endpoints) and never appear in reprs.
    """

    def __init__(
        self, root: str | Path | None = None, *, storage_options: Mapping[str, Any] | None = None
    ) -> None:
        """Open (without touching storage) the catalog at ``root``."""
        self.config = CatalogConfig.resolve(root, storage_options)
        self._storage = Storage(self.config.root, self.config.storage_options)

    @classmethod
    def from_config(cls, config: CatalogConfig) -> Catalog:
        """Open the catalog a :class:`CatalogConfig` describes."""
        return cls(config.root, storage_options=config.storage_options)

    @property
    def root(self) -> str:
        """The root as given (path or URL)."""
        return self.config.root

    def __repr__(self) -> str:
        """Show the root only; storage options may hold credentials."""
        return f"Catalog(root={redact(self.config.root)!r})"

    def _repr_html_(self) -> str:
        """Show the root and what is stored (from Parquet footers; no bar is read)."""
        return catalog_html(redact(self.config.root), self.describe())

    def plot(self) -> Any:
        """Return a Plotly timeline of what is stored: one bar per (interval, symbol)."""
        return plot_coverage(self.describe())

    def write(
        self,
        bars: pl.DataFrame,
        *,
        interval: str | Interval,
        on_conflict: str | OnConflict = OnConflict.RAISE,
    ) -> WriteSummary:
        """Store canonical ``bars`` of one ``interval``, merging with what is already stored.

        Rows identical to stored ones are skipped. A row with the ``(symbol, ts)`` of a stored bar
        but other values is a conflict: ``"raise"`` raises :class:`CatalogConflictError` naming
        each one (and writes nothing), ``"overwrite"`` stores the new bar, ``"keep"`` keeps the
        stored one. Every file is replaced atomically.
        """
        step = Interval.parse(interval)
        policy = _on_conflict(on_conflict)
        frame = check_bar_frame(bars).with_row_index(ROW_COLUMN)
        ordered, repeated = sort_and_deduplicate(frame, ROW_COLUMN)
        validate_rows(ordered, ROW_COLUMN)
        plan = self._plan(ordered, step, policy)
        plan.skipped_in_input = repeated
        return self._commit(plan, policy)

    def _plan(self, frame: pl.DataFrame, interval: Interval, policy: OnConflict) -> _WritePlan:
        period = layout.period_for(interval)
        plan = _WritePlan()
        for symbol, stem, group in _period_runs(frame, period):
            path = self._file_path(interval, symbol, layout.file_name(stem))
            stored = self._storage.read_frame(path) if self._storage.exists(path) else None
            result = merge_period(stored, group.drop("symbol"), policy)
            plan.files.append(_PlannedFile(path, symbol, result))
        return plan

    def _commit(self, plan: _WritePlan, policy: OnConflict) -> WriteSummary:
        conflicting = [item for item in plan.files if item.result.conflicts.height > 0]
        if conflicting and policy is OnConflict.RAISE:
            issues = [
                issue
                for item in conflicting
                for issue in conflict_issues(item.result.conflicts, item.symbol)
            ]
            total = sum(item.result.conflicts.height for item in conflicting)
            raise CatalogConflictError(
                f"{total} bar(s) differ from stored bars with the same (symbol, ts); nothing was "
                "written. Pass on_conflict='overwrite' to replace them or 'keep' to skip them",
                tuple(issues),
            )
        written = [
            (item.path, item.result.frame) for item in plan.files if item.result.frame is not None
        ]
        self._storage.replace_many(written)
        return WriteSummary(
            rows_written=sum(item.result.rows_written for item in plan.files),
            rows_skipped_duplicate=plan.skipped_in_input
            + sum(item.result.rows_skipped_duplicate for item in plan.files),
            files_written=len(written),
            symbols=tuple(sorted({item.symbol for item in plan.files})),
            rows_conflicting=sum(item.result.conflicts.height for item in plan.files),
        )

    def scan(
        self,
        symbols: str | Iterable[str] | None = None,
        *,
        interval: str | Interval,
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
        columns: Iterable[str] | None = None,
    ) -> pl.LazyFrame:
        """Return stored bars lazily, sorted by ``(symbol, ts)``, in canonical column order.

        ``symbols`` is one symbol, several, or ``None`` for all of the interval. The time range is
        half-open, ``start <= ts < end``; dates mean 00:00 UTC. Files whose period lies outside
        the range are never opened, and the time filter is pushed into the Parquet reader.
        ``columns`` picks value columns; ``ts`` and ``symbol`` are always returned.
        Local files are scanned in place; on other filesystems the selected files are fetched
        when ``scan`` is called and the query then runs lazily on those bytes.
        """
        step = Interval.parse(interval)
        stored = self._files_of(symbols, step)
        lower, upper = utc_bound(start, "start"), utc_bound(end, "end")
        files = [
            (symbol, path)
            for symbol, entries in sorted(stored.items())
            for path in _selected_paths(step, entries, lower=lower, upper=upper)
        ]
        lazy = _scan_all(self._storage, files) if files else empty_bars().lazy()
        if lower is not None:
            lazy = lazy.filter(pl.col("ts") >= timestamp_literal(lower))
        if upper is not None:
            lazy = lazy.filter(pl.col("ts") < timestamp_literal(upper))
        return lazy.select(_select_columns(lazy, columns))

    def read(
        self,
        symbols: str | Iterable[str] | None = None,
        *,
        interval: str | Interval,
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
        columns: Iterable[str] | None = None,
    ) -> pl.DataFrame:
        """Return stored bars as a DataFrame; see :meth:`scan` for the arguments."""
        return self.scan(
            symbols, interval=interval, start=start, end=end, columns=columns
        ).collect()

    def continuous(
        self,
        chain: Iterable[Instrument],
        *,
        interval: str | Interval,
        rule: RollRule | None = None,
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
    ) -> ContinuousFutures:
        """Return the continuous futures series of ``chain`` from its stored contracts.

        Reads each contract's bars (an unknown contract raises :class:`UnknownSymbolError`
        naming it) and stitches them by
        :func:`~quantstrata.process.continuous.continuous_futures` with ``rule``.
        """
        contracts = list(chain)
        symbols = [contract.symbol for contract in contracts]
        bars = self.read(symbols, interval=interval, start=start, end=end)
        return continuous_futures(bars, contracts, rule)

    def periods(
        self, symbols: str | Iterable[str] | None = None, *, interval: str | Interval
    ) -> list[tuple[datetime, datetime]]:
        """Return the storage periods (half-open UTC ranges) holding bars of ``symbols``, sorted.

        Each period is one file per symbol (a month of minute bars, …): reading a catalog
        period by period (a streamed backtest does) opens every file once.
        """
        step = Interval.parse(interval)
        period = layout.period_for(step)
        stems = {
            entry.stem for entries in self._files_of(symbols, step).values() for entry in entries
        }
        return sorted(layout.require_period_bounds(period, stem, stem) for stem in stems)

    def intervals(self) -> list[str]:
        """Return the intervals that hold data, in increasing length."""
        found = {entry.interval for entry in self._inventory()}
        return [str(step) for step in sorted(found, key=_interval_order)]

    def symbols(self, interval: str | Interval | None = None) -> list[str]:
        """Return the symbols stored for ``interval`` (or for any interval), sorted."""
        step = None if interval is None else Interval.parse(interval)
        return sorted({entry.symbol for entry in self._inventory(step)})

    def describe(self) -> pl.DataFrame:
        """Return one row per (interval, symbol): rows, first and last ``ts``, files, bytes."""
        groups: dict[tuple[Interval, str], list[layout.FileEntry]] = {}
        for entry in self._inventory():
            groups.setdefault((entry.interval, entry.symbol), []).append(entry)
        records = []
        for (step, symbol), entries in sorted(
            groups.items(), key=lambda item: (_interval_order(item[0][0]), item[0][1])
        ):
            sources = [self._storage.source(entry.path) for entry in entries]
            counts = (
                pl.scan_parquet(sources, hive_partitioning=False)  # type: ignore[arg-type]
                .select(
                    pl.len().alias("rows"), pl.col("ts").min(), pl.col("ts").max().alias("last")
                )
                .collect()
                .row(0)
            )
            records.append(
                (
                    str(step),
                    symbol,
                    counts[0],
                    counts[1],
                    counts[2],
                    len(entries),
                    sum(entry.size for entry in entries),
                )
            )
        return pl.DataFrame(records, schema=_DESCRIBE_SCHEMA, orient="row")

    def delete(self, symbol: str, *, interval: str | Interval) -> None:
        """Remove every stored bar of ``symbol`` at ``interval``."""
        step = Interval.parse(interval)
        self._files_of(symbol, step)
        self._storage.remove_tree(self._symbol_path(step, symbol))

    def _inventory(
        self, interval: Interval | None = None, under: str | None = None
    ) -> list[layout.FileEntry]:
        """List the catalog's period files (of one interval, or under one directory)."""
        base = under or (self._storage.base if interval is None else self._interval_path(interval))
        entries = []
        for path, size in self._storage.list_files(base).items():
            entry = _parse_entry(path[len(self._storage.base.rstrip("/")) + 1 :], path, size)
            if entry is not None:
                entries.append(entry)
        return entries

    def _files_of(
        self, symbols: str | Iterable[str] | None, interval: Interval
    ) -> dict[str, list[layout.FileEntry]]:
        """Return the stored files of each wanted symbol; unknown symbols raise.

        Named symbols list only their own directories, so reading one symbol of a large
        catalog does not walk the whole interval.
        """
        if symbols is None:
            grouped: dict[str, list[layout.FileEntry]] = {}
            for entry in self._inventory(interval):
                grouped.setdefault(entry.symbol, []).append(entry)
            return grouped
        wanted = [symbols] if isinstance(symbols, str) else list(dict.fromkeys(symbols))
        found = {
            symbol: self._inventory(interval, self._symbol_path(interval, symbol))
            for symbol in wanted
        }
        missing = [symbol for symbol, entries in found.items() if not entries]
        if missing:
            available = self.symbols(interval)
            held = ", ".join(available) if available else "nothing"
            raise UnknownSymbolError(
                f"the catalog has no {interval} bars for {', '.join(map(repr, missing))}; "
                f"for {interval} it holds: {held}"
            )
        return found

    def _interval_path(self, interval: Interval) -> str:
        return self._storage.join(layout.interval_directory(interval))

    def _symbol_path(self, interval: Interval, symbol: str) -> str:
        return self._storage.join(
            layout.interval_directory(interval), layout.symbol_directory(symbol)
        )

    def _file_path(self, interval: Interval, symbol: str, name: str) -> str:
        return f"{self._symbol_path(interval, symbol)}/{name}"


def _period_runs(
    frame: pl.DataFrame, period: layout.Period
) -> Iterator[tuple[str, str, pl.DataFrame]]:
    """Yield ``(symbol, period stem, rows)`` for each file's share of a frame sorted by key.

    Symbol runs come from one vectorised comparison; inside a run, ``ts`` is sorted, so the
    period boundaries are found by binary search instead of a calendar key per row.
    """
    if frame.height == 0:
        return
    symbol = pl.col("symbol")
    starts = (
        frame.select(pl.arg_where((symbol != symbol.shift(1)).fill_null(value=True)))
        .to_series()
        .to_list()
    )
    symbols = frame.get_column("symbol").gather(starts).to_list()
    for run_start, run_end, name in zip(starts, [*starts[1:], frame.height], symbols, strict=True):
        run = frame.slice(run_start, run_end - run_start)
        times = run.get_column("ts").to_physical().to_numpy()  # int64 ns, zero-copy
        offsets = [0]
        boundary = ns_from_datetime(
            layout.next_period_start(period, datetime_from_ns(int(times[0])))
        )
        while boundary <= times[-1]:
            offset = int(np.searchsorted(times, boundary, side="left"))
            offsets.append(offset)
            following = layout.next_period_start(period, datetime_from_ns(int(times[offset])))
            boundary = ns_from_datetime(following)
        offsets.append(run.height)
        for begin, end in itertools.pairwise(offsets):
            stem = layout.period_stem(period, datetime_from_ns(int(times[begin])))
            yield name, stem, run.slice(begin, end - begin)


def _on_conflict(value: str | OnConflict) -> OnConflict:
    try:
        return OnConflict(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in OnConflict)
        raise ConfigError(f"on_conflict={value!r} is not one of {choices}") from None


def _parse_entry(relative: str, path: str, size: int) -> layout.FileEntry | None:
    parts = relative.split("/")
    if len(parts) != 3:
        return None
    step = layout.parse_interval_directory(parts[0])
    encoded = layout.partition_value(parts[1], layout.SYMBOL_KEY)
    stem = layout.file_stem(parts[2])
    if step is None or encoded is None or stem is None:
        return None
    if layout.period_bounds(layout.period_for(step), stem) is None:
        return None  # e.g. a user's backup.parquet: not a period file of this interval
    return layout.FileEntry(step, layout.decode_symbol(encoded), stem, path, size)


def _interval_order(step: Interval) -> tuple[int, int]:
    if step.is_fixed:
        return (0, step.seconds)
    return (1, step.count)


def _selected_paths(
    interval: Interval,
    entries: list[layout.FileEntry],
    *,
    lower: datetime | None,
    upper: datetime | None,
) -> list[str]:
    """Return the paths of one symbol's files whose period overlaps ``[lower, upper)``, in order."""
    period = layout.period_for(interval)
    selected: list[str] = []
    for entry in sorted(entries, key=lambda entry: entry.stem):
        begin, finish = layout.require_period_bounds(period, entry.stem, entry.path)
        if (upper is None or begin < upper) and (lower is None or finish > lower):
            selected.append(entry.path)
    return selected


def _scan_all(storage: Storage, files: list[tuple[str, str]]) -> pl.LazyFrame:
    """Scan ``(symbol, path)`` files (by symbol, then time) as one frame with a ``symbol`` column.

    Local files are read by one multi-file scan that notes each row's file (one plan however
    many symbols: a per-symbol union of 2,000 scans costs more to plan than to read); fetched
    bytes are scanned per symbol.
    """
    sources = [storage.source(path) for _, path in files]
    schema = _union_schema(sources)
    if all(isinstance(source, str) for source in sources):
        owner = {str(source): symbol for source, (symbol, _) in zip(sources, files, strict=True)}
        scan = pl.scan_parquet(
            sources,  # type: ignore[arg-type]  # paths only, checked above
            schema=schema,
            missing_columns="insert",
            hive_partitioning=False,
            include_file_paths=_FILE_COLUMN,
        )
        symbol = pl.col(_FILE_COLUMN).replace_strict(owner, return_dtype=pl.String())
        return scan.with_columns(symbol.alias("symbol")).drop(_FILE_COLUMN)
    parts = []
    for symbol, group in itertools.groupby(zip(files, sources, strict=True), lambda f: f[0][0]):
        chosen = [source for _, source in group]
        scan = pl.scan_parquet(
            chosen,  # type: ignore[arg-type]  # a list of bytes
            schema=_union_schema(chosen),
            missing_columns="insert",
            hive_partitioning=False,
        )
        parts.append(scan.with_columns(pl.lit(symbol, dtype=pl.String()).alias("symbol")))
    return pl.concat(parts, how="diagonal_relaxed")


_FILE_COLUMN = "__quantstrata_file"


def _union_schema(sources: list[str] | list[bytes] | list[str | bytes]) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {}
    for source in sources:
        for name, dtype in pl.read_parquet_schema(source).items():
            schema.setdefault(name, dtype)
    return {name: schema[name] for name in canonical_order(schema)}


def _select_columns(lazy: pl.LazyFrame, columns: Iterable[str] | None) -> list[str]:
    available = canonical_order(lazy.collect_schema().names())
    if columns is None:
        return available
    wanted = list(dict.fromkeys(columns))
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise SchemaError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; "
            f"stored columns: {', '.join(available)}",
            tuple(DataIssue("unknown_column", "no such column", column=name) for name in unknown),
        )
    keys = [name for name in ("ts", "symbol") if name in available]
    return keys + [name for name in canonical_order(wanted) if name not in keys]
