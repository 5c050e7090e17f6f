"""The billion-bar run: a shared-cash signal strategy streamed from a 2,000-symbol catalog.

``python -m bench.catalog_scale [--symbols 2000] [--bars 500000] [--sizes 10M,100M,1B]
[--vectorbt] [--vectorbt-limit-gib 16]`` generates (once, cached under ``--data-dir``) a
synthetic catalog of ``symbols`` × ``bars`` 1-minute bars on the NYSE calendar, then for each
size streams the same run from it (``Backtest.from_catalog``; the first ``size / symbols``
bar times of every symbol) in a fresh process, printing bars/s end to end (reading the
catalog, targets, simulation, writing the tables, the metrics) and the process's peak RSS.
Goals (issue 17): peak RSS ≤ 4 GiB and ≥ 5M bars/s at 1B, memory flat from 10M to 1B.

``--vectorbt`` runs vectorbt's ``Portfolio.from_signals`` (shared cash, the same crossover)
on in-memory arrays of the same shape, doubling the bar times until a run fails, each in a
subprocess whose address space is capped (``RLIMIT_AS``, ``--vectorbt-limit-gib``) so it cannot
take the machine down; it prints the largest size completed and the size that failed.
``tests/integration/test_catalog_scale.py`` runs a reduced size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from quantstrata.backtest import Backtest, BacktestConfig
from quantstrata.data.catalog import Catalog
from quantstrata.data.synthetic import generate_bars
from quantstrata.execution import CommissionConfig
from quantstrata.indicators import warmup_bars
from quantstrata.strategy import SignalStrategy, StrategyParameters
from quantstrata.strategy.crossover import sma_crossover_targets
from quantstrata.strategy.signal import targets_per_symbol

__all__ = ["RunFigures", "SharedCashSma", "ensure_catalog", "main", "stream_run"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / ".bench-data" / "catalog_scale"
_GIB = 1024**3
_BATCH_ROWS = 5_000_000
"""Rows generated and written per catalog write while building the catalog."""


class SharedCashSma(SignalStrategy):
    """Hold ``weight`` of the shared equity in each symbol while SMA(fast) > SMA(slow)."""

    class Parameters(StrategyParameters):
        """The crossover's windows and each symbol's share of the shared equity."""

        fast: int = 50
        slow: int = 200
        weight: float = 0.0005

    parameters: Parameters

    def warmup_bars(self) -> int:
        """Return the bars before the slow average exists."""
        return warmup_bars("sma", period=self.parameters.slow)

    def targets(self, bars: pl.DataFrame) -> pl.DataFrame:
        """Return each symbol's crossover, scaled to its share of equity.

        A dense panel (every symbol at every time, rows by time then symbol) is read as a
        ``times × symbols`` array without sorting; anything else goes symbol by symbol.
        """
        fast, slow, weight = self.parameters.fast, self.parameters.slow, self.parameters.weight
        symbols = bars.get_column("symbol").n_unique()
        times = bars.height // symbols
        ts = bars.get_column("ts").to_physical().to_numpy()
        if times * symbols != bars.height or not bool(
            (ts.reshape(times, symbols) == ts[::symbols, None]).all()
        ):
            return targets_per_symbol(
                bars, lambda frame: sma_crossover_targets(frame["close"], fast, slow) * weight
            )
        close = bars.get_column("close").to_numpy().reshape(times, symbols)
        target = np.empty((times, symbols))
        for column in range(symbols):
            target[:, column] = sma_crossover_targets(close[:, column], fast, slow) * weight
        return bars.select("ts", "symbol", pl.Series("target", target.ravel(), nan_to_null=True))


CONFIG = BacktestConfig(cash=10_000_000.0, commission=CommissionConfig(rate=0.0005))


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One streamed run's size, time, memory and result."""

    bars: int
    seconds: float
    peak_rss: int
    cpu_seconds: float
    chunks: int
    final_equity: float
    fills: int

    def line(self) -> str:
        """Describe the run in one line."""
        return (
            f"  {self.bars:>13,} bars  {self.seconds:8.1f} s  "
            f"{self.bars / self.seconds / 1e6:7.2f}M bars/s  "
            f"peak RSS {self.peak_rss / _GIB:5.2f} GiB  CPU {self.cpu_seconds:.0f} s  "
            f"({self.chunks} chunks, "
            f"{self.fills:,} fills, final equity {self.final_equity:,.0f})"
        )


