"""Extraction tasks on a local process pool that survives a dying worker.

Why: a task that raises is already turned into a failed :class:`TaskResult` inside the worker
(:func:`~dnmwatch.sources.worker.run_task`) and quarantined by the writer. A task that *kills*
its worker (a native crash in a parser, the kernel's OOM killer, ``os._exit``) is different:
:class:`~concurrent.futures.ProcessPoolExecutor` then marks the whole pool broken and fails
every task in flight with ``BrokenProcessPool``, innocent ones included, and a plain
``future.result()`` would end the run. The Dask runner (:mod:`dnmwatch.scale.cluster`) has its
own retries; this is the same guarantee without Dask:

1. When the pool breaks, every task that was in flight is a *suspect*; the tasks not yet
   submitted stay queued.
2. Each suspect is re-run **alone** in a fresh one-process pool, so a dying worker can only be
   the suspect's own. If it dies again, the task is returned as failed with the reason
   (the writer quarantines it, counted, and the run goes on); otherwise its result is kept.
3. A fresh pool takes the remaining queue.

Workers are started with ``spawn``: forking a process that holds a DuckDB connection and its
threads is unsafe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from dnmwatch.sources.worker import Context, Task, TaskResult, run_task

TaskFn = Callable[[Task, Context], TaskResult]
"""What a worker runs for one task (:func:`run_task`; tests pass a module-level function)."""
WORKER_DIED = "worker process died while extracting this input"
"""The quarantine reason of a task whose worker died twice, the second time running alone."""


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))


def _alone(task: Task, ctx: Context, fn: TaskFn) -> TaskResult:
    """Rule 2: the suspect in a pool of its own."""
    with _pool(1) as pool:
        try:
            return pool.submit(fn, task, ctx).result()
        except BrokenProcessPool:
            return TaskResult(task, error=WORKER_DIED)
        except Exception as exc:  # any failure is the task's, quarantined
            return TaskResult.failed(task, exc)


def pool_results(tasks: Sequence[Task], ctx: Context, workers: int,
                 fn: TaskFn = run_task) -> Iterator[TaskResult]:
    """Results of ``tasks`` run on ``workers`` processes, as they finish (see the module
    docstring); every task yields exactly one result."""
    queue = list(reversed(tasks))
    while queue:
        suspects: list[Task] = []
        with _pool(workers) as pool:
            pending: dict[Future[TaskResult], Task] = {}
            while (queue or pending) and not suspects:
                while queue and len(pending) < workers * 2:
                    task = queue.pop()
                    pending[pool.submit(fn, task, ctx)] = task
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        suspects.append(task)
                        continue
                    except Exception as exc:  # e.g. an unpicklable result
                        result = TaskResult.failed(task, exc)
                    yield result
            suspects.extend(pending.values())
        for task in suspects:
            yield _alone(task, ctx, fn)
