"""The report's building blocks: a section with its charts and tables.

Why its own module: the report's sections are made in several modules (:mod:`.build` for the
marketplace indicators, :mod:`.sections_channels` for delivery and displacement), which all
need these types without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dnmwatch.report import tables as t

EMPTY_CHART = "No published data for this chart in the selected scope."


@dataclass(slots=True)
class Chart:
    key: str
    spec: dict[str, Any] | None
    empty: str


@dataclass(slots=True)
class Section:
    key: str
    title: str
    intro: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[t.Table] = field(default_factory=list)


def chart(key: str, spec: dict[str, Any] | None) -> Chart:
    """A chart, or its empty state when nothing in scope may be plotted (``spec`` ``None``)."""
    return Chart(key, spec, EMPTY_CHART)
