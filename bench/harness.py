"""The benchmark harness: suites of tasks, each run by quantstrata and by a peer library.

A *suite* is a module exposing ``SUITE``, a :class:`Suite` of :class:`Task` values. A task does
one piece of work twice, once with quantstrata and once with a peer (usually pandas), so the
two can be compared side by side. Suites are registered in one explicit list in
``bench/__main__.py``.

How a measurement is taken (one fresh subprocess per task and side, so neither side inherits
the other's caches, allocator pools or imported modules):

1. ``setup(size, workdir)`` builds the inputs (not timed, not counted in memory).
2. The first call is the warm-up (JIT compilation, lazy imports, file-system caches). Its time
   is reported as ``first``; it is also the call whose memory is measured.
3. Then ``repeat`` timed calls; the best ``time.perf_counter`` time is reported.

Memory: ``tracemalloc`` only sees Python's allocator and misses the native buffers of Polars,
Arrow and NumPy, so the harness reports the growth of the *resident set size* instead: the peak
RSS during the warm-up call minus the RSS just before it. On Linux the kernel's peak counter is
reset right before the call (``/proc/self/clear_refs``) and read from ``VmHWM`` right after, so
the peak is exact; elsewhere a thread samples RSS with psutil every millisecond (a lower bound).
Memory that an allocator kept from ``setup`` and reuses is not counted, and memory returned as
the result is.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = [
    "ERROR_MARKER",
    "RESULT_MARKER",
    "Goal",
    "Measurement",
    "Side",
    "Size",
    "Suite",
    "Task",
    "TaskResult",
    "format_bytes",
    "format_duration",
    "format_rate",
    "load_average",
    "measure_in_subprocess",
    "render",
    "run_suite",
    "run_worker",
    "warn_if_busy",
    "write_json",
]

RESULT_MARKER = "@@bench-result@@ "
ERROR_MARKER = "@@bench-error@@ "
_ERROR_LINES_SHOWN = 4
REPO_ROOT = Path(__file__).resolve().parent.parent
_WORKER_TIMEOUT_SECONDS = 900


class Size(StrEnum):
    """How big the inputs are: ``full`` for the goals, ``small`` ≈ 1/20, ``tiny`` to smoke-test."""

    FULL = "full"
    SMALL = "small"
    TINY = "tiny"

    def rows(self, full: int, *, tiny: int = 5_000) -> int:
        """Scale a full-size row count to this size."""
        if self is Size.FULL:
            return full
        if self is Size.SMALL:
            return max(full // 20, 1)
        return min(full, tiny)


@dataclass(frozen=True, slots=True)
class Goal:
    """A target for quantstrata's side of a task, checked only at full size."""

    text: str
    min_rows_per_second: float | None = None
    max_seconds: float | None = None

    @classmethod
    def rate(cls, rows_per_second: float) -> Goal:
        """Need at least ``rows_per_second`` rows per second."""
        return cls(f">= {_si(rows_per_second)} rows/s", min_rows_per_second=rows_per_second)

    @classmethod
    def seconds(cls, seconds: float) -> Goal:
        """Need the best time under ``seconds``."""
        return cls(f"< {_duration(seconds)}", max_seconds=seconds)

    def met(self, measurement: Measurement) -> bool:
        """Whether ``measurement`` reaches this goal."""
        if self.min_rows_per_second is not None:
            return measurement.rows_per_second >= self.min_rows_per_second
        if self.max_seconds is not None:
            return measurement.best_seconds < self.max_seconds
        return True


@dataclass(frozen=True, slots=True)
class Side:
    """One way of doing a task's work: build inputs, then run the timed call.

    ``setup(size, workdir)`` returns a context passed to ``run``; ``reset(context)`` runs
    untimed before every call (e.g. to empty an output directory); ``digest(context, result)``
    summarises the result in a short string so both sides can be checked to have done the same
    work (compare row counts and sums, not speed).
    """

    label: str
    setup: Callable[[Size, Path], Any]
    run: Callable[[Any], Any]
    digest: Callable[[Any, Any], str] | None = None
    reset: Callable[[Any], None] | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """One piece of work done by quantstrata and by a peer; ``rows`` is the count rates use."""

    name: str
    description: str
    rows: Callable[[Size], int]
    quantstrata: Side
    peer: Side
    goal: Goal | None = None
    repeat: int = 5

    def side(self, which: str) -> Side:
        """Return the ``quantstrata`` or ``peer`` side."""
        if which == "quantstrata":
            return self.quantstrata
        if which == "peer":
            return self.peer
        raise KeyError(which)


