"""CSV datasets: decoding and mojibake repair, and the three dataset adapters on invented rows
shaped like Agora 2014, AlphaBay 2017 and Matanga 2020 (no real content in the repository)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dnmwatch.adapters.agora import feedback_entries, listing_id_of
from dnmwatch.adapters.alphabay import buy_price
from dnmwatch.adapters.registry import load_registry
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.errors import ConfigError
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import (
    Counters,
    FeedbackObservation,
    ListingObservation,
    Provenance,
    Rejection,
)
from dnmwatch.sources.csvdata import CsvSource, repair_text, sniff_encoding
from dnmwatch.sources.extract import extract, plan
from dnmwatch.store import Store

KEY = bytes(range(32))
HANDLE = "Invented_Vendor_77"

FEEDBACK = (
    "\n    Feedbacks:\n    \n        \n                \n                    5/5\n"
    "                    5/5\narrived in 2 days\nweight is perfect\n                    \n\n"
    "                    4 days ago\n                    buyerx [0 deals]\n                \n"
    "                \n                    3/5\n                    slow but ok\n"
    "                    \n\n                    12 days ago\n"
    "                    anon \u00a0~5/5, 1~2 deals\n"
    "                    4/5\n                    cut off entry without a date\n")


def agora_csv(path: Path) -> Path:
    import csv
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["list", "date", "vendor", "product", "price", "cat", "subcat",
                      "subsubcat", "feedback", "from", "to"])
        out.writerow(["2014-01-01__aB3dE5fG7h.html", "2014-01-01", HANDLE, "5g Invented Weed",
                      "0.132", "Drugs", "Cannabis", "Weed", FEEDBACK, "\r\n   Narnia\r\n  ",
                      "Worldwide\r\n"])
        out.writerow(["2014-01-01__zZ9.html", "2014-01-01", HANDLE, "A guide", "0.002",
                      "Information", "Guides", "NA", "\n Feedbacks:\n No feedbacks found.\n",
                      "", "NA"])
        out.writerow(["2014-01-01__noTitle.html", "2014-01-01", HANDLE, "", "1", "Drugs", "NA",
                      "NA", "", "NA", "NA"])
    return path


def alphabay_csv(path: Path) -> Path:
    head = ("listing_title,listing_price,listing_vendor,listing_item,listing_link,"
            "detail_qty_sold,category_id,subcategory_id,subcategory2_id\r")
    rows = [
        '"10x Gr\u00e4ser pills 2mg Œæ",'
        '"Buy price\nUSD 1,050.17\n\n(0.8376 BTC)",' + HANDLE + ','
        '"Views: 12 / Bids: Fixed price\nQuantity left: 7",x,'
        '"Sold by ' + HANDLE + ' -\n116 sold since Nov 14, 2015\u00ac_Vendor Level 6",'
        'Drugs & Chemicals,Benzos,Pills\r',
        '"Invented auction","Current price\nUSD 9.00\n\n(0.01 BTC)\n\n\nBuy price\n'
        'USD 20.00\n\n(0.02 BTC)",' + HANDLE + ',"Item # 4242 - Stimulants / Cocaine",x,'
        '"Sold by ' + HANDLE + ' -\n3 sold since Jan 2, 2017",Drugs & Chemicals,Stimulants,'
        'Stimulants\r',
    ]
    path.write_bytes((head + "".join(rows)).encode("mac_roman"))
    return path


def matanga_csv(path: Path) -> Path:
    path.write_text(
        ",time_stamp,region,sell_code,description,готовых,вес,BTC,ք,₴,Br,$,€\n"
        "0,01-03-2020 02:56:54,Tbilisi,0a1b2c3d4e,\"0,5гр. Придуманный товар\",1,0.5 гр,0.0122,"
        "7302,2692,244,109.0,\n"
        "1,01-03-2020 02:56:54,Batumi,9f8e7d6c5b,Без цены,0,1 гр,,,,,,\n", encoding="utf-8")
    return path


def test_sniffing_and_repair() -> None:
    assert sniff_encoding("Gräser".encode()) == "utf-8"
    assert sniff_encoding("Gräser Käse".encode("mac_roman")) == "mac_roman"
    assert sniff_encoding("Gräser Käse".encode("cp1252")) == "cp1252"
    assert repair_text("GrÃ¤ser", "utf-8") == "Gräser"
    assert repair_text("ŒæŒæVendor", "mac_roman") == "ξξVendor"
    assert repair_text("Тбилиси ä", "utf-8") == "Тбилиси ä"
    assert repair_text("‰÷É lost", "mac_roman") == "‰÷É lost"


def test_feedback_block_parsing_drops_buyers() -> None:
    entries = feedback_entries(FEEDBACK)
    assert [(e.rating, e.posted) for e in entries] == [(5.0, "4 days ago"), (3.0, "12 days ago"),
                                                      (4.0, None)]
    assert entries[0].text == "5/5\narrived in 2 days\nweight is perfect"
    assert all("buyerx" not in e.text and "anon" not in e.text for e in entries)
    assert listing_id_of("2014-01-01__aB3dE5fG7h.html") == "aB3dE5fG7h"
    assert buy_price("Current price\nUSD 9.00\n\n(0.01 BTC)\n\nBuy price\nUSD 20.00") == \
        (20.0, "USD")


def _rows(path: Path, name: str, when: datetime | None = None) -> tuple[list[object], Counters]:
    adapter = load_registry(plugins=False).create(name, Pseudonymizer(KEY))
    assert isinstance(adapter, RowAdapter)
    source = CsvSource(path, captured_at=when)
    out: list[object] = []
    for item in source.rows():
        assert not isinstance(item, Rejection)
        out += list(adapter.parse_row(item[1], item[0]))
    adapter.counters.merge(source.counters)
    return out, adapter.counters


def test_agora_rows(tmp_path: Path) -> None:
    records, counters = _rows(agora_csv(tmp_path / "products-2014-01-01.csv"), "agora")
    listings = [r for r in records if isinstance(r, ListingObservation)]
    feedback = [r for r in records if isinstance(r, FeedbackObservation)]
    reasons = sorted(r.reason for r in records if isinstance(r, Rejection))
    assert [x.listing_id for x in listings] == ["aB3dE5fG7h", "zZ9"]
    first = listings[0]
    assert (first.title, first.price, first.currency, first.ships_from, first.ships_to,
            first.category) == ("5g Invented Weed", 0.132, "BTC", "Narnia", "Worldwide",
                                "Drugs / Cannabis / Weed")
    assert first.vendor_id == Pseudonymizer(KEY).vendor_id(HANDLE)
    assert first.provenance == Provenance(str(tmp_path / "products-2014-01-01.csv"), 1,
                                          datetime(2014, 1, 1, tzinfo=UTC))
    assert listings[1].ships_to is None and listings[1].category == "Information / Guides"
    assert [(f.rating, f.posted, f.listing_id) for f in feedback] == [
        (5.0, "4 days ago", "aB3dE5fG7h"), (3.0, "12 days ago", "aB3dE5fG7h")]
    assert feedback[0].captured_at == datetime(2014, 1, 1, tzinfo=UTC)
    assert reasons == ["malformed_feedback", "missing_field"]
    assert counters["rows"] == 3 and counters["records:feedback"] == 2


def test_alphabay_rows_repair_mojibake(tmp_path: Path) -> None:
    path = alphabay_csv(tmp_path / "D&C_-_benzos_-_pills_-_20170422.csv")
    records, counters = _rows(path, "alphabay", datetime(2017, 4, 22, tzinfo=UTC))
    first, second = records
    assert isinstance(first, ListingObservation) and isinstance(second, ListingObservation)
    assert first.title == "10x Gräser pills 2mg ξ"
    assert (first.price, first.currency, first.stock, first.sold) == (1050.17, "USD", 7, 116)
    assert first.category == "Drugs & Chemicals / Benzos / Pills"
    assert first.listing_id.startswith("t_") and len(first.listing_id) == 18
    assert (second.listing_id, second.price, second.sold) == ("4242", 20.0, 3)
    assert counters["csv:encoding:mac_roman"] == 1 and counters["csv:repaired_fields"] >= 1


def test_matanga_rows(tmp_path: Path) -> None:
    records, _ = _rows(matanga_csv(tmp_path / "output_01032020_030252.csv"), "matanga")
    first, second = records
    assert isinstance(first, ListingObservation) and isinstance(second, ListingObservation)
    # sell_code is shared by offers of other weights and cities: the id adds a digest of them
    assert first.listing_id.startswith("0a1b2c3d4e-")
    assert (first.price, first.currency, first.ships_from, first.stock) == (109.0, "USD", "GE", 1)
    assert first.tiers[0].label == "0.5 гр"
    assert first.provenance is not None
    assert first.provenance.captured_at == datetime(2020, 3, 1, 2, 56, 54, tzinfo=UTC)
    assert (second.price, second.currency, second.vendor_id) == (None, None, None)


def test_extract_csvs_into_the_store_without_handles(tmp_path: Path) -> None:
    files = [agora_csv(tmp_path / "products-2014-01-01.csv"),
             alphabay_csv(tmp_path / "D&C_-_benzos_-_pills_-_20170422.csv"),
             matanga_csv(tmp_path / "output_01032020_030252.csv")]
    registry = load_registry(plugins=False)
    tasks = plan(files, registry)
    assert [t.adapter for t in tasks] == ["agora", "alphabay", "matanga"]
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=KEY, workers=1)
        assert summary.records == {"listing": 6, "feedback": 2}
        assert summary.rejections == {"malformed_feedback": 1, "missing_field": 1}
        observed = store.fetchall("SELECT market, min(observed_at) FROM listing_observations "
                                  "GROUP BY 1 ORDER BY 1")
        assert observed == [("agora", datetime(2014, 1, 1)), ("alphabay", datetime(2017, 4, 22)),
                            ("matanga", datetime(2020, 3, 1, 2, 56, 54))]
        for table in ("listing_observations", "feedback_observations", "rejections"):
            dump = repr(store.fetchall(f"SELECT * FROM {table}"))
            assert HANDLE.casefold() not in dump.casefold()
            assert "buyerx" not in dump


def test_unrecognised_csv_needs_an_adapter(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    registry = load_registry(plugins=False)
    with pytest.raises(ConfigError, match="--adapter"):
        plan([path], registry)
    with pytest.raises(ConfigError, match="reads pages"):
        plan([path], registry, "sim-table")
