"""The report's sections beyond marketplaces (issue 11): delivery methods, and where trade moved
after a marketplace closed (other marketplaces, vendor shops, forums, messaging channels).

Every figure comes protected from :mod:`dnmwatch.report.disclosed_channels`. A store without
delivery data (built before delivery was classified) or without a closure gets a section that
says so in one sentence, never an error or an empty chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dnmwatch.report import charts
from dnmwatch.report import disclosed_channels as dc
from dnmwatch.report import tables as t
from dnmwatch.report.section import Section, chart
from dnmwatch.store import Store

if TYPE_CHECKING:  # build imports this module: the options type only for the checker
    from dnmwatch.report.build import ReportOptions

_KIND_LABEL = {"anywhere": "any other source", "not_seen": "no other source"}

_METHOD_COLS: list[t.Column] = [
    ("delivery", "delivery_method", t.text, False),
    ("listings", "listings", t.integer, False),
    ("share of listings", "share_listings", t.share, False),
    ("sales", "sales", t.integer, True),
    ("share of sales", "share_sales", t.share, True),
    ("revenue EUR", "revenue_eur", t.eur, True),
    ("share of revenue", "share_revenue", t.share, True),
]


def delivery_section(store: Store, o: ReportOptions) -> Section:
    """Delivery methods by market, source type and ships-from country, and the local areas."""
    by_market = dc.protected_delivery(store, o.scope, ["market"], o.rules)
    section = Section(
        "delivery",
        "Delivery methods",
        "How listings reach the buyer (post, express courier, dead drop, in-person meeting, "
        "digital), read from each listing's title and delivery fields, per market, type of "
        "source and ships-from country. Listing counts are complete for what was crawled; "
        "sales and revenue are lower bounds, and shops and channels show fewer buyer reviews "
        "than marketplaces.",
    )
    if not dc.has_delivery_data(by_market):
        section.intro = (
            "No delivery method is known for the listings in the selected scope (the store "
            "was built before delivery was classified, or no listing states one); run "
            "dnmwatch build again to classify them."
        )
        return section
    by_country = dc.protected_delivery(store, o.scope, ["ships_from"], o.rules)
    by_type = dc.protected_delivery(store, o.scope, ["source_type"], o.rules)
    areas = dc.protected_areas(store, o.scope, o.rules)
    section.charts = [
        chart("delivery-market", charts.delivery_by_market(by_market)),
        chart("delivery-country", charts.delivery_by_country(by_country)),
    ]
    section.tables = [
        t.make_table("Delivery methods by market", by_market,
                     [("market", "market", t.text, False), *_METHOD_COLS]),
        t.make_table("Delivery methods by type of source", by_type,
                     [("source type", "source_type", t.text, False), *_METHOD_COLS]),
        t.make_table("Delivery methods by ships-from country", by_country,
                     [("ships from", "ships_from", t.text, False), *_METHOD_COLS]),
        t.make_table(
            "Dead-drop and meeting areas (top 10 per market)",
            areas,
            [
                ("market", "market", t.text, False),
                ("delivery", "delivery_method", t.text, False),
                ("area", "area", t.text, False),
                ("listings", "listings", t.integer, False),
                ("vendors", "vendors", t.integer, False),
                ("sales", "sales", t.integer, True),
                ("revenue EUR", "revenue_eur", t.eur, True),
            ],
            note=f"An area is named when at least {o.rules.min_vendors} vendors list there; "
            "smaller ones are pooled per market, their sales not shown.",
        ),
    ]
    return section


def _destination(row: dict[str, Any]) -> str:
    if row["kind"] == "market":
        return str(row["destination"])
    if row["kind"] == "type":
        return f"any {row['destination_type']}"
    return _KIND_LABEL.get(row["kind"], str(row["kind"]))


def displacement_section(store: Store, o: ReportOptions) -> Section:
    """Where the vendors of each closed marketplace went, and how products moved between
    marketplaces, shops, forums and channels, ``o.displacement_days`` before and after."""
    days = o.displacement_days
    rows, unnamed = dc.protected_displacement(store, o.scope, o.rules, days)
    section = Section(
        "displacement",
        "Where trade moved after closures",
        f"For each marketplace that closed, its vendors (accounts linked to one actor by PGP "
        f"key or handle) active in the {days} days before, and the sources they were seen on "
        f"in the {days} days after: other marketplaces, vendor shops, forums and messaging "
        "channels; then listings and sales per substance and type of source before and after.",
    )
    if not rows:
        section.intro = (
            "No marketplace closed in the selected scope, so there is no displacement to show."
        )
        return section
    for r in rows:
        r["seen_on"] = _destination(r)
        r["type"] = r["destination_type"] if r["kind"] == "market" else "–"
    note = (
        f"A source is named only when at least {o.rules.min_vendors} of the closed market's "
        "vendors are seen on it; other counts below that are suppressed. 'new' = first seen "
        "there on or after the closing day. A vendor seen on several sources counts on each."
    )
    if unnamed:
        note += f" {unnamed} smaller destination(s) are counted in the 'any ...' rows only."
    shift = dc.protected_shift(store, o.scope, o.rules, days)
    section.tables = [
        t.make_table(
            f"Vendors of closed markets, seen in the {days} days after the closure",
            rows,
            [
                ("closed market", "market", t.text, False),
                ("closed", "closed_day", t.text, False),
                ("days observed after", "days_after_observed", t.integer, False),
                ("vendors at close", "actors_at_close", t.integer, False),
                ("seen on", "seen_on", t.text, False),
                ("type", "type", t.text, False),
                ("vendors", "actors", t.integer, True),
                ("of which new", "actors_new", t.integer, True),
                ("share", "share", t.share, True),
            ],
            note=note,
        ),
        t.make_table(
            f"Listings and sales by substance and type of source, {days} days before / after",
            shift,
            [
                ("closed market", "market", t.text, False),
                ("substance", "substance", t.text, False),
                ("source type", "source_type", t.text, False),
                ("listings before", "listings_before", t.integer, False),
                ("after", "listings_after", t.integer, False),
                ("share before", "share_listings_before", t.share, False),
                ("share after", "share_listings_after", t.share, False),
                ("sales before", "sales_before", t.integer, True),
                ("after", "sales_after", t.integer, True),
                ("revenue before EUR", "revenue_before_eur", t.eur, True),
                ("after", "revenue_after_eur", t.eur, True),
            ],
            note="Shares are of the substance's listings across all types of source in each "
            "window, the closed market included.",
        ),
    ]
    return section
