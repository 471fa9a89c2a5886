"""Market lifecycle: first and last seen, takedowns and exit scams, where the vendors went.

Rules (docs/estimation.md):

* A market's **first/last seen** are its earliest and latest observation of any kind.
* A crawl is **ok** when its status is ``finished`` and it yielded at least one observation;
  every other scheduled crawl (failed, paused, or finished with only gate/seizure pages) is
  **failed**.
* A market is **closed** when its last :data:`CLOSE_AFTER_FAILED` (3) or more scheduled crawls
  all failed after its last ok crawl; it closed at the start of the first of those failed
  crawls. With fewer failures it is ``active``; a market with no ``crawls`` rows (a dataset) is
  ``unknown``.
* The **end kind** is ``takedown`` when one of those failed crawls met a seizure banner
  (``gate:seized`` in ``pages``, or in the crawl's counters), else ``exit`` (the site vanished).
* **Vendors seen elsewhere**: of the actors (see vendor linking) with an account on the closed
  market, the share with an account on another market observed within ``N`` days of the close:
  that account's ``[first_seen, last_seen]`` meets ``[closed_at - 7 days, closed_at + N]``
  (the 7 days absorb the crawl interval). ``N`` = 30 and 90.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dnmwatch.consolidate.listings import VendorFacts

CLOSE_AFTER_FAILED = 3
_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class CrawlFact:
    crawl_id: str
    started_at: datetime
    ok: bool
    seized: bool


def load_crawls(conn: Any) -> dict[str, list[CrawlFact]]:
    """Crawls per market in time order, each marked ok or failed (and seized)."""
    rows = conn.execute("""
        WITH obs AS (
            SELECT crawl_id, count(*) AS n FROM (
                SELECT crawl_id FROM listing_observations UNION ALL
                SELECT crawl_id FROM vendor_observations UNION ALL
                SELECT crawl_id FROM feedback_observations) WHERE crawl_id IS NOT NULL
            GROUP BY crawl_id),
        seized AS (
            SELECT DISTINCT crawl_id FROM pages WHERE page_type = 'gate:seized')
        SELECT c.market, c.crawl_id, c.started_at, c.status, coalesce(obs.n, 0),
               seized.crawl_id IS NOT NULL OR coalesce(c.counters, '') LIKE '%seized%'
        FROM crawls c LEFT JOIN obs USING (crawl_id) LEFT JOIN seized USING (crawl_id)
        ORDER BY c.market, c.started_at, c.crawl_id
    """).fetchall()
    out: dict[str, list[CrawlFact]] = defaultdict(list)
    for market, cid, started, status, n, seized in rows:
        out[market].append(CrawlFact(cid, started, status == "finished" and n > 0,
                                     bool(seized)))
    return out


def market_spans(conn: Any) -> dict[str, tuple[datetime, datetime]]:
    rows = conn.execute("""
        SELECT market, min(observed_at), max(observed_at) FROM (
            SELECT market, observed_at FROM listing_observations UNION ALL
            SELECT market, observed_at FROM vendor_observations UNION ALL
            SELECT market, observed_at FROM feedback_observations)
        GROUP BY market ORDER BY market
    """).fetchall()
    return {m: (lo, hi) for m, lo, hi in rows}


def _closure(crawls: list[CrawlFact],
             after_failed: int) -> tuple[str, str | None, datetime | None]:
    if not crawls:
        return "unknown", None, None
    last_ok = max((i for i, c in enumerate(crawls) if c.ok), default=-1)
    tail = crawls[last_ok + 1:]
    if len(tail) < after_failed:
        return "active", None, None
    kind = "takedown" if any(c.seized for c in tail) else "exit"
    return "closed", kind, tail[0].started_at


def lifecycle_rows(conn: Any, facts: dict[tuple[str, str], VendorFacts],
                   actor_of: dict[tuple[str, str], str],
                   after_failed: int = CLOSE_AFTER_FAILED) -> list[dict[str, Any]]:
    """``market_lifecycle`` rows, one per market seen in observations or crawls."""
    crawls = load_crawls(conn)
    spans = market_spans(conn)
    accounts: dict[str, list[VendorFacts]] = defaultdict(list)
    for key, f in facts.items():
        accounts[actor_of.get(key, key[0] + "/" + key[1])].append(f)
    rows: list[dict[str, Any]] = []
    for market in sorted(set(spans) | set(crawls)):
        first, last = spans.get(market, (None, None))
        status, kind, closed = _closure(crawls.get(market, []), after_failed)
        actors = sorted({actor_of.get(k, k[0] + "/" + k[1]) for k in facts if k[0] == market})
        row: dict[str, Any] = {
            "market": market, "first_seen": first, "last_seen": last,
            "crawls_ok": sum(c.ok for c in crawls.get(market, [])),
            "crawls_failed": sum(not c.ok for c in crawls.get(market, [])),
            "status": status, "end_kind": kind, "closed_at": closed, "vendors": len(actors),
        }
        for days in (30, 90):
            n: int | None = None
            if closed is not None:
                lo, hi = closed - _LOOKBACK, closed + timedelta(days=days)
                n = sum(any(f.market != market and f.first_seen <= hi and f.last_seen >= lo
                            for f in accounts[a]) for a in actors)
            row[f"vendors_elsewhere_{days}d"] = n
            row[f"share_elsewhere_{days}d"] = (n / len(actors) if n is not None and actors
                                               else None)
        rows.append(row)
    return rows
