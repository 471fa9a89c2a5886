"""Delivery indicators: how the goods reach the buyer, per market, country and source type.

Why a separate module: the delivery method separates trade that travels by post (marketplace
trade across borders) from local trade (dead drops, couriers, meetings) that follows a city's
map, and the two respond differently to a takedown or a postal control. The method is the
listing's ``delivery_method`` (``post``, ``express_courier``, ``dead_drop``, ``in_person``,
``digital``, ``unknown``) filled by ``dnmwatch build`` (docs/channels.md).

Method (docs/indicators.md):

* **Listings** per cell of ``by`` and delivery method: listings whose observed life
  (``first_seen``..``last_seen``) overlaps the scope's dates, on the scope's markets, shipping
  from ``countries`` (all when empty; ``ships_from`` of the listing). ``share_listings`` is
  the method's share of the cell's listings. A listing without a method counts as ``unknown``.
* **Estimated sales and revenue** per cell and method: rows of ``sales`` in scope (day of
  sale, market, ``sales.ships_from``) joined to their listing's method (sales whose listing is
  missing count as ``unknown``). ``share_sales`` / ``share_revenue`` within the cell. These are
  lower bounds (one sale per buyer feedback), and markets where buyers rarely leave feedback
  (channels, shops) are under-counted more than marketplaces: compare listing shares across
  source types, sales shares within one.
* ``vendors`` = distinct vendor pseudonyms of the cell's listings and sales (for disclosure
  control). Dimensions: ``market``, ``source_type`` (``markets.source_type``; ``unknown``
  when not filled), ``ships_from`` (ISO code, ``XX`` undeclared), ``category``, ``substance``.
* **Delivery areas** (:func:`delivery_areas`): for local methods (default dead drops), the
  ``top`` areas per market by listings, with their vendors and estimated sales. Areas are
  as written on the market (a district, a city), not geocoded; an offer listed for several
  districts (``Tbilisi: Saburtalo, Vake``) counts in each of them (:data:`_DISTRICTS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from dnmwatch.estimate.indicators.coverage import coverage_summary
from dnmwatch.estimate.indicators.scope import EVERYTHING, Scope, annotate, query
from dnmwatch.store import Store

DELIVERY_DIMENSIONS: Mapping[str, str] = {
    "market": "market",
    "source_type": "coalesce(source_type, 'unknown')",
    "ships_from": "coalesce(upper(ships_from), 'XX')",
    "category": "coalesce(category, 'unknown')",
    "substance": "coalesce(substance, 'unknown')",
}
"""Dimension name -> SQL over the rows of :data:`_ROWS_SQL` (listings or sales)."""

_COUNTRY = "(len($countries::VARCHAR[]) = 0 OR list_contains($countries::VARCHAR[], {col}))"

_LISTINGS_SQL = """
SELECT l.market, m.source_type, l.vendor_id, l.listing_id,
       coalesce(upper(l.ships_from), 'XX') AS ships_from, l.category, l.substance,
       coalesce(l.delivery_method, 'unknown') AS delivery_method, l.delivery_area
FROM listings l LEFT JOIN markets m ON m.market = l.market
WHERE ($date_from::DATE IS NULL OR CAST(l.last_seen AS DATE) >= $date_from::DATE)
  AND ($date_to::DATE IS NULL OR CAST(l.first_seen AS DATE) <= $date_to::DATE)
  AND (len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], l.market))
  AND {country}
"""

_SALES_SQL = """
SELECT s.market, m.source_type, s.vendor_id, s.listing_id,
       coalesce(upper(s.ships_from), 'XX') AS ships_from, s.category, s.substance,
       coalesce(l.delivery_method, 'unknown') AS delivery_method, l.delivery_area,
       s.price_eur
