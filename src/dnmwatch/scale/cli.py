"""``dnmwatch extract`` with a Dask cluster: ``--workers N`` starts a local one (processes),
``--scheduler ADDRESS`` joins an existing one (``dask scheduler``/``dask worker``, or SLURM/PBS
through dask-jobqueue, see docs/scaling.md).

Same command, options and output as :mod:`dnmwatch.sources.cli` (it runs the same body); only
where the tasks run differs. Without Dask installed, ``--workers N`` falls back to the process
pool and ``--scheduler`` is a configuration error naming the extra to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from dnmwatch.adapters.cli import AdapterOpt, CapturedOpt, MarketOpt
from dnmwatch.cliopts import ConfigOpt, DataDirOpt
from dnmwatch.scale.cluster import LocalDask, RemoteDask, dask_available
from dnmwatch.sources.cli import BaseUrlOpt, PathsArg, WorkersOpt, run_extract
from dnmwatch.sources.extract import Runner

SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Run on an existing Dask cluster (tcp://host:8786). Its "
                                     "workers must reach the input files and --spool-dir."),
]
SpoolOpt = Annotated[
    Path | None,
    typer.Option("--spool-dir", help="Folder for the tasks' Parquet partitions, on a file "
                                     "system every worker shares (default: the data dir)."),
]


@contextmanager
def cluster_scope(scheduler: str | None, workers: int) -> Iterator[Runner | None]:
    """Where tasks run: the cluster at ``scheduler``; else a local Dask cluster of
    ``workers`` processes when there are several and Dask is installed; else the built-in
    pool (``None``)."""
    if scheduler is not None:
        with RemoteDask(scheduler) as remote:
            yield remote.runner()
    elif workers > 1 and dask_available():
        with LocalDask(workers) as local:
            yield local.runner()
    else:
        yield None


def extract_command(paths: PathsArg, adapter: AdapterOpt = None, market: MarketOpt = None,
                    captured_at: CapturedOpt = None, base_url: BaseUrlOpt = None,
                    workers: WorkersOpt = None, scheduler: SchedulerOpt = None,
                    spool_dir: SpoolOpt = None, config: ConfigOpt = None,
                    data_dir: DataDirOpt = None) -> None:
    """Extract listings, vendors and feedback from WARC files, mirrors or CSV datasets."""
    run_extract(paths, adapter=adapter, market=market, captured_at=captured_at,
                base_url=base_url, workers=workers, config=config, data_dir=data_dir,
                scope=lambda n: cluster_scope(scheduler, n), spool_dir=spool_dir)


def register(app: typer.Typer) -> None:
    """Add ``extract`` (cluster-capable) to the root command, in place of
    :func:`dnmwatch.sources.cli.register`."""
    app.command("extract")(extract_command)
