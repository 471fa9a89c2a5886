"""The hostile corpus through the safeguards: scrubbing, pseudonyms and exports neither crash
nor let a payload through un-neutralised."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.export import FORMULA_START, export
from dnmwatch.privacy.keys import PSEUDONYM, Pseudonymizer
from dnmwatch.privacy.scrub import scrub
from dnmwatch.store import Store

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def _values() -> list[str]:
    corpus = json.loads((HOSTILE / "values.json").read_text())
    return [v for key, values in corpus.items() if key != "_about" for v in values]


def test_scrub_and_pseudonyms_survive_every_hostile_value() -> None:
    p = Pseudonymizer(bytes(range(32)))
    for value in _values():
        result = scrub(value)
        assert isinstance(result.text, str)
        assert scrub(result.text).total == 0
        assert PSEUDONYM.match(p.vendor_id(value))
    page = (HOSTILE / "pages" / "mixed_encoding.html").read_bytes().decode("utf-8", "replace")
    assert scrub(page).total == 0
    page = (HOSTILE / "pages" / "script_injection.html").read_text()
    result = scrub(page)
    assert "dealer.joe" not in result.text and "joe_dealer" not in result.text


def test_hostile_labels_are_neutralised_in_csv_and_intact_in_parquet(tmp_path: Path) -> None:
    values = [v.replace("\x00", "") for v in _values()]  # DuckDB VARCHAR refuses NUL
    rows = [
        {
            "market": "m",
            "vendor_id": f"v_{i:016x}",
            "day": date(2026, 1, 5),
            "category": value,
            "substance": value,
            "ships_from": value[:2],
            "price_eur": 10.0,
            "mass_g": 1.0,
        }
        for value in values
        for i in range(5)
    ]
    with Store.open(tmp_path / "data") as store:
        store.insert_rows("sales", rows)
        audit = AuditLog.for_data_dir(store.data_dir)
        export(store.connection, tmp_path / "csv", fmt="csv", audit=audit)
        export(store.connection, tmp_path / "pq", fmt="parquet", audit=audit)
    with (tmp_path / "csv" / "sales_by_market_month_category.csv").open(newline="") as fh:
        got = [r["category"] for r in csv.DictReader(fh)]
    assert len(got) == len(set(values))
    for cell in got:
        assert not cell.startswith(FORMULA_START)
    table = pq.read_table(tmp_path / "pq" / "sales_by_market_month_category.parquet")
    assert set(table.column("category").to_pylist()) == set(values)
