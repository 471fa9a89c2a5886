"""Vega-Lite specs for the dashboard's own charts (data quality, vendor distribution).

The indicator charts come from :mod:`dnmwatch.report.charts` unchanged; only charts the report
does not draw live here, in the same style (plain dictionaries, inline data, days as UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dnmwatch.report.charts import Spec, base_spec


def _daily(title: str, values: list[dict[str, Any]], y: str, colour: str) -> Spec | None:
    if not values:
        return None
    spec = base_spec(title, values)
    spec["mark"] = {"type": "bar"}
    spec["encoding"] = {
        "x": {
            "field": "day",
            "type": "temporal",
            "timeUnit": "utcyearmonthdate",
            "title": "day (UTC)",
        },
        "y": {"field": y, "type": "quantitative", "aggregate": "sum", "title": y},
        "color": {"field": colour, "type": "nominal"},
        "tooltip": [
            {"field": "day", "type": "temporal", "timeUnit": "utcyearmonthdate"},
            {"field": colour},
            {"field": y, "type": "quantitative", "aggregate": "sum"},
        ],
    }
    return spec


def rejections_over_time(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Rejections per day, coloured by stage and reason."""
    values = [{"day": r["day"].isoformat(), "reason": r["reason"], "n": r["n"]} for r in rows]
    return _daily("Rejections per day by reason", values, "n", "reason")


def pages_over_time(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Pages per day by page type (``unknown`` rising = a market changed its layout)."""
    values = [
        {
            "day": r["day"].isoformat(),
            "page_type": f"{r['adapter']}: {r['page_type']}",
            "pages": r["pages"],
        }
        for r in rows
    ]
    return _daily("Pages extracted per day, by adapter and page type", values, "pages", "page_type")


def vendor_distribution(rows: Sequence[dict[str, Any]]) -> Spec | None:
    """Vendor accounts by number of estimated sales (buckets)."""
    values = [dict(r) for r in rows]
    if not any(r["vendors"] for r in values):
        return None
    spec = base_spec("Vendor accounts by number of estimated sales", values)
    spec["mark"] = {"type": "bar"}
    spec["encoding"] = {
        "x": {"field": "bucket", "type": "ordinal", "sort": None, "title": "estimated sales"},
        "y": {"field": "vendors", "type": "quantitative", "title": "vendor accounts"},
        "tooltip": [{"field": "bucket"}, {"field": "vendors", "type": "quantitative"}],
    }
    return spec
