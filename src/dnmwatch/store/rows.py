"""Turning Python rows into one DuckDB statement.

Rows go through an Arrow table rather than ``executemany``: DuckDB reads Arrow in bulk, which
matters when an extraction writes millions of observations. Identifiers are checked against the
table's real columns and quoted, so table and column names can never carry SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from dnmwatch.errors import StoreError


def quote(name: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _plain(value: Any) -> Any:
    """Aware datetimes become naive UTC: columns are TIMESTAMP holding UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def to_arrow(
    rows: Sequence[Mapping[str, Any]], known: Sequence[str], table: str
) -> tuple[Any, list[str]]:
    """An Arrow table of ``rows`` with the union of their keys, in table column order."""
    present = {key for row in rows for key in row}
    unknown = sorted(present - set(known))
    if unknown:
        raise StoreError(f"table {table} has no column(s) {', '.join(unknown)}")
    cols = [c for c in known if c in present]
    try:
        arrow = pa.table({c: [_plain(row.get(c)) for row in rows] for c in cols})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise StoreError(f"rows for {table} have mixed or unsupported types: {exc}") from exc
    return arrow, cols


def insert_statement(table: str, cols: Sequence[str], view: str, *, replace: bool) -> str:
    """``INSERT [OR REPLACE] INTO table (cols) SELECT cols FROM view``."""
    names = ", ".join(quote(c) for c in cols)
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    return f"{verb} INTO {quote(table)} ({names}) SELECT {names} FROM {quote(view)}"  # noqa: S608
