"""Writing a crawl's outcome to the store: its ``crawls`` row and its market's ``markets`` row.

Why here and not in the crawler: the crawler must not hold the store's single-writer lock for
the hours a Tor crawl takes, so the store is opened only to record a result (by
``dnmwatch crawl``) or kept open by a caller that runs many short crawls (the demo).

``markets`` says which adapter reads a market and when it was last known to be **up**:
``first_seen``/``last_seen`` are the earliest start and the latest end of the crawls that
captured at least one content page. A crawl of a market that is down (refused connections, a
seizure banner) still creates the market's row and is kept in ``crawls`` with its status and
counters, but never moves ``last_seen``: that gap is what the later stages read as a takedown or
an exit.

Both functions also write the crawl to the audit log of the data directory (action ``crawl``,
``event`` ``start`` or ``finish``): crawl id, market, status, page counts. Never a host name,
an IP address, a cookie or a path: the audit log, like the WARC metadata, must not identify
the researcher. For the same reason ``crawls.warc_path`` is stored relative to the data
directory (an absolute path names the researcher's account, as in ``/home/alice/...``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dnmwatch.collect.crawler import CrawlResult
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.store import Store

ACTOR = "crawler"


def _utc(value: object) -> datetime | None:
    """A store timestamp (naive UTC) or a crawl time (aware) as an aware UTC datetime."""
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def market_row(store: Store, result: CrawlResult, adapter: str) -> dict[str, object]:
    """The ``markets`` row of ``result.market`` once ``result`` is taken into account."""
    old = store.fetchall("SELECT first_seen, last_seen FROM markets WHERE market = ?",
                         [result.market])
    first, last = (_utc(old[0][0]), _utc(old[0][1])) if old else (None, None)
    if result.pages_ok > 0:
        start, end = _utc(result.started_at), _utc(result.finished_at)
        first = min(t for t in (first, start) if t is not None)
        last = max(t for t in (last, end) if t is not None)
    return {"market": result.market, "adapter": adapter, "first_seen": first, "last_seen": last}


def crawl_row(store: Store, result: CrawlResult) -> dict[str, object]:
    """The ``crawls`` row, its WARC folder relative to the data directory."""
    row = result.store_row()
    folder = row.get("warc_path")
    if isinstance(folder, str):
        path = Path(folder)
        base = store.data_dir.resolve()
        if path.resolve().is_relative_to(base):
            row["warc_path"] = str(path.resolve().relative_to(base))
    return row


def audit_finish(data_dir: Path, result: CrawlResult) -> None:
    """The audit entry of a finished, paused or failed crawl (counts and status only)."""
    AuditLog.for_data_dir(data_dir).append(ACTOR, "crawl", {
        "event": "finish", "crawl_id": result.crawl_id, "market": result.market,
        "status": result.status, "reason": result.reason, "pages_ok": result.pages_ok,
        "pages_failed": result.pages_failed, "queued": result.queued,
        "warc_files": len(result.warc_files)})


def record_result(store: Store, result: CrawlResult, adapter: str) -> None:
    """Upsert the crawl's ``crawls`` row and its market's ``markets`` row, atomically, and
    write the crawl's end to the audit log."""
    with store.transaction():
        store.upsert("crawls", [crawl_row(store, result)])
        store.upsert("markets", [market_row(store, result, adapter)])
    audit_finish(store.data_dir, result)


def record_start(store: Store, crawl_id: str, market: str, started_at: datetime) -> None:
    """A ``running`` row, so a crawl that dies leaves a trace in the store (and in the audit
    log)."""
    store.upsert("crawls", [{"crawl_id": crawl_id, "market": market,
                             "started_at": started_at, "status": "running"}])
    AuditLog.for_data_dir(store.data_dir).append(
        ACTOR, "crawl", {"event": "start", "crawl_id": crawl_id, "market": market})


def record_in(data_dir: Path, result: CrawlResult, adapter: str) -> None:
    """Open the store under ``data_dir`` just long enough to record ``result``."""
    with Store.open(data_dir) as store:
        record_result(store, result, adapter)
