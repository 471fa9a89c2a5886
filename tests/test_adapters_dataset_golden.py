"""Golden corpus of the dataset adapters (Agora 2014, AlphaBay 2017, Matanga 2020), read in
place from ``../shared/data/real`` (or ``$DNMWATCH_SHARED_DIR/data/real``); skipped, with the
reason, when absent. Both layouts of the copies are accepted (``product/`` or
``data/product/``, ``SCRAPED/`` or ``DATA/INPUT/SCRAPED/``...).

Three kinds of expectation, each with pinned per-adapter, per-field accuracy floors:

* **ground truth from others**, on every row present:
  Agora: the number of buyer lines of each feedback block (one per entry, read without the
  adapter's rules), the ``price`` cell as R's numeric (``1e-04`` included), the authors'
  cleaned ships from/to (``derived/products-2014-01--01fb-clean.csv``), their grade flags of
  the latest feedback (``random-sample100.csv``: ``great`` = 5/5 ... ``none`` = no feedback)
  and their USD conversion (``usd = price x rate``, random sample and ``p14c-ukFranchise``);
  AlphaBay: the price read on the listing's own page (``detail_price``), the "N sold since"
  counter and "Quantity left" read by plain string splitting, and the USD/BTC ratio of each
  price against the day's BTC rate (``btc-price-history``);
  Matanga: the authors' sales table (``sales_*.csv``): their offer id ``uid`` must map to
  exactly one of our listing ids and back, their ``usd`` must be one of the offer's USD prices
  that day, their ``quantity`` the number of our tier label; and the six price columns must
  agree (USD/BTC against the day's rate).
* **frozen values** (``tests/fixtures/adapters/<market>/real_expected.json``): the reviewed
  output on a fixed sample of rows, hashed where it could identify someone (titles, texts;
  vendors as pseudonyms under the fixed test key of the HTML golden test);
* the **corpus fingerprint** (sha256 over sorted file key + size), asserted when every pinned
  file is present.

Nothing of a row's content is printed: only field names and rates. Regenerate the frozen
values after a reviewed adapter change with ``python tests/test_adapters_dataset_golden.py``.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from _adapters_real_corpus import PSEUD, REAL, Tally, fingerprint, summary
from dnmwatch.adapters.registry import load_registry
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Provenance,
    Record,
    Rejection,
)
from dnmwatch.sources.csvdata import CsvSource
from dnmwatch.sources.mirror import date_from_path

pytestmark = pytest.mark.realdata
FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
MARKETS = ("agora", "alphabay", "matanga")

# market -> (folder under data/real, {group: glob patterns, first that matches wins})
LAYOUT: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "agora": ("agora-2014-mozzarella", {
        "product": ("product/products-*.csv", "data/product/products-*.csv"),
        "fbclean": ("derived/products-2014-01--01fb-clean.csv",
                    "data/derived/products-2014-01--01fb-clean.csv"),
        "sample": ("random-sample100.csv", "data/random-sample100.csv"),
        "ukfranchise": ("derived/p14c-ukFranchise.csv", "data/derived/p14c-ukFranchise.csv"),
    }),
    "alphabay": ("alphabay-2017-denton", {"listings": ("*.csv", "data/*.csv")}),
    "matanga": ("matanga-georgia-2020", {
        "scraped": ("SCRAPED/output_*.csv", "DATA/INPUT/SCRAPED/output_*.csv"),
        "sales": ("sales_*.csv", "DATA/OUTPUT/SALES/CSV/sales_*.csv"),
    }),
}
MAIN_GROUP = {"agora": "product", "alphabay": "listings", "matanga": "scraped"}
SAMPLE_EVERY = {"agora": 97, "alphabay": 113, "matanga": 397}
"""Frozen values are kept for every N-th row of the main files (in sorted order)."""

GROUND_TRUTH_FLOORS: dict[str, dict[str, float]] = {
    "agora": {"listing.parsed": 1.0, "listing.price": 1.0, "feedback.count": 1.0,
              "feedback.posted": 1.0, "listing.ships_from": 0.995, "listing.ships_to": 0.93,
              "feedback.latest_grade": 1.0, "feedback.none": 1.0, "listing.usd": 1.0},
    "alphabay": {"listing.parsed": 1.0, "listing.price": 0.998, "listing.currency": 1.0,
                 "listing.sold": 1.0, "listing.stock": 1.0, "listing.btc_rate": 0.99,
                 "listing.vendor_id": 1.0},
    "matanga": {"listing.parsed": 1.0, "listing.identity": 1.0,
                "listing.identity_distinct": 0.99, "listing.price_usd": 0.98,
                "listing.quantity": 1.0, "listing.currency": 1.0, "listing.btc_rate": 0.97},
}
FROZEN_FLOOR = 1.0


# --- where the files are ----------------------------------------------------------------------
def group_files(market: str, group: str) -> list[Path]:
    folder, groups = LAYOUT[market]
    root = REAL / folder
    for pattern in groups[group]:
        found = sorted(p for p in root.glob(pattern) if p.is_file())
        if found:
            return found
    return []


def present(market: str) -> dict[str, list[Path]]:
    found = {g: group_files(market, g) for g in LAYOUT[market][1]}
    if not found[MAIN_GROUP[market]]:
        pytest.skip(f"the {market} dataset is not under {REAL / LAYOUT[market][0]} "
                    "(see shared/data/real/SOURCES.md)")
    return found


def file_key(group: str, path: Path) -> str:
    return f"{group}/{path.name}"


def btc_rates() -> dict[str, float]:
    """BTC-USD by day (``btc-price-history/BCHAIN-MKPRU.csv``); empty when absent."""
    path = REAL / "btc-price-history" / "BCHAIN-MKPRU.csv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["Date"]: float(r["Value"]) for r in csv.DictReader(f) if r.get("Value")}


# --- summaries and tallies --------------------------------------------------------------------
def record_summary(record: Record) -> dict[str, Any]:
    """What is frozen of a record: the HTML golden test's summary, plus tiers and capture."""
    out = summary(record)
    if isinstance(record, ListingObservation):
        out["tiers"] = [[t.label, t.price, t.currency] for t in record.tiers]
    prov = record.provenance
    out["captured_at"] = prov.captured_at.isoformat() if prov and prov.captured_at else None
    return out


