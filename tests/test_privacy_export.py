"""Exports from a real DuckDB store: disclosure control applied, data package complete,
CSV neutralised against formula injection, no vendor ids, audit entry; empty store works."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.privacy.export import FIELD_DOCS, TABLES, ExportError, escape_cell, export
from dnmwatch.store import Store

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
NOW = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
FORMULA = '=HYPERLINK("http://evil.example","x")'


def _sales(market: str, month: int, category: str, vendors: int, start: int = 0) -> list[dict]:
    rows = []
    for v in range(vendors):
        for k in range(2):
            rows.append(
                {
                    "market": market,
                    "vendor_id": f"v_{start + v:016x}",
                    "day": date(2026, month, 3 + k),
                    "substance": "mdma" if category == "stimulants" else category,
                    "category": category,
                    "ships_from": "NL",
                    "price_eur": 20.0 + v,
                    "mass_g": 1.0,
                    "count": 1,
                }
            )
    return rows


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "data")
    rows: list[dict] = []
    rows += _sales("alpha", 1, "stimulants", 6)
    rows += _sales("alpha", 1, "psychedelics", 7, 100)
    rows += _sales("alpha", 1, "opioids", 2, 200)  # unsafe: 2 vendors
    rows += _sales("beta", 1, "stimulants", 8, 300)
    rows += _sales("beta", 1, "psychedelics", 9, 400)
    rows += _sales("beta", 1, "opioids", 6, 500)
    rows += _sales("alpha", 2, FORMULA, 6, 600)  # hostile label in a safe cell
    s.insert_rows("sales", rows)
    yield s
    s.close()


def _files(out: Path) -> dict[str, Path]:
    return {p.name: p for p in out.iterdir()}


def test_empty_store_gives_empty_valid_tables(tmp_path: Path) -> None:
    data = tmp_path / "data"
    audit = AuditLog.for_data_dir(data)
    with Store.open(data) as s:
        for fmt in ("parquet", "csv"):
            out = tmp_path / f"out-{fmt}"
            package = export(s.connection, out, fmt=fmt, audit=audit, now=NOW)  # type: ignore[arg-type]
            assert len(package["resources"]) == len(TABLES)
            for res in package["resources"]:
                path = out / res["path"]
                assert path.exists()
                if fmt == "parquet":
                    table = pq.read_table(path)
                    assert table.num_rows == 0
                    assert [f["name"] for f in res["schema"]["fields"]] == table.column_names
                else:
                    lines = path.read_text().splitlines()
                    assert len(lines) == 1
                    assert lines[0].split(",") == [f["name"] for f in res["schema"]["fields"]]
    assert audit.verify().ok and [e["action"] for e in audit.entries()] == ["export", "export"]


def test_disclosure_control_is_applied(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    audit = AuditLog.for_data_dir(store.data_dir)
    export(store.connection, out, fmt="parquet", audit=audit, now=NOW, label="test-release")
    rows = pq.read_table(out / "sales_by_market_month_category.parquet").to_pylist()
    cell = {(r["market"], r["month"], r["category"]): r for r in rows}
    opioids = cell[("alpha", "2026-01", "opioids")]
    assert opioids["suppressed"] and opioids["sales"] is None and opioids["revenue_eur"] is None
    # the partner hidden with it: smallest revenue in its market row and in its category column
    hidden = {k for k, r in cell.items() if r["suppressed"]}
    assert len(hidden) >= 3 and ("beta", "2026-01", "opioids") in hidden
    visible = cell[("beta", "2026-01", "psychedelics")]
    assert not visible["suppressed"] and visible["n_vendors"] == 9 and visible["sales"] == 18.0
    assert "reason" not in rows[0]
    for r in rows:
        assert r["suppressed"] or r["n_vendors"] >= 5


def test_no_vendor_level_data_in_any_export_file(store: Store, tmp_path: Path) -> None:
    audit = AuditLog.for_data_dir(store.data_dir)
    for fmt in ("parquet", "csv"):
        out = tmp_path / fmt
        package = export(store.connection, out, fmt=fmt, audit=audit, now=NOW)  # type: ignore[arg-type]
        assert package["dnmwatch"]["vendor_pseudonyms"] == "none"
        for res in package["resources"]:
            names = [f["name"] for f in res["schema"]["fields"]]
            assert not [n for n in names if "vendor_id" in n or "listing" in n]
        for path in out.iterdir():
            data = path.read_bytes()
            assert b"v_0000" not in data


def test_datapackage_describes_every_field_and_hashes_match(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(store.connection, out, fmt="csv", audit=AuditLog.for_data_dir(store.data_dir), now=NOW)
    package = json.loads((out / "datapackage.json").read_text())
    assert package["profile"] == "tabular-data-package"
    assert package["created"] == "2026-04-02T12:00:00+00:00"
    for res in package["resources"]:
        path = out / res["path"]
        assert res["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        assert res["bytes"] == path.stat().st_size
        for f in res["schema"]["fields"]:
            assert f["description"] == FIELD_DOCS[f["name"]]
            assert f["type"] in {"string", "number", "integer", "boolean"}
        with path.open(newline="") as fh:
            header = next(csv.reader(fh))
        assert header == [f["name"] for f in res["schema"]["fields"]]
        assert set(res["schema"]["primaryKey"]) <= set(header)


def test_csv_cells_are_neutralised_against_formula_injection(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(store.connection, out, fmt="csv", audit=AuditLog.for_data_dir(store.data_dir), now=NOW)
    with (out / "sales_by_market_month_category.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    categories = {r["category"] for r in rows}
    assert "'" + FORMULA in categories and FORMULA not in categories
    for r in rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value


def test_escape_cell_on_the_hostile_corpus() -> None:
    values = json.loads((HOSTILE / "values.json").read_text())
    for value in values["csv_formula"]:
        escaped = escape_cell(value)
        assert escaped == "'" + value
    assert escape_cell("MDMA 84%") == "MDMA 84%"
    assert escape_cell("-") == "'-"


def test_the_audit_entry_names_the_release_not_the_researcher(store: Store, tmp_path: Path) -> None:
    audit = AuditLog.for_data_dir(store.data_dir)
    out = tmp_path / "release-1"
    export(store.connection, out, fmt="parquet", audit=audit, now=NOW, label="partner-x")
    entry = list(audit.entries())[-1]
    assert entry["action"] == "export" and entry["details"]["label"] == "partner-x"
    assert entry["details"]["folder"] == "release-1"
    assert str(tmp_path) not in json.dumps(entry)  # no home directory, user name or host
    tables = entry["details"]["tables"]
    assert tables["sales_by_market_month_category"]["suppressed"] >= 3


def test_rules_come_from_the_caller(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    strict = Rules(min_vendors=10)
    export(store.connection, out, fmt="parquet", audit=AuditLog.for_data_dir(store.data_dir),
           rules=strict, now=NOW)  # fmt: skip
    rows = pq.read_table(out / "sales_by_market_month_category.parquet").to_pylist()
    assert all(r["suppressed"] for r in rows)


def test_refuses_a_non_empty_folder_and_unknown_formats(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("x")
    audit = AuditLog.for_data_dir(store.data_dir)
    with pytest.raises(ExportError, match="not empty"):
        export(store.connection, out, fmt="csv", audit=audit)
    with pytest.raises(ExportError, match="format"):
        export(store.connection, tmp_path / "new", fmt="xlsx", audit=audit)  # type: ignore[arg-type]


def test_median_price_per_gram_is_published_for_safe_cells(store: Store, tmp_path: Path) -> None:
    import statistics

    out = tmp_path / "out"
    export(store.connection, out, fmt="parquet", audit=AuditLog.for_data_dir(store.data_dir))
    rows = pq.read_table(out / "eur_per_gram_by_substance_quarter.parquet").to_pylist()
    cell = {(r["substance"], r["quarter"]): r for r in rows}
    mdma = cell[("mdma", "2026-Q1")]
    prices = [20.0 + v for v in range(6) for _ in range(2)] + [
        20.0 + v for v in range(8) for _ in range(2)
    ]
    assert not mdma["suppressed"] and mdma["median_eur_per_gram"] == statistics.median(prices)
    opioids = cell[("opioids", "2026-Q1")]  # 2 + 6 = 8 vendors: safe
    assert opioids["n_vendors"] == 8


def test_sales_by_delivery_method_and_source_type(tmp_path: Path) -> None:
    """The release carries delivery methods and source types (issue 11) as protected
    aggregates: a cell of 6 vendors is published, one of 2 vendors is suppressed."""
    with Store.open(tmp_path / "data") as s:
        s.insert_rows("markets", [{"market": "alpha", "adapter": "dream",
                                   "source_type": "marketplace"},
                                  {"market": "tg:x", "adapter": "telegram-channel",
                                   "source_type": "channel"}])
        post = _sales("alpha", 1, "stimulants", 6)
        drops = _sales("tg:x", 2, "cannabis", 2, 50)
        for n, row in enumerate(post + drops):
            row["listing_id"] = f"L{n}"
        s.insert_rows("sales", post + drops)
        s.insert_rows("listings", [
            {"market": r["market"], "listing_id": r["listing_id"],
             "delivery_method": "post" if r["market"] == "alpha" else "dead_drop"}
            for r in post + drops])
        out = tmp_path / "out"
        export(s.connection, out, fmt="parquet", audit=AuditLog.for_data_dir(s.data_dir))
    rows = pq.read_table(out / "sales_by_delivery_source_type_quarter.parquet").to_pylist()
    cell = {(r["delivery_method"], r["source_type"], r["quarter"]): r for r in rows}
    published = cell[("post", "marketplace", "2026-Q1")]
    assert not published["suppressed"] and published["sales"] == 12
    assert published["revenue_eur"] == sum(2 * (20.0 + v) for v in range(6))
    hidden = cell[("dead_drop", "channel", "2026-Q1")]
    assert hidden["suppressed"] and hidden["sales"] is None
