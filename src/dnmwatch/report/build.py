"""Gather the report's content: protected indicators, charts, tables, provenance.

Everything shown is computed here from the store through :mod:`dnmwatch.estimate.indicators`
and protected by :mod:`dnmwatch.report.disclosed`; :mod:`dnmwatch.report.render` only puts it on
the page. The result is a plain :class:`ReportContent` so tests can check figures without HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from dnmwatch import __version__
from dnmwatch.estimate import indicators as ind
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.report import blocks, charts, disclosed, sections_channels
from dnmwatch.report import tables as t
from dnmwatch.report.provenance import provenance_tables
from dnmwatch.report.section import Chart, Section
from dnmwatch.report.section import chart as _chart
from dnmwatch.store import Store


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What the analyst asks for: scope, optional event day, windows and disclosure rules."""

    scope: ind.Scope = ind.EVERYTHING
    event_day: date | None = None
    window_days: int = 30
    displacement_days: int = 90
    """Window before and after a closure for where vendors and products moved (issue 11)."""
    rules: Rules = field(default_factory=Rules)
    title: str = "dnmwatch: darknet drug market indicators"
    generated_at: datetime | None = None
    """Fixed in tests for byte-identical output; defaults to now (UTC)."""


@dataclass(slots=True)
class ReportContent:
    title: str
    generated_at: str
    version: str
    scope_text: str
    empty: bool
    bound_note: str
    coverage_text: str
    headline: list[tuple[str, str]]
    sections: list[Section]
    provenance: list[t.Table]
    rules: Rules
    suppressed_cells: int = 0

    @property
    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts if c.spec is not None]


def _scope_text(scope: ind.Scope) -> str:
    days = f"{scope.date_from or 'first day'} to {scope.date_to or 'last day'}"
    markets = ", ".join(scope.markets) if scope.markets else "all markets"
    return f"{days}; {markets}"


def build_content(store: Store, options: ReportOptions | None = None) -> ReportContent:
    """Compute and protect every figure of the report."""
    options = options or ReportOptions()
    scope, rules = options.scope, options.rules
    summary = ind.coverage_summary(store, scope)
    total = ind.sales_totals(store, scope, by=()).to_pylist()[0]
    empty = total["sales"] == 0
    when = options.generated_at or datetime.now(UTC).replace(microsecond=0)
    sections = [] if empty else _sections(store, options)
    content = ReportContent(
        title=options.title,
        generated_at=when.strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        scope_text=_scope_text(scope),
        empty=empty,
        bound_note=ind.LOWER_BOUND_NOTE,
        coverage_text=ind.coverage_sentence(summary),
        headline=[]
        if empty
        else _headline(total, summary, disclosed.protected_sales(store, scope, [], rules, None)[0]),
        sections=sections,
        provenance=provenance_tables(store, scope),
        rules=rules,
    )
    content.suppressed_cells = sum(tb.suppressed for s in sections for tb in s.tables)
    return content


def _headline(
    total: dict[str, Any], summary: dict[str, Any], protected_total: dict[str, Any]
) -> list[tuple[str, str]]:
    """Key figures; the grand totals go through the same disclosure rules as any cell."""
    safe = not protected_total["suppressed"]
    return [
        ("Estimated sales (lower bound)", t.integer(total["sales"]) if safe else "suppressed"),
        (
            "Estimated revenue, EUR (lower bound)",
            t.eur(total["revenue_eur"]) if safe else "suppressed",
        ),
        ("Vendors with sales", t.integer(total["vendors"])),
        *blocks.coverage_headline(summary),
    ]


def _sections(store: Store, o: ReportOptions) -> list[Section]:
    scope, rules = o.scope, o.rules
    sub_month = disclosed.protected_sales(store, scope, ["month", "substance"], rules, "month")
    mkt_month = disclosed.protected_sales(store, scope, ["market", "month"], rules, "month")
    cat_month = disclosed.protected_sales(store, scope, ["month", "category"], rules, "month")
    origin = disclosed.protected_sales(store, scope, ["month", "origin"], rules, "month")
    out = [
        Section(
            "sales",
            "Sales and revenue",
            "Estimated transactions and revenue in EUR, by substance, market and month.",
            [
                _chart("revenue-substance", charts.revenue_by_substance(sub_month)),
                _chart("sales-market", charts.sales_by_market(mkt_month)),
            ],
            [
                blocks.sales_table(
                    "Revenue by month and substance", sub_month, ["month", "substance"]
                ),
                blocks.sales_table("Sales by market and month", mkt_month, ["market", "month"]),
            ],
        ),
        Section(
            "origin",
            "Categories and origin",
            "Shares of revenue by drug category, and of sales by EU / non-EU origin "
            "(ships-from at the day of sale; the UK counts as EU before 2020-02-01).",
            [
                _chart("category-shares", charts.category_shares(cat_month)),
                _chart("origin", charts.origin_split(origin)),
            ],
            [
                blocks.sales_table(
                    "Revenue by month and category", cat_month, ["month", "category"]
                ),
                blocks.sales_table("Sales by month and origin", origin, ["month", "origin"]),
            ],
        ),
        _prices(store, o),
        _vendors(store, o),
        _markets(store, o, mkt_month),
        _events(store, o),
        sections_channels.delivery_section(store, o),
        sections_channels.displacement_section(store, o),
    ]
    return out


