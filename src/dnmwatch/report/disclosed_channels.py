"""Disclosure control of the delivery and displacement figures (issue 11), before rendering.

The same rules as :mod:`dnmwatch.report.disclosed` (docs/indicators.md), plus three that these
tables need because a shop *is* one vendor and a dead-drop area can be one dealer's map:

* **Sales and revenue** per delivery method, and per substance and source type around a
  closure, are protected like any sales cell (:func:`dnmwatch.privacy.disclosure.protect`:
  minimum vendors, dominance, secondary suppression within each market or closure). Their
  shares are hidden with them. Listing counts are counts of entities and shown as they are.
* **Delivery areas** are named only when at least ``min_vendors`` vendors list there; the
  others are pooled into one row per market and method ("other areas"), whose sales are shown
  under the same minimum.
* **Displacement**: a destination source is named only when at least ``min_vendors`` of the
  closed market's actors are seen on it (naming a shop or channel with fewer would link a
  vendor's accounts in public); the others are counted in the note and in the per-type rows.
  A per-type count, and the pair "seen elsewhere" / "not seen", are shown only when at least
  ``min_vendors`` (the pair together: one is the other's complement).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from dnmwatch.estimate import indicators as ind
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.report.disclosed import mask, suppressed_cells
from dnmwatch.store import Store

_SALES_MEASURES = ("sales", "share_sales", "revenue_eur", "share_revenue")


def has_delivery_data(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether any listing in scope has a known delivery method (else the section says so)."""
    return any(r["delivery_method"] != "unknown" and r["listings"] for r in rows)


def protected_delivery(
    store: Store, scope: ind.Scope, by: Sequence[str], rules: Rules
) -> list[dict[str, Any]]:
    """:func:`~dnmwatch.estimate.indicators.delivery_methods` per ``by`` with sales, revenue
    and their shares hidden in unsafe cells (``suppressed``)."""
    rows = ind.delivery_methods(store, scope, by).to_pylist()
    dims = [*by, "delivery_method"]
    hidden = suppressed_cells(ind.delivery_contributions(store, scope, by), dims,
                              ["sales", "revenue_eur"], rules)
    return [mask(row, hidden.get(tuple(row[d] for d in dims), False), _SALES_MEASURES)
            for row in rows]


def protected_areas(
    store: Store, scope: ind.Scope, rules: Rules, top: int = 10
) -> list[dict[str, Any]]:
    """Top dead-drop and meeting areas per market; small areas pooled (module docstring)."""
    rows = ind.delivery_areas(store, scope, top, ("dead_drop", "in_person")).to_pylist()
    out: list[dict[str, Any]] = []
    pooled: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r["vendors"] >= rules.min_vendors:
            out.append({**r, "suppressed": False})
            continue
        key = (r["market"], r["delivery_method"])
        p = pooled.setdefault(key, {
            "market": r["market"], "delivery_method": r["delivery_method"],
            "area": "other areas (fewer vendors each)", "listings": 0, "areas": 0,
            "sales": None, "revenue_eur": None, "vendors": None, "rank": None,
        })
        p["listings"] += r["listings"]
        p["areas"] += 1
    for p in pooled.values():
        # one vendor may list in several small areas: their distinct count is unknown here,
        # so the pooled sales stay hidden and only the listings are shown
        p["area"] = f"{p.pop('areas')} other area(s) with fewer than {rules.min_vendors} " \
            "vendors each"
        p["suppressed"] = True
        out.append(p)
    for r in out:
        if r["suppressed"]:
            r["sales"] = r["revenue_eur"] = None
    return sorted(out, key=lambda r: (r["market"], r["rank"] is None, r["rank"] or 0,
                                      r["delivery_method"]))


def protected_displacement(
    store: Store, scope: ind.Scope, rules: Rules, window_days: int
) -> tuple[list[dict[str, Any]], int]:
    """Displacement rows safe to show, and how many small destinations were left unnamed."""
    rows = ind.displacement(store, scope, window_days).to_pylist()
    out: list[dict[str, Any]] = []
    unnamed = 0
    pair: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        r = dict(r)
        if r["kind"] == "market":
            if r["actors"] < rules.min_vendors:
                unnamed += 1
                continue
            r["suppressed"] = False
        elif r["kind"] == "type":
            r["suppressed"] = r["actors"] < rules.min_vendors
        else:
            pair[(r["market"], r["closed_day"])].append(r)
            r["suppressed"] = False
        out.append(r)
    for both in pair.values():
        if any(r["actors"] < rules.min_vendors for r in both):
            for r in both:
                r["suppressed"] = True
    for r in out:
        if r["suppressed"]:
            r["actors"] = r["actors_new"] = r["share"] = None
    return out, unnamed


def protected_shift(
    store: Store, scope: ind.Scope, rules: Rules, window_days: int
) -> list[dict[str, Any]]:
    """Product shift per closure, substance and source type; the sales figures of each side
    hidden when that side's cell is unsafe (``<column>_suppressed`` per column)."""
    rows = ind.product_shift(store, scope, window_days).to_pylist()
    dims = ["market", "substance", "source_type", "side"]
    hidden = suppressed_cells(ind.product_shift_contributions(store, scope, window_days), dims,
                              ["sales", "revenue_eur"], rules, period="market")
    out = []
    for row in rows:
        row = dict(row)
        for side in ("before", "after"):
            key = (row["market"], row["substance"], row["source_type"], side)
            sup = hidden.get(key, False)
            for m in (f"sales_{side}", f"share_sales_{side}", f"revenue_{side}_eur"):
                row[f"{m}_suppressed"] = sup  # per column: the table marks just this side
                if sup:
                    row[m] = None
        out.append(row)
    return out
