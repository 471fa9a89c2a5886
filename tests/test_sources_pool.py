"""The process pool of `dnmwatch extract --workers N` without Dask: a task that kills its
worker is quarantined with its reason; every other task, in flight or queued, completes."""

from __future__ import annotations

from datetime import UTC, datetime

from _pool_tasks import die_on_poison, raise_on_bad
from dnmwatch.privacy.keys import Pseudonymizer
from dnmwatch.sources.pool import WORKER_DIED, pool_results
from dnmwatch.sources.worker import Context, Task, probe_id

KEY = Pseudonymizer(bytes(range(32)))


def _ctx() -> Context:
    return Context(pseudonymizer=KEY, spool_dir="unused", recorded_at=datetime.now(UTC),
                   probe=probe_id(KEY))


def test_a_task_that_kills_its_worker_is_quarantined_and_the_rest_complete() -> None:
    tasks = [Task("warc", f"/in/{name}.warc.gz") for name in
             ("a", "b", "poison", "c", "d", "e", "f")]
    results = list(pool_results(tasks, _ctx(), 2, fn=die_on_poison))
    by_path = {r.task.path: r for r in results}
    assert len(results) == len(tasks) and set(by_path) == {t.path for t in tasks}
    assert by_path["/in/poison.warc.gz"].error == WORKER_DIED
    good = [r for r in results if r.task.path != "/in/poison.warc.gz"]
    assert all(r.error is None and r.counters == {"done": 1} for r in good)


def test_an_exception_in_a_task_fails_that_task_only() -> None:
    tasks = [Task("warc", f"/in/{name}.warc.gz") for name in ("a", "bad", "c")]
    results = {r.task.path: r for r in pool_results(tasks, _ctx(), 2, fn=raise_on_bad)}
    assert results["/in/bad.warc.gz"].error == "ValueError: cannot read this one"
    assert results["/in/a.warc.gz"].error is None and results["/in/c.warc.gz"].error is None
