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
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dnmwatch.collect.crawler import CrawlResult
from dnmwatch.store import Store


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


def record_result(store: Store, result: CrawlResult, adapter: str) -> None:
    """Upsert the crawl's ``crawls`` row and its market's ``markets`` row, atomically."""
    with store.transaction():
        store.upsert("crawls", [result.store_row()])
        store.upsert("markets", [market_row(store, result, adapter)])


def record_start(store: Store, crawl_id: str, market: str, started_at: datetime) -> None:
    """A ``running`` row, so a crawl that dies leaves a trace in the store."""
    store.upsert("crawls", [{"crawl_id": crawl_id, "market": market,
                             "started_at": started_at, "status": "running"}])


def record_in(data_dir: Path, result: CrawlResult, adapter: str) -> None:
    """Open the store under ``data_dir`` just long enough to record ``result``."""
    with Store.open(data_dir) as store:
        record_result(store, result, adapter)