FROM sales s
LEFT JOIN listings l ON l.market = s.market AND l.listing_id = s.listing_id
LEFT JOIN markets m ON m.market = s.market
WHERE {where} AND {country}
"""

_METHODS_SQL = """
WITH li AS ({listings}), sa AS ({sales}),
lc AS (
    SELECT {dims}, delivery_method, count(DISTINCT listing_id) AS listings,
           list(DISTINCT vendor_id) FILTER (WHERE vendor_id IS NOT NULL) AS lv
    FROM li GROUP BY ALL
), sc AS (
    SELECT {dims}, delivery_method, count(*) AS sales,
           coalesce(sum(price_eur), 0.0) AS revenue_eur,
           list(DISTINCT vendor_id) FILTER (WHERE vendor_id IS NOT NULL) AS sv
    FROM sa GROUP BY ALL
), j AS (
    SELECT {coalesced}, coalesce(lc.delivery_method, sc.delivery_method) AS delivery_method,
           coalesce(lc.listings, 0) AS listings, coalesce(sc.sales, 0) AS sales,
           coalesce(sc.revenue_eur, 0.0) AS revenue_eur,
           CAST(len(list_distinct(list_concat(coalesce(lc.lv, []), coalesce(sc.sv, []))))
                AS BIGINT) AS vendors
    FROM lc FULL OUTER JOIN sc ON {join} AND lc.delivery_method = sc.delivery_method
)
SELECT {names}, delivery_method, listings,
       listings / nullif(sum(listings) OVER w, 0) AS share_listings,
       sales, sales / nullif(sum(sales) OVER w, 0) AS share_sales,
       revenue_eur, revenue_eur / nullif(sum(revenue_eur) OVER w, 0) AS share_revenue,
       vendors
FROM j WINDOW w AS ({partition}) ORDER BY ALL
"""

_CONTRIB_SQL = """
WITH sa AS ({sales})
SELECT {dims}, delivery_method, vendor_id, count(*) AS sales,
       coalesce(sum(price_eur), 0.0) AS revenue_eur
FROM sa GROUP BY ALL ORDER BY ALL
"""

_DISTRICTS = """CASE WHEN contains(delivery_area, ': ') THEN list_transform(
    string_split(split_part(delivery_area, ': ', 2), ', '),
    lambda d: split_part(delivery_area, ': ', 1) || ': ' || d) ELSE [delivery_area] END"""
"""One area per district: ``Tbilisi: Saburtalo, Vake`` (an offer picked up in either) is
``Tbilisi: Saburtalo`` and ``Tbilisi: Vake``, so that each district's count is whole; such an
offer (and its sales) counts in each of its districts."""

_AREAS_SQL = """
WITH li AS ({listings}), sa AS ({sales}),
lid AS (
    SELECT *, unnest({districts}) AS area FROM li
    WHERE list_contains($methods::VARCHAR[], delivery_method)
      AND delivery_area IS NOT NULL AND delivery_area <> ''
), sad AS (
    SELECT *, unnest({districts}) AS area FROM sa
    WHERE list_contains($methods::VARCHAR[], delivery_method)
      AND delivery_area IS NOT NULL AND delivery_area <> ''
), la AS (
    SELECT market, delivery_method, area,
           count(DISTINCT listing_id) AS listings,
           list(DISTINCT vendor_id) FILTER (WHERE vendor_id IS NOT NULL) AS lv
    FROM lid GROUP BY ALL
), sar AS (
    SELECT market, delivery_method, area, count(*) AS sales,
           coalesce(sum(price_eur), 0.0) AS revenue_eur,
           list(DISTINCT vendor_id) FILTER (WHERE vendor_id IS NOT NULL) AS sv
    FROM sad GROUP BY ALL
), j AS (
    SELECT la.market, la.delivery_method, la.area, la.listings,
           coalesce(sar.sales, 0) AS sales, coalesce(sar.revenue_eur, 0.0) AS revenue_eur,
           CAST(len(list_distinct(list_concat(coalesce(la.lv, []), coalesce(sar.sv, []))))
                AS BIGINT) AS vendors
    FROM la LEFT JOIN sar ON la.market = sar.market
         AND la.delivery_method = sar.delivery_method AND la.area = sar.area
), r AS (
    SELECT *, row_number() OVER (PARTITION BY market ORDER BY listings DESC, sales DESC, area,
                                 delivery_method) AS rank,
           count(*) OVER (PARTITION BY market) AS areas_in_market
    FROM j
)
SELECT market, rank, delivery_method, area, listings, vendors, sales, revenue_eur,
       areas_in_market
