"""The regression suite: today's backtests against the code before the one simulated exchange.

Issue #15 moved every order of the backtest onto one simulated exchange and made targets sized
at the decision the default; its "done" condition is that the signal and event backtests stay
within 10 % of the code before it, measured in the same run. The peer side of every task is
that code: commit :data:`BEFORE` extracted once (``git archive``) into ``.cache/bench/`` and
imported in its own worker process in front of the installed package (same interpreter, same
dependencies). Both sides run the same work on the same seeded synthetic 1-minute bars:

- ``signal_*``: the bundled compiled ``SmaCrossover`` (10/30, long only), 1M bars.
- ``polars_*``: the Polars-expression crossover of ``examples/sma_cross.py``, 1M bars.
- ``event_*``: the bundled ``EventSmaCrossover``, 100k bars.

``*_default`` runs each side at its own default settings (today targets are sized at the
decision, before at the fill: different runs, so no shared result); ``*_fill`` runs both with
``size_at="fill"`` and ``*_decision`` both with ``size_at="decision"`` (the same runs, so the
digests must agree). 0.1 % commission, 100 000 in cash, every other setting the default (so the
look-ahead check is on). The figure is the median of the timed runs after a warm-up call, and
the goal is now / before <= :data:`GOAL` on it.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from rich.table import Table

from bench.harness import REPO_ROOT, Side, Size, Suite, Task, TaskResult, format_duration

__all__ = ["BEFORE", "GOAL", "SUITE", "goal_table", "median_ratio"]

BEFORE = "239ca42"
"""The last commit before issue #15's simulated exchange landed."""
GOAL = 1.10
"""Now over before, median times: within 10 %."""
SIGNAL_BARS = 1_000_000
EVENT_BARS = 100_000
TINY_BARS = 2_000
SEED = 20_240_601
CASH = 100_000.0
RATE = 0.001
FAST, SLOW = 10, 30
_SMA_CROSS_FILE = REPO_ROOT / "examples" / "sma_cross.py"
_CACHE = REPO_ROOT / ".cache" / "bench"


def _before_source() -> Path:
    """Return the ``src`` directory of :data:`BEFORE`, extracting it on first use."""
    target = _CACHE / f"quantstrata-{BEFORE}"
    if (target / "src" / "quantstrata").is_dir():
        return target / "src"
    _CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=_CACHE) as scratch:
        archive = Path(scratch) / "src.tar"
        subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", "-o", str(archive), BEFORE, "src"],
            check=True,
            capture_output=True,
        )
        unpacked = Path(scratch) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        try:
            unpacked.rename(target)
        except OSError:  # another worker got there first
            if not (target / "src" / "quantstrata").is_dir():
                raise
    return target / "src"


def _import_before() -> None:
    """Make ``import quantstrata`` load :data:`BEFORE` in this (fresh) worker process."""
    if "quantstrata" in sys.modules:
        raise RuntimeError("quantstrata is already imported: the old code cannot load here")
    source = _before_source()
    sys.path.insert(0, str(source))
    import quantstrata

    loaded = Path(quantstrata.__file__ or "").resolve()
    if not loaded.is_relative_to(source.resolve()):
        raise RuntimeError(f"the code before #15 did not load: quantstrata came from {loaded}")


def _config(size_at: str | None) -> Any:
    from quantstrata.backtest import BacktestConfig
    from quantstrata.execution import CommissionConfig

    chosen = {} if size_at is None else {"size_at": size_at}
    return BacktestConfig(cash=CASH, commission=CommissionConfig(rate=RATE), **chosen)


def _strategy(kind: str) -> Any:
    if kind == "polars":
        from quantstrata.cli._strategy_source import load_strategy_class

        return load_strategy_class(str(_SMA_CROSS_FILE))(fast=FAST, slow=SLOW)
    from quantstrata.strategy import examples

    name = "SmaCrossover" if kind == "signal" else "EventSmaCrossover"
    return getattr(examples, name)(fast=FAST, slow=SLOW, allow_short=False)


