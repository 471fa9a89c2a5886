"""What each dashboard page shows, computed from the store and protected before display.

Figures come from :mod:`dnmwatch.estimate.indicators` through the report's disclosure layer
(:mod:`dnmwatch.report.disclosed`), charts from :mod:`dnmwatch.report.charts` and tables from
:mod:`dnmwatch.report.tables`, so the dashboard and the report cannot disagree. ``rules`` is
chosen by the caller from the viewer's role (:func:`rules_for`): viewers get at least 10
vendors per published cell on ad-hoc slices; analysts and above see cells unprotected (they are
trusted with pseudonymous data) but their *exports* are protected again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dnmwatch.estimate import indicators as ind
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.report import blocks, charts, disclosed, sections_channels
from dnmwatch.report import tables as t
from dnmwatch.report.build import ReportOptions
from dnmwatch.report.provenance import provenance_tables
from dnmwatch.report.section import Section
from dnmwatch.store import Store
from dnmwatch.web import charts as wcharts
from dnmwatch.web import queries as q
from dnmwatch.web.filters import BREAKDOWNS, Filters
from dnmwatch.web.roles import Role, allowed

VIEWER_MIN_VENDORS = 10
"""Ad-hoc outputs: at least 10 vendors per slice (FIELD-NOTES.md, disclosure control)."""

OPEN = Rules(min_vendors=1, dominance_top=2, dominance_pct=100.0)
"""No suppression: for roles trusted with unprotected cells."""


def rules_for(role: Role, adhoc: bool, min_vendors: int, dominance_pct: float) -> Rules:
    """The disclosure rules of the pages a ``role`` sees: none for trusted roles; for viewers
    the report's rules on the whole store, and at least :data:`VIEWER_MIN_VENDORS` vendors
    per cell on an ad-hoc slice (dates or markets chosen)."""
    if allowed(role, "unprotected_cells"):
        return OPEN
    floor = max(VIEWER_MIN_VENDORS, min_vendors) if adhoc else min_vendors
    return Rules(min_vendors=floor, dominance_pct=dominance_pct)


@dataclass(slots=True)
class Chart:
    key: str
    spec: dict[str, Any] | None
    empty: str = "No published data for this chart in the selected slice."


@dataclass(slots=True)
class Page:
    charts: list[Chart] = field(default_factory=list)
    tables: list[t.Table] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def suppressed(self) -> int:
        return sum(tb.suppressed for tb in self.tables)


def overview(store: Store, f: Filters, rules: Rules) -> Page:
    scope = f.scope
    summary = ind.coverage_summary(store, scope)
    total = disclosed.protected_sales(store, scope, [], rules, None)
    mkt_month = disclosed.protected_sales(store, scope, ["market", "month"], rules, "month")
    head = total[0] if total else {"suppressed": False, "sales": 0, "revenue_eur": 0.0}
    hidden = bool(head.get("suppressed"))
    headline = [
        ("Estimated sales (lower bound)", "suppressed" if hidden else t.integer(head["sales"])),
        ("Estimated revenue, EUR", "suppressed" if hidden else t.eur(head["revenue_eur"])),
        *blocks.coverage_headline(summary),
        ("Last crawl", t.text(q.recent_crawl_day(store))),
    ]
    crawls = q.recent_crawls(store, scope, limit=10)
    return Page(
        [Chart("sales-market", charts.sales_by_market(mkt_month))],
        [
            provenance_tables(store, scope)[1],
            t.make_table("Last crawls", crawls, _CRAWL_COLS[:6]),
        ],
        {
            "headline": headline,
            "coverage": ind.coverage_sentence(summary),
            "bound": ind.LOWER_BOUND_NOTE,
            "empty": not total or head.get("n_vendors") == 0,
        },
    )


def trend_rows(store: Store, f: Filters, rules: Rules) -> list[dict[str, Any]]:
    by = BREAKDOWNS[f.breakdown]
    return disclosed.protected_sales(store, f.scope, list(by), rules, "month")


def trend_table(f: Filters, rows: list[dict[str, Any]]) -> t.Table:
    dims = BREAKDOWNS[f.breakdown]
    return blocks.sales_table(f"Sales and revenue by {' and '.join(dims)}", rows, dims)


def trends(store: Store, f: Filters, rules: Rules) -> Page:
    rows = trend_rows(store, f, rules)
    chart = {
        "substance": charts.revenue_by_substance,
        "category": charts.category_shares,
        "origin": charts.origin_split,
        "market": charts.sales_by_market,
    }[f.breakdown](rows)
    return Page([Chart(f"trend-{f.breakdown}", chart)], [trend_table(f, rows)])


def prices(store: Store, f: Filters, rules: Rules) -> Page:
    overall = disclosed.protected_unit_prices(store, f.scope, ["substance"], rules)
    detail = disclosed.protected_unit_prices(store, f.scope, ["substance", "quarter"], rules)
    bands = disclosed.protected_bands(store, f.scope, rules)
    return Page(
        [Chart("unit-prices", charts.unit_prices(overall))],
        [
            blocks.unit_price_table("Unit prices by substance", overall, []),
            blocks.unit_price_table(
                "Unit prices by substance and quarter",
                detail,
                [("quarter", "quarter", t.text, False)],
            ),
            t.make_table(
                "Retail and wholesale (USD 1,000 per transaction)",
                bands,
                [
                    ("substance", "substance", t.text, False),
                    ("band", "band", t.text, False),
                    ("sales", "sales", t.integer, True),
                    ("share of sales", "share_sales", t.share, True),
                ],
            ),
        ],
    )


def markets(store: Store, f: Filters, rules: Rules, window_days: int = 30) -> Page:
    listings = ind.listing_activity(store, f.scope).to_pylist()
    mkt_month = disclosed.protected_sales(store, f.scope, ["market", "month"], rules, "month")
    closures = disclosed.protected_closures(store, f.scope, rules, window_days)
    return Page(
        [
            Chart("listings", charts.listings_by_market(listings)),
            Chart("market-shares", charts.market_shares(mkt_month)),
        ],
        [
            provenance_tables(store, f.scope)[0],
            blocks.closures_table("Closures and displacement", closures),
        ],
    )


def channels(store: Store, f: Filters, rules: Rules) -> Page:
    """Delivery methods and cross-channel displacement (issue 11): the report's two sections
    themselves (:mod:`dnmwatch.report.sections_channels`), built for the page's filters and
    the viewer's ``rules``, so the dashboard cannot show other figures than the report. Each
    section says in its intro when the store has no delivery data or no closure. The window
    is ``f.window_days`` (the page's ``window`` parameter)."""
    days = f.window_days
    opts = ReportOptions(scope=f.scope, rules=rules, displacement_days=days)
    sections = [
        sections_channels.delivery_section(store, opts),
        sections_channels.displacement_section(store, opts),
    ]
    return Page(
        [Chart(c.key, c.spec, c.empty) for s in sections for c in s.charts],
        [tb for s in sections for tb in s.tables],
        {"sections": sections, "window_days": days},
    )


def table_key(section: str, index: int) -> str:
    """The download name of a section's ``index``-th table (the page's forms send it)."""
    return f"{section}-{index}"


def keyed_tables(sections: list[Section]) -> dict[str, t.Table]:
    """Every table of ``sections`` by :func:`table_key`: what the CSV export may serve."""
    return {table_key(s.key, i): tb for s in sections for i, tb in enumerate(s.tables)}


def vendors(store: Store, f: Filters, rules: Rules, role: Role) -> Page:
    activity = ind.vendor_activity(store, f.scope).to_pylist()
    dist = q.vendor_sales_distribution(store, f.scope)
    conc = disclosed.protected_concentration(store, f.scope, rules)
    page = Page(
        [
            Chart("vendors", charts.vendors_by_market(activity)),
            Chart("vendor-distribution", wcharts.vendor_distribution(dist)),
        ],
        [
            t.make_table(
                "Vendor accounts by number of estimated sales",
                dist,
                [
                    ("estimated sales", "bucket", t.text, False),
                    ("vendor accounts", "vendors", t.integer, False),
                ],
            ),
            blocks.concentration_table(conc),
        ],
    )
    if allowed(role, "vendor_profiles"):
        page.extra["accounts"] = q.vendor_accounts(store, f.scope)
    return page


def vendor_profile(store: Store, market: str, vendor_id: str) -> Page | None:
    prof = q.vendor_profile(store, market, vendor_id)
    if prof is None:
        return None
    return Page(
        [Chart("vendor-sales", charts.sales_by_market(prof["monthly"]))],
        [
            t.make_table(
                "Listings",
                prof["listings"],
                [
                    ("listing", "listing_id", t.text, False),
                    ("title", "title", t.text, False),
                    ("substance", "substance", t.text, False),
                    ("category", "category", t.text, False),
                    ("first seen", "first_seen", t.text, False),
                    ("last seen", "last_seen", t.text, False),
                    ("last price EUR", "last_price_eur", t.eur2, False),
                ],
            ),
            t.make_table(
                "Estimated sales by month",
                prof["monthly"],
                [
                    ("month", "month", t.month, False),
                    ("sales", "sales", t.integer, False),
                    ("revenue EUR", "revenue_eur", t.eur, False),
                ],
            ),
        ],
        {"vendor": prof["vendor"], "linked": prof["linked"]},
    )


def quality(store: Store, f: Filters) -> Page:
    prov = provenance_tables(store, f.scope)
    excl = q.exclusions(store, f.scope)
    return Page(
        [
            Chart(
                "rejections",
                wcharts.rejections_over_time(q.rejections_by_day(store, f.scope)),
                "No dated rejections in the selected slice.",
            ),
            Chart(
                "pages",
                wcharts.pages_over_time(q.pages_by_day(store, f.scope)),
                "No extracted pages in the selected slice.",
            ),
        ],
        [
            prov[3],
            t.make_table(
                "Feedback excluded from the estimate, by reason",
                excl,
                [("reason", "reason", t.text, False), ("count", "n", t.integer, False)],
            ),
        ],
    )


_CRAWL_COLS: list[t.Column] = [
    ("crawl", "crawl_id", t.text, False),
    ("market", "market", t.text, False),
    ("started", "started_at", t.text, False),
    ("status", "status", t.text, False),
    ("pages stored", "pages_ok", t.integer, False),
    ("pages failed", "pages_failed", t.integer, False),
    ("finished", "finished_at", t.text, False),
    ("gates met", "gates", t.text, False),
]


def crawls(store: Store, f: Filters) -> Page:
    rows = q.recent_crawls(store, f.scope)
    waiting = [r for r in rows if r["waiting"]]
    prov = provenance_tables(store, f.scope)
    return Page(
        [],
        [
            t.make_table(
                "Gates waiting for the operator (paused crawls)",
                waiting,
                _CRAWL_COLS,
                note="Resume with `dnmwatch crawl MARKET` after solving the gate.",
            ),
            t.make_table(
                "Crawls by status",
                q.crawl_status_counts(store, f.scope),
                [("status", "status", t.text, False), ("crawls", "crawls", t.integer, False)],
            ),
            t.make_table("Latest crawls", rows, _CRAWL_COLS),
            prov[2],
            prov[1],
        ],
    )
