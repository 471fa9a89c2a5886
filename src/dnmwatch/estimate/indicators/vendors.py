"""Vendor indicators: how many vendors, how concentrated the trade, who enters and leaves.

Method (docs/indicators.md):

* **Active vendors** per market and month: ``vendors_selling`` = distinct vendor pseudonyms with
  at least one estimated sale that month (from ``sales``); ``vendors_listed`` = vendors whose
  observed presence on the market (``vendors.first_seen``..``last_seen``) overlaps the month.
  Vendor *accounts* are counted: the same person on two markets counts on each.
* **Entries**: vendors first seen in the month. In the first observed month of a market every
  vendor present is an "entry" only because observation began (``first_month`` flags it).
* **Exits**: vendors last seen in the month, *unless* their last sighting lies within
  ``grace_days`` (default 30) of the market's last observation — those are still active when
  observation stops, or leave with the market (see ``market_closures`` for displacement).
  The market's last observation is the latest of its vendors' ``last_seen`` and its finished
  crawls.
* **Concentration** per cell of ``by`` (default per market) over the whole scope, on revenue:
  share of the top 1 % and top 10 % of vendors (``ceil(1 %·n)``, ``ceil(10 %·n)`` vendors, at
  least one; ties broken by pseudonym), and the Herfindahl-Hirschman index
  ``HHI = 10,000 · Σ share²`` (0..10,000; above 2,500 is "highly concentrated" in antitrust use).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from dnmwatch.estimate.indicators.coverage import coverage_summary
from dnmwatch.estimate.indicators.scope import EVERYTHING, Scope, annotate, dimension_sql, query
from dnmwatch.store import Store

_ACTIVITY_SQL = """
WITH v AS (
    SELECT market, vendor_id, CAST(first_seen AS DATE) AS f, CAST(last_seen AS DATE) AS l
    FROM vendors WHERE first_seen IS NOT NULL AND last_seen IS NOT NULL
), seen AS (
    SELECT market, f AS d FROM v UNION ALL SELECT market, l FROM v
    UNION ALL SELECT market, CAST(started_at AS DATE) FROM crawls WHERE status = 'finished'
), mend AS (
    SELECT market, min(d) AS market_first, max(d) AS market_last FROM seen GROUP BY market
), months AS (
    SELECT market, market_first, market_last, CAST(unnest(generate_series(
        date_trunc('month', market_first), date_trunc('month', market_last), INTERVAL 1 MONTH
    )) AS DATE) AS month FROM mend
), listed AS (
    SELECT months.market, months.month,
           count(v.vendor_id) FILTER (
               WHERE v.f < months.month + INTERVAL 1 MONTH AND v.l >= months.month
           ) AS vendors_listed,
           count(v.vendor_id) FILTER (WHERE date_trunc('month', v.f) = months.month) AS entries,
           count(v.vendor_id) FILTER (
               WHERE date_trunc('month', v.l) = months.month
               AND v.l < months.market_last - $grace_days::INTEGER
           ) AS exits,
           any_value(months.month = date_trunc('month', months.market_first)) AS first_month
    FROM months LEFT JOIN v ON v.market = months.market
    GROUP BY months.market, months.month
), sel AS (
    SELECT market, CAST(date_trunc('month', day) AS DATE) AS month,
           count(DISTINCT vendor_id) AS vendors_selling
    FROM sales WHERE {where_sales} GROUP BY ALL
), joined AS (
    SELECT coalesce(listed.market, sel.market) AS market,
           coalesce(listed.month, sel.month) AS month,
           coalesce(sel.vendors_selling, 0) AS vendors_selling,
           coalesce(listed.vendors_listed, 0) AS vendors_listed,
           coalesce(listed.entries, 0) AS entries,
           coalesce(listed.exits, 0) AS exits,
           coalesce(listed.first_month, false) AS first_month
    FROM listed FULL OUTER JOIN sel ON listed.market = sel.market AND listed.month = sel.month
)
SELECT * FROM joined
WHERE ($date_from::DATE IS NULL OR month >= date_trunc('month', $date_from::DATE))
  AND ($date_to::DATE IS NULL OR month <= $date_to::DATE)
  AND (len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], market))
ORDER BY market, month
"""

_CONCENTRATION_SQL = """
WITH r AS (
    SELECT {dims}, vendor_id, sum(price_eur) AS rev
    FROM sales WHERE {where} AND price_eur > 0 GROUP BY ALL
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY {part} ORDER BY rev DESC, vendor_id) AS rk,
           count(*) OVER (PARTITION BY {part}) AS n, sum(rev) OVER (PARTITION BY {part}) AS tot
    FROM r
)
SELECT {part}, any_value(n) AS n_vendors, any_value(tot) AS revenue_eur,
       CAST(greatest(ceil(0.01 * any_value(n)), 1) AS BIGINT) AS top1_n,
       sum(rev) FILTER (WHERE rk <= greatest(ceil(0.01 * n), 1)) / any_value(tot) AS top1_share,
       CAST(greatest(ceil(0.10 * any_value(n)), 1) AS BIGINT) AS top10_n,
       sum(rev) FILTER (WHERE rk <= greatest(ceil(0.10 * n), 1)) / any_value(tot) AS top10_share,
       10000.0 * sum((rev / tot) * (rev / tot)) AS hhi
FROM ranked GROUP BY {part} ORDER BY {part}
"""


def vendor_activity(store: Store, scope: Scope = EVERYTHING, grace_days: int = 30) -> pa.Table:
    """Per market and month: vendors selling, vendors listed, entries, exits."""
    if grace_days < 0:
        raise ValueError("grace_days must be >= 0")
    sql = _ACTIVITY_SQL.format(where_sales=scope.where())
    table = query(store, sql, scope.params(grace_days=grace_days))
    return annotate(
        table,
        "vendor_activity",
        f"distinct vendors selling / listed per market-month; entries and exits from first and "
        f"last sightings (exits within {grace_days} days of the market's end excluded)",
        coverage_summary(store, scope),
    )


def vendor_concentration(
    store: Store, scope: Scope = EVERYTHING, by: Sequence[str] = ("market",)
) -> pa.Table:
    """Revenue share of the top 1 % and top 10 % of vendors, and the HHI, per ``by``."""
    dims = ", ".join(dimension_sql(by)) if by else "'all' AS scope"
    part = ", ".join(by) if by else "scope"
    sql = _CONCENTRATION_SQL.format(dims=dims, part=part, where=scope.where())
    table = query(store, sql, scope.params())
    return annotate(
        table,
        "vendor_concentration",
        "revenue share of the top 1% / 10% of vendors and HHI = 10000 * sum(share^2)",
        coverage_summary(store, scope),
    )
