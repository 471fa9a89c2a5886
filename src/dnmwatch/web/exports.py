"""Exports from the dashboard: the trend table as CSV, protected with the publication rules.

An export leaves the dashboard, so it is protected with the report's rules (``privacy.*``)
whatever the analyst's role lets them see on screen, text cells are neutralised against
spreadsheet formula injection (:func:`dnmwatch.privacy.export.escape_cell`), and the caller
writes the returned details (never the data) to the audit log.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from typing import Any

from dnmwatch.privacy.disclosure import Rules
from dnmwatch.privacy.export import escape_cell
from dnmwatch.store import Store
from dnmwatch.web.filters import BREAKDOWNS, Filters
from dnmwatch.web.pages import trend_rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return escape_cell(str(value))


def trend_csv(store: Store, f: Filters, rules: Rules) -> tuple[str, dict[str, Any]]:
    """CSV text of the protected trend table and the audit details of the export."""
    rows = trend_rows(store, f, rules)
    dims = list(BREAKDOWNS[f.breakdown])
    cols = [*dims, "sales", "revenue_eur", "n_vendors", "suppressed"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for row in rows:
        hidden = bool(row.get("suppressed"))
        writer.writerow(["" if hidden and c in cols[-4:-1] else _cell(row.get(c)) for c in cols])
    text = buf.getvalue()
    name = f"dnmwatch-sales-by-{f.breakdown}.csv"
    details = {
        "file": name,
        "format": "csv",
        "table": f"sales by {', '.join(dims)}",
        "rows": len(rows),
        "suppressed_cells": sum(1 for r in rows if r.get("suppressed")),
        "min_vendors": rules.min_vendors,
        "scope": f.query(),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "via": "dashboard",
    }
    return text, details