def _prices(store: Store, o: ReportOptions) -> Section:
    overall = disclosed.protected_unit_prices(store, o.scope, ["substance"], o.rules)
    detail = disclosed.protected_unit_prices(
        store, o.scope, ["substance", "ships_from", "quarter"], o.rules
    )
    bands = disclosed.protected_bands(store, o.scope, o.rules)
    price_cols = [*blocks.PRICE_COLS, blocks.IQR_COL]
    return Section(
        "prices",
        "Prices and quantities",
        "EUR per gram for drugs sold by mass, EUR per unit for pills and blotters (EMCDDA "
        "convention); retail vs wholesale at USD 1,000 per transaction at the day's rate.",
        [_chart("unit-prices", charts.unit_prices(overall))],
        [
            blocks.unit_price_table("Unit prices by substance", overall, [], price_cols),
            blocks.unit_price_table(
                "Unit prices by substance, ships-from country and quarter",
                detail,
                [
                    ("ships from", "ships_from", t.text, False),
                    ("quarter", "quarter", t.text, False),
                ],
                price_cols,
            ),
            t.make_table(
                "Retail and wholesale",
                bands,
                [
                    ("substance", "substance", t.text, False),
                    ("band", "band", t.text, False),
                    ("sales", "sales", t.integer, True),
                    ("revenue EUR", "revenue_eur", t.eur, True),
                    ("share of sales", "share_sales", t.share, True),
                    ("share of revenue", "share_revenue", t.share, True),
                ],
            ),
        ],
    )


def _vendors(store: Store, o: ReportOptions) -> Section:
    activity = ind.vendor_activity(store, o.scope).to_pylist()
    conc = disclosed.protected_concentration(store, o.scope, o.rules)
    return Section(
        "vendors",
        "Vendors",
        "Vendor accounts with sales, entries and exits per market, and how concentrated "
        "revenue is. No vendor is named or ranked.",
        [_chart("vendors", charts.vendors_by_market(activity))],
        [
            t.make_table(
                "Vendor activity by market and month",
                activity,
                [
                    ("market", "market", t.text, False),
                    ("month", "month", t.month, False),
                    ("selling", "vendors_selling", t.integer, False),
                    ("listed", "vendors_listed", t.integer, False),
                    ("entries", "entries", t.integer, False),
                    ("exits", "exits", t.integer, False),
                    ("first observed month", "first_month", t.boolean, False),
                ],
            ),
            blocks.concentration_table(
                conc,
                note="A share is shown only when its top group has at least "
                f"{o.rules.min_vendors} vendors.",
            ),
        ],
    )


def _markets(store: Store, o: ReportOptions, mkt_month: list[dict[str, Any]]) -> Section:
    listings = ind.listing_activity(store, o.scope).to_pylist()
    return Section(
        "markets",
        "Listings and market shares",
        "Listings active per market and category, and each market's share of revenue.",
        [
            _chart("listings", charts.listings_by_market(listings)),
            _chart("market-shares", charts.market_shares(mkt_month)),
        ],
        [
            t.make_table(
                "Active listings by market, category and month",
                listings,
                [
                    ("market", "market", t.text, False),
                    ("category", "category", t.text, False),
                    ("month", "month", t.month, False),
                    ("listings", "active_listings", t.integer, False),
                ],
            )
        ],
    )


def _events(store: Store, o: ReportOptions) -> Section:
    closures = disclosed.protected_closures(store, o.scope, o.rules, o.window_days)
    section = Section(
        "events",
        "Takedowns, exits and events",
        f"Surviving markets {o.window_days} days before and after each closure, and the "
        "share of the closed market's vendors seen elsewhere afterwards.",
        [],
        [blocks.closures_table("Market closures", closures, vendors_around=True)],
    )
    if o.event_day is not None:
        rows = disclosed.protected_event(store, o.scope, o.rules, o.event_day, o.window_days)
        section.charts.append(_chart("event", charts.event_ratios(rows)))
        section.tables.append(
            t.make_table(
                f"Before / after {o.event_day} ({o.window_days}-day windows)",
                rows,
                [
                    ("substance", "substance", t.text, False),
                    ("sales before", "sales_before", t.integer, True),
                    ("after", "sales_after", t.integer, True),
                    ("rate ratio", "rate_ratio", t.ratio, True),
                    ("95% low", "rate_ratio_low", t.ratio, True),
                    ("95% high", "rate_ratio_high", t.ratio, True),
                    ("revenue ratio", "revenue_ratio", t.ratio, True),
                    ("95% low", "revenue_ratio_low", t.ratio, True),
                    ("95% high", "revenue_ratio_high", t.ratio, True),
                ],
            )
        )
    return section
