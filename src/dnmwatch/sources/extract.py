"""``dnmwatch extract``: inputs -> records in the store, with provenance, in parallel.

Planning (here, in the calling process): every PATH becomes tasks. A WARC file (``.warc``,
``.warc.gz``) is one task; a CSV file is one task with the dataset adapter that recognises its
header (or ``--adapter``); a folder is searched for WARC files and, if it holds none, read as
an HTML mirror, in chunks of files. Files being written by a crawler (``*.open``) are skipped.

Work: tasks run in worker processes (``--workers``; one task or one worker runs in this
process), each parsing its input and spooling Parquet batches (:mod:`.worker`).

Writing: this process is the single writer. For each finished task it deletes the rows an
earlier extraction of the same sources left (so re-extracting a snapshot after an adapter
improves *replaces* its observations instead of doubling them) and loads the spooled batches,
in one transaction per task. ``markets`` gets each market's adapter and first/last capture.

Safeguards: vendor handles become keyed pseudonyms in the adapters; free text is scrubbed of
contact details before a row is built (:func:`~dnmwatch.sources.rows.scrub_record`), what was
removed is counted (:attr:`ExtractSummary.scrubbed`, ``rejections`` rows of stage ``scrub``);
each run is written to the audit log with its counts (never paths, which may name the
researcher's account).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dnmwatch.adapters.registry import AdapterRegistry
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.errors import ConfigError, StoreError
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.keys import Pseudonymizer
from dnmwatch.records import Counters
from dnmwatch.sources.channel import is_channel_export
from dnmwatch.sources.csvdata import CsvSource
from dnmwatch.sources.mirror import list_mirror
from dnmwatch.sources.pool import pool_results
from dnmwatch.sources.rows import utc_naive
from dnmwatch.sources.warc import is_warc
from dnmwatch.sources.worker import Context, MarketRoute, Task, TaskResult, probe_id, run_task
from dnmwatch.sources.writer import WRITER_MEMORY_MB, load_result, quarantine, writer_limits
from dnmwatch.store import Store

Runner = Callable[[Sequence[Task], Context], Iterable[TaskResult]]
"""Runs tasks somewhere and yields their results as they finish (built in: this process or a
process pool; :mod:`dnmwatch.scale` gives one for a Dask cluster)."""

MIRROR_CHUNK = 500
"""Mirror files per task: enough to amortise a task, small enough to spread over workers."""
SKIPPED_SUFFIXES = (".open", ".torn")


@dataclass(slots=True)
class ExtractSummary:
    """What an extraction did: inputs, pages, records by kind, rejections by reason."""

    tasks: int = 0
    files: int = 0
    bytes: int = 0
    pages: int = 0
    records: dict[str, int] = field(default_factory=dict)
    rejections: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    scrubbed: dict[str, int] = field(default_factory=dict)
    """Items removed from free text, by ``<field>:<kind>`` (``feedback.text:email``)."""
    counters: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    """``<input>: <error>`` of every task that failed; its inputs are quarantined."""
    seconds: float = 0.0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    def add(self, result: TaskResult) -> None:
        self.tasks += 1
        if result.error is not None:
            self.failed.append(f"{result.task.path}: {result.error}")
            self.rejections["quarantined"] = (self.rejections.get("quarantined", 0)
                                              + len(result.task.sources))
        for key, n in result.written.items():
            kind, _, name = key.partition(":")
            if kind == "record":
                self.records[name] = self.records.get(name, 0) + n
            elif kind == "rejection":
                self.rejections[name] = self.rejections.get(name, 0) + n
            elif kind == "rows":
                self.rows[name] = self.rows.get(name, 0) + n
            elif kind == "scrub":
                self.scrubbed[name] = self.scrubbed.get(name, 0) + n
            elif key == "pages":
                self.pages += n
        merged = Counters(self.counters)
        merged.merge(Counters(dict(result.counters)))
        self.counters = merged.counts


# ---------------------------------------------------------------------------------- planning

def csv_adapter(path: Path, registry: AdapterRegistry, name: str | None) -> str:
    """The dataset adapter for a CSV file: ``name`` if given, else the one whose columns the
    header holds (exactly one must)."""
    if name is not None:
        if not issubclass(registry.get(name), RowAdapter):
            raise ConfigError(f"adapter {name!r} reads pages, not CSV rows")
        return name
    header = CsvSource(path).read_header()
    found = [n for n in registry.names()
             if issubclass(cls := registry.get(n), RowAdapter) and cls.recognises(header)]
    if len(found) != 1:
        which = "none" if not found else ", ".join(found)
        raise ConfigError(f"cannot tell which dataset {path} is (adapters matching its "
                          f"columns: {which}); give --adapter NAME")
    return found[0]


def _warcs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_warc(p))


def plan(paths: Iterable[Path], registry: AdapterRegistry, adapter: str | None = None,
         *, chunk: int = MIRROR_CHUNK, counters: Counters | None = None) -> list[Task]:
    """The tasks for ``paths`` (see the module docstring). Raises :class:`ConfigError` for a
    missing path or a CSV no adapter recognises."""
    tasks: list[Task] = []
    for given in paths:
        path = Path(given).expanduser().resolve()
        if not path.exists():
            raise ConfigError(f"no such file or folder: {given}")
        if path.name.endswith(SKIPPED_SUFFIXES):
            if counters is not None:
                counters.inc("plan:skipped_open_or_torn")
            continue
        if path.is_dir():
            warcs = _warcs(path)
            if warcs:
                tasks += [Task("warc", str(p), size=p.stat().st_size) for p in warcs]
                continue
            files = list_mirror(path, counters)
            for start in range(0, len(files), chunk):
                part = files[start:start + chunk]
                tasks.append(Task("mirror", str(path), tuple(str(f) for f in part),
                                  size=sum(f.stat().st_size for f in part)))
        elif is_warc(path):
            tasks.append(Task("warc", str(path), size=path.stat().st_size))
        elif is_channel_export(path):  # messaging export (result.json): rows like a CSV
            tasks.append(Task("channel", str(path), adapter=adapter or "telegram-channel",
                              size=path.stat().st_size))
        elif path.suffix.lower() in (".csv", ".tsv"):
            tasks.append(Task("csv", str(path), adapter=csv_adapter(path, registry, adapter),
                              size=path.stat().st_size))
        else:
            tasks.append(Task("mirror", str(path.parent), (str(path),),
                              size=path.stat().st_size))
    return tasks


# ---------------------------------------------------------------------------------- writing

def _update_markets(store: Store, seen: dict[str, tuple[str, datetime, datetime]]) -> None:
    if not seen:
        return
    old = {r[0]: r for r in store.fetchall(
        "SELECT market, adapter, first_seen, last_seen FROM markets "
        "WHERE list_contains(?, market)", [sorted(seen)])}
    rows = []
    for market, (adapter, first, last) in sorted(seen.items()):
        first_n, last_n = utc_naive(first), utc_naive(last)
        if market in old:
            _m, _a, f0, l0 = old[market]
            first_n = min(x for x in (f0, first_n) if x is not None)
            last_n = max(x for x in (l0, last_n) if x is not None)
        rows.append({"market": market, "adapter": adapter, "first_seen": first_n,
                     "last_seen": last_n})
    store.upsert("markets", rows)


def _merge_seen(into: dict[str, tuple[str, datetime, datetime]],
                new: dict[str, tuple[str, datetime, datetime]]) -> None:
    for market, (adapter, first, last) in new.items():
        old = into.get(market)
        into[market] = (adapter, first, last) if old is None else \
            (old[0], min(old[1], first), max(old[2], last))


# ---------------------------------------------------------------------------------- running

def _results(tasks: Sequence[Task], ctx: Context, workers: int) -> Iterable[TaskResult]:
    """Task results as they finish; in this process when there is no parallelism to gain,
    else on a process pool that survives a dying worker (:mod:`dnmwatch.sources.pool`)."""
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield run_task(task, ctx)
        return
    yield from pool_results(tasks, ctx, workers)


def extract(store: Store, tasks: Sequence[Task], *, key: Pseudonymizer | bytes,
            adapter: str | None = None,
            market: str | None = None, captured_at: datetime | None = None,
            base_url: str | None = None, routes: Sequence[MarketRoute] = (), workers: int = 1,
            on_result: Callable[[TaskResult], None] | None = None,
            clock: Callable[[], datetime] = lambda: datetime.now(UTC),
            runner: Runner | None = None, spool_dir: Path | None = None,
            writer_memory_mb: int | None = WRITER_MEMORY_MB) -> ExtractSummary:
    """Run ``tasks`` and load their records into ``store``; return the summary.

    ``key`` is the pseudonymizer (from :meth:`~dnmwatch.privacy.keys.KeyStore.load`; raw key
    bytes are accepted for tests and benchmarks). ``routes`` are
    :class:`~dnmwatch.sources.worker.MarketRoute` values from the settings' markets;
    ``on_result`` is called after each task is written (progress bars). The run is written to
    the audit log of the store's data directory.

    ``runner`` runs the tasks elsewhere (a Dask cluster); the default runs them here or in
    ``workers`` processes. ``spool_dir`` is where tasks write their Parquet partitions (a
    folder every worker and this process can reach; default: a temporary folder in the data
    directory). A failed task is quarantined (:func:`~dnmwatch.sources.writer.quarantine`) and
    the run goes on. ``writer_memory_mb`` bounds DuckDB's buffer pool meanwhile.
    """
    if store.read_only:
        raise StoreError("extract needs the store open for writing")
    started = time.monotonic()
    spool = Path(tempfile.mkdtemp(prefix=".extract-", dir=spool_dir or store.data_dir))
    summary = ExtractSummary(files=sum(max(1, len(t.files)) for t in tasks),
                             bytes=sum(t.size for t in tasks))
    seen: dict[str, tuple[str, datetime, datetime]] = {}
    pseudonymizer = key if isinstance(key, Pseudonymizer) else Pseudonymizer(key)
    ctx = Context(pseudonymizer=pseudonymizer, spool_dir=str(spool), recorded_at=clock(),
                  adapter=adapter, market=market, captured_at=captured_at, base_url=base_url,
                  routes=tuple(routes), probe=probe_id(pseudonymizer))
    run: Runner = runner or (lambda ts, c: _results(ts, c, max(1, workers)))
    try:
        with writer_limits(store, writer_memory_mb):
            for result in run(tasks, ctx):
                if result.error is None:
                    load_result(store, result)
                    _merge_seen(seen, result.seen)
                else:
                    quarantine(store, result, ctx.recorded_at)
                summary.add(result)
                if on_result is not None:
                    on_result(result)
            _update_markets(store, seen)
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    summary.seconds = time.monotonic() - started
    audit_extract(store.data_dir, summary)
    return summary


def audit_extract(data_dir: Path, summary: ExtractSummary) -> None:
    """One ``extract`` entry: counts only (input paths may hold the researcher's user name)."""
    AuditLog.for_data_dir(data_dir).append("cli", "extract", {
        "tasks": summary.tasks, "files": summary.files, "bytes": summary.bytes,
        "pages": summary.pages, "records": dict(sorted(summary.records.items())),
        "rejections": sum(summary.rejections.values()),
        "scrubbed": dict(sorted(summary.scrubbed.items())), "failed": len(summary.failed)})


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