@dataclass
class Pass:
    """One streaming pass of an adapter over a dataset's main files."""

    truth: Tally = field(default_factory=Tally)
    frozen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def adapter_for(market: str) -> RowAdapter:
    adapter = load_registry(plugins=False).create(market, PSEUD)
    assert isinstance(adapter, RowAdapter)
    return adapter


def parsed_rows(adapter: RowAdapter, path: Path) -> Iterator[
        tuple[Provenance, dict[str, str], list[Record]]]:
    source = CsvSource(path, captured_at=date_from_path(path.name))
    for item in source.rows():
        if isinstance(item, Rejection):
            continue
        prov, row = item
        yield prov, row, list(adapter.parse_row(row, prov))


def run_pass(market: str, check: Any, result: Pass | None = None) -> Pass:
    """Parse every main file, feed ``check(tally, row, records, pass)`` and keep the frozen
    sample."""
    groups = present(market)
    adapter = adapter_for(market)
    result = result if result is not None else Pass()
    for group, paths in groups.items():
        for path in paths:
            result.files[file_key(group, path)] = path.stat().st_size
    counter = 0
    for path in groups[MAIN_GROUP[market]]:
        key = file_key(MAIN_GROUP[market], path)
        for prov, row, records in parsed_rows(adapter, path):
            counter += 1
            result.truth.add("listing.parsed",
                             any(isinstance(r, ListingObservation) for r in records))
            check(result.truth, row, records, result)
            if counter % SAMPLE_EVERY[market] == 1:
                result.frozen[f"{key}#{prov.offset}"] = [record_summary(r) for r in records]
    return result


