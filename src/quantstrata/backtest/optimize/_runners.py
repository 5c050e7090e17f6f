"""Where tasks run: this process, a pool of local worker processes, or a Dask cluster.

Every runner is given the bars and the job once, when it starts, and then streams rows back
as tasks finish (in completion order; the engine sorts by trial). Local workers read the bars
from one temporary Parquet file written at start; Dask workers receive them once through a
broadcast ``scatter``. Workers ignore SIGINT so that Ctrl-C reaches only this process, which
then stops the workers itself.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from quantstrata.backtest.optimize._tasks import Row, Task, decode_job, evaluate
from quantstrata.core._extras import require

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

__all__ = ["DaskRunner", "LocalRunner", "Runner", "SerialRunner", "default_workers"]


class Runner(Protocol):
    """Runs tasks and yields each task's rows as it finishes."""

    workers: int

    def run(self, tasks: list[Task]) -> Iterator[list[Row]]:
        """Yield the rows of every task, in completion order."""
        ...

    def close(self) -> None:
        """Stop the workers and free what the runner holds; safe to call twice."""
        ...


def default_workers() -> int:
    """Return the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Closing(AbstractContextManager["_Closing"]):
    def close(self) -> None:
        """Release nothing (subclasses override)."""

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close on leaving the block, whatever happened."""
        self.close()


class SerialRunner(_Closing):
    """Run every task in this process, one after another: the reference result."""

    def __init__(self, payload: bytes, bars: pl.DataFrame) -> None:
        """Keep the job and the bars."""
        self.workers = 1
        self._job = decode_job(payload)
        self._bars = bars

    def run(self, tasks: list[Task]) -> Iterator[list[Row]]:
        """Yield each task's rows as soon as it is computed."""
        for task in tasks:
            yield evaluate(self._job, self._bars, task)


_WORKER_STATE: dict[str, Any] = {}
_POOLS: dict[int, Pool] = {}


def _ignore_interrupts() -> None:
    """Leave Ctrl-C to the parent, which stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _evaluate_in_worker(item: tuple[str, str, bytes, Task]) -> list[Row]:
    """Run a task; read the search's bars and job only when this worker first meets it."""
    search, bars_path, payload, task = item
    if _WORKER_STATE.get("search") != search:
        _WORKER_STATE["bars"] = pl.read_parquet(bars_path).rechunk()  # one chunk, read once
        _WORKER_STATE["job"] = decode_job(payload)
        _WORKER_STATE["search"] = search
    return evaluate(_WORKER_STATE["job"], _WORKER_STATE["bars"], task)


def _process_context() -> multiprocessing.context.BaseContext:
    """Return the fork-server context, its server preloaded with the backtest code.

    The server is a fresh single-threaded process (so no Polars thread pool is forked); it
    imports quantstrata once and forks every worker from there, which starts workers far
    faster than ``spawn`` (one import per worker). Platforms without it fall back to spawn.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _shared_pool(workers: int) -> Pool:
    """Return this process's pool of ``workers`` processes, starting it on first use.

    Pools outlive one search (like joblib's reusable executor), so later searches and every
    walk-forward window skip the workers' start-up and their compiled kernels stay warm.
    """
    pool = _POOLS.get(workers)
    if pool is None:
        pool = _process_context().Pool(workers, initializer=_ignore_interrupts)
        _POOLS[workers] = pool
    return pool


def _discard_pool(workers: int) -> None:
    pool = _POOLS.pop(workers, None)
    if pool is not None:
        pool.terminate()
        pool.join()


@atexit.register
def _close_pools() -> None:
    for workers in list(_POOLS):
        _discard_pool(workers)


class LocalRunner(_Closing):
    """Run tasks on ``workers`` local processes forked from a clean fork server.

    The bars are written once to a temporary uncompressed Parquet file; each task names the
    file, and a worker reads it (and unpickles the job) only on its first task of the search.
    """

    def __init__(self, payload: bytes, bars: pl.DataFrame, workers: int | None = None) -> None:
        """Write the bars where the workers will read them and make sure the pool runs."""
        self.workers = workers if workers is not None else default_workers()
        self._directory = Path(tempfile.mkdtemp(prefix="quantstrata-optimize-"))
        self._path = str(self._directory / "bars.parquet")
        bars.write_parquet(self._path, compression="uncompressed", statistics=False)
        self._payload = payload
        self._search = uuid.uuid4().hex
        _shared_pool(self.workers)

    def run(self, tasks: list[Task]) -> Iterator[list[Row]]:
        """Yield each task's rows as its worker finishes it.

        Anything that stops the iteration early (Ctrl-C, a failing task, an abandoned
        generator) terminates the pool at once, so no worker keeps running a dead search.
        """
        items = [(self._search, self._path, self._payload, task) for task in tasks]
        try:
            yield from _shared_pool(self.workers).imap_unordered(_evaluate_in_worker, items)
        except BaseException:
            _discard_pool(self.workers)
            raise

    def close(self) -> None:
        """Remove the bars file; the pool stays for the next search."""
        shutil.rmtree(self._directory, ignore_errors=True)


def _evaluate_on_dask(payload: bytes, bars: pl.DataFrame, task: Task) -> list[Row]:
    return evaluate(decode_job(payload), bars, task)


def _dask_distributed() -> Any:
    """Import ``dask.distributed`` on first use (heavy, and untyped: used through Any)."""
    return require("dask.distributed", "the Dask backend")


class DaskRunner(_Closing):
    """Run tasks on a Dask cluster: a new LocalCluster, or the scheduler at ``address``."""

    def __init__(
        self,
        payload: bytes,
        bars: pl.DataFrame,
        workers: int | None = None,
        address: str | None = None,
    ) -> None:
        """Connect (or start a LocalCluster of worker processes) and broadcast bars and job."""
        distributed = _dask_distributed()
        self._cluster: Any = None
        if address is None:
            self._cluster = distributed.LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client: Any = distributed.Client(self._cluster)
        else:
            self._client = distributed.Client(address)
        self.workers = len(self._client.scheduler_info()["workers"]) or 1
        self._bars = self._client.scatter(bars, broadcast=True)
        self._payload = self._client.scatter(payload, broadcast=True)
        self._pending: list[Any] = []

    def run(self, tasks: list[Task]) -> Iterator[list[Row]]:
        """Submit every task (pure=False: a repeat is a new run) and yield as they finish."""
        futures = [
            self._client.submit(_evaluate_on_dask, self._payload, self._bars, task, pure=False)
            for task in tasks
        ]
        self._pending = futures
        for future in _dask_distributed().as_completed(futures):
            yield future.result()
        self._pending = []

    def close(self) -> None:
        """Cancel what is still queued and close the client (and the cluster this runner made)."""
        if self._pending:
            self._client.cancel(self._pending)
            self._pending = []
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