@dataclass(frozen=True, slots=True)
class Suite:
    """A named group of tasks compared against one peer library."""

    name: str
    description: str
    peer: str
    tasks: tuple[Task, ...]

    def task(self, name: str) -> Task:
        """Return the task called ``name``."""
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"suite {self.name!r} has no task {name!r}")


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one subprocess measured for one side of one task."""

    rows: int
    first_seconds: float
    best_seconds: float
    runs: int
    peak_rss_bytes: int
    memory_method: str
    digest: str | None
    median_seconds: float = 0.0
    """The median of the timed runs (the best is ``best_seconds``)."""

    @property
    def rows_per_second(self) -> float:
        """Rows processed per second in the best run."""
        return self.rows / self.best_seconds if self.best_seconds > 0 else float("inf")


@dataclass(slots=True)
class TaskResult:
    """Both sides of one task, or the errors that stopped either."""

    task: Task
    size: Size
    quantstrata: Measurement | None = None
    peer: Measurement | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """Peer time over quantstrata time (above 1: quantstrata is faster)."""
        if self.quantstrata is None or self.peer is None or self.quantstrata.best_seconds <= 0:
            return None
        return self.peer.best_seconds / self.quantstrata.best_seconds

    @property
    def goal_met(self) -> bool | None:
        """Whether the goal is met; ``None`` when not evaluated (no goal or not full size).

        A quantstrata side that failed does not meet its goal.
        """
        if self.task.goal is None or self.size is not Size.FULL:
            return None
        if self.quantstrata is None:
            return False
        return self.task.goal.met(self.quantstrata)

    @property
    def same_result(self) -> bool | None:
        """Whether both sides produced the same digest (``None`` if either has none)."""
        if self.quantstrata is None or self.peer is None:
            return None
        if self.quantstrata.digest is None or self.peer.digest is None:
            return None
        return self.quantstrata.digest == self.peer.digest

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready record."""

        def side(measurement: Measurement | None) -> dict[str, Any] | None:
            if measurement is None:
                return None
            return {**asdict(measurement), "rows_per_second": measurement.rows_per_second}

        return {
            "task": self.task.name,
            "description": self.task.description,
            "size": self.size.value,
            "rows": self.task.rows(self.size),
            "goal": None if self.task.goal is None else self.task.goal.text,
            "goal_met": self.goal_met,
            "ratio_peer_over_quantstrata": self.ratio,
            "same_result": self.same_result,
            "quantstrata": side(self.quantstrata),
            "peer": side(self.peer),
            "errors": self.errors,
        }


# ------------------------------------------------------------------ parent side


