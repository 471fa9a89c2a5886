"""Table and headline blocks that the report and the dashboard both show.

Why one module: the dashboard (:mod:`dnmwatch.web.pages`) shows slices of the same figures as
the report, and a column heading or a formatter written twice drifts apart. Each block takes
protected rows and returns a :class:`~dnmwatch.report.tables.Table`; the two callers differ
only in which optional columns and notes they ask for. Layering: web may use report, never the
other way round, so the shared part lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dnmwatch.report import tables as t

SALES_COLS: list[t.Column] = [
    ("sales", "sales", t.integer, True),
    ("revenue EUR", "revenue_eur", t.eur, True),
    ("vendors", "n_vendors", t.integer, True),
]
"""The protected measures of a sales slice."""

PRICE_COLS: list[t.Column] = [
    ("unit", "unit", t.text, False),
    ("sales", "n", t.integer, True),
    ("median EUR", "median_eur", t.eur2, True),
    ("Q1", "q1_eur", t.eur2, True),
    ("Q3", "q3_eur", t.eur2, True),
]
"""The measures of a unit-price slice (the report adds the IQR)."""

IQR_COL: t.Column = ("IQR", "iqr_eur", t.eur2, True)

_CLOSURE_HEAD: list[t.Column] = [
    ("market", "market", t.text, False),
    ("closed", "closed_day", t.text, False),
    ("kind", "end_kind", t.text, False),
    ("survivors' sales before", "sales_before", t.integer, True),
    ("after", "sales_after", t.integer, True),
]
_CLOSURE_VENDORS: list[t.Column] = [
    ("vendors before", "vendors_before", t.integer, False),
    ("after", "vendors_after", t.integer, False),
]
_CLOSURE_TAIL: list[t.Column] = [
    ("vendors at close", "vendors_at_close", t.integer, False),
    ("displaced", "displaced", t.integer, False),
    ("share displaced", "share_displaced", t.share, False),
]


def dimension_cols(dims: Sequence[str]) -> list[t.Column]:
    """Unprotected key columns named as their row keys (months formatted as ``YYYY-MM``)."""
    return [(d, d, t.month if d == "month" else t.text, False) for d in dims]


def sales_table(title: str, rows: Sequence[dict[str, Any]], dims: Sequence[str]) -> t.Table:
    """Sales, revenue and vendors per slice of ``dims``."""
    return t.make_table(title, rows, [*dimension_cols(dims), *SALES_COLS])


def unit_price_table(
    title: str,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[t.Column],
    measures: Sequence[t.Column] = PRICE_COLS,
) -> t.Table:
    """Unit prices per slice; ``keys`` are the slice's columns, ``measures`` the price columns."""
    return t.make_table(title, rows, [("substance", "substance", t.text, False), *keys, *measures])


def concentration_table(rows: Sequence[dict[str, Any]], note: str = "") -> t.Table:
    """Top-1 % and top-10 % revenue shares and the HHI per market."""
    return t.make_table(
        "Concentration of revenue",
        rows,
        [
            ("market", "market", t.text, False),
            ("vendors", "n_vendors", t.integer, False),
            ("top 1% share", "top1_share", t.share, True),
            ("top 10% share", "top10_share", t.share, True),
            ("HHI", "hhi", t.eur, True),
        ],
        note=note,
    )


def closures_table(
    title: str, rows: Sequence[dict[str, Any]], vendors_around: bool = False
) -> t.Table:
    """Surviving markets' sales around each closure and the displaced vendors;
    ``vendors_around`` adds the survivors' vendor counts before and after."""
    middle = _CLOSURE_VENDORS if vendors_around else []
    return t.make_table(title, rows, [*_CLOSURE_HEAD, *middle, *_CLOSURE_TAIL])


def coverage_headline(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The key figures on how complete the inputs are."""
    return [
        ("Markets", t.integer(summary["markets"])),
        ("Crawls succeeded / failed", f"{summary['crawls_ok']} / {summary['crawls_failed']}"),
        ("Market-days without data", t.integer(summary["days_without_data"])),
    ]
