"""Coverage: how complete the crawls behind the indicators are.

Why: feedback-based sales are a lower bound, and how far below the truth they lie depends on
how often and how successfully each market was crawled. A month with three failed crawls and
twenty days without any page is not comparable with a fully covered one; every indicator
therefore carries this summary, and the report shows the per-market table.

Definitions (per market, inside the scope):

* ``crawls``: crawl rows started inside the scope; ``crawls_ok``: those with status
  ``finished`` (the collector's status for a crawl that emptied its frontier); ``crawls_failed``:
  every other status (``failed``, ``paused`` on a gate, ...).
* ``first_day``/``last_day``: the market's observed span — first and last day with any crawl,
  clipped to the scope. Days after a market closed are not "missing", so they do not count.
* ``days_with_data``: days of that span with at least one finished crawl that stored a page;
  ``days_without_data`` = span length - ``days_with_data``.
* Markets that only have sales (imported datasets, no crawl rows) are listed with zero crawls
  and ``days_without_data`` null: the store cannot know.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from dnmwatch.estimate.indicators.scope import EVERYTHING, Scope, query
from dnmwatch.store import Store

OK_STATUS = "finished"

_SQL = """
WITH c AS (
    SELECT market, CAST(started_at AS DATE) AS day, status, pages_ok, pages_failed
    FROM crawls WHERE {where_c}
), span AS (
    SELECT market, count(*) AS crawls,
           count(*) FILTER (WHERE status = $ok) AS crawls_ok,
           count(*) FILTER (WHERE status <> $ok) AS crawls_failed,
           sum(pages_ok) AS pages_ok, sum(pages_failed) AS pages_failed,
           min(day) AS first_day, max(day) AS last_day,
           count(DISTINCT day) FILTER (WHERE status = $ok AND pages_ok > 0) AS days_with_data
    FROM c GROUP BY market
), sold AS (
    SELECT market, min(day) AS first_day, max(day) AS last_day FROM sales
    WHERE {where_s} GROUP BY market
)
SELECT coalesce(span.market, sold.market) AS market,
       coalesce(span.crawls, 0) AS crawls,
       coalesce(span.crawls_ok, 0) AS crawls_ok,
       coalesce(span.crawls_failed, 0) AS crawls_failed,
       coalesce(span.pages_ok, 0)::BIGINT AS pages_ok,
       coalesce(span.pages_failed, 0)::BIGINT AS pages_failed,
       coalesce(span.first_day, sold.first_day) AS first_day,
       coalesce(span.last_day, sold.last_day) AS last_day,
       span.days_with_data AS days_with_data,
       CASE WHEN span.market IS NULL THEN NULL
            ELSE (date_diff('day', span.first_day, span.last_day) + 1) - span.days_with_data
       END AS days_without_data
FROM span FULL OUTER JOIN sold ON span.market = sold.market
ORDER BY market
"""


def coverage(store: Store, scope: Scope = EVERYTHING) -> pa.Table:
    """Per market: crawls (ok/failed), pages, observed span and days without data."""
    sql = _SQL.format(
        where_c=scope.where("started_at", "market"), where_s=scope.where("day", "market")
    )
    return query(store, sql, scope.params(ok=OK_STATUS))


def summarise(table: pa.Table) -> dict[str, Any]:
    """Totals of a :func:`coverage` table, the figure every indicator carries."""
    rows = table.to_pylist()
    known = [r["days_without_data"] for r in rows if r["days_without_data"] is not None]
    return {
        "markets": len(rows),
        "crawls": sum(r["crawls"] for r in rows),
        "crawls_ok": sum(r["crawls_ok"] for r in rows),
        "crawls_failed": sum(r["crawls_failed"] for r in rows),
        "days_without_data": sum(known),
        "markets_without_crawls": sum(1 for r in rows if r["days_without_data"] is None),
        "first_day": min((r["first_day"] for r in rows if r["first_day"]), default=None),
        "last_day": max((r["last_day"] for r in rows if r["last_day"]), default=None),
    }


def coverage_summary(store: Store, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """:func:`summarise` of :func:`coverage`."""
    return summarise(coverage(store, scope))


def coverage_sentence(summary: dict[str, Any]) -> str:
    """One line for a figure caption: crawls that succeeded and days without data."""
    text = (
        f"Coverage: {summary['crawls_ok']} of {summary['crawls']} crawls succeeded "
        f"({summary['crawls_failed']} failed) on {summary['markets']} market(s); "
        f"{summary['days_without_data']} market-days without data"
    )
    if summary.get("markets_without_crawls"):
        text += f"; {summary['markets_without_crawls']} market(s) imported without crawl records"
    return text + "."
