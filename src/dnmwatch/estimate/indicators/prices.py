"""Price indicators: unit prices (EUR per gram / per unit) and retail vs wholesale bands.

Unit prices follow the EU drugs agency's convention (FIELD-NOTES.md): EUR per gram for drugs
sold by mass (cannabis, cocaine, amphetamine, heroin...), EUR per unit for drugs sold by the
piece (ecstasy tablets, LSD blotters, pills). Per sale:

* ``unit = 'unit'`` when the sale states a count of units and either no mass, or the substance
  is sold by the unit in the taxonomy (``sold_by``); otherwise ``unit = 'g'`` when it states a
  mass; otherwise the sale has no unit price (it still counts in sales and revenue);
* ``unit_price = price_eur / count`` or ``price_eur / mass_g``;
* only sales with a positive price enter; non-drug listings (taxonomy ``sold_by = none``) never.

Per cell: ``n`` sales, the median and the interquartile range (``q1``, ``q3``, ``iqr``), by
linear interpolation between order statistics (DuckDB ``quantile_cont``, numpy's default).
Medians resist the holding prices and placeholder listings that survive filtering upstream.

Quantity bands (Demant et al. 2016): a sale of at least USD 1,000 is ``wholesale``, below it
``retail``. The cut-off is converted to EUR at the USD rate of the day of sale from ``rates``
(else the latest earlier day, else the earliest known day); with no USD rate at all, or no
price, the band is ``unknown``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from dnmwatch.estimate.indicators.coverage import coverage_summary
from dnmwatch.estimate.indicators.scope import EVERYTHING, Scope, annotate, dimension_sql, query
from dnmwatch.normalise.substances import taxonomy
from dnmwatch.store import Store

WHOLESALE_USD = 1000.0
"""Retail/wholesale cut-off per transaction, in USD (Demant, Munksgaard & Houborg 2016)."""

_UNIT_SQL = """
WITH tax AS (
    SELECT unnest($tax_substance::VARCHAR[]) AS substance, unnest($tax_sold::VARCHAR[]) AS sold_by
), s AS (
    SELECT sales.*, tax.sold_by FROM sales LEFT JOIN tax USING (substance)
    WHERE {where} AND price_eur > 0 AND coalesce(tax.sold_by, '') <> 'none'
), u AS (
    SELECT *, CASE
        WHEN count > 0 AND (mass_g IS NULL OR mass_g <= 0 OR sold_by = 'unit') THEN 'unit'
        WHEN mass_g > 0 THEN 'g' END AS unit
    FROM s
), p AS (
    SELECT *, price_eur / CASE unit WHEN 'unit' THEN count ELSE mass_g END AS unit_price
    FROM u WHERE unit IS NOT NULL
)
{final}
"""

_UNIT_STATS = """
SELECT * EXCLUDE (q), q[2]::DOUBLE AS median_eur, q[1]::DOUBLE AS q1_eur, q[3]::DOUBLE AS q3_eur,
       (q[3] - q[1])::DOUBLE AS iqr_eur
FROM (
    SELECT {dims}, unit, count(*) AS n, count(DISTINCT vendor_id) AS vendors,
           quantile_cont(unit_price, [0.25, 0.5, 0.75]) AS q
    FROM p GROUP BY ALL
) ORDER BY ALL
"""

_UNIT_CONTRIB = """
SELECT {dims}, unit, vendor_id, count(*) AS n FROM p GROUP BY ALL ORDER BY ALL
"""

_BAND_SQL = """
WITH usd AS (
    SELECT day, eur_per_unit FROM rates WHERE upper(currency) = 'USD'
), first_usd AS (
    SELECT eur_per_unit FROM usd ORDER BY day LIMIT 1
), s AS (
    SELECT sales.*, coalesce(usd.eur_per_unit, (SELECT eur_per_unit FROM first_usd)) AS usd_eur
    FROM sales ASOF LEFT JOIN usd ON sales.day >= usd.day
    WHERE {where}
), b AS (
    SELECT *, CASE
        WHEN price_eur IS NULL OR usd_eur IS NULL THEN 'unknown'
        WHEN price_eur >= $cutoff_usd * usd_eur THEN 'wholesale'
        ELSE 'retail' END AS band
    FROM s
), g AS (
    SELECT {dims}, band, count(*) AS sales, coalesce(sum(price_eur), 0.0) AS revenue_eur,
           count(DISTINCT vendor_id) AS vendors
    FROM b GROUP BY ALL
)
SELECT *, sales / sum(sales) OVER w AS share_sales,
       revenue_eur / nullif(sum(revenue_eur) OVER w, 0) AS share_revenue
FROM g WINDOW w AS ({partition}) ORDER BY ALL
"""


def _tax_params() -> dict[str, list[str]]:
    entries = list(taxonomy().values())
    return {
        "tax_substance": [e.substance for e in entries],
        "tax_sold": [e.sold_by for e in entries],
    }


def unit_prices(
    store: Store,
    scope: Scope = EVERYTHING,
    by: Sequence[str] = ("substance", "ships_from", "quarter"),
) -> pa.Table:
    """Median and IQR of EUR per gram / per unit per ``by`` (and the ``unit`` column)."""
    sql = _unit_sql(scope, by, _UNIT_STATS)
    table = query(store, sql, scope.params(**_tax_params()))
    return annotate(
        table,
        "unit_prices",
        "median and IQR of price_eur / mass_g (EUR per gram) or price_eur / count "
        "(EUR per unit), EMCDDA convention",
        coverage_summary(store, scope),
    )


def unit_price_contributions(
    store: Store,
    scope: Scope = EVERYTHING,
    by: Sequence[str] = ("substance", "ships_from", "quarter"),
) -> pa.Table:
    """Sales with a unit price per cell of ``by``, ``unit`` and vendor: the input of
    disclosure control for :func:`unit_prices` (medians are protected by primary rules)."""
    return query(store, _unit_sql(scope, by, _UNIT_CONTRIB), scope.params(**_tax_params()))


def _unit_sql(scope: Scope, by: Sequence[str], final: str) -> str:
    dims = ", ".join(dimension_sql(by)) if by else "'all' AS scope"
    return _UNIT_SQL.format(
        where=scope.where("sales.day", "sales.market"), final=final.format(dims=dims)
    )


def quantity_bands(
    store: Store,
    scope: Scope = EVERYTHING,
    by: Sequence[str] = ("substance",),
    cutoff_usd: float = WHOLESALE_USD,
) -> pa.Table:
    """Sales and revenue in the retail / wholesale bands (cut-off in USD at the day's rate)."""
    if cutoff_usd <= 0:
        raise ValueError("the wholesale cut-off must be positive")
    dims = ", ".join(dimension_sql(by)) if by else "'all' AS scope"
    partition = "PARTITION BY " + ", ".join(by) if by else "PARTITION BY scope"
    sql = _BAND_SQL.format(
        where=scope.where("sales.day", "sales.market"), dims=dims, partition=partition
    )
    table = query(store, sql, scope.params(cutoff_usd=cutoff_usd))
    return annotate(
        table,
        "quantity_bands",
        f"retail below USD {cutoff_usd:,.0f} per transaction, wholesale at or above, "
        "converted to EUR at the USD rate of the day",
        coverage_summary(store, scope),
    )
