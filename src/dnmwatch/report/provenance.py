"""Provenance tables: where the figures come from and what went wrong on the way.

Markets (with their lifecycle), coverage per market (crawls, pages, days without data), crawl
failures by status, and rejections by stage and reason — so a reader sees how complete the
inputs were and a redesign of a market shows up as a jump in a rejection counter.
Rejection *details* are never shown (they can quote market content); reasons are counted.
"""

from __future__ import annotations

from typing import Any

from dnmwatch.estimate import indicators as ind
from dnmwatch.estimate.indicators.scope import query
from dnmwatch.report import tables as t
from dnmwatch.store import Store

_MARKETS_SQL = """
SELECT m.market, m.adapter, m.first_seen, m.last_seen,
       l.status, l.end_kind, l.closed_at
FROM markets m LEFT JOIN market_lifecycle l USING (market)
WHERE len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], m.market)
ORDER BY m.market
"""

_FAILURES_SQL = """
SELECT market, status, count(*) AS crawls, sum(pages_failed)::BIGINT AS pages_failed
FROM crawls WHERE status <> 'finished' AND {where}
GROUP BY ALL ORDER BY ALL
"""

_REJECTIONS_SQL = """
SELECT stage, reason, count(*) AS n FROM rejections
WHERE (len($markets::VARCHAR[]) = 0 OR market IS NULL
       OR list_contains($markets::VARCHAR[], market))
GROUP BY ALL ORDER BY n DESC, stage, reason
"""


def _rows(store: Store, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = query(store, sql, params).to_pylist()
    return rows


def provenance_tables(store: Store, scope: ind.Scope) -> list[t.Table]:
    """The provenance section's tables (empty tables on an empty store)."""
    markets = _rows(store, _MARKETS_SQL, {"markets": list(scope.markets)})
    cov = ind.coverage(store, scope).to_pylist()
    failures = _rows(store, _FAILURES_SQL.format(where=scope.where("started_at")), scope.params())
    rejections = _rows(store, _REJECTIONS_SQL, {"markets": list(scope.markets)})
    return [
        t.make_table(
            "Markets",
            markets,
            [
                ("market", "market", t.text, False),
                ("adapter", "adapter", t.text, False),
                ("first seen", "first_seen", t.text, False),
                ("last seen", "last_seen", t.text, False),
                ("status", "status", t.text, False),
                ("end", "end_kind", t.text, False),
                ("closed at", "closed_at", t.text, False),
            ],
        ),
        t.make_table(
            "Coverage: crawls and days with data",
            cov,
            [
                ("market", "market", t.text, False),
                ("crawls", "crawls", t.integer, False),
                ("succeeded", "crawls_ok", t.integer, False),
                ("failed", "crawls_failed", t.integer, False),
                ("pages stored", "pages_ok", t.integer, False),
                ("pages failed", "pages_failed", t.integer, False),
                ("first day", "first_day", t.text, False),
                ("last day", "last_day", t.text, False),
                ("days with data", "days_with_data", t.integer, False),
                ("days without data", "days_without_data", t.integer, False),
            ],
        ),
        t.make_table(
            "Crawl failures by status",
            failures,
            [
                ("market", "market", t.text, False),
                ("status", "status", t.text, False),
                ("crawls", "crawls", t.integer, False),
                ("pages failed", "pages_failed", t.integer, False),
            ],
        ),
        t.make_table(
            "Rejections by stage and reason",
            rejections,
            [
                ("stage", "stage", t.text, False),
                ("reason", "reason", t.text, False),
                ("count", "n", t.integer, False),
            ],
        ),
    ]
