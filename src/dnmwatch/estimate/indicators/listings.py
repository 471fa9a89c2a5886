"""Listing indicators and market shares over time.

Method (docs/indicators.md):

* **Active listings** per market, category and month: listings whose observed life
  (``listings.first_seen``..``last_seen``, from the consolidated snapshots) overlaps the month.
  A listing seen once counts in the month of that sighting. The category is the normalised one
  (from the title), not the market's own filing, which is unreliable.
* **Market shares** per month: each market's share of the month's estimated sales, revenue and
  active listings across the markets in scope. Shares of sales and revenue inherit the lower
  bound: a market whose buyers leave feedback less often looks smaller than it is.
"""

from __future__ import annotations

import pyarrow as pa

from dnmwatch.estimate.indicators.coverage import coverage_summary
from dnmwatch.estimate.indicators.scope import EVERYTHING, Scope, annotate, query
from dnmwatch.store import Store

_MONTH_FILTER = """
    ($date_from::DATE IS NULL OR month >= date_trunc('month', $date_from::DATE))
    AND ($date_to::DATE IS NULL OR month <= $date_to::DATE)
    AND (len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], market))
"""

_ACTIVE_SQL = """
WITH l AS (
    SELECT market, listing_id, coalesce(category, 'unknown') AS category,
           CAST(date_trunc('month', first_seen) AS DATE) AS m0,
           CAST(date_trunc('month', last_seen) AS DATE) AS m1
    FROM listings WHERE first_seen IS NOT NULL AND last_seen IS NOT NULL
), lm AS (
    SELECT market, category, listing_id,
           CAST(unnest(generate_series(m0, m1, INTERVAL 1 MONTH)) AS DATE) AS month
    FROM l
)
SELECT market, category, month, count(DISTINCT listing_id) AS active_listings
FROM lm WHERE {month_filter} GROUP BY ALL ORDER BY ALL
"""

_SHARES_SQL = """
WITH s AS (
    SELECT market, CAST(date_trunc('month', day) AS DATE) AS month,
           count(*) AS sales, coalesce(sum(price_eur), 0.0) AS revenue_eur
    FROM sales WHERE {where} GROUP BY ALL
), a AS (
    SELECT market, month, CAST(sum(active_listings) AS BIGINT) AS active_listings
    FROM ({active}) GROUP BY ALL
), j AS (
    SELECT coalesce(s.market, a.market) AS market, coalesce(s.month, a.month) AS month,
           coalesce(s.sales, 0) AS sales, coalesce(s.revenue_eur, 0.0) AS revenue_eur,
           coalesce(a.active_listings, 0) AS active_listings
    FROM s FULL OUTER JOIN a ON s.market = a.market AND s.month = a.month
)
SELECT *, sales / nullif(sum(sales) OVER w, 0) AS share_sales,
       revenue_eur / nullif(sum(revenue_eur) OVER w, 0) AS share_revenue,
       active_listings / nullif(sum(active_listings) OVER w, 0) AS share_listings
FROM j WINDOW w AS (PARTITION BY month) ORDER BY month, market
"""


def listing_activity(store: Store, scope: Scope = EVERYTHING) -> pa.Table:
    """Active listings per market, normalised category and month."""
    sql = _ACTIVE_SQL.format(month_filter=_MONTH_FILTER)
    table = query(store, sql, scope.params())
    return annotate(
        table,
        "listing_activity",
        "listings whose first..last sighting overlaps the month, per market and category",
        coverage_summary(store, scope),
    )


def market_shares(store: Store, scope: Scope = EVERYTHING) -> pa.Table:
    """Each market's monthly share of sales, revenue and active listings."""
    active = _ACTIVE_SQL.format(month_filter=_MONTH_FILTER).replace("ORDER BY ALL", "")
    sql = _SHARES_SQL.format(where=scope.where(), active=active)
    table = query(store, sql, scope.params())
    return annotate(
        table,
        "market_shares",
        "market share of the month's sales, revenue and active listings",
        coverage_summary(store, scope),
    )
