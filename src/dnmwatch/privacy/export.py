"""Disclosure-controlled exports: aggregate tables, a Frictionless data package, an audit entry.

Why this shape: joint research needs data files that other tools read (CSV, Parquet) with a
machine-readable description of every field (Frictionless ``datapackage.json``), and the
people in the data need the published figures not to single anyone out. So an export holds
*aggregates only* — no listing, no vendor id, no vendor ranking — each cell checked by
:mod:`dnmwatch.privacy.disclosure`, and each export is written to the audit log with the
hashes of its files, so that a data-protection officer can tell which release went where.

CSV cells are neutralised against formula injection: a text cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading ``'`` (a tab prefix alone is not enough:
spreadsheets strip it). Numbers are written as numbers.

If a future table must carry a vendor-level column, map store ids through
``KeyStore.for_export(label)`` so that the pseudonyms of two releases cannot be joined; the
tables below need none, which is the safer choice (no vendor rankings in public outputs).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from dnmwatch.errors import DnmwatchError, StoreError
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.disclosure import Protected, Rules, protect

Format = Literal["parquet", "csv"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportError(DnmwatchError):
    """An export cannot be written (target not empty, unwritable, store unreadable)."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One published table: the SQL of its vendor contributions and how to protect it."""

    name: str
    title: str
    contributions_sql: str
    dims: tuple[str, ...]
    measures: tuple[str, ...]
    period: str
    additive: bool = True
    extra_sql: str | None = None
    """Non-additive statistics per cell (joined on ``dims``, hidden with the cell)."""
    extra: tuple[str, ...] = ()


_MONTH = "strftime(day, '%Y-%m')"
_QUARTER = "CAST(year(day) AS VARCHAR) || '-Q' || CAST(quarter(day) AS VARCHAR)"
_SALES = "sum(weight) AS sales, sum(coalesce(price_eur, 0) * weight) AS revenue_eur"

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "sales_by_market_month_category",
        "Estimated sales and revenue by market, month and category",
        f"SELECT market, {_MONTH} AS month, coalesce(category, 'unknown') AS category, "  # noqa: S608 - constants only
        f"vendor_id, {_SALES} FROM sales GROUP BY ALL",
        ("market", "month", "category"),
        ("sales", "revenue_eur"),
        "month",
    ),
    TableSpec(
        "sales_by_origin_quarter_substance",
        "Estimated sales and revenue by country of origin, quarter and substance",
        f"SELECT coalesce(ships_from, 'XX') AS ships_from, {_QUARTER} AS quarter, "  # noqa: S608 - constants only
        f"coalesce(substance, 'unknown') AS substance, vendor_id, {_SALES} FROM sales GROUP BY ALL",
        ("ships_from", "quarter", "substance"),
        ("sales", "revenue_eur"),
        "quarter",
    ),
    TableSpec(
        "eur_per_gram_by_substance_quarter",
        "Median price per gram (EUR) of estimated sales by substance and quarter",
        f"SELECT coalesce(substance, 'unknown') AS substance, {_QUARTER} AS quarter, vendor_id, "  # noqa: S608 - constants only
        "sum(weight) AS sales FROM sales WHERE mass_g > 0 AND price_eur > 0 GROUP BY ALL",
        ("substance", "quarter"),
        ("sales",),
        "quarter",
        additive=False,
        extra_sql=f"SELECT coalesce(substance, 'unknown') AS substance, {_QUARTER} AS quarter, "  # noqa: S608 - constants only
        "median(price_eur / mass_g) AS median_eur_per_gram FROM sales "
        "WHERE mass_g > 0 AND price_eur > 0 GROUP BY ALL",
        extra=("median_eur_per_gram",),
    ),
    TableSpec(
        "sales_by_delivery_source_type_quarter",
        "Estimated sales and revenue by delivery method, type of source and quarter",
        "SELECT coalesce(l.delivery_method, 'unknown') AS delivery_method, "  # noqa: S608 - constants only
        f"coalesce(m.source_type, 'unknown') AS source_type, {_QUARTER} AS quarter, "
        "s.vendor_id, sum(s.weight) AS sales, "
        "sum(coalesce(s.price_eur, 0) * s.weight) AS revenue_eur "
        "FROM sales s LEFT JOIN listings l ON l.market = s.market AND l.listing_id = s.listing_id "
        "LEFT JOIN markets m ON m.market = s.market GROUP BY ALL",
        ("delivery_method", "source_type", "quarter"),
        ("sales", "revenue_eur"),
        "quarter",
    ),
)