def listing(records: list[Record]) -> ListingObservation | None:
    return next((r for r in records if isinstance(r, ListingObservation)), None)


def close(a: float | None, b: float, rel: float = 1e-9) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


# --- Agora ------------------------------------------------------------------------------------
_BUYER_LINE = re.compile(r"(\[\d+ deals?\]|\d+~\d+ deals?)\s*$")
_GRADES = {"great": 5.0, "good": 4.0, "ok": 3.0, "poor": 2.0, "horrible": 1.0, "worst": 0.0}


def _fold(value: str | None) -> str | None:
    """Ships from/to compared with the authors' cleaned value: they collapsed white space,
    wrote ``none`` for blanks and fixed letter case and punctuation (``WORLDWIDE``,
    ``Undeclared;)``); wording they changed (``United States`` -> ``USA``) stays a miss."""
    text = "".join(c for c in (value or "").casefold() if c.isalnum())
    return None if text in ("", "none") else text


def _date_lines(lines: list[str]) -> list[str]:
    """The ``... ago`` lines that stand right before a buyer line (not inside a text)."""
    filled = [" ".join(line.split()) for line in lines if line.strip()]
    return [line for line, after in itertools.pairwise(filled)
            if line.endswith(" ago") and _BUYER_LINE.search(after)]


