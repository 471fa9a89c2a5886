"""Disclosure control of every figure the report shows, before anything is rendered.

Why here and not in the template: a figure must never reach the page unprotected, and the
charts and tables must show the *same* protected cells. So every table is protected once, here,
with :func:`dnmwatch.privacy.disclosure.protect` (at least ``min_vendors`` distinct vendors, the
two largest at most ``dominance_pct`` of the cell, secondary suppression within each period),
and both the chart data and the HTML tables are made from the result. Suppressed cells stay in
the tables, marked, never silently dropped; charts plot published cells only and say so.

Rules for what :func:`protect` does not cover (docs/indicators.md):

* non-additive figures (medians, ratios) take the suppression status of the cell of sales
  contributions behind them (primary rules only);
* vendor concentration: the HHI is shown when the cell has at least ``min_vendors`` vendors;
  a top-k share only when the top group itself has at least ``min_vendors`` vendors (so no
  single vendor's share is ever shown);
* closures: the survivors' sales are shown when both windows have at least ``min_vendors``
  selling vendors;
* counts of vendors and listings are counts of entities, not magnitudes: shown as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pyarrow as pa

from dnmwatch.estimate import indicators as ind
from dnmwatch.privacy.disclosure import Rules, protect


def protected_sales(
    store: Any, scope: ind.Scope, by: Sequence[str], rules: Rules, period: str | None
) -> list[dict[str, Any]]:
    """Sales and revenue per ``by``, protected; rows carry ``suppressed``."""
    contrib = ind.sales_contributions(store, scope, by)
    if contrib.num_rows == 0:
        return []
    result = protect(contrib, by, ["sales", "revenue_eur"], period=period, rules=rules)
    return _plain(result.table)


def protected_unit_prices(
    store: Any, scope: ind.Scope, by: Sequence[str], rules: Rules
) -> list[dict[str, Any]]:
    """Median and IQR per ``by`` and unit; a cell's figures are hidden when its sales come
    from too few vendors or are dominated by two of them."""
    stats = ind.unit_prices(store, scope, by).to_pylist()
    contrib = ind.unit_price_contributions(store, scope, by)
    if not stats:
        return []
    dims = [*by, "unit"]
    hidden = suppressed_cells(contrib, dims, ["n"], rules, additive=False)
    out = []
    for row in stats:
        sup = hidden.get(tuple(row[d] for d in dims), True)
        out.append(mask(row, sup, ["n", "vendors", "median_eur", "q1_eur", "q3_eur", "iqr_eur"]))
    return out


def suppressed_cells(contrib: pa.Table, dims: Sequence[str], measures: Sequence[str],
                     rules: Rules, *, period: str | None = None, additive: bool = True
                     ) -> dict[tuple[Any, ...], bool]:
    """Whether each ``dims`` cell of the vendor contributions ``contrib`` is suppressed, for
    figures computed elsewhere (medians, shares) that take the status of the sales behind
    them; no contributions, no cell."""
    if contrib.num_rows == 0:
        return {}
    status = protect(contrib, dims, measures, period=period, additive=additive, rules=rules)
    return {tuple(r[d] for d in dims): r["suppressed"] for r in status.table.to_pylist()}


def protected_bands(
    store: Any, scope: ind.Scope, rules: Rules, cutoff_usd: float = ind.WHOLESALE_USD
) -> list[dict[str, Any]]:
    """Retail/wholesale bands per substance; cells protected like sales cells."""
    bands = ind.quantity_bands(store, scope, ("substance",), cutoff_usd).to_pylist()
    if not bands:
        return []
    contrib = ind.sales_contributions(store, scope, ("substance",))
    sub_status = {
        r["substance"]: r["suppressed"]
        for r in protect(
            contrib, ["substance"], ["sales", "revenue_eur"], rules=rules
        ).table.to_pylist()
    }
    out = []
    for row in bands:
        # a band cell is as safe as its vendors: fewer than min_vendors -> hidden
        sup = sub_status.get(row["substance"], True) or row["vendors"] < rules.min_vendors
        out.append(
            mask(row, sup, ["sales", "revenue_eur", "vendors", "share_sales", "share_revenue"])
        )
    return out


def protected_concentration(store: Any, scope: ind.Scope, rules: Rules) -> list[dict[str, Any]]:
    """Top-1 %, top-10 % shares and HHI per market, with the rules of the module docstring."""
    out = []
    for row in ind.vendor_concentration(store, scope, ("market",)).to_pylist():
        row = dict(row)
        row["hhi_suppressed"] = row["n_vendors"] < rules.min_vendors
        if row["hhi_suppressed"]:
            row["hhi"] = None
        for k in ("top1", "top10"):
            hide = row[f"{k}_n"] < rules.min_vendors or row["hhi_suppressed"]
            row[f"{k}_suppressed"] = hide
            if hide:
                row[f"{k}_share"] = None
        out.append(row)
    return out


def protected_closures(
    store: Any, scope: ind.Scope, rules: Rules, window_days: int
) -> list[dict[str, Any]]:
    """Closures; the survivors' sales are hidden when a window has too few vendors."""
    out = []
    for row in ind.market_closures(store, scope, window_days).to_pylist():
        sup = min(row["vendors_before"], row["vendors_after"]) < rules.min_vendors
        out.append(mask(row, sup, ["sales_before", "sales_after"]))
    return out


def protected_event(
    store: Any, scope: ind.Scope, rules: Rules, event_day: date, window_days: int
) -> list[dict[str, Any]]:
    """Event impact per substance; a row is hidden when a window's cell with sales is unsafe
    (a window without sales discloses nothing and does not hide the row)."""
    rows = ind.event_impact(store, event_day, scope, window_days).to_pylist()
    if not rows:
        return []
    contrib = ind.event_contributions(store, event_day, scope, window_days)
    status = protect(
        contrib, ["substance", "side"], ["sales", "revenue_eur"], additive=False, rules=rules
    ).table.to_pylist()
    bad: dict[str, bool] = {}
    for r in status:
        bad[r["substance"]] = bad.get(r["substance"], False) or r["suppressed"]
    measures = [
        k for k in rows[0] if k not in ("substance", "event_day", "days_before", "days_after")
    ]
    out = []
    for row in rows:
        out.append(mask(row, bad.get(row["substance"], True), measures))
    return out


def mask(row: dict[str, Any], suppressed: bool, measures: Sequence[str]) -> dict[str, Any]:
    """A copy of ``row`` with ``suppressed`` set and, if so, its ``measures`` emptied."""
    out = dict(row)
    out["suppressed"] = suppressed
    if suppressed:
        for m in measures:
            out[m] = None
    return out


def _plain(table: pa.Table) -> list[dict[str, Any]]:
    """Rows without the suppression *reason*: the report says a cell is hidden, not why."""
    return [{k: v for k, v in r.items() if k != "reason"} for r in table.to_pylist()]
