"""Rebuild the bundled sample Parquet files from the source CSVs.

    .venv/bin/python scripts/bundle_samples.py [--sources /work/shared/data/samples]

For each sample in ``quantstrata.data.samples._registry`` this reads the source file with
:func:`quantstrata.data.importers.read_bars_file`, applies the documented label convention
(monthly bars dated at month end move to the month's first day), validates the bars, and writes
``src/quantstrata/data/samples/<name>.parquet`` (zstd). It also stores a gzipped copy of each
source in ``tests/kit/sample_sources/`` so the tests can compare the Parquet files with the
original text without depending on the shared folder. Running it twice gives identical data.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import polars as pl

from quantstrata.data.importers import read_bars_file
from quantstrata.data.samples._registry import SAMPLES, LabelShift, SampleSpec

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE_DIRECTORY = REPOSITORY / "src" / "quantstrata" / "data" / "samples"
TEST_SOURCES = REPOSITORY / "tests" / "kit" / "sample_sources"
DEFAULT_SOURCES = Path("/work/shared/data/samples")


def build_sample(spec: SampleSpec, sources: Path) -> pl.DataFrame:
    """Return the canonical, validated bars of one sample."""
    bars = read_bars_file(
        sources / spec.source_file,
        symbol=spec.symbol,
        timezone=spec.source_timezone,
        validation=None,
    )
    if spec.label_shift is LabelShift.MONTH_END_TO_START:
        bars = bars.with_columns(pl.col("ts").dt.month_start())
    from quantstrata.process.validate import validate_bars

    return validate_bars(bars, policy="raise", interval=spec.interval, check_gaps=False).bars


def copy_source(spec: SampleSpec, sources: Path) -> Path:
    """Store the source file gzipped (with a fixed header, so the bytes are reproducible)."""
    source = sources / spec.source_file
    target = TEST_SOURCES / (spec.source_file.removesuffix(".gz") + ".gz")
    with source.open("rb") as raw:
        text = gzip.decompress(raw.read()) if source.suffix == ".gz" else raw.read()
    with (
        target.open("wb") as handle,
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=9) as packed,
    ):
        packed.write(text)
    return target


def main() -> None:
    """Rebuild every sample and print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    arguments = parser.parse_args()
    TEST_SOURCES.mkdir(parents=True, exist_ok=True)
    for spec in SAMPLES:
        bars = build_sample(spec, arguments.sources)
        target = PACKAGE_DIRECTORY / spec.file_name
        bars.write_parquet(target, compression="zstd", compression_level=19, statistics=True)
        copied = copy_source(spec, arguments.sources)
        print(
            f"{spec.name}: {bars.height} rows {bars['ts'].dt.min()} .. {bars['ts'].dt.max()} "
            f"-> {target.name} ({target.stat().st_size} bytes), source copy {copied.name} "
            f"({copied.stat().st_size} bytes)"
        )


if __name__ == "__main__":
    main()
