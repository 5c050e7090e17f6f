"""Helpers for catalog tests: fresh catalogs, an independent file-naming rule, file snapshots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from quantstrata.data.catalog import Catalog

__all__ = [
    "expected_stem",
    "memory_catalog",
    "parquet_files",
    "snapshot",
    "sorted_bars",
]


def memory_catalog() -> Catalog:
    """Return a catalog on fsspec's in-memory filesystem under a root no other test uses."""
    return Catalog(f"memory://quantstrata-tests/{uuid.uuid4().hex}")


def expected_stem(moment: datetime, interval: str) -> str:
    """Name the period file a bar opening at ``moment`` belongs to, written out by hand.

    Seconds → one file per day, minutes → per month, hours → per year, longer → per decade.
    """
    moment = moment.astimezone(UTC)
    unit = interval.lstrip("0123456789")
    if unit == "s":
        return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    if unit == "m":
        return f"{moment.year:04d}-{moment.month:02d}"
    if unit == "h":
        return f"{moment.year:04d}"
    return f"{moment.year // 10 * 10:04d}s"


def parquet_files(root: Path) -> list[str]:
    """Return every file under ``root`` relative to it, sorted (temporary files included)."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def snapshot(root: Path) -> dict[str, bytes]:
    """Return the bytes of every file under ``root``, keyed by relative path."""
    return {name: (root / name).read_bytes() for name in parquet_files(root)}


def sorted_bars(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` sorted by ``(symbol, ts)``, the order the catalog returns."""
    return frame.sort("symbol", "ts", maintain_order=True)