def catalog_path(data_dir: Path, symbols: int, bars: int) -> Path:
    """Return where the catalog of ``symbols`` × ``bars`` lives under ``data_dir``."""
    return data_dir / f"{symbols}x{bars}"


def ensure_catalog(data_dir: Path, symbols: int, bars: int) -> tuple[Catalog, float]:
    """Return the cached catalog (generating it first if absent) and the seconds it took."""
    root = catalog_path(data_dir, symbols, bars)
    marker = root / "complete.json"
    catalog = Catalog(str(root))
    if marker.exists():
        return catalog, 0.0
    began = time.perf_counter()
    times = generate_bars(symbols="S", bars=bars, interval="1m", calendar="XNYS")["ts"]
    generator = np.random.default_rng(20_241_207)
    batch = max(1, _BATCH_ROWS // bars)
    for first in range(0, symbols, batch):
        names = [f"S{position:04d}" for position in range(first, min(first + batch, symbols))]
        catalog.write(_random_walks(generator, names, times), interval="1m")
    seconds = time.perf_counter() - began
    marker.write_text(json.dumps({"symbols": symbols, "bars": bars, "seconds": seconds}))
    return catalog, seconds


def _random_walks(
    generator: np.random.Generator, names: list[str], times: pl.Series
) -> pl.DataFrame:
    """Return seeded random-walk bars of ``names`` at ``times`` (valid OHLC; opens at last close).

    Vectorised over all symbols at once: :func:`~quantstrata.data.generate_bars` builds each
    path bar by bar with its calendar, about 20× slower than needed for a billion bars.
    """
    shape = (len(names), times.len())
    close = 100.0 * np.exp(np.cumsum(generator.normal(0.0, 0.0008, size=shape), axis=1))
    opens = np.concatenate((np.full((shape[0], 1), 100.0), close[:, :-1]), axis=1)
    wick = 1.0 + np.abs(generator.normal(0.0, 0.0004, size=(2, *shape)))
    return pl.DataFrame(
        {
            "ts": pl.concat([times] * shape[0]),
            "symbol": np.repeat(np.array(names), shape[1]),
            "open": opens.ravel(),
            "high": (np.maximum(opens, close) * wick[0]).ravel(),
            "low": (np.minimum(opens, close) / wick[1]).ravel(),
            "close": close.ravel(),
            "volume": generator.uniform(1_000.0, 10_000.0, size=shape).ravel(),
        }
    )


def stream_run(catalog: Catalog, total: int, output: Path, chunk_bars: int = 1_500) -> RunFigures:
    """Stream the strategy over the first ``total`` bars (every symbol's first times)."""
    symbols = catalog.symbols("1m")
    times = catalog.read(symbols[0], interval="1m", columns=["close"]).get_column("ts")
    per_symbol = total // len(symbols)
    end = times[per_symbol] if per_symbol < times.len() else None
    strategy = SharedCashSma(weight=1.0 / len(symbols))
    began = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    result = Backtest.from_catalog(
        catalog, strategy, CONFIG, interval="1m", output=output, end=end, chunk_bars=chunk_bars
    ).run()
    seconds = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return RunFigures(
        bars=result.record.bars * len(symbols),
        seconds=seconds,
        peak_rss=usage.ru_maxrss * 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime - cpu_before,
        chunks=result.chunks,
        final_equity=result.final_equity,
        fills=result.scan("fills").select(pl.len()).collect().item(),
    )


def _run_in_child(root: Path, total: int, output: Path) -> RunFigures:
    """Run :func:`stream_run` in a fresh process, so its peak RSS is this size's alone."""
    command = [sys.executable, "-m", "bench.catalog_scale", "--worker", str(root), str(total),
               str(output)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"streamed run of {total:,} bars failed:\n{done.stderr[-3000:]}")
    return RunFigures(**json.loads(done.stdout.strip().splitlines()[-1]))


def _vectorbt_child(bars: int, symbols: int, limit: int) -> dict[str, Any]:
    """Run vectorbt once in a capped subprocess; return its seconds, or the failure."""
    command = [sys.executable, "-m", "bench._vectorbt_scale", str(bars), str(symbols), str(limit)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if done.returncode == 0:
        return {"ok": True, **json.loads(done.stdout.strip().splitlines()[-1])}
    reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return {"ok": False, "reason": reason[:200]}


def vectorbt_doubling(symbols: int, limit_gib: float, start_bars: int, max_total: int) -> list[str]:
    """Double vectorbt's bar times from ``start_bars`` until a run fails; describe each run."""
    lines, bars = [], start_bars
    while bars * symbols <= max_total:
        outcome = _vectorbt_child(bars, symbols, int(limit_gib * _GIB))
        total = bars * symbols
        if not outcome["ok"]:
            lines.append(f"  vectorbt {total:>13,} bars  FAILED ({outcome['reason']})")
            return lines
        rate = total / outcome["seconds"] / 1e6
        lines.append(
            f"  vectorbt {total:>13,} bars  {outcome['seconds']:8.1f} s  {rate:7.2f}M bars/s"
            f"  peak RSS {outcome['peak_rss'] / _GIB:5.2f} GiB"
        )
        bars *= 2
    lines.append(f"  vectorbt: stopped at --vectorbt-max {max_total:,} bars without a failure")
    return lines


def _sizes(text: str) -> list[int]:
    units = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
    return [int(float(part[:-1]) * units[part[-1]]) if part[-1] in units else int(part)
            for part in text.upper().split(",")]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Generate or reuse the catalog, stream each size, optionally double vectorbt."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--worker"]:
        root, total, output = arguments[1:4]
        figures = stream_run(Catalog(root), int(total), Path(output))
        print(json.dumps(_fields(figures)))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.catalog_scale", description=__doc__)
    parser.add_argument("--symbols", type=int, default=2_000)
    parser.add_argument("--bars", type=int, default=500_000, help="1-minute bars per symbol")
    parser.add_argument("--sizes", default="10M,100M,1B", help="total bars per run")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--vectorbt", action="store_true")
    parser.add_argument("--vectorbt-limit-gib", type=float, default=16.0)
    parser.add_argument("--vectorbt-max", type=_sizes, default=[1_000_000_000])
    options = parser.parse_args(arguments)
    _, generated = ensure_catalog(options.data_dir, options.symbols, options.bars)
    root = catalog_path(options.data_dir, options.symbols, options.bars)
    size = sum(path.stat().st_size for path in root.rglob("*.parquet"))
    print(f"catalog {root}: {options.symbols:,} × {options.bars:,} 1-minute bars, "
          f"{size / _GIB:.2f} GiB on disk" + (f", generated in {generated:.0f} s" if generated
                                            else " (cached)"))  # fmt: skip
    print("streamed from the catalog (SMA crossover, shared cash, 0.05 % commission):")
    for total in _sizes(options.sizes):
        output = root.parent / f"run-{root.name}-{total}"
        _clear(output)
        print(_run_in_child(root, total, output).line(), flush=True)
        _clear(output)
    if options.vectorbt:
        print(f"vectorbt from_signals, same shape, address space capped at "
              f"{options.vectorbt_limit_gib:g} GiB, doubling:")  # fmt: skip
        start = max(1, 1_000_000 // options.symbols)
        for line in vectorbt_doubling(
            options.symbols, options.vectorbt_limit_gib, start, options.vectorbt_max[0]
        ):
            print(line, flush=True)
    return 0


def _fields(figures: RunFigures) -> dict[str, Any]:
    return {name: getattr(figures, name) for name in RunFigures.__slots__}


def _clear(path: Path) -> None:
    if path.exists():
        for item in sorted(path.rglob("*"), reverse=True):
            item.unlink() if item.is_file() else item.rmdir()
        path.rmdir()


if __name__ == "__main__":
    sys.exit(main())
