"""Reading and writing the store's ``rates`` table (day, currency, eur_per_unit, source).

Rows go in through an Arrow table registered with DuckDB and one ``INSERT OR REPLACE``: the ECB
history alone is about 270,000 rows, far too many for row-by-row ``executemany``. A row for a
day and currency already in the table is replaced, so importing a corrected file is idempotent.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from dnmwatch.normalise.rates import RateRow, RateTable


def write_rates(connection: Any, rows: list[RateRow], source: str) -> int:
    """Insert or replace rows in ``rates``; returns the number of rows written."""
    if not rows:
        return 0
    latest: dict[tuple[object, str], RateRow] = {(r.day, r.currency): r for r in rows}
    table = pa.table(
        {
            "day": pa.array([r.day for r in latest.values()], pa.date32()),
            "currency": pa.array([r.currency for r in latest.values()], pa.string()),
            "eur_per_unit": pa.array([r.eur_per_unit for r in latest.values()], pa.float64()),
        }
    )
    connection.register("_dnmwatch_rates_in", table)
    try:
        connection.execute(
            "INSERT OR REPLACE INTO rates (day, currency, eur_per_unit, source) "
            "SELECT day, currency, eur_per_unit, ? FROM _dnmwatch_rates_in",
            [source],
        )
    finally:
        connection.unregister("_dnmwatch_rates_in")
    return len(latest)


def load_rate_table(connection: Any, currencies: list[str] | None = None) -> RateTable:
    """The ``rates`` table (optionally only some currencies) as an in-memory :class:`RateTable`."""
    sql = "SELECT day, currency, eur_per_unit FROM rates"
    params: list[Any] = []
    if currencies:
        sql += " WHERE currency IN (" + ", ".join("?" for _ in currencies) + ")"
        params = list(currencies)
    rows = connection.execute(sql, params).fetchall()
    return RateTable(RateRow(day, cur, float(value)) for day, cur, value in rows)
