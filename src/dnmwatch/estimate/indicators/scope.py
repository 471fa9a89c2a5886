"""What every indicator shares: the analyst's scope, the dimensions, and the provenance note.

Why one module: every indicator must filter the same way (dates, markets), name its dimensions
the same way (so tables from different indicators join), and carry the same two caveats — it is
a *lower bound* counted from buyer feedback, and it is only as complete as the crawls behind it
(``coverage``). Keeping these here means no indicator can forget either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from dnmwatch.errors import StoreError
from dnmwatch.store import Store

LOWER_BOUND_NOTE = (
    "Lower bound: one estimated sale per unique buyer feedback, valued at the price of the "
    "time; buyers who leave no feedback, and feedback that is hidden, deleted or never "
    "crawled, are not counted."
)
"""The caveat attached to every indicator table (schema metadata ``dnmwatch.bound``)."""

EU_MEMBERS: frozenset[str] = frozenset(
    {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "IE", "IT"}
    | {"LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
)
"""EU member states (ISO 3166-1 alpha-2) since 2020-02-01; ``GB`` counts before that day."""

BREXIT_DAY = date(2020, 2, 1)
"""First day the United Kingdom was no longer an EU member (origin classification)."""

_EU_LIST = ", ".join(f"'{c}'" for c in sorted(EU_MEMBERS))  # constants, not user input

DIMENSIONS: Mapping[str, str] = {
    "market": "market",
    "month": "CAST(date_trunc('month', day) AS DATE)",
    "quarter": "strftime(day, '%Y') || '-Q' || CAST(quarter(day) AS VARCHAR)",
    "substance": "coalesce(substance, 'unknown')",
    "category": "coalesce(category, 'unknown')",
    "ships_from": "coalesce(upper(ships_from), 'XX')",
    "origin": (
        "CASE WHEN upper(ships_from) = 'EU' OR upper(ships_from) IN (" + _EU_LIST + ") "
        "OR (upper(ships_from) = 'GB' AND day < DATE '2020-02-01') THEN 'EU' "
        "WHEN ships_from IS NULL OR upper(ships_from) IN ('XX', 'WW') THEN 'unknown' "
        "ELSE 'non-EU' END"
    ),
}
"""Dimension name -> SQL expression over a ``sales``-shaped row (``day`` and the columns)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """The slice an analyst asks for: an inclusive date range and a set of markets.

    ``None`` dates and an empty ``markets`` mean "everything in the store".
    """

    date_from: date | None = None
    date_to: date | None = None
    markets: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"scope starts ({self.date_from}) after it ends ({self.date_to})")

    def where(self, day: str = "day", market: str = "market") -> str:
        """A SQL condition on a day column and a market column, with named parameters
        ``$date_from``, ``$date_to`` and ``$markets`` (bind them with :meth:`params`)."""
        return (
            f"($date_from::DATE IS NULL OR CAST({day} AS DATE) >= $date_from::DATE) "
            f"AND ($date_to::DATE IS NULL OR CAST({day} AS DATE) <= $date_to::DATE) "
            f"AND (len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], {market}))"
        )

    def params(self, **extra: Any) -> dict[str, Any]:
        """The named parameters of :meth:`where`, plus any the indicator adds."""
        return {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "markets": list(self.markets),
            **extra,
        }


EVERYTHING = Scope()
"""The default scope: every day and every market in the store."""


def dimension_sql(by: Sequence[str]) -> list[str]:
    """``expr AS name`` for each dimension; a :class:`ValueError` names the unknown ones."""
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions {unknown}; known: {', '.join(DIMENSIONS)}")
    if len(set(by)) != len(by):
        raise ValueError(f"dimensions repeat: {list(by)}")
    return [f"{DIMENSIONS[d]} AS {d}" for d in by]


def query(store: Store, sql: str, params: Mapping[str, Any]) -> pa.Table:
    """Run an indicator query and return its Arrow table (DuckDB errors become StoreError).

    ``sql(...).to_arrow_table()`` streams the result straight into Arrow (the DB-API
    ``execute`` path would copy every row once more). It runs on its own cursor so that a
    result left pending on the store's connection by someone else cannot block it.
    """
    cursor = store.connection.cursor()
    try:
        table: pa.Table = cursor.sql(sql, params=dict(params)).to_arrow_table()
    except duckdb.Error as exc:
        raise StoreError(f"indicator query failed: {exc}") from exc
    finally:
        cursor.close()
    return table


def annotate(table: pa.Table, indicator: str, method: str, coverage: Mapping[str, Any]) -> pa.Table:
    """Attach the lower-bound note, the method and the coverage summary as schema metadata.

    Metadata travels with the Arrow table into Parquet exports and the report, so a figure is
    never separated from how it was made and how complete its inputs were.
    """
    meta = dict(table.schema.metadata or {})
    meta.update(
        {
            b"dnmwatch.indicator": indicator.encode(),
            b"dnmwatch.bound": LOWER_BOUND_NOTE.encode(),
            b"dnmwatch.method": method.encode(),
            b"dnmwatch.coverage": json.dumps(dict(coverage), default=str, sort_keys=True).encode(),
        }
    )
    return table.replace_schema_metadata(meta)


def table_note(table: pa.Table) -> dict[str, Any]:
    """The metadata written by :func:`annotate`, decoded (empty when absent)."""
    meta = table.schema.metadata or {}
    out: dict[str, Any] = {}
    for key in ("indicator", "bound", "method"):
        raw = meta.get(f"dnmwatch.{key}".encode())
        if raw is not None:
            out[key] = raw.decode()
    raw_cov = meta.get(b"dnmwatch.coverage")
    if raw_cov is not None:
        out["coverage"] = json.loads(raw_cov)
    return out