def _side(label: str, kind: str, size_at: str | None, *, before: bool) -> Side:
    full = EVENT_BARS if kind == "event" else SIGNAL_BARS

    def setup(size: Size, _workdir: Path) -> tuple[pl.DataFrame, Any, Any]:
        if before:
            _import_before()
        from quantstrata.data.synthetic import generate_bars

        bars = generate_bars(bars=size.rows(full, tiny=TINY_BARS), interval="1m", seed=SEED)
        return bars, _strategy(kind), _config(size_at)

    def run(context: tuple[pl.DataFrame, Any, Any]) -> Any:
        from quantstrata.backtest import Backtest

        bars, strategy, config = context
        return Backtest(bars, strategy, config).run()

    return Side(label, setup, run, digest=None if size_at is None else _digest)


def _digest(_context: Any, result: Any) -> str:
    open_units = float(result.positions["quantity"][-1])
    return f"{result.trades.height} trades, {open_units:.9g} open, equity {result.final_equity:.9g}"


def _task(kind: str, size_at: str | None) -> Task:
    setting = "default" if size_at is None else size_at
    bars = EVENT_BARS if kind == "event" else SIGNAL_BARS
    what = {
        "signal": "compiled SmaCrossover",
        "polars": "examples/sma_cross.py (Polars expressions)",
        "event": "EventSmaCrossover",
    }[kind]
    sizing = (
        "each at its default settings (sized at the decision now, at the fill before)"
        if size_at is None
        else f'both with size_at="{size_at}"'
    )
    return Task(
        name=f"{kind}_{setting}",
        description=f"{bars:,} 1-minute bars, {what}, {sizing}; goal now/before <= {GOAL:g}x "
        "(median)",
        rows=lambda size: size.rows(bars, tiny=TINY_BARS),
        quantstrata=_side(f"now ({setting})", kind, size_at, before=False),
        peer=_side(f"before #15 ({setting})", kind, size_at, before=True),
        repeat=5,
    )


SUITE = Suite(
    name="regression",
    description=f"signal and event backtests now vs before issue #15 (commit {BEFORE})",
    peer=f"before #15 ({BEFORE})",
    tasks=tuple(
        _task(kind, size_at)
        for kind in ("signal", "polars", "event")
        for size_at in (None, "fill", "decision")
    ),
)
"""The regression suite, registered in ``bench/__main__.py``."""


def median_ratio(result: TaskResult) -> float | None:
    """Return now / before on the median times (``None`` when a side failed)."""
    ours, peer = result.quantstrata, result.peer
    if ours is None or peer is None or not peer.median_seconds:
        return None
    return ours.median_seconds / peer.median_seconds


def _median(result: TaskResult, which: str) -> str:
    measurement = result.quantstrata if which == "quantstrata" else result.peer
    return (
        "[red]failed[/red]" if measurement is None else format_duration(measurement.median_seconds)
    )


def goal_table(size: Size, results: Sequence[TaskResult]) -> Table:
    """Return the suite's summary: median times, now / before and the goal (full size only)."""
    table = Table(
        title=f"regression goals (size {size.value}; checked at size full only)",
        caption="median of the timed runs after a warm-up call, one fresh process per side",
    )
    for column in ("task", "now", "before", "now/before", "goal", "met"):
        table.add_column(column, justify="left" if column in {"task", "goal"} else "right")
    verdicts = {None: "-", True: "[green]yes[/green]", False: "[red]NO[/red]"}
    for result in results:
        ratio = median_ratio(result)
        met = None if ratio is None or size is not Size.FULL else ratio <= GOAL
        table.add_row(
            result.task.name,
            _median(result, "quantstrata"),
            _median(result, "peer"),
            "-" if ratio is None else f"{ratio:.2f}x",
            f"<= {GOAL:g}x",
            verdicts[met],
        )
    return table
