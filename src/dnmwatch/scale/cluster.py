"""Extraction tasks on a Dask cluster (``dask.distributed``): local processes or a scheduler.

Why Dask: archived market pages run to terabytes; extraction is embarrassingly parallel over
WARC files (and slices of mirror folders) and Dask's scheduler gives what a week-long run
needs and a process pool lacks: workers on many machines (``dask scheduler`` + ``dask
worker``, or SLURM/PBS through dask-jobqueue), retries, and a task that kills its worker does
not kill the run. The work itself is the same :func:`~dnmwatch.sources.worker.run_task` the
single-process run calls, so results are identical row for row; each task writes Parquet
partitions into the spool folder, and the single writer (this process) loads them into DuckDB
(``read_parquet`` in place) as tasks finish.

Failures: a task whose function raises (:class:`TaskFailed` wraps an error ``run_task``
reported) is retried ``retries`` times; a task whose worker dies (a segfault in a C parser,
the nanny killing it over its memory limit) is retried by the scheduler up to
``distributed.scheduler.allowed-failures`` times and then fails with ``KilledWorker``. Either
way the final failure comes back as a :class:`TaskResult` with ``error`` set, which the writer
quarantines (:func:`dnmwatch.sources.writer.quarantine`); the run goes on.

Dask is an optional dependency (``pip install dnmwatch[cluster]``): imported only when a
runner is made, never at import of this module.
"""

from __future__ import annotations

import logging
import resource
import uuid
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any

from dnmwatch.errors import ConfigError
from dnmwatch.sources.worker import Context, Task, TaskResult, run_task

TaskFn = Callable[[Task, Context], TaskResult]
RETRIES = 2
"""Re-runs of a task that raised (transient I/O on a shared file system, a lost worker)."""
ALLOWED_FAILURES = 1
"""Worker deaths a task may cause before it is declared poison (local clusters we start)."""


class TaskFailed(RuntimeError):
    """A task reported an error: raised on the worker so that Dask retries it."""


def dask_available() -> bool:
    """Whether ``dask.distributed`` can be imported here."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ConfigError("running on a Dask cluster needs dask.distributed: "
                          "pip install 'dnmwatch[cluster]'") from None
    return distributed


def run_or_raise(task: Task, ctx: Context, fn: TaskFn = run_task) -> TaskResult:
    """``fn(task, ctx)``, raising :class:`TaskFailed` when it reports an error (so that the
    scheduler retries it)."""
    result = fn(task, ctx)
    if result.error is not None:
        raise TaskFailed(result.error)
    return result


class DaskRunner:
    """A :data:`~dnmwatch.sources.extract.Runner` that submits each task to a Dask client.

    At most ``in_flight`` tasks are submitted at a time (default: two per worker thread), so
    that results (and their spooled partitions) never pile up ahead of the writer. ``fn`` is
    the task function (``run_task``; tests pass one that fails on purpose).
    """

    def __init__(self, client: Any, *, retries: int = RETRIES, in_flight: int | None = None,
                 fn: TaskFn = run_task) -> None:
        self.client = client
        self.retries = retries
        self.fn = fn
        if in_flight is None:
            threads = sum(self.client.nthreads().values()) or 1
            in_flight = 2 * threads
        self.in_flight = max(1, in_flight)

    def _submit(self, task: Task, ctx: Context, n: int, run_id: str) -> Any:
        return self.client.submit(run_or_raise, task, ctx, self.fn, retries=self.retries,
                                  pure=False, key=f"dnmwatch-extract-{run_id}-{n}")

    def __call__(self, tasks: Sequence[Task], ctx: Context) -> Iterator[TaskResult]:
        distributed = _import_distributed()
        run_id = uuid.uuid4().hex[:12]
        queue = list(enumerate(tasks))
        queue.reverse()
        pending: dict[Any, Task] = {}
        done = distributed.as_completed()
        while queue and len(pending) < self.in_flight:
            n, task = queue.pop()
            future = self._submit(task, ctx, n, run_id)
            pending[future] = task
            done.add(future)
        for future in done:
            task = pending.pop(future)
            try:  # blocks while a result lost with its worker is computed again
                result: TaskResult = future.result()
            except Exception as exc:  # retries and allowed worker deaths are used up
                result = TaskResult.failed(task, exc)
            future.release()
            if queue:
                n, nxt = queue.pop()
                new = self._submit(nxt, ctx, n, run_id)
                pending[new] = nxt
                done.add(new)
            yield result

    def peak_rss_mb(self) -> float:
        """The largest peak RSS of the cluster's worker processes, in MB (Linux)."""
        peaks = self.client.run(_peak_rss_mb)
        return max(peaks.values(), default=0.0)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class LocalDask:
    """A local Dask cluster of ``workers`` processes (one thread each) and its client, for
    ``with``; the cluster is closed on exit. Worker processes are spawned, never forked (the
    writer holds a DuckDB connection and its threads). The scheduler's HTTP endpoint gets a
    free port (":0"): the default 8787 may be taken by another cluster on the machine."""

    def __init__(self, workers: int, *, allowed_failures: int = ALLOWED_FAILURES,
                 memory_limit: str | None = None) -> None:
        self.workers = max(1, workers)
        self.allowed_failures = allowed_failures
        self.memory_limit = memory_limit
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> LocalDask:
        distributed = _import_distributed()
        import dask

        options: dict[str, Any] = {}
        if self.memory_limit is not None:
            options["memory_limit"] = self.memory_limit
        with dask.config.set({"distributed.scheduler.allowed-failures": self.allowed_failures,
                              "distributed.scheduler.worker-saturation": 1.0,
                              "distributed.worker.multiprocessing-method": "spawn"}):
            self.cluster = distributed.LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=logging.CRITICAL, **options)
            self.client = distributed.Client(self.cluster)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def runner(self, **kwargs: Any) -> DaskRunner:
        return DaskRunner(self.client, **kwargs)

    def peak_rss_mb(self) -> float:
        return self.runner(in_flight=1).peak_rss_mb()


class RemoteDask:
    """A client of an existing Dask scheduler (``tcp://host:8786``), for ``with``. Its
    workers must run the same dnmwatch version (a task checks) and reach the spool folder."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.client: Any = None

    def __enter__(self) -> RemoteDask:
        distributed = _import_distributed()
        try:
            self.client = distributed.Client(self.address, timeout="30s")
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {self.address}: "
                              f"{exc}") from None
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.client is not None:
            self.client.close()

    def runner(self, **kwargs: Any) -> DaskRunner:
        return DaskRunner(self.client, **kwargs)