def _agora_row(tally: Tally, row: dict[str, str], records: list[Record], result: Pass) -> None:
    lines = row.get("feedback", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    feedback = [r for r in records if isinstance(r, FeedbackObservation)]
    broken = [r for r in records if isinstance(r, Rejection) and r.reason == "malformed_feedback"]
    tally.add("feedback.count", len(feedback) + len(broken)
              == sum(1 for line in lines if _BUYER_LINE.search(line.strip())))
    tally.add("feedback.posted", [f.posted for f in feedback] == _date_lines(lines))
    rec = listing(records)
    if rec is not None and row.get("price") not in ("", "NA"):
        tally.add("listing.price", close(rec.price, float(row["price"])) and rec.currency == "BTC")
    clean_row = result.extra.get("fbclean", {}).get(row.get("list"))
    if rec is not None and clean_row is not None:
        tally.add("listing.ships_from", _fold(rec.ships_from) == _fold(clean_row["from"]))
        tally.add("listing.ships_to", _fold(rec.ships_to) == _fold(clean_row["to"]))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _agora_derived(tally: Tally, groups: dict[str, list[Path]]) -> None:
    """The authors' grade flags and USD conversions, on rows parsed by the adapter."""
    adapter = adapter_for("agora")
    for group in ("sample", "ukfranchise"):
        for path in groups.get(group, []):
            for offset, row in enumerate(_read_csv(path), 1):
                records = list(adapter.parse_row(row, Provenance(str(path), offset)))
                rec = listing(records)
                if row.get("usd") not in (None, "", "NA") and row.get("rate") not in ("", "NA"):
                    tally.add("listing.usd", rec is not None and rec.price is not None and close(
                        rec.price * float(row["rate"]), float(row["usd"]), 1e-6))
                if group != "sample":
                    continue
                feedback = [r for r in records if isinstance(r, FeedbackObservation)]
                latest = feedback[0].rating if feedback else None
                for flag, grade in _GRADES.items():
                    tally.add("feedback.latest_grade", (row[flag] == "TRUE") == (latest == grade))
                tally.add("feedback.none", (row["none"] == "TRUE") == (not feedback))


@functools.cache
def agora_pass() -> Pass:
    groups = present("agora")
    result = Pass()
    result.extra["fbclean"] = {r["list"]: r for p in groups.get("fbclean", [])
                               for r in _read_csv(p)}
    run_pass("agora", _agora_row, result)
    _agora_derived(result.truth, groups)
    result.extra.pop("fbclean")
    return result


# --- AlphaBay ---------------------------------------------------------------------------------
def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _alphabay_row(rates: dict[str, float], tally: Tally, row: dict[str, str],
                  records: list[Record], moment: datetime | None) -> None:
    rec = listing(records)
    if rec is None:
        return
    detail = row.get("detail_price", "")
    if "USD" in detail:
        tally.add("listing.price", close(rec.price, _number(detail.split("USD")[-1].split()[0])))
    if "USD" in row.get("listing_price", ""):
        tally.add("listing.currency", rec.currency == "USD")
    sold = row.get("detail_qty_sold", "")
    if " sold since" in sold:
        tally.add("listing.sold", rec.sold == int(_number(sold.split(" sold since")[0]
                                                          .split()[-1])))
    item = row.get("listing_item", "")
    if "Quantity left:" in item:
        shown = item.split("Quantity left:")[1].split()[0]
        tally.add("listing.stock", rec.stock == (None if shown.startswith("Unlimited")
                                                 else int(_number(shown))))
    vendor = row.get("listing_vendor", "").strip()
    if vendor and vendor != "null":
        handle = " ".join(vendor.split())  # as a page shows it: white space collapsed
        tally.add("listing.vendor_id", rec.vendor_id == PSEUD.vendor_id(handle))
    btc = re.search(r"\(([\d.]+) BTC\)", row.get("listing_price", ""))
    day = moment.strftime("%Y-%m-%d") if moment else ""
    if (btc and day in rates and rec.price and rec.price >= 50 and float(btc.group(1)) > 0
            and "Current price" not in row.get("listing_price", "")):
        tally.add("listing.btc_rate", 0.85 < rec.price / float(btc.group(1)) / rates[day] < 1.15)


@functools.cache
def alphabay_pass() -> Pass:
    rates = btc_rates()
    return run_pass("alphabay", lambda t, row, recs, res: _alphabay_row(
        rates, t, row, recs, recs[0].provenance.captured_at if recs and recs[0].provenance
        else None))


# --- Matanga ----------------------------------------------------------------------------------
def _weight(label: str) -> float | None:
    found = re.match(r"\s*(\d+(?:[.,]\d+)?)", label)
    return float(found.group(1).replace(",", ".")) if found else None


def _matanga_row(rates: dict[str, float], tally: Tally, row: dict[str, str],
                 records: list[Record], result: Pass) -> None:
    rec = listing(records)
    if rec is None or rec.provenance is None or rec.provenance.captured_at is None:
        return
    day = rec.provenance.captured_at.strftime("%Y-%m-%d")
    usd = row.get("$", "").strip()
    if usd and float(usd) > 0:
        tally.add("listing.currency", rec.currency == "USD" and close(rec.price, float(usd)))
        btc = row.get("BTC", "").strip()
        if btc and float(btc) > 0 and day in rates:
            tally.add("listing.btc_rate", 0.75 < float(usd) / float(btc) / rates[day] < 1.25)
    quantity = _weight(row.get("вес", ""))
    offer = (day, row.get("sell_code", ""), row.get("region", ""), quantity,
             row.get("desc_en", ""))
    seen: dict[tuple[Any, ...], dict[str, Any]] = result.extra.setdefault("offers", {})
    entry = seen.setdefault(offer, {"ids": set(), "usd": set(), "tiers": set()})
    entry["ids"].add(rec.listing_id)
    if rec.currency == "USD" and rec.price is not None:
        entry["usd"].add(round(rec.price, 2))
    entry["tiers"].update(_weight(t.label) for t in rec.tiers)


def _matanga_sales(tally: Tally, result: Pass, sales: list[Path]) -> None:
    offers: dict[tuple[Any, ...], dict[str, Any]] = result.extra.get("offers", {})
    ids_of_uid: dict[str, set[str]] = defaultdict(set)
    uids_of_id: dict[str, set[str]] = defaultdict(set)
    for path in sales:
        for row in _read_csv(path):
            key = (row["date"], row["sell_code"], row["region"], float(row["quantity"]),
                   row["desc_en"])
            entry = offers.get(key)
            tally.add("sales.found", entry is not None)
            if entry is None:
                continue
            for lid in entry["ids"]:
                ids_of_uid[row["uid"]].add(lid)
                uids_of_id[lid].add(row["uid"])
            tally.add("listing.quantity", entry["tiers"] == {float(row["quantity"])})
            if entry["usd"]:
                tally.add("listing.price_usd", round(float(row["usd"]), 2) in entry["usd"])
    for ids in ids_of_uid.values():
        tally.add("listing.identity", len(ids) == 1)
    for uids in uids_of_id.values():
        tally.add("listing.identity_distinct", len(uids) == 1)


@functools.cache
def matanga_pass() -> Pass:
    rates = btc_rates()
    result = run_pass("matanga", lambda t, row, recs, res: _matanga_row(rates, t, row, recs,
                                                                         res))
    _matanga_sales(result.truth, result, group_files("matanga", "sales"))
    result.extra.pop("offers", None)
    return result


PASSES = {"agora": agora_pass, "alphabay": alphabay_pass, "matanga": matanga_pass}


# --- the tests --------------------------------------------------------------------------------
def expected(market: str) -> dict[str, Any]:
    with open(FIXTURES / market / "real_expected.json", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


@pytest.mark.parametrize("market", MARKETS)
def test_ground_truth_floors(market: str) -> None:
    PASSES[market]().truth.check(market, GROUND_TRUTH_FLOORS[market])


@pytest.mark.parametrize("market", MARKETS)
def test_frozen_values_on_the_sampled_rows(market: str) -> None:
    result, want = PASSES[market](), expected(market)["rows"]
    tally = Tally(digits=4)
    compared = 0
    for key, records in want.items():
        got = result.frozen.get(key)
        if got is None:
            continue
        compared += 1
        tally.add("record_count", len(got) == len(records))
        for g, w in zip(got, records, strict=False):
            for name, value in w.items():
                tally.add(f"{w['kind']}.{name}", g.get(name) == value)
    if not compared:
        pytest.skip(f"none of the sampled rows of {market} is present")
    tally.check(market, {f: FROZEN_FLOOR for f in tally.total})


@pytest.mark.parametrize("market", MARKETS)
def test_corpus_fingerprint_matches_the_pinned_one(market: str) -> None:
    result, pinned = PASSES[market](), expected(market)
    missing = sorted(set(pinned["files"]) - set(result.files))
    if missing:
        pytest.skip(f"{len(missing)} pinned files of {market} absent: partial corpus")
    assert fingerprint([(k, result.files[k]) for k in pinned["files"]]) == \
        pinned["fingerprint"], f"{market}: the pinned files changed; re-review the values"
    assert {k: result.files[k] for k in pinned["files"]} == pinned["files"]


def test_frozen_files_hold_no_clear_text() -> None:
    """Titles and texts are hashed, vendors pseudonymous, in every frozen file."""
    for market in MARKETS:
        for records in expected(market)["rows"].values():
            for rec in records:
                for name in ("title", "text"):
                    assert rec.get(name) is None or str(rec[name]).startswith("sha256:")
                assert rec.get("vendor_id") is None or re.fullmatch(r"v_[0-9a-f]{16}",
                                                                    rec["vendor_id"])


def freeze() -> None:
    """Write the frozen values of every dataset present (after reviewing a change)."""
    for market in MARKETS:
        result = PASSES[market]()
        out = {"adapter_version": adapter_for(market).version, "files": result.files,
               "fingerprint": fingerprint(list(result.files.items())), "rows": result.frozen}
        path = FIXTURES / market / "real_expected.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, ensure_ascii=False, sort_keys=True, indent=0) + "\n",
                        encoding="utf-8")
        print(f"{market}: {len(result.frozen)} rows frozen, {len(result.files)} files")


if __name__ == "__main__":
    freeze()
