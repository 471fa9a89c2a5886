"""Vega-Lite specifications of the report's charts, built from protected rows.

Why plain dictionaries rather than Altair: a spec is data, easy to test and to serialise, and
this keeps the report's dependencies to the renderer bundle alone. Every spec holds its data
inline (``data.values``), so the page needs no network; months are ``YYYY-MM`` labels on an
ordinal axis, so no time-zone conversion in the browser can shift a month.

Only published cells are plotted; a chart whose rows are all suppressed or empty is ``None`` and
the page shows an empty state instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

Spec = dict[str, Any]

WIDTH = 640
HEIGHT = 260
TOP_SUBSTANCES = 8


def month_label(value: date | str | None) -> str:
    """``YYYY-MM`` for a month (first day of the month as a date)."""
    if value is None:
        return "?"
    return value.strftime("%Y-%m") if isinstance(value, date) else str(value)[:7]


def base_spec(title: str, values: list[dict[str, Any]]) -> Spec:
    """The frame every chart shares (size, inline data, no view border); the dashboard's own
    charts use it too so both look alike."""
    return {
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": values},
        "config": {"view": {"stroke": None}, "axis": {"labelLimit": 160}},
    }


def _published(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r.get("suppressed")]


def revenue_by_substance(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Stacked monthly revenue of the top substances (the rest as ``other``)."""
    pub = _published(rows)
    if not pub:
        return None
    totals: dict[str, float] = defaultdict(float)
    for r in pub:
        totals[r["substance"]] += r["revenue_eur"] or 0.0
    top = set(sorted(totals, key=lambda s: (-totals[s], s))[:TOP_SUBSTANCES])
    cells: dict[tuple[str, str], float] = defaultdict(float)
    for r in pub:
        name = r["substance"] if r["substance"] in top else "other"
        cells[(month_label(r["month"]), name)] += r["revenue_eur"] or 0.0
    values = [
        {"month": m, "substance": s, "revenue_eur": round(v, 2)}
        for (m, s), v in sorted(cells.items())
    ]
    spec = base_spec("Estimated revenue by substance and month (EUR, lower bound)", values)
    spec["mark"] = {"type": "bar"}
    spec["encoding"] = {
        "x": {"field": "month", "type": "ordinal", "title": "month"},
        "y": {"field": "revenue_eur", "type": "quantitative", "title": "EUR", "aggregate": "sum"},
        "color": {"field": "substance", "type": "nominal"},
        "tooltip": [
            {"field": "month"},
            {"field": "substance"},
            {"field": "revenue_eur", "type": "quantitative", "format": ",.0f"},
        ],
    }
    return spec


def _lines(
    title: str, values: list[dict[str, Any]], y: str, y_title: str, colour: str
) -> Spec | None:
    if not values:
        return None
    spec = base_spec(title, values)
    spec["mark"] = {"type": "line", "point": True}
    spec["encoding"] = {
        "x": {"field": "month", "type": "ordinal", "title": "month"},
        "y": {"field": y, "type": "quantitative", "title": y_title},
        "color": {"field": colour, "type": "nominal"},
        "tooltip": [{"field": "month"}, {"field": colour}, {"field": y, "type": "quantitative"}],
    }
    return spec


