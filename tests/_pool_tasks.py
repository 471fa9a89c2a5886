"""Task functions for tests/test_sources_pool.py, importable by spawned pool workers."""

from __future__ import annotations

import os
import time

from dnmwatch.sources.worker import Context, Task, TaskResult


def die_on_poison(task: Task, ctx: Context) -> TaskResult:
    """Kills its own worker process for a task whose path says ``poison`` (what a native
    crash or the OOM killer does); the others take a moment so that some are in flight."""
    if "poison" in task.path:
        os._exit(3)
    time.sleep(0.2)
    return TaskResult(task, counters={"done": 1})


def raise_on_bad(task: Task, ctx: Context) -> TaskResult:
    if "bad" in task.path:
        raise ValueError("cannot read this one")
    return TaskResult(task, counters={"done": 1})