FROM r WHERE rank <= $top ORDER BY market, rank
"""


def _dims(by: Sequence[str]) -> list[str]:
    unknown = [d for d in by if d not in DELIVERY_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions {unknown}; known: {', '.join(DELIVERY_DIMENSIONS)}")
    if len(set(by)) != len(by):
        raise ValueError(f"dimensions repeat: {list(by)}")
    return list(by)


def _selected(names: Sequence[str]) -> tuple[list[str], str]:
    """The output columns of dimensions ``names`` and their SQL select list (one constant
    ``scope`` column when there is none, so that every query has a cell to group by)."""
    if not names:
        return ["scope"], "'all' AS scope"
    return list(names), ", ".join(f"{DELIVERY_DIMENSIONS[d]} AS {d}" for d in names)


def _inputs(scope: Scope) -> tuple[str, str]:
    listings = _LISTINGS_SQL.format(
        country=_COUNTRY.format(col="coalesce(upper(l.ships_from), 'XX')")
    )
    sales = _SALES_SQL.format(
        where=scope.where("s.day", "s.market"),
        country=_COUNTRY.format(col="coalesce(upper(s.ships_from), 'XX')"),
    )
    return listings, sales


def _params(scope: Scope, countries: Sequence[str], **extra: Any) -> dict[str, Any]:
    return scope.params(countries=[c.upper() for c in countries], **extra)


def delivery_methods(
    store: Store,
    scope: Scope = EVERYTHING,
    by: Sequence[str] = ("market",),
    countries: Sequence[str] = (),
) -> pa.Table:
    """Listings, estimated sales and revenue per cell of ``by`` and delivery method, with the
    method's shares within the cell; ``countries`` restricts ships-from (ISO codes)."""
    names = _dims(by)
    listings, sales = _inputs(scope)
    cols, dims = _selected(names)
    sql = _METHODS_SQL.format(
        listings=listings,
        sales=sales,
        dims=dims,
        coalesced=", ".join(f"coalesce(lc.{c}, sc.{c}) AS {c}" for c in cols),
        join=" AND ".join(f"lc.{c} = sc.{c}" for c in cols),
        names=", ".join(cols),
        partition="PARTITION BY " + ", ".join(cols),
    )
    table = query(store, sql, _params(scope, countries))
    return annotate(
        table,
        "delivery_methods",
        "listings overlapping the scope and feedback-based sales per delivery method of the "
        "listing, with shares per " + (", ".join(names) or "scope"),
        coverage_summary(store, scope),
    )


def delivery_contributions(
    store: Store,
    scope: Scope = EVERYTHING,
    by: Sequence[str] = ("market",),
    countries: Sequence[str] = (),
) -> pa.Table:
    """One row per cell of ``by``, delivery method and vendor: sales and revenue, the input of
    disclosure control for :func:`delivery_methods`."""
    _, sales = _inputs(scope)
    sql = _CONTRIB_SQL.format(sales=sales, dims=_selected(_dims(by))[1])
    return query(store, sql, _params(scope, countries))


def delivery_areas(
    store: Store,
    scope: Scope = EVERYTHING,
    top: int = 10,
    methods: Sequence[str] = ("dead_drop",),
    countries: Sequence[str] = (),
) -> pa.Table:
    """The ``top`` delivery areas per market (by listings) for the local ``methods``, with
    vendors, estimated sales and revenue, and how many areas the market has in all."""
    if top < 1:
        raise ValueError("top must be >= 1")
    listings, sales = _inputs(scope)
    sql = _AREAS_SQL.format(listings=listings, sales=sales, districts=_DISTRICTS)
    table = query(store, sql, _params(scope, countries, top=top, methods=list(methods)))
    return annotate(
        table,
        "delivery_areas",
        f"top {top} areas per market of listings delivered by {', '.join(methods)}, by "
        "listings overlapping the scope; sales are feedback-based",
        coverage_summary(store, scope),
    )