def measure_in_subprocess(
    suite: Suite, task: Task, which: str, size: Size, repeat: int | None
) -> Measurement:
    """Measure one side of ``task`` in a fresh interpreter; raise RuntimeError on failure."""
    command = [sys.executable, "-m", "bench", "--worker", suite.name, task.name, which]
    command += ["--size", size.value]
    if repeat is not None:
        command += ["--repeat", str(repeat)]
    environment = dict(os.environ)
    environment.setdefault("NUMBA_CACHE_DIR", str(REPO_ROOT / ".cache" / "numba"))
    environment.setdefault("PYTHONHASHSEED", "0")
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    try:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=_WORKER_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out after {_WORKER_TIMEOUT_SECONDS} s") from None
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return Measurement(**json.loads(line[len(RESULT_MARKER) :]))
        if line.startswith(ERROR_MARKER):
            message = str(json.loads(line[len(ERROR_MARKER) :]))
            shown = message.splitlines()[:_ERROR_LINES_SHOWN]
            raise RuntimeError("\n".join(shown))
    lines = [line for line in completed.stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "no output"
    raise RuntimeError(f"worker exited with code {completed.returncode}: {last}")


# ------------------------------------------------------------------ worker side


def run_worker(task: Task, which: str, size: Size, repeat: int | None) -> None:
    """Measure one side of ``task`` in this process and print the result line for the parent."""
    side = task.side(which)
    runs = max(task.repeat if repeat is None else repeat, 1)
    workdir = Path(tempfile.mkdtemp(prefix="quantstrata-bench-"))
    try:
        context = side.setup(size, workdir)
        _reset(side, context)
        gc.collect()
        baseline, peak_of, method = _memory_probe()
        started = time.perf_counter()
        result = side.run(context)
        first_seconds = time.perf_counter() - started
        peak = max(peak_of() - baseline, 0)
        timed: list[float] = []
        for _ in range(runs):
            del result
            _reset(side, context)
            started = time.perf_counter()
            result = side.run(context)
            timed.append(time.perf_counter() - started)
        digest = None if side.digest is None else side.digest(context, result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measurement = Measurement(
        rows=task.rows(size),
        first_seconds=first_seconds,
        best_seconds=min(timed),
        runs=runs,
        peak_rss_bytes=peak,
        memory_method=method,
        digest=digest,
        median_seconds=statistics.median(timed),
    )
    print(RESULT_MARKER + json.dumps(asdict(measurement)), flush=True)


def _reset(side: Side, context: Any) -> None:
    if side.reset is not None:
        side.reset(context)


def _memory_probe() -> tuple[int, Callable[[], int], str]:
    """Return the current RSS, a function giving the peak RSS since now, and the method used."""
    import psutil  # type: ignore[import-untyped,unused-ignore]

    process = psutil.Process()
    baseline = int(process.memory_info().rss)
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return baseline, _sampled_peak(process), "psutil RSS sampled every 1 ms"
    return baseline, _kernel_peak, "VmHWM after clear_refs reset"


def _kernel_peak() -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM line in /proc/self/status")


def _sampled_peak(process: Any) -> Callable[[], int]:
    peak: list[int] = [int(process.memory_info().rss)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], int(process.memory_info().rss))
            time.sleep(0.001)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def finish() -> int:
        stop.set()
        thread.join()
        return max(peak[0], int(process.memory_info().rss))

    return finish


# ------------------------------------------------------------------ formatting


def _si(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def format_rate(rows_per_second: float) -> str:
    """Show a rate such as ``12.3M rows/s``."""
    return f"{_si(rows_per_second)}/s"


def format_duration(seconds: float) -> str:
    """Show a duration in s, ms or µs with three significant digits."""
    return _duration(seconds)


def format_bytes(count: int) -> str:
    """Show a byte count in MiB (or KiB below one MiB)."""
    if count >= 1 << 20:
        return f"{count / (1 << 20):.0f} MiB"
    return f"{count / 1024:.0f} KiB"


# ------------------------------------------------------------------ running suites


def run_suite(
    suite: Suite, size: Size, repeat: int | None, console: Console, tasks: Sequence[str] = ()
) -> list[TaskResult]:
    """Measure every task of ``suite`` (or those named in ``tasks``), both sides, one by one."""
    results = []
    for task in suite.tasks:
        if tasks and task.name not in tasks:
            continue
        result = TaskResult(task=task, size=size)
        for which in ("quantstrata", "peer"):
            label = task.side(which).label
            console.print(f"[dim]{suite.name}/{task.name}: measuring {label} ...[/dim]")
            try:
                measurement = measure_in_subprocess(suite, task, which, size, repeat)
            except RuntimeError as error:
                result.errors[label] = str(error)
                continue
            if which == "quantstrata":
                result.quantstrata = measurement
            else:
                result.peer = measurement
        results.append(result)
    return results


def load_average() -> float | None:
    """Return the 1-minute load average, or None where the platform has none."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def warn_if_busy(console: Console) -> float | None:
    """Warn when other work competes for the CPUs (timings are then unreliable); return the load."""
    load, cpus = load_average(), os.cpu_count() or 1
    if load is not None and load > cpus / 2:
        console.print(
            f"[yellow]warning: 1-minute load average is {load:.1f} on {cpus} CPUs; other "
            "processes compete with the benchmark, so timings will be noisy and pessimistic."
            "[/yellow]"
        )
    return load


def render(suite: Suite, size: Size, results: Sequence[TaskResult], console: Console) -> None:
    """Print one Rich table for ``suite`` and a line for every error."""
    table = Table(
        title=f"bench suite '{suite.name}' (size {size.value}): quantstrata vs {suite.peer}",
        caption=(
            "time = best of N after a warm-up call; ratio = peer time / quantstrata time; "
            "mem = peak RSS growth during the first call (fresh process per side); "
            "goals are checked at size full only"
        ),
    )
    for name, justify in (
        ("task", "left"),
        ("rows", "right"),
        ("quantstrata", "right"),
        (suite.peer, "right"),
        ("qs rows/s", "right"),
        (f"{suite.peer} rows/s", "right"),
        ("ratio", "right"),
        ("goal", "left"),
        ("met", "center"),
        ("qs mem", "right"),
        (f"{suite.peer} mem", "right"),
        ("same result", "center"),
    ):
        table.add_column(name, justify=justify, no_wrap=name == "task")  # type: ignore[arg-type]
    for result in results:
        table.add_row(*_row(result))
    console.print(table)
    for result in results:
        for label, message in result.errors.items():
            console.print(
                f"[bold red]FAILED[/bold red] {result.task.name} ({label}): {escape(message)}"
            )


def _row(result: TaskResult) -> list[str]:
    ours, peer = result.quantstrata, result.peer
    failed = "[bold red]FAILED[/bold red]"
    met = {None: "-", True: "[green]yes[/green]", False: "[red]NO[/red]"}[result.goal_met]
    same = {None: "-", True: "yes", False: "[red]DIFFERS[/red]"}[result.same_result]
    return [
        result.task.name,
        f"{result.task.rows(result.size):,}",
        failed if ours is None else format_duration(ours.best_seconds),
        failed if peer is None else format_duration(peer.best_seconds),
        "-" if ours is None else format_rate(ours.rows_per_second),
        "-" if peer is None else format_rate(peer.rows_per_second),
        "-" if result.ratio is None else f"{result.ratio:.2f}x",
        "-" if result.task.goal is None else result.task.goal.text,
        met,
        "-" if ours is None else format_bytes(ours.peak_rss_bytes),
        "-" if peer is None else format_bytes(peer.peak_rss_bytes),
        same,
    ]


def write_json(
    suite: Suite,
    size: Size,
    results: Sequence[TaskResult],
    directory: Path,
    load_before: float | None = None,
) -> Path:
    """Write ``results`` to ``directory/<suite>.json`` and return the path.

    ``load_before`` is the 1-minute load average before the suite ran (other work competing).
    """
    import platform

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{suite.name}.json"
    document = {
        "suite": suite.name,
        "description": suite.description,
        "peer": suite.peer,
        "size": size.value,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "tasks": [result.to_json() for result in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