FIELD_DOCS: dict[str, str] = {
    "market": "Market name as configured in dnmwatch.",
    "month": "Calendar month of the estimated sale (UTC), YYYY-MM.",
    "quarter": "Calendar quarter of the estimated sale (UTC), YYYY-Qn.",
    "category": "Substance category (dnmwatch taxonomy); 'unknown' when not recognised.",
    "substance": "Substance (dnmwatch taxonomy); 'unknown' when not recognised.",
    "ships_from": "Declared origin: ISO 3166-1 alpha-2, EU, WW (worldwide) or XX (undeclared).",
    "delivery_method": "How the listing reaches the buyer (post, express_courier, dead_drop, "
    "in_person, digital) from its title and delivery text; 'unknown' when not stated.",
    "source_type": "Kind of source: marketplace, shop, forum or channel; 'unknown' when the "
    "adapter is not known.",
    "n_vendors": "Distinct vendors contributing to the cell; empty when the cell is suppressed.",
    "sales": "Estimated number of transactions (each buyer feedback = one sale, times its "
    "weight); a lower bound. Empty when suppressed.",
    "revenue_eur": "Estimated revenue in EUR at the day's rate; empty when suppressed.",
    "median_eur_per_gram": "Median price per gram in EUR over estimated sales with a stated "
    "mass; empty when suppressed.",
    "suppressed": "True when the cell failed disclosure control (fewer than the minimum of "
    "distinct vendors, dominance by two vendors, or hidden to protect another cell).",
}
_FRICTIONLESS_TYPES = {
    "string": "string",
    "double": "number",
    "int64": "integer",
    "bool": "boolean",
}


def escape_cell(value: str) -> str:
    """Neutralise spreadsheet formula injection in one text cell."""
    return "'" + value if value.startswith(FORMULA_START) else value


def build_tables(
    conn: Any, rules: Rules, specs: Sequence[TableSpec] = TABLES
) -> dict[str, tuple[pa.Table, Protected]]:
    """Run every spec on a DuckDB connection: published table (reason dropped) + protection."""
    out: dict[str, tuple[pa.Table, Protected]] = {}
    for spec in specs:
        try:
            contrib = conn.sql(spec.contributions_sql).to_arrow_table()
        except Exception as exc:  # duckdb.Error: translated at the boundary
            raise StoreError(f"export query for {spec.name} failed: {exc}") from exc
        contrib = _with_string_dims(contrib, spec.dims)
        protected = protect(
            contrib,
            spec.dims,
            spec.measures,
            period=spec.period,
            additive=spec.additive,
            rules=rules,
        )
        table = protected.table.drop_columns(["reason"])
        if spec.extra_sql:
            table = _join_extra(conn, table, spec)
        out[spec.name] = (_rounded(table), protected)
    return out


def _with_string_dims(table: pa.Table, dims: Sequence[str]) -> pa.Table:
    for d in dims:
        i = table.column_names.index(d)
        table = table.set_column(i, d, table.column(d).cast(pa.string()))
    return table


def _rounded(table: pa.Table) -> pa.Table:
    """Two decimals for money and counts: more digits invite differencing and mean nothing."""
    import pyarrow.compute as pc

    for i, name in enumerate(table.column_names):
        if pa.types.is_floating(table.schema.field(name).type):
            table = table.set_column(i, name, pc.round(table.column(name), 2))
    return table


def _join_extra(conn: Any, table: pa.Table, spec: TableSpec) -> pa.Table:
    view = f"_dnmwatch_export_{spec.name}"
    conn.register(view, table)
    try:
        keys = ", ".join(spec.dims)
        extra = ", ".join(
            f"CASE WHEN t.suppressed THEN NULL ELSE e.{c} END AS {c}" for c in spec.extra
        )
        joined: pa.Table = conn.sql(
            f"SELECT t.* EXCLUDE (suppressed), {extra}, t.suppressed FROM {view} t "  # noqa: S608
            f"LEFT JOIN ({spec.extra_sql}) e USING ({keys}) ORDER BY {keys}"
        ).to_arrow_table()
    finally:
        conn.unregister(view)
    return joined


