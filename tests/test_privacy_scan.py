"""The scanner that checks that names (buyer handles) appear nowhere in a store or export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.export import export
from dnmwatch.privacy.scan import scan_files, scan_store
from dnmwatch.store import Store

BUYERS = ["buyer_kitten77", "SilentOwl", "ab"]  # synthetic; "ab" is too short to scan


def test_planted_names_are_found_and_reported_without_the_name(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        assert scan_store(store.connection, BUYERS) == []
        store.insert_rows(
            "feedback",
            [
                {"market": "m", "feedback_id": "1", "text": "thanks SILENTOWL here"},
                {"market": "m", "feedback_id": "2", "text": "about a tab"},
            ],
        )
        hits = scan_store(store.connection, BUYERS)
    assert [(h.where, h.needle, h.count) for h in hits] == [("feedback.text", 1, 1)]
    assert "SilentOwl" not in repr(hits)


def test_exports_of_a_store_with_sales_carry_no_planted_names(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        store.insert_rows(
            "sales",
            [
                {"market": "m", "vendor_id": f"v_{i:016x}", "day": date(2026, 1, 2),
                 "category": "stimulants", "price_eur": 10.0}
                for i in range(6)
            ],
        )  # fmt: skip
        store.insert_rows("feedback", [{"market": "m", "feedback_id": "1", "text": "SilentOwl"}])
        audit = AuditLog.for_data_dir(store.data_dir)
        for fmt in ("csv", "parquet"):
            export(store.connection, tmp_path / fmt, fmt=fmt, audit=audit)  # type: ignore[arg-type]
    for fmt in ("csv", "parquet"):
        assert scan_files(tmp_path / fmt, BUYERS) == []
    planted = tmp_path / "csv" / "extra.csv"
    planted.write_text("x\nbuyer_kitten77\n")
    assert [h.needle for h in scan_files(tmp_path / "csv", BUYERS)] == [0]
