"""Exports from the dashboard: the trend table and the channels page's tables as CSV.

An export leaves the dashboard, so it is protected with the rules a *viewer* of the same slice
gets (:func:`export_rules`: the publication rules ``privacy.*``, and at least
:data:`~dnmwatch.web.pages.VIEWER_MIN_VENDORS` vendors per cell on an ad-hoc slice) whatever
the analyst's role lets them see on screen. Text cells are neutralised against spreadsheet
formula injection (:func:`dnmwatch.privacy.export.escape_cell`), and the caller writes the
returned details (never the data) to the audit log.

The channels tables are exported from the very :class:`~dnmwatch.report.tables.Table` objects
the page renders for those rules, so a download cannot hold a cell the viewer's page does not
show: cell texts as on the page, a suppressed cell empty.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from dnmwatch.privacy.disclosure import Rules
from dnmwatch.privacy.export import escape_cell
from dnmwatch.report.tables import Table
from dnmwatch.store import Store
from dnmwatch.web.filters import BREAKDOWNS, FilterError, Filters
from dnmwatch.web.pages import channels, keyed_tables, rules_for, trend_rows
from dnmwatch.web.roles import Role


def export_rules(f: Filters, min_vendors: int, dominance_pct: float) -> Rules:
    """The rules of every dashboard export of slice ``f``: a viewer's, never looser than the
    publication rules (``min_vendors``, ``dominance_pct`` from ``privacy.*``)."""
    return rules_for(Role.VIEWER, f.adhoc, min_vendors, dominance_pct)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return escape_cell(str(value))


def _write(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([escape_cell(h) for h in header])
    writer.writerows(rows)
    return buf.getvalue()


def _details(
    text: str, name: str, table: str, rows: int, suppressed: int, rules: Rules, f: Filters
) -> dict[str, Any]:
    """What the audit log keeps of an export: which table, how protected, and its hash."""
    return {
        "file": name,
        "format": "csv",
        "table": table,
        "rows": rows,
        "suppressed_cells": suppressed,
        "min_vendors": rules.min_vendors,
        "scope": f.query(),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "via": "dashboard",
    }


def trend_csv(store: Store, f: Filters, rules: Rules) -> tuple[str, dict[str, Any]]:
    """CSV text of the protected trend table and the audit details of the export."""
    rows = trend_rows(store, f, rules)
    dims = list(BREAKDOWNS[f.breakdown])
    cols = [*dims, "sales", "revenue_eur", "n_vendors", "suppressed"]
    text = _write(
        cols,
        (
            ["" if row.get("suppressed") and c in cols[-4:-1] else _cell(row.get(c)) for c in cols]
            for row in rows
        ),
    )
    hidden = sum(1 for r in rows if r.get("suppressed"))
    name = f"dnmwatch-sales-by-{f.breakdown}.csv"
    return text, _details(text, name, f"sales by {', '.join(dims)}", len(rows), hidden, rules, f)


def table_rows(table: Table) -> list[list[str]]:
    """The CSV rows of a page table: each cell's text as the page shows it, a suppressed cell
    empty, text cells escaped (numbers are our own formatting and left as they are)."""
    return [
        ["" if c.cls == "sup" else c.text if c.cls == "num" else escape_cell(c.text) for c in row]
        for row in table.rows
    ]


def channels_csv(store: Store, f: Filters, rules: Rules, key: str) -> tuple[str, dict[str, Any]]:
    """CSV text of the channels page's table ``key`` (``delivery-0``, ``displacement-1``...)
    for slice ``f`` under ``rules``, and the audit details; :class:`FilterError` when the page
    of that slice has no such table."""
    page = channels(store, f, rules)
    table = keyed_tables(page.extra["sections"]).get(key)
    if table is None:
        raise FilterError("no such table on the channels page for these filters")
    text = _write(table.columns, table_rows(table))
    name = f"dnmwatch-channels-{key}.csv"
    details = _details(text, name, table.title, len(table.rows), table.suppressed, rules, f)
    details["window_days"] = f.window_days
    return text, details