def write_csv(table: pa.Table, path: Path) -> None:
    """CSV with a header, UTF-8, every text cell escaped against formula injection."""
    text_cols = [
        pa.types.is_string(f.type) or pa.types.is_large_string(f.type) for f in table.schema
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        # "\r\n" (RFC 4180) also makes the writer quote cells holding a bare CR
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            cells = []
            for is_text, value in zip(text_cols, row.values(), strict=True):
                if value is None:
                    cells.append("")
                elif is_text:
                    cells.append(escape_cell(str(value)))
                elif isinstance(value, bool):
                    cells.append("true" if value else "false")
                else:
                    cells.append(str(value))
            writer.writerow(cells)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _resource(
    name: str, spec: TableSpec, table: pa.Table, fmt: Format, path: Path
) -> dict[str, Any]:
    fields = []
    for f in table.schema:
        ftype = _FRICTIONLESS_TYPES.get(str(f.type), "string")
        fields.append({"name": f.name, "type": ftype, "description": FIELD_DOCS[f.name]})
    resource: dict[str, Any] = {
        "name": name.replace("_", "-"),
        "title": spec.title,
        "path": path.name,
        "format": fmt,
        "mediatype": "text/csv" if fmt == "csv" else "application/vnd.apache.parquet",
        "encoding": "utf-8",
        "bytes": path.stat().st_size,
        "hash": "sha256:" + _sha256(path),
        "schema": {"fields": fields, "primaryKey": list(spec.dims), "missingValues": [""]},
    }
    if fmt == "csv":
        resource["profile"] = "tabular-data-resource"
        resource["dialect"] = {"delimiter": ",", "header": True, "lineTerminator": "\r\n"}
    return resource


def export(
    conn: Any,
    out_dir: Path,
    *,
    fmt: Format,
    audit: AuditLog,
    rules: Rules = Rules(),  # noqa: B008 - frozen dataclass
    label: str | None = None,
    now: datetime | None = None,
    actor: str = "cli",
) -> dict[str, Any]:
    """Write every table of :data:`TABLES` to ``out_dir`` with a ``datapackage.json``.

    ``out_dir`` may exist but must be empty (a release is never overwritten). Returns the
    data package (as written). Works on an empty store: the tables are then empty but valid.
    """
    if fmt not in ("parquet", "csv"):
        raise ExportError(f"unknown export format {fmt!r} (parquet or csv)")
    when = (now or datetime.now(UTC)).astimezone(UTC)
    label = label or f"export-{when.strftime('%Y%m%dT%H%M%SZ')}"
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if any(out_dir.iterdir()):
            raise ExportError(f"export folder {out_dir} is not empty; choose a new one")
    except OSError as exc:
        raise ExportError(f"cannot create export folder {out_dir}: {exc.strerror}") from exc
    built = build_tables(conn, rules)
    specs = {s.name: s for s in TABLES}
    resources, summary = [], {}
    for name, (table, protected) in built.items():
        path = out_dir / f"{name}.{fmt}"
        if fmt == "csv":
            write_csv(table, path)
        else:
            pq.write_table(table, path)
        resources.append(_resource(name, specs[name], table, fmt, path))
        summary[name] = {
            "rows": table.num_rows,
            "suppressed": sum(v for k, v in protected.counts.items() if k != "published"),
            "sha256": resources[-1]["hash"].removeprefix("sha256:"),
        }
    package = {
        "profile": "tabular-data-package",
        "name": "dnmwatch-" + "".join(c if c.isalnum() else "-" for c in label.lower()),
        "title": "dnmwatch disclosure-controlled aggregates",
        "created": when.isoformat(timespec="seconds"),
        "description": (
            "Aggregate estimates of darknet-market drug sales. Cells with fewer than "
            f"{rules.min_vendors} distinct vendors, or whose two largest vendors exceed "
            f"{rules.dominance_pct:g}% of the value, are suppressed, and partner cells are "
            "suppressed so that hidden cells cannot be recomputed from totals. No vendor "
            "identifiers are included."
        ),
        "dnmwatch": {"label": label, "vendor_pseudonyms": "none"},
        "resources": resources,
    }
    (out_dir / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    audit.append(
        actor,
        "export",
        {
            "label": label,
            "format": fmt,
            "folder": out_dir.name,
            "tables": summary,
            "rules": {"min_vendors": rules.min_vendors, "dominance_pct": rules.dominance_pct},
        },
    )
    return package
