"""The dashboard's own SQL: what the indicator package does not compute.

Only fixed statements with bound parameters live here: no SQL ever comes from the browser, and
every filter value reaches DuckDB as a parameter. Vendor pseudonyms appear only in the
functions named ``vendor_*`` that the analyst pages call; rejection *details* (which can quote
market content) are never selected, only reasons are counted.
"""

from __future__ import annotations

import json
from typing import Any

from dnmwatch.estimate import indicators as ind
from dnmwatch.estimate.indicators.scope import query
from dnmwatch.store import Store

Rows = list[dict[str, Any]]

SALES_BUCKETS = ("1", "2-5", "6-20", "21-100", "101+")


def _rows(store: Store, sql: str, params: dict[str, Any]) -> Rows:
    rows: Rows = query(store, sql, params).to_pylist()
    return rows


def markets(store: Store) -> list[str]:
    """Every market name in the store (for the filter lists)."""
    sql = "SELECT market FROM markets UNION SELECT DISTINCT market FROM sales ORDER BY 1"
    return [r["market"] for r in _rows(store, sql, {})]


def months(store: Store) -> tuple[Any, Any]:
    """First and last day with sales (the range the filters offer)."""
    row = _rows(store, "SELECT min(day) AS lo, max(day) AS hi FROM sales", {})[0]
    return row["lo"], row["hi"]


def recent_crawls(store: Store, scope: ind.Scope, limit: int = 200) -> Rows:
    """The latest crawls with the gate that paused them (counters ``gate:*``)."""
    sql = """
        SELECT crawl_id, market, started_at, finished_at, status, pages_ok, pages_failed,
               counters
        FROM crawls WHERE {where}
        ORDER BY started_at DESC, crawl_id LIMIT $limit
    """
    out = []
    for row in _rows(store, sql.format(where=scope.where("started_at")), scope.params(limit=limit)):
        counters = _counters(row.pop("counters"))
        gates = sorted(k for k, v in counters.items() if k.startswith("gate:") and v)
        row["gates"] = ", ".join(gates)
        row["waiting"] = row["status"] == "paused"
        out.append(row)
    return out


def _counters(raw: str | None) -> dict[str, int]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


def crawl_status_counts(store: Store, scope: ind.Scope) -> Rows:
    sql = """SELECT status, count(*) AS crawls FROM crawls WHERE {where}
              GROUP BY ALL ORDER BY crawls DESC, status"""
    return _rows(store, sql.format(where=scope.where("started_at")), scope.params())


def rejections_by_day(store: Store, scope: ind.Scope) -> Rows:
    """Rejections per day and reason (a layout change shows up as a jump)."""
    sql = """
        SELECT CAST(recorded_at AS DATE) AS day, stage || ': ' || reason AS reason,
               count(*) AS n
        FROM rejections
        WHERE recorded_at IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY ALL
    """
    return _rows(store, sql.format(where=scope.where("recorded_at")), scope.params())


def pages_by_day(store: Store, scope: ind.Scope) -> Rows:
    """Adapter counters over time: pages per day, adapter and page type, with records."""
    sql = """
        SELECT CAST(captured_at AS DATE) AS day, coalesce(adapter, '?') AS adapter,
               page_type, count(*) AS pages, sum(records)::BIGINT AS records
        FROM pages
        WHERE captured_at IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY ALL
    """
    return _rows(store, sql.format(where=scope.where("captured_at")), scope.params())


def exclusions(store: Store, scope: ind.Scope) -> Rows:
    """Feedback kept out of the sales estimate, by reason."""
    sql = """SELECT reason, count(*) AS n FROM sales_exclusions
             WHERE len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], market)
             GROUP BY ALL ORDER BY n DESC, reason"""
    return _rows(store, sql, {"markets": list(scope.markets)})


def vendor_sales_distribution(store: Store, scope: ind.Scope) -> Rows:
    """How many vendor accounts made 1, 2-5, ... estimated sales (entity counts)."""
    sql = """
        WITH per AS (
            SELECT market, vendor_id, count(*) AS n FROM sales
            WHERE vendor_id IS NOT NULL AND {where} GROUP BY ALL)
        SELECT CASE WHEN n = 1 THEN '1' WHEN n <= 5 THEN '2-5' WHEN n <= 20 THEN '6-20'
                    WHEN n <= 100 THEN '21-100' ELSE '101+' END AS bucket,
               count(*) AS vendors
        FROM per GROUP BY ALL
    """
    got = {
        r["bucket"]: r["vendors"]
        for r in _rows(store, sql.format(where=scope.where()), scope.params())
    }
    return [{"bucket": b, "vendors": got.get(b, 0)} for b in SALES_BUCKETS]


def vendor_accounts(store: Store, scope: ind.Scope, limit: int = 500) -> Rows:
    """Analysts only: vendor accounts (pseudonyms) with their sales in scope, by pseudonym
    (never ranked by sales)."""
    sql = """
        WITH s AS (SELECT market, vendor_id, count(*) AS sales,
                          sum(price_eur) AS revenue_eur
                   FROM sales WHERE {where} GROUP BY ALL)
        SELECT v.market, v.vendor_id, v.first_seen, v.last_seen, v.ships_from,
               coalesce(s.sales, 0) AS sales, s.revenue_eur
        FROM vendors v LEFT JOIN s USING (market, vendor_id)
        WHERE len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], v.market)
        ORDER BY v.market, v.vendor_id LIMIT $limit
    """
    return _rows(store, sql.format(where=scope.where()), scope.params(limit=limit))


def vendor_profile(store: Store, market: str, vendor_id: str) -> dict[str, Any] | None:
    """Analysts only: one vendor account, its listings, monthly sales and linked accounts."""
    key = {"market": market, "vendor_id": vendor_id}
    head = _rows(
        store,
        """SELECT market, vendor_id, first_seen, last_seen, ships_from,
                  pgp_fingerprint IS NOT NULL AS has_pgp
           FROM vendors WHERE market = $market AND vendor_id = $vendor_id""",
        key,
    )
    if not head:
        return None
    listings = _rows(
        store,
        """SELECT listing_id, title, substance, category, first_seen, last_seen, last_price_eur
           FROM listings WHERE market = $market AND vendor_id = $vendor_id
           ORDER BY first_seen NULLS LAST, listing_id LIMIT 200""",
        key,
    )
    monthly = _rows(
        store,
        """SELECT CAST(date_trunc('month', day) AS DATE) AS month, $market AS market,
                  count(*) AS sales, sum(price_eur) AS revenue_eur
           FROM sales WHERE market = $market AND vendor_id = $vendor_id
           GROUP BY ALL ORDER BY month""",
        key,
    )
    linked = _rows(
        store,
        """SELECT o.market, o.vendor_id, o.method FROM vendor_links l
           JOIN vendor_links o ON o.actor_id = l.actor_id
           WHERE l.market = $market AND l.vendor_id = $vendor_id
             AND NOT (o.market = $market AND o.vendor_id = $vendor_id)
           ORDER BY o.market, o.vendor_id""",
        key,
    )
    return {"vendor": head[0], "listings": listings, "monthly": monthly, "linked": linked}


def recent_crawl_day(store: Store) -> Any:
    """Start of the latest crawl (the overview's "last crawl")."""
    return _rows(store, "SELECT max(started_at) AS t FROM crawls", {})[0]["t"]
