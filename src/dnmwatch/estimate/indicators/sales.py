"""Sales and revenue indicators: how much is sold, of what, from where.

Method (docs/indicators.md): every row of ``sales`` is one unique buyer feedback, i.e. one
estimated transaction valued at the price paid (shown on the feedback) or the listing price
observed nearest in time (issue 6). So

* ``sales`` = number of rows (the lower bound), ``revenue_eur`` = sum of ``price_eur``
  (rows without a price count as sales but add nothing: ``unpriced`` says how many);
* ``sales_corrected`` / ``revenue_corrected_eur`` = the same weighted by ``sales.weight``, the
  optional correction for buyers who leave no feedback (1.0 unless a correction was applied) —
  shown beside the lower bound, never instead of it (RAND 2016 practice);
* ``vendors`` = distinct vendor pseudonyms making up the cell (for disclosure control).

Origin: ``ships_from`` in an EU member state at the day of sale, or the pseudo-region ``EU``, is
``EU``; ``XX`` (undeclared), ``WW`` (worldwide) and missing are ``unknown``; anything else
``non-EU``. The United Kingdom counts as EU before 2020-02-01.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from dnmwatch.estimate.indicators.coverage import coverage_summary
from dnmwatch.estimate.indicators.scope import EVERYTHING, Scope, annotate, dimension_sql, query
from dnmwatch.store import Store

_MEASURES = """
    count(*) AS sales,
    coalesce(sum(price_eur), 0.0) AS revenue_eur,
    count(*) FILTER (WHERE price_eur IS NULL) AS unpriced,
    coalesce(sum(weight), 0.0) AS sales_corrected,
    coalesce(sum(price_eur * weight), 0.0) AS revenue_corrected_eur,
    count(DISTINCT vendor_id) AS vendors
"""


def _grouped(by: Sequence[str], measures: str, extra_cols: Sequence[str] = ()) -> str:
    cols = [*dimension_sql(by), *extra_cols]
    select = ", ".join([*cols, measures]) if cols else measures
    group = " GROUP BY ALL ORDER BY ALL" if cols else ""
    return f"SELECT {select} FROM sales WHERE {{where}}{group}"  # noqa: S608 - whitelisted dims


def sales_totals(
    store: Store, scope: Scope = EVERYTHING, by: Sequence[str] = ("market", "month")
) -> pa.Table:
    """Estimated sales and revenue (EUR) per combination of ``by``.

    ``by`` takes any of ``market, month, quarter, substance, category, ships_from, origin``;
    ``month`` is the first day of the month (a date). Empty ``by`` gives one total row.
    """
    sql = _grouped(by, _MEASURES).format(where=scope.where())
    table = query(store, sql, scope.params())
    return annotate(
        table,
        "sales_totals",
        "count and price sum of feedback-based sales per " + (", ".join(by) or "scope"),
        coverage_summary(store, scope),
    )


def _shares_within(store: Store, scope: Scope, by: Sequence[str], part: str) -> pa.Table:
    """Sales and revenue per ``by`` and ``part``, with each part's share of sales and of
    revenue within its cell of ``by`` (the whole scope when ``by`` is empty)."""
    inner = _grouped([*by, part], _MEASURES).format(where=scope.where())
    window = f"OVER (PARTITION BY {', '.join(by)})" if by else "OVER ()"
    sql = (
        f"SELECT *, sales / sum(sales) {window} AS share_sales, "  # noqa: S608 - whitelisted dims
        f"revenue_eur / nullif(sum(revenue_eur) {window}, 0) AS share_revenue "
        f"FROM ({inner}) ORDER BY ALL"
    )
    return query(store, sql, scope.params())


def origin_split(
    store: Store, scope: Scope = EVERYTHING, by: Sequence[str] = ("month",)
) -> pa.Table:
    """Sales and revenue by EU / non-EU / unknown origin, with each origin's share per ``by``."""
    table = _shares_within(store, scope, by, "origin")
    return annotate(
        table,
        "origin_split",
        "sales by ships-from classified EU / non-EU / unknown at the day of sale",
        coverage_summary(store, scope),
    )


def category_shares(
    store: Store, scope: Scope = EVERYTHING, by: Sequence[str] = ("month",)
) -> pa.Table:
    """Each category's share of sales and of revenue within each combination of ``by``."""
    table = _shares_within(store, scope, by, "category")
    return annotate(
        table,
        "category_shares",
        "category share of the sales count and of revenue per " + (", ".join(by) or "scope"),
        coverage_summary(store, scope),
    )


def sales_contributions(
    store: Store, scope: Scope = EVERYTHING, by: Sequence[str] = ("market", "month")
) -> pa.Table:
    """One row per cell of ``by`` and vendor: the input of disclosure control.

    :func:`dnmwatch.privacy.disclosure.protect` needs each vendor's part of a cell to apply the
    minimum-vendors and dominance rules; the report never shows this table itself.
    """
    measures = "count(*) AS sales, coalesce(sum(price_eur), 0.0) AS revenue_eur"
    sql = _grouped(by, measures, ["vendor_id"]).format(where=scope.where())
    return query(store, sql, scope.params())
