"""One unit of extraction work, run in a worker process: an input -> Parquet spool files.

Why spool files rather than returning rows: a worker's result travels back by pickling, and a
256 MB WARC can hold hundreds of thousands of observations; holding them all (in the worker, in
the pipe, in the writer) would make memory grow with the input. A worker instead writes rows
in bounded batches to Parquet files in a spool folder and returns their names with its
counters; the single writer (:mod:`dnmwatch.sources.extract`) loads each file into DuckDB and
deletes it. Memory per worker is one record batch plus one page, whatever the input size, and
the same task runs unchanged on a Dask worker (ARCHITECTURE.md, "Scale").

Everything a task needs travels in :class:`Context` and :class:`Task` (plain, picklable); a
worker builds its own registry and adapter instances (adapters are not thread- or
process-shareable).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pyarrow.parquet as pq

from dnmwatch.adapters.base import MarketAdapter, host_key
from dnmwatch.adapters.registry import AdapterRegistry, load_registry
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.privacy.keys import Pseudonymizer
from dnmwatch.records import (
    Counters,
    FeedbackObservation,
    Page,
    Provenance,
    Rejection,
    VendorObservation,
)
from dnmwatch.sources.channel import ChannelSource
from dnmwatch.sources.csvdata import CsvSource
from dnmwatch.sources.mirror import MirrorSource, date_from_path
from dnmwatch.sources.rows import (
    KIND_TABLE,
    page_row,
    profile_url,
    record_row,
    rejection_row,
    scrub_record,
    scrub_rows,
    to_table,
)
from dnmwatch.sources.warc import WarcSource

TaskKind = Literal["warc", "mirror", "csv", "channel"]


@dataclass(frozen=True, slots=True)
class MarketRoute:
    """A market of the settings: its adapter and hosts (``markets.<name>``)."""

    market: str
    adapter: str
    hosts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """What every task of one ``extract`` run shares (picklable)."""

    pseudonymizer: Pseudonymizer = field(repr=False)
    spool_dir: str
    recorded_at: datetime
    adapter: str | None = None
    market: str | None = None
    captured_at: datetime | None = None
    base_url: str | None = None
    routes: tuple[MarketRoute, ...] = ()
    batch_rows: int = 5_000
    """Rows per table buffered before a Parquet partition is written (as Python dicts, the
    bulk of a worker's memory): on a 50 MB WARC file a task peaked at 208 MB RSS with
    20,000 rows, 171 MB with 5,000, 158 MB with 2,000 (more, smaller partitions)."""
    max_body_bytes: int = 8 * 1024 * 1024
    probe: str | None = None
    """The writer's pseudonym of :data:`PROBE_HANDLE` (see :func:`check_context`)."""


@dataclass(frozen=True, slots=True)
class Task:
    """One input: a WARC file, a CSV file (with its adapter), or a chunk of a mirror folder."""

    kind: TaskKind
    path: str
    files: tuple[str, ...] = ()
    adapter: str | None = None
    size: int = 0

    @property
    def sources(self) -> tuple[str, ...]:
        """The ``source`` values this task's rows carry (to replace them on a re-run)."""
        return self.files if self.kind == "mirror" else (self.path,)


@dataclass(slots=True)
class TaskResult:
    task: Task
    spools: list[tuple[str, str]] = field(default_factory=list)
    """``(table, parquet file)`` in writing order."""
    counters: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    """Rows per table, records per kind (``record:listing``) and rejections per reason."""
    seen: dict[str, tuple[str, datetime, datetime]] = field(default_factory=dict)
    """market -> (adapter, first capture, last capture) of the records written."""
    error: str | None = None

    @classmethod
    def failed(cls, task: Task, exc: BaseException) -> TaskResult:
        """The result of a task that failed with ``exc`` (its type and message, bounded): what
        the writer quarantines, whichever runner saw the failure."""
        return cls(task, error=f"{type(exc).__name__}: {exc}"[:300])


class _Spool:
    """Buffers rows per table and writes them to Parquet in batches."""

    def __init__(self, ctx: Context, result: TaskResult) -> None:
        self.ctx, self.result = ctx, result
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.seq = itertools.count()
        self.tag = uuid.uuid4().hex  # unique across tasks and processes sharing the folder
        self.written = Counters()

    def add(self, table: str, row: dict[str, Any]) -> None:
        batch = self.rows.setdefault(table, [])
        batch.append(row)
        self.written.inc(f"rows:{table}")
        if len(batch) >= self.ctx.batch_rows:
            self.flush(table)

    def flush(self, table: str) -> None:
        batch = self.rows.pop(table, [])
        if not batch:
            return
        name = Path(self.ctx.spool_dir) / f"{self.tag}-{next(self.seq):06d}-{table}.parquet"
        pq.write_table(to_table(table, batch), name, compression="zstd")
        self.result.spools.append((table, str(name)))

    def close(self) -> None:
        for table in list(self.rows):
            self.flush(table)


_REGISTRY: dict[str, AdapterRegistry] = {}


def registry() -> AdapterRegistry:
    """One registry per process (built on first use, not at import)."""
    if "r" not in _REGISTRY:
        _REGISTRY["r"] = load_registry()
    return _REGISTRY["r"]


class _Extractor:
    """Runs one task: picks adapters, parses, turns records into spooled rows."""

    def __init__(self, task: Task, ctx: Context) -> None:
        self.task, self.ctx = task, ctx
        self.result = TaskResult(task)
        self.spool = _Spool(ctx, self.result)
        self.counters = Counters()
        self.pseudonymizer = ctx.pseudonymizer
        self.adapters: dict[tuple[str, str], MarketAdapter] = {}
        self.vendor_page = False

    # ------------------------------------------------------------------ adapters
    def _instance(self, name: str, market: str, hosts: Iterable[str] = ()) -> MarketAdapter:
        key = (name, market)
        if key not in self.adapters:
            self.adapters[key] = registry().create(name, self.pseudonymizer, market=market,
                                                   hosts=hosts)
        return self.adapters[key]

    def _route(self, url: str, hint: str | None) -> MarketAdapter | None:
        """The adapter for a page: ``--adapter``, else the WARC's market in the settings, else
        the settings market or registered adapter that serves the URL's host."""
        ctx = self.ctx
        routes = {r.market: r for r in ctx.routes}
        if ctx.adapter is not None:
            market = ctx.market or hint or ctx.adapter
            route = routes.get(market)
            return self._instance(ctx.adapter, market, route.hosts if route else ())
        if hint is not None and hint in routes:
            route = routes[hint]
            return self._instance(route.adapter, ctx.market or hint, route.hosts)
        try:
            parts = urlsplit(url)
            names = {host_key(parts.netloc), host_key(parts.hostname or "")}
        except ValueError:
            return None
        for route in ctx.routes:
            if names & {host_key(h) for h in route.hosts}:
                return self._instance(route.adapter, ctx.market or route.market, route.hosts)
        found = registry().for_url(url)
        if found is None:
            return None
        return self._instance(found.name, ctx.market or found.name)

    # ------------------------------------------------------------------ rows
    def _seen(self, market: str, adapter: str, moment: datetime | None) -> None:
        if moment is None:
            return
        old = self.result.seen.get(market)
        if old is None:
            self.result.seen[market] = (adapter, moment, moment)
        else:
            self.result.seen[market] = (old[0], min(old[1], moment), max(old[2], moment))

    def _reject(self, rejection: Rejection, market: str | None, fallback: Provenance) -> None:
        self.spool.written.inc(f"rejection:{rejection.reason}")
        self.spool.add("rejections", rejection_row(rejection, market=market, fallback=fallback,
                                                   recorded_at=self.ctx.recorded_at))

    def _records(self, records: Iterable[Any], adapter: MarketAdapter, crawl_id: str | None,
                 fallback: Provenance) -> int:
        produced, position = 0, 0
        self.vendor_page = False
        for record in records:
            if isinstance(record, Rejection):
                self._reject(record, adapter.market, fallback)
                continue
            if isinstance(record, FeedbackObservation):
                position += 1
            self.vendor_page |= isinstance(record, VendorObservation)
            record = self._scrub(record, adapter.market, fallback)
            row = record_row(record, adapter=adapter.name, market=adapter.market,
                             crawl_id=crawl_id, fallback=fallback, position=position,
                             recorded_at=self.ctx.recorded_at)
            self.spool.add(KIND_TABLE[record.kind], row)
            self.spool.written.inc(f"record:{record.kind}")
            prov = record.provenance or fallback
            self._seen(record.market, adapter.name, prov.captured_at or fallback.captured_at)
            produced += 1
        return produced

    def _scrub(self, record: Any, market: str | None, fallback: Provenance) -> Any:
        """Contact details out of free text before the row is built (never stored), counted
        as ``scrub:<field>:<kind>`` and as ``rejections`` rows of stage ``scrub``."""
        clean, counts = scrub_record(record)
        for where, kinds in counts.items():
            for kind, n in kinds.items():
                self.spool.written.inc(f"scrub:{where}:{kind}", n)
        for row in scrub_rows(counts, market=market, prov=record.provenance or fallback,
                              recorded_at=self.ctx.recorded_at):
            self.spool.add("rejections", row)
        return clean

    def page(self, page: Page, hint: str | None, crawl_id: str | None) -> None:
        prov = page.provenance or Provenance(source=page.url, captured_at=page.captured_at)
        adapter = self._route(page.url, hint)
        self.spool.written.inc("pages")
        if adapter is None:
            self._reject(Rejection("no_adapter", "no adapter serves this host"),
                         self.ctx.market or hint, prov)
            self.spool.add("pages", page_row(
                source=prov.source, offset=prov.offset, market=self.ctx.market or hint,
                crawl_id=crawl_id, url=page.url, captured_at=page.captured_at,
                page_type="unknown", adapter=None, records=0))
            return
        ptype = adapter.page_type(page)
        produced = self._records(adapter.parse(page), adapter, crawl_id, prov)
        url = page.url
        if ptype == "vendor" or self.vendor_page:
            url = profile_url(url)
            self.spool.written.inc("scrub:pages.url:vendor_profile")
        self.spool.add("pages", page_row(
            source=prov.source, offset=prov.offset, market=adapter.market, crawl_id=crawl_id,
            url=url, captured_at=page.captured_at, page_type=ptype, adapter=adapter.name,
            records=produced))

    # ------------------------------------------------------------------ inputs
    def run(self) -> TaskResult:
        task, ctx = self.task, self.ctx
        if task.kind == "warc":
            warc = WarcSource(Path(task.path), max_body_bytes=ctx.max_body_bytes,
                              counters=self.counters)
            for item in warc.pages():
                if isinstance(item, Rejection):
                    self._reject(item, ctx.market or warc.market, item.provenance
                                 or Provenance(source=task.path))
                else:
                    self.page(item, warc.market, warc.crawl_id)
        elif task.kind == "mirror":
            mirror = MirrorSource(Path(task.path), [Path(f) for f in task.files],
                                  captured_at=ctx.captured_at, base_url=ctx.base_url,
                                  max_body_bytes=ctx.max_body_bytes, counters=self.counters)
            for item in mirror.pages():
                if isinstance(item, Rejection):
                    self._reject(item, ctx.market, item.provenance
                                 or Provenance(source=task.path))
                else:
                    self.page(item, None, None)
        else:
            self._csv()
        self.spool.close()
        for adapter in self.adapters.values():
            self.counters.merge(adapter.counters)
        self.result.counters = dict(self.counters.counts)
        self.result.written = dict(self.spool.written.counts)
        return self.result

    def _csv(self) -> None:
        task, ctx = self.task, self.ctx
        assert task.adapter is not None
        moment = ctx.captured_at or date_from_path(Path(task.path).name)
        source: CsvSource | ChannelSource = (  # a channel export gives rows like a CSV
            ChannelSource(Path(task.path), counters=self.counters) if task.kind == "channel"
            else CsvSource(Path(task.path), captured_at=moment, counters=self.counters))
        adapter = self._instance(task.adapter, ctx.market or task.adapter)
        if not isinstance(adapter, RowAdapter):
            self._reject(Rejection("no_adapter", f"{task.adapter} does not read rows"),
                         adapter.market, Provenance(source=task.path))
            return
        for item in source.rows():
            if isinstance(item, Rejection):
                self._reject(item, adapter.market, item.provenance
                             or Provenance(source=task.path))
                continue
            prov, row = item
            self._records(adapter.parse_row(row, prov), adapter, None, prov)


PROBE_HANDLE = "dnmwatch-worker-probe"


def probe_id(pseudonymizer: Pseudonymizer) -> str:
    """The pseudonym the writer puts in :attr:`Context.probe`."""
    return pseudonymizer.vendor_id(PROBE_HANDLE)


def check_context(ctx: Context) -> None:
    """Refuse to work when this process cannot reproduce the writer's pseudonyms.

    Why: a worker runs the code installed where it runs. When it differs from the writer's
    (a package upgraded under a running extraction, a cluster node with another version), the
    pseudonymizer that arrives by pickling may not work in it: the 2 GB benchmark once got a
    ``parser_error`` on every page that names a vendor (``AttributeError`` in ``vendor_id``)
    and silently kept the rest. A task that fails loudly is retried or quarantined instead.
    """
    if ctx.probe is None:
        return
    try:
        got = probe_id(ctx.pseudonymizer)
    except Exception as exc:
        raise RuntimeError(f"worker cannot make pseudonyms ({type(exc).__name__}): is it "
                           "running another dnmwatch version than the writer?") from None
    if got != ctx.probe:
        raise RuntimeError("worker's pseudonyms differ from the writer's: is it running "
                           "another dnmwatch version?")


def run_task(task: Task, ctx: Context) -> TaskResult:
    """Extract one task into spool files (the function a process pool or Dask calls)."""
    try:
        check_context(ctx)
        return _Extractor(task, ctx).run()
    except Exception as exc:  # a bug or an I/O failure: report it, never kill the run
        return TaskResult.failed(task, exc)
