"""Cross-channel displacement: where vendors and products go after a marketplace closes.

Why: a takedown removes a market, not its trade. Vendors reopen on another marketplace, on
their own shop, in a forum's sales section or in a messaging channel, and a monitor that
watches marketplaces only reads the move as a fall. Every source dnmwatch reads is stored as a
"market" with its ``markets.source_type`` (``marketplace``, ``shop``, ``forum``, ``channel``;
``unknown`` when the adapter is not known), so displacement is a query across all of them.

Method (docs/indicators.md). Closures come from :func:`closed_markets` (``market_lifecycle``,
else long silence), restricted to the scope's markets and dates and to ``closed_types``
(default marketplaces; a market whose type is not filled counts too). For a closure at day T
and a window of W days (default 90):

* **Sightings.** An account (market, vendor pseudonym) is seen over the span from its first
  to its last sighting in ``vendors``, ``listings`` (by vendor) and ``sales``. It is seen in a
  window when that span overlaps it: before = [T-W, T), after = [T, T+W).
* **Actors.** An account's actor is its ``vendor_links.actor_id`` (PGP key, same handle, weak
  evidence: docs/estimation.md); an account without a link takes the actor of a linked account
  with the same pseudonym, else is the actor ``h:<pseudonym>``. A shop's or channel's
  ``vendor_id`` is the keyed pseudonym of its handle like a marketplace's, so the same id on
  two sources is the same handle.
* **Displacement** per closure: ``actors_at_close`` = actors with an account on the closed
  market seen before T. For each *destination* (another source seen after T by one of them):
  ``actors`` = how many, ``actors_new`` = of which the destination account was first seen on
  or after T (arrived rather than already there), ``share`` = actors / actors_at_close. Rows
  of ``kind`` ``market`` (one destination), ``type`` (any destination of that source type),
  ``anywhere`` (any other source; ``actors_new``: every destination new) and ``not_seen``
  (no other source). An actor can be on several destinations: shares of ``market`` and
  ``type`` rows do not add up to one; ``anywhere`` + ``not_seen`` = ``actors_at_close``.
  ``days_after_observed`` = days of the after window up to the store's last observation: a
  window cut short reads low.
* **Product shift** per closure and substance (or category) and source type: listings seen
  (life overlapping the window) and estimated sales and revenue (day in the window) before and
  after T, across *all* sources including the closed market, with the source type's share of
  the substance's listings and sales in each window. Sales are lower bounds, and channels and
  shops show far fewer buyer reviews than marketplaces: read the listing shares for the move
  between source types, the sales within one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from dnmwatch.estimate.indicators.coverage import coverage_summary
from dnmwatch.estimate.indicators.events import closed_markets
from dnmwatch.estimate.indicators.scope import EVERYTHING, Scope, annotate, query
from dnmwatch.store import Store

SOURCE_TYPES: tuple[str, ...] = ("marketplace", "shop", "forum", "channel")
"""The values of ``markets.source_type`` (adapters' ``source_type``)."""

_CLOSURES_CTE = """
c AS (
    SELECT k.closed, k.t, coalesce(m.source_type, 'unknown') AS closed_type FROM (
        SELECT unnest($c_market::VARCHAR[]) AS closed, unnest($c_day::DATE[]) AS t
    ) k LEFT JOIN markets m ON m.market = k.closed
)"""

_IDENT_CTE = """
sighting AS (
    SELECT market, vendor_id, CAST(first_seen AS DATE) AS f, CAST(last_seen AS DATE) AS l
    FROM vendors WHERE first_seen IS NOT NULL AND last_seen IS NOT NULL
    UNION ALL
    SELECT market, vendor_id, CAST(first_seen AS DATE), CAST(last_seen AS DATE) FROM listings
    WHERE vendor_id IS NOT NULL AND first_seen IS NOT NULL AND last_seen IS NOT NULL
    UNION ALL
    SELECT market, vendor_id, day, day FROM sales WHERE vendor_id IS NOT NULL
), span AS (
    SELECT market, vendor_id, min(f) AS f, max(l) AS l FROM sighting GROUP BY ALL
), by_handle AS (
    SELECT vendor_id, min(actor_id) AS actor_id FROM vendor_links GROUP BY vendor_id
), ident AS (
    SELECT s.market, s.vendor_id, s.f, s.l, coalesce(m.source_type, 'unknown') AS source_type,
           coalesce(vl.actor_id, h.actor_id, 'h:' || s.vendor_id) AS who
    FROM span s
    LEFT JOIN vendor_links vl ON vl.market = s.market AND vl.vendor_id = s.vendor_id
    LEFT JOIN by_handle h ON h.vendor_id = s.vendor_id
    LEFT JOIN markets m ON m.market = s.market
)"""

_DISPLACEMENT_SQL = """
WITH {closures}, {ident},
at_close AS (
    SELECT DISTINCT c.closed, c.t, i.who FROM c JOIN ident i ON i.market = c.closed
    WHERE i.l >= c.t - $window::INTEGER AND i.f < c.t
), seen AS (
    SELECT a.closed, a.t, a.who, i.market AS dest, i.source_type AS dest_type,
           min(i.f) AS first_on_dest
    FROM at_close a JOIN ident i ON i.who = a.who AND i.market <> a.closed
    WHERE i.l >= a.t AND i.f < a.t + $window::INTEGER
    GROUP BY ALL
), flags AS (
    SELECT a.closed, a.who, count(s.dest) > 0 AS moved,
           coalesce(min(s.first_on_dest) >= any_value(a.t), false) AS moved_new
    FROM at_close a LEFT JOIN seen s ON s.closed = a.closed AND s.who = a.who
    GROUP BY a.closed, a.who
), n AS (
    SELECT c.closed, count(f.who) AS actors_at_close FROM c LEFT JOIN flags f USING (closed)
    GROUP BY c.closed
), rows AS (
    SELECT c.closed, 1 AS o, 'anywhere' AS kind, NULL AS destination,
           NULL AS destination_type, count(f.who) FILTER (WHERE f.moved) AS actors,
           count(f.who) FILTER (WHERE f.moved_new) AS actors_new
    FROM c LEFT JOIN flags f USING (closed) GROUP BY c.closed
    UNION ALL
    SELECT c.closed, 2, 'not_seen', NULL, NULL, count(f.who) FILTER (WHERE NOT f.moved), NULL
    FROM c LEFT JOIN flags f USING (closed) GROUP BY c.closed
    UNION ALL
    SELECT closed, 3, 'type', NULL, dest_type, count(DISTINCT who),
           count(DISTINCT who) FILTER (WHERE first_on_dest >= t)
    FROM seen GROUP BY closed, dest_type
    UNION ALL
    SELECT closed, 4, 'market', dest, any_value(dest_type), count(DISTINCT who),
           count(DISTINCT who) FILTER (WHERE first_on_dest >= t)
    FROM seen GROUP BY closed, dest
)
SELECT c.closed AS market, c.t AS closed_day, c.closed_type AS source_type, n.actors_at_close,
       r.kind, r.destination, r.destination_type,
       r.actors, r.actors_new, r.actors / nullif(n.actors_at_close, 0) AS share,
       r.o AS _o
FROM c JOIN n USING (closed) JOIN rows r USING (closed)
ORDER BY c.t, c.closed, _o, actors DESC, r.destination_type, r.destination
"""

_LAST_SQL = """
WITH {ident}
SELECT max(d) FROM (
    SELECT l AS d FROM span
    UNION ALL SELECT CAST(started_at AS DATE) FROM crawls WHERE status = 'finished'
)
"""

_SHIFT_SQL = """
WITH {closures},
li AS (
    SELECT l.market, l.listing_id, l.vendor_id, {litem} AS item,
           coalesce(m.source_type, 'unknown') AS source_type,
           CAST(l.first_seen AS DATE) AS f, CAST(l.last_seen AS DATE) AS l
    FROM listings l LEFT JOIN markets m ON m.market = l.market
    WHERE l.first_seen IS NOT NULL AND l.last_seen IS NOT NULL
), lc AS (
    SELECT c.closed, li.item, li.source_type,
           count(DISTINCT (li.market, li.listing_id))
               FILTER (WHERE li.l >= c.t - $window::INTEGER AND li.f < c.t) AS listings_before,
           count(DISTINCT (li.market, li.listing_id))
               FILTER (WHERE li.l >= c.t AND li.f < c.t + $window::INTEGER) AS listings_after
    FROM c JOIN li ON li.l >= c.t - $window::INTEGER AND li.f < c.t + $window::INTEGER
    GROUP BY ALL
), sa AS (
    SELECT s.market, s.vendor_id, s.day, s.price_eur, {sitem} AS item,
           coalesce(m.source_type, 'unknown') AS source_type
    FROM sales s LEFT JOIN markets m ON m.market = s.market
), sc AS (
    SELECT c.closed, sa.item, sa.source_type,
           count(*) FILTER (WHERE sa.day < c.t) AS sales_before,
           count(*) FILTER (WHERE sa.day >= c.t) AS sales_after,
           coalesce(sum(sa.price_eur) FILTER (WHERE sa.day < c.t), 0.0) AS revenue_before_eur,
           coalesce(sum(sa.price_eur) FILTER (WHERE sa.day >= c.t), 0.0) AS revenue_after_eur
    FROM c JOIN sa ON sa.day >= c.t - $window::INTEGER AND sa.day < c.t + $window::INTEGER
    GROUP BY ALL
), j AS (
    SELECT coalesce(lc.closed, sc.closed) AS closed, coalesce(lc.item, sc.item) AS item,
           coalesce(lc.source_type, sc.source_type) AS source_type,
           coalesce(lc.listings_before, 0) AS listings_before,
           coalesce(lc.listings_after, 0) AS listings_after,
           coalesce(sc.sales_before, 0) AS sales_before,
           coalesce(sc.sales_after, 0) AS sales_after,
           coalesce(sc.revenue_before_eur, 0.0) AS revenue_before_eur,
           coalesce(sc.revenue_after_eur, 0.0) AS revenue_after_eur
    FROM lc FULL OUTER JOIN sc
         ON lc.closed = sc.closed AND lc.item = sc.item AND lc.source_type = sc.source_type
)
SELECT j.closed AS market, c.t AS closed_day, j.item AS {by}, j.source_type,
       listings_before, listings_after,
       listings_before / nullif(sum(listings_before) OVER w, 0) AS share_listings_before,
       listings_after / nullif(sum(listings_after) OVER w, 0) AS share_listings_after,
       sales_before, sales_after,
       sales_before / nullif(sum(sales_before) OVER w, 0) AS share_sales_before,
       sales_after / nullif(sum(sales_after) OVER w, 0) AS share_sales_after,
       revenue_before_eur, revenue_after_eur
FROM j JOIN c ON c.closed = j.closed
WINDOW w AS (PARTITION BY j.closed, j.item)
ORDER BY c.t, market, {by}, j.source_type
"""

_SHIFT_CONTRIB_SQL = """
WITH {closures}
SELECT c.closed AS market, {item} AS {by}, coalesce(m.source_type, 'unknown') AS source_type,
       CASE WHEN s.day < c.t THEN 'before' ELSE 'after' END AS side, s.vendor_id,
       count(*) AS sales, coalesce(sum(s.price_eur), 0.0) AS revenue_eur
FROM c JOIN sales s ON s.day >= c.t - $window::INTEGER AND s.day < c.t + $window::INTEGER
LEFT JOIN markets m ON m.market = s.market
GROUP BY ALL ORDER BY ALL
"""

def _sql(template: str, **parts: str) -> str:
    """A query of this module with its shared CTEs (constants, never user input) filled in."""
    return template.format(closures=_CLOSURES_CTE, ident=_IDENT_CTE, **parts)


_ITEMS = {"substance": "coalesce(nullif({t}.substance, ''), 'unknown')",
          "category": "coalesce(nullif({t}.category, ''), 'unknown')"}


def _closures(
    store: Store, scope: Scope, window_days: int, closed_types: Sequence[str]
) -> list[dict[str, Any]]:
    """The closures the indicators look at (with ``end_kind`` and the closed market's type)."""
    if window_days < 1:
        raise ValueError("window_days must be >= 1")
    closed = closed_markets(store, scope, window_days)
    if not closed:
        return []
    kinds = dict(store.fetchall(
        "SELECT market, source_type FROM markets WHERE list_contains(?, market)",
        [[c["market"] for c in closed]],
    ))
    wanted = set(closed_types)
    return [c for c in closed if kinds.get(c["market"]) is None or kinds[c["market"]] in wanted]


def _closure_params(closures: Sequence[dict[str, Any]], window_days: int) -> dict[str, Any]:
    return {
        "c_market": [c["market"] for c in closures],
        "c_day": [c["closed_day"] for c in closures],
        "window": window_days,
    }


_DISPLACEMENT_SCHEMA = pa.schema([
    ("market", pa.string()), ("closed_day", pa.date32()), ("end_kind", pa.string()),
    ("source_type", pa.string()), ("window_days", pa.int64()),
    ("days_after_observed", pa.int64()), ("actors_at_close", pa.int64()),
    ("kind", pa.string()), ("destination", pa.string()), ("destination_type", pa.string()),
    ("actors", pa.int64()), ("actors_new", pa.int64()), ("share", pa.float64()),
])


def displacement(
    store: Store,
    scope: Scope = EVERYTHING,
    window_days: int = 90,
    closed_types: Sequence[str] = ("marketplace",),
) -> pa.Table:
    """Per closure: where the closed market's vendors (as actors) are seen in the ``window_days``
    after it, per destination source and source type, and how many are not seen anywhere."""
    closures = _closures(store, scope, window_days, closed_types)
    rows: list[dict[str, Any]] = []
    if closures:
        kinds = {(c["market"], c["closed_day"]): c["kind"] for c in closures}
        last = store.fetchall(_sql(_LAST_SQL))[0][0]
        found = query(store, _sql(_DISPLACEMENT_SQL), _closure_params(closures, window_days))
        for r in found.to_pylist():
            r.pop("_o")
            after = 0 if last is None else (last - r["closed_day"]).days + 1
            rows.append({
                **r,
                "end_kind": kinds[(r["market"], r["closed_day"])],
                "window_days": window_days,
                "days_after_observed": max(0, min(window_days, after)),
            })
    table = pa.Table.from_pylist(rows, schema=_DISPLACEMENT_SCHEMA)
    return annotate(
        table,
        "displacement",
        f"actors (linked vendor accounts) of each closed market seen {window_days} days before "
        f"it, and the sources of each type they are seen on in the {window_days} days after",
        coverage_summary(store, scope),
    )


def _item(by: str) -> str:
    if by not in _ITEMS:
        raise ValueError(f"by must be one of {', '.join(_ITEMS)}, not {by!r}")
    return by


def product_shift(
    store: Store,
    scope: Scope = EVERYTHING,
    window_days: int = 90,
    by: str = "substance",
    closed_types: Sequence[str] = ("marketplace",),
) -> pa.Table:
    """Per closure, substance (or category) and source type: listings and estimated sales
    and revenue in the ``window_days`` before and after, with the source type's shares."""
    by = _item(by)
    closures = _closures(store, scope, window_days, closed_types)
    fields = [
        pa.field("market", pa.string()), pa.field("closed_day", pa.date32()),
        pa.field(by, pa.string()), pa.field("source_type", pa.string()),
        pa.field("listings_before", pa.int64()), pa.field("listings_after", pa.int64()),
        pa.field("share_listings_before", pa.float64()),
        pa.field("share_listings_after", pa.float64()),
        pa.field("sales_before", pa.int64()), pa.field("sales_after", pa.int64()),
        pa.field("share_sales_before", pa.float64()),
        pa.field("share_sales_after", pa.float64()),
        pa.field("revenue_before_eur", pa.float64()), pa.field("revenue_after_eur", pa.float64()),
    ]
    if closures:
        sql = _sql(
            _SHIFT_SQL,
            litem=_ITEMS[by].format(t="l"), sitem=_ITEMS[by].format(t="s"), by=by
        )
        table = query(store, sql, _closure_params(closures, window_days)).cast(pa.schema(fields))
    else:
        table = pa.Table.from_pylist([], schema=pa.schema(fields))
    return annotate(
        table,
        "product_shift",
        f"listings and feedback-based sales per {by} and source type, all sources, "
        f"{window_days} days before vs after each closure",
        coverage_summary(store, scope),
    )


def product_shift_contributions(
    store: Store,
    scope: Scope = EVERYTHING,
    window_days: int = 90,
    by: str = "substance",
    closed_types: Sequence[str] = ("marketplace",),
) -> pa.Table:
    """One row per closure, ``by`` cell, source type, side (``before``/``after``) and vendor:
    sales and revenue, the input of disclosure control for :func:`product_shift`."""
    by = _item(by)
    closures = _closures(store, scope, window_days, closed_types)
    if not closures:
        return pa.table({
            "market": pa.array([], pa.string()), by: pa.array([], pa.string()),
            "source_type": pa.array([], pa.string()), "side": pa.array([], pa.string()),
            "vendor_id": pa.array([], pa.string()), "sales": pa.array([], pa.int64()),
            "revenue_eur": pa.array([], pa.float64()),
        })
    sql = _sql(_SHIFT_CONTRIB_SQL, item=_ITEMS[by].format(t="s"), by=by)
    return query(store, sql, _closure_params(closures, window_days))
