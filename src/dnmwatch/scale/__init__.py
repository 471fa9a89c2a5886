"""Running extraction beyond one process: on a local or remote Dask cluster.

Dask is optional (``pip install 'dnmwatch[cluster]'``) and imported only when a cluster is
started or joined; without it ``dnmwatch extract --workers N`` uses a process pool.
"""

from __future__ import annotations

from dnmwatch.scale.cluster import (
    DaskRunner,
    LocalDask,
    RemoteDask,
    TaskFailed,
    dask_available,
    run_or_raise,
)

__all__ = ["DaskRunner", "LocalDask", "RemoteDask", "TaskFailed", "dask_available",
           "run_or_raise"]
