"""HTML-ready tables: formatted text per cell, suppressed cells marked, never dropped.

The template only loops over these; all formatting decisions (thousands separators, shares as
per cent, the "suppressed" mark) live here so they are tested once. Every value is handed to
the template as text and escaped there (autoescape): market content can hold markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

SUPPRESSED_TEXT = "suppressed"
"""What a hidden cell shows (with the CSS class ``sup``); the legend explains it."""


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    cls: str = ""


@dataclass(slots=True)
class Table:
    """A titled table: header labels and rows of cells."""

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    @property
    def suppressed(self) -> int:
        return sum(1 for row in self.rows for c in row if c.cls == "sup")


Formatter = Callable[[Any], str]


def text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def month(value: Any) -> str:
    return value.strftime("%Y-%m") if isinstance(value, date) else text(value)


def integer(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def eur(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.0f}"


def eur2(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.2f}"


def share(value: Any) -> str:
    return "–" if value is None else f"{100.0 * float(value):.1f}%"


def ratio(value: Any) -> str:
    return "–" if value is None else f"{float(value):.2f}"


def boolean(value: Any) -> str:
    return "yes" if value else "no"


Column = tuple[str, str, Formatter, bool]
"""(header, row key, formatter, is a protected measure)."""


def make_table(
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    note: str = "",
    suppressed_key: str = "suppressed",
) -> Table:
    """Format ``rows``; a protected measure of a suppressed row shows :data:`SUPPRESSED_TEXT`.

    Per-column suppression (``<key>_suppressed``) is honoured too (concentration shares).
    """
    table = Table(title, [c[0] for c in columns], note=note)
    for row in rows:
        cells = []
        for _, key, fmt, protected in columns:
            hidden = protected and (
                bool(row.get(suppressed_key))
                or bool(row.get(f"{key}_suppressed"))
                or bool(row.get(f"{key.rsplit('_', 1)[0]}_suppressed"))
            )
            if hidden:
                cells.append(Cell(SUPPRESSED_TEXT, "sup"))
            else:
                numeric = fmt in (integer, eur, eur2, share, ratio)
                cells.append(Cell(fmt(row.get(key)), "num" if numeric else ""))
        table.rows.append(cells)
    return table