def sales_by_market(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Monthly estimated sales per market."""
    values = [
        {"month": month_label(r["month"]), "market": r["market"], "sales": r["sales"]}
        for r in _published(rows)
    ]
    return _lines(
        "Estimated sales per market and month (count, lower bound)",
        values,
        "sales",
        "sales",
        "market",
    )


def _stacked_share(title: str, values: list[dict[str, Any]], y: str, colour: str) -> Spec | None:
    if not values:
        return None
    spec = base_spec(title, values)
    spec["mark"] = {"type": "bar"}
    spec["encoding"] = {
        "x": {"field": "month", "type": "ordinal", "title": "month"},
        "y": {
            "field": y,
            "type": "quantitative",
            "stack": "normalize",
            "title": "share",
            "axis": {"format": "%"},
        },
        "color": {"field": colour, "type": "nominal"},
        "tooltip": [
            {"field": "month"},
            {"field": colour},
            {"field": y, "type": "quantitative", "format": ",.0f"},
        ],
    }
    return spec


def category_shares(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Share of each category in the month's published revenue."""
    values = [
        {
            "month": month_label(r["month"]),
            "category": r["category"],
            "revenue_eur": r["revenue_eur"],
        }
        for r in _published(rows)
    ]
    return _stacked_share(
        "Share of revenue by category (published cells)", values, "revenue_eur", "category"
    )


def origin_split(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Sales by EU / non-EU / unknown origin per month."""
    values = [
        {"month": month_label(r["month"]), "origin": r["origin"], "sales": r["sales"]}
        for r in _published(rows)
    ]
    return _stacked_share("Share of sales by origin: EU vs non-EU", values, "sales", "origin")


def market_shares(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Each market's share of the month's revenue."""
    values = [
        {"month": month_label(r["month"]), "market": r["market"], "revenue_eur": r["revenue_eur"]}
        for r in _published(rows)
    ]
    return _stacked_share("Market shares of revenue by month", values, "revenue_eur", "market")


def _interval_chart(
    title: str,
    values: list[dict[str, Any]],
    y: dict[str, Any],
    fields: tuple[str, str, str],
    x_title: str,
    stroke_width: int,
    tooltip: list[dict[str, Any]],
) -> Spec:
    """One row per label: a bar from low to high and a point at the middle, on a log axis.

    ``fields`` names the low, middle and high value of each row; the chart grows with the rows.
    """
    low, mid, high = fields
    spec = base_spec(title, values)
    spec["height"] = max(HEIGHT, 22 * len(values))
    x_scale = {"type": "log"}
    spec["layer"] = [
        {
            "mark": {"type": "rule", "strokeWidth": stroke_width},
            "encoding": {
                "y": y,
                "x": {"field": low, "type": "quantitative", "scale": x_scale, "title": x_title},
                "x2": {"field": high},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 60},
            "encoding": {
                "y": y,
                "x": {"field": mid, "type": "quantitative", "scale": x_scale},
                "tooltip": tooltip,
            },
        },
    ]
    return spec


def unit_prices(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Median (point) and interquartile range (bar) of the unit price per substance."""
    values = [
        {
            "label": f"{r['substance']} (EUR/{r['unit']})",
            "median": r["median_eur"],
            "q1": r["q1_eur"],
            "q3": r["q3_eur"],
            "n": r["n"],
        }
        for r in _published(rows)
        if r["median_eur"] is not None and r["median_eur"] > 0
    ]
    if not values:
        return None
    return _interval_chart(
        "Unit prices: median and interquartile range (log scale)",
        values,
        {"field": "label", "type": "nominal", "title": None, "sort": None},
        ("q1", "median", "q3"),
        "EUR per gram / per unit",
        3,
        [
            {"field": "label"},
            {"field": "median", "format": ",.2f"},
            {"field": "q1", "format": ",.2f"},
            {"field": "q3", "format": ",.2f"},
            {"field": "n"},
        ],
    )


def vendors_by_market(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Vendors with at least one sale per market and month."""
    values = [
        {"month": month_label(r["month"]), "market": r["market"], "vendors": r["vendors_selling"]}
        for r in rows
    ]
    return _lines(
        "Active vendors (with at least one estimated sale)", values, "vendors", "vendors", "market"
    )


def listings_by_market(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Active listings per market and month (all categories)."""
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        cells[(month_label(r["month"]), r["market"])] += r["active_listings"]
    values = [{"month": m, "market": k, "listings": v} for (m, k), v in sorted(cells.items())]
    return _lines("Active listings per market", values, "listings", "listings", "market")


def event_ratios(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Sales rate ratio after/before the event per substance, with its 95 % interval."""
    values = [
        {
            "substance": r["substance"],
            "ratio": r["rate_ratio"],
            "low": r["rate_ratio_low"],
            "high": r["rate_ratio_high"],
        }
        for r in _published(rows)
        if r["rate_ratio"] and r["rate_ratio_low"] and r["rate_ratio_high"]
    ]
    if not values:
        return None
    spec = _interval_chart(
        "Event impact: sales per day after / before (95% interval, log scale)",
        values,
        {"field": "substance", "type": "nominal", "title": None},
        ("low", "ratio", "high"),
        "rate ratio",
        2,
        [
            {"field": "substance"},
            {"field": "ratio", "format": ".2f"},
            {"field": "low", "format": ".2f"},
            {"field": "high", "format": ".2f"},
        ],
    )
    spec["layer"].append(
        {
            "mark": {"type": "rule", "strokeDash": [4, 4]},
            "data": {"values": [{"one": 1}]},
            "encoding": {"x": {"field": "one", "type": "quantitative"}},
        }
    )
    return spec


TOP_COUNTRIES = 12


def _method_shares(title: str, values: list[dict[str, Any]], y: str, y_title: str) -> Spec:
    """Horizontal bars of listings per ``y`` split by delivery method, as shares (100 %)."""
    spec = base_spec(title, values)
    spec["height"] = max(HEIGHT // 2, 24 * len({v[y] for v in values}))
    spec["mark"] = {"type": "bar"}
    spec["encoding"] = {
        "y": {"field": y, "type": "nominal", "title": y_title, "sort": None},
        "x": {
            "field": "listings",
            "type": "quantitative",
            "stack": "normalize",
            "title": "share of listings",
            "axis": {"format": "%"},
        },
        "color": {"field": "method", "type": "nominal", "title": "delivery"},
        "tooltip": [{"field": y}, {"field": "method"}, {"field": "listings"}],
    }
    return spec


def delivery_by_market(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Share of each delivery method in the listings of each market (entity counts)."""
    values = [
        {"market": r["market"], "method": r["delivery_method"], "listings": r["listings"]}
        for r in rows
        if r["listings"]
    ]
    if not values:
        return None
    return _method_shares("Listings by delivery method and market", values, "market", "market")


def delivery_by_country(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Share of each delivery method in the listings shipping from each country (the
    countries with most listings; the rest are left out, said in the title)."""
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r["ships_from"]] += r["listings"] or 0
    top = sorted((c for c in totals if totals[c]), key=lambda c: (-totals[c], c))
    keep = set(top[:TOP_COUNTRIES])
    values = [
        {"ships_from": r["ships_from"], "method": r["delivery_method"], "listings": r["listings"]}
        for r in rows
        if r["ships_from"] in keep and r["listings"]
    ]
    if not values:
        return None
    order = {c: i for i, c in enumerate(top)}
    values.sort(key=lambda v: (order[v["ships_from"]], v["method"]))
    title = "Listings by delivery method and ships-from country"
    if len(top) > TOP_COUNTRIES:
        title += f" (top {TOP_COUNTRIES} countries)"
    return _method_shares(title, values, "ships_from", "ships from")
