"""Search a store and export folders for names that must not be there (e.g. buyer handles).

Why: "buyer identities are never stored" is a promise that a test should check on real output,
not on the code's intentions. The simulator knows its buyers' names; an end-to-end test runs the
demo, then scans every text column of every table and every exported file for them. Hits are
reported by table/column (or file) and the needle's *index*, never the name itself, so that a
failing check does not print a handle into a CI log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from dnmwatch.errors import StoreError


@dataclass(frozen=True, slots=True)
class Hit:
    """``needle`` (index into the needles given) found ``count`` times in ``where``."""

    where: str
    needle: int
    count: int


def _needles(names: Sequence[str], min_length: int) -> list[tuple[int, str]]:
    return [(i, n.casefold()) for i, n in enumerate(names) if len(n.strip()) >= min_length]


def scan_store(conn: Any, names: Sequence[str], *, min_length: int = 4) -> list[Hit]:
    """Case-insensitive substring search of every text column of every table in ``main``.

    Names shorter than ``min_length`` are skipped (they would match inside ordinary words).
    """
    needles = _needles(names, min_length)
    if not needles:
        return []
    try:
        columns = conn.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND data_type = 'VARCHAR' ORDER BY 1, 2"
        ).fetchall()
    except Exception as exc:  # duckdb.Error: translated at the boundary
        raise StoreError(f"cannot list the store's columns: {exc}") from exc
    view = "_dnmwatch_scan_needles"
    conn.register(
        view, pa.table({"idx": [i for i, _ in needles], "needle": [n for _, n in needles]})
    )
    hits: list[Hit] = []
    try:
        for table, column in columns:
            rows = conn.execute(
                f'SELECT n.idx, count(*) FROM "{table}" t, {view} n '  # noqa: S608
                f'WHERE contains(lower(t."{column}"), n.needle) GROUP BY n.idx ORDER BY n.idx'
            ).fetchall()
            hits += [Hit(f"{table}.{column}", int(i), int(c)) for i, c in rows]
    except Exception as exc:
        raise StoreError(f"scanning the store failed: {exc}") from exc
    finally:
        conn.unregister(view)
    return hits


def scan_files(folder: Path, names: Sequence[str], *, min_length: int = 4) -> list[Hit]:
    """Case-insensitive search of every file under ``folder``: Parquet files through their
    string values and column names (their bytes are compressed), others as UTF-8 text."""
    needles = _needles(names, min_length)
    hits: list[Hit] = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        text = _file_text(path).casefold()
        for i, needle in needles:
            count = text.count(needle)
            if count:
                hits.append(Hit(str(path.relative_to(folder)), i, count))
    return hits


def _file_text(path: Path) -> str:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return (
            "\n".join(
                str(v) for col in table.columns for v in col.to_pylist() if isinstance(v, str)
            )
            + "\n"
            + "\n".join(table.column_names)
        )
    return path.read_bytes().decode("utf-8", "replace")
