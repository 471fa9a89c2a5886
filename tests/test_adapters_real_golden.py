"""Golden corpus of the real-market adapters, read in place from ``../shared/data/real``.

Three kinds of expectation, each with pinned per-adapter, per-field accuracy floors:

* **ground truth from others**: Cryptonia's ``expected_values/`` (magnublo's parser fixtures:
  seller info, feedback lists, PGP key blocks) and the Cypher / White House Market scraper's
  own CSV parse (title, vendor, category, stock, ships from/to; its prices were converted to
  AUD, so they are not compared). These are matched on every page present, including pages
  held back while the adapters were written;
* **page types** from the folder a page was saved in (listings, users, login_page, ...), on
  every page present;
* **frozen values** (``tests/fixtures/adapters/real_expected/<market>.json``): the reviewed
  output on the development pages, hashed where it could identify someone (titles, texts, PGP
  fingerprints; vendors as pseudonyms under a fixed test key), so a regression shows up.

The corpus fingerprint (sha256 over sorted path + size) is compared with the pinned one when
every pinned page is present; pages beyond it (the held-back third) are counted, not failed.
Nothing of a page's content is printed: only field names and rates.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from _adapters_real_corpus import (
    CORPUS,
    FOLDER_TYPES,
    MAGNUBLO,
    PSEUD,
    YELLOWBRICK,
    Tally,
    files,
    fingerprint,
    page_of,
    rel,
    short_hash,
    summary,
)
from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.html import Document
from dnmwatch.adapters.pgp import key_fingerprint
from dnmwatch.adapters.realkit import POLARITY, path_after, query_value
from dnmwatch.adapters.registry import load_registry
from dnmwatch.records import FeedbackObservation, ListingObservation, VendorObservation

pytestmark = pytest.mark.realdata
EXPECTED_DIR = Path(__file__).parent / "fixtures" / "adapters" / "real_expected"
MARKETS = list(CORPUS)

PAGE_TYPE_FLOORS = {"empire": 1.0, "cryptonia": 1.0, "dream": 0.9, "apollon": 0.9,
                    "cypher": 1.0, "whitehousemarket": 1.0}
FROZEN_FLOOR = 1.0
"""On the pages they were reviewed on, the frozen values are matched exactly."""
GROUND_TRUTH_FLOORS: dict[str, dict[str, float]] = {
    "cryptonia": {"vendor.rating": 1.0, "vendor.ships_from": 1.0, "vendor.member_since": 1.0,
                  "vendor.other_markets": 1.0, "vendor.pgp_fingerprint": 1.0,
                  "feedback.posted": 1.0, "feedback.rating": 1.0, "feedback.text": 1.0,
                  "feedback.price": 1.0, "feedback.currency": 1.0},
    "cypher": {"listing.title": 0.99, "listing.vendor_id": 1.0, "listing.category": 0.99,
               "listing.stock": 0.99},
    "whitehousemarket": {"listing.title": 0.99, "listing.vendor_id": 1.0,
                         "listing.category": 0.99, "listing.ships_from": 0.99,
                         "listing.ships_to": 0.99},
}


def _adapter(market: str) -> MarketAdapter:
    return load_registry(plugins=False).create(market, PSEUD)


def _present(market: str) -> list[Path]:
    found = files(market)
    if not found:
        pytest.skip(f"real pages of {market} not found under {CORPUS[market][0]} "
                    "(see shared/data/real/SOURCES.md)")
    return found


def _expected(market: str) -> dict[str, Any]:
    with open(EXPECTED_DIR / f"{market}.json", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


# --- fingerprint ----------------------------------------------------------------------------
@pytest.mark.parametrize("market", MARKETS)
def test_corpus_fingerprint_matches_the_pinned_one(market: str) -> None:
    present = {rel(market, p): p.stat().st_size for p in _present(market)}
    pinned: dict[str, int] = _expected(market)["files"]
    missing = sorted(set(pinned) - set(present))
    if missing:
        pytest.skip(f"{len(missing)} pinned pages of {market} absent: partial corpus")
    subset = [(name, present[name]) for name in pinned]
    assert fingerprint(subset) == _expected(market)["fingerprint"], \
        f"{market}: the pinned pages changed (sizes differ); re-review the golden values"
    extra = len(set(present) - set(pinned))
    print(f"\n{market}: {len(pinned)} pinned pages, {extra} more (held back), corpus "
          f"sha256 {fingerprint(list(present.items()))[:16]}")


# --- page types -----------------------------------------------------------------------------
@pytest.mark.parametrize("market", MARKETS)
def test_page_types_follow_the_folders(market: str) -> None:
    adapter, tally = _adapter(market), Tally()
    for path in _present(market):
        allowed = FOLDER_TYPES.get(path.parent.name)
        if allowed is None:
            continue
        got = adapter.page_type(page_of(market, path))
        tally.add("page_type", got in allowed)
    tally.check(market, {"page_type": PAGE_TYPE_FLOORS[market]})


def test_special_pages_are_typed() -> None:
    """Empire's meta-refresh page is a login gate; Dream's "not found" and Apollon's 404 are
    error pages, counted as ``error_page`` rejections."""
    cases = [("empire", MAGNUBLO / "empire/html_files/meta_refresh/saved_empire_meta_refresh_0",
              "gate:login"),
             ("dream", MAGNUBLO / "dream/html_files/item_not_found/not_found_0.html", "error"),
             ("apollon", MAGNUBLO / "empire/html_files/custom_server_errors/apollon_404_0",
              "error")]
    cases = [c for c in cases if c[1].is_file()]
    if not cases:
        pytest.skip("special pages absent")
    for market, path, kind in cases:
        adapter = _adapter(market)
        page = page_of(market, path)
        assert adapter.page_type(page) == kind, market
        records = list(adapter.parse(page))
        reason = "error_page" if kind == "error" else kind
        assert [getattr(r, "reason", None) for r in records] == [reason]
        assert adapter.counters[f"rejected:{reason}"] == 1


# --- frozen values --------------------------------------------------------------------------
@pytest.mark.parametrize("market", MARKETS)
def test_frozen_values_on_the_development_pages(market: str) -> None:
    adapter, tally = _adapter(market), Tally()
    expected: dict[str, Any] = _expected(market)["pages"]
    by_name = {rel(market, p): p for p in _present(market)}
    compared = 0
    for name, want in expected.items():
        path = by_name.get(name)
        if path is None:
            continue
        compared += 1
        page = page_of(market, path)
        tally.add("page_type", adapter.page_type(page) == want["page_type"])
        got = [summary(r) for r in adapter.parse(page)]
        tally.add("record_count", len(got) == len(want["records"]))
        for g, w in zip(got, want["records"], strict=False):
            for field, value in w.items():
                tally.add(f"{w['kind']}.{field}", g.get(field) == value)
    if not compared:
        pytest.skip(f"none of the development pages of {market} is present")
    tally.check(market, {f: FROZEN_FLOOR for f in tally.total})


# --- ground truth: Cryptonia expected_values --------------------------------------------------
def _market_key(name: str) -> str:
    key = "".join(c for c in name.casefold() if c.isalnum())
    return key.removesuffix("market")


def test_cryptonia_matches_magnublo_expected_values() -> None:
    adapter, tally = _adapter("cryptonia"), Tally()
    truth = MAGNUBLO / "cryptonia" / "expected_values"
    for path in _present("cryptonia"):
        if not path.name.startswith("saved_cryptonia_user_profile_"):
            continue
        n = path.name.rsplit("_", 1)[1]
        info_file = truth / f"user_profile_{n}_seller_info.json"
        if not info_file.is_file():
            continue
        records = list(adapter.parse(page_of("cryptonia", path)))
        vendor = next((r for r in records if isinstance(r, VendorObservation)), None)
        info = json.loads(info_file.read_text())
        tally.add("vendor.found", vendor is not None)
        if vendor is None:
            continue
        tally.add("vendor.rating", vendor.rating is not None
                  and abs(vendor.rating - info[0] / 20) < 0.001)
        tally.add("vendor.other_markets", sorted(_market_key(m) for m in vendor.other_markets)
                  == sorted(_market_key(m[0]) for m in info[2]))
        tally.add("vendor.ships_from", vendor.ships_from == info[4])
        tally.add("vendor.member_since", (vendor.member_since or "").replace(" ", "T") == info[8])
        key_file = truth / f"user_profile_{n}_pgp_key"
        if key_file.is_file():
            tally.add("vendor.pgp_fingerprint",
                      vendor.pgp_fingerprint == key_fingerprint(key_file.read_text()))
        fb_file = truth / f"user_profile_{n}_feedback.json"
        if fb_file.is_file():
            _compare_feedback(tally, [r for r in records if isinstance(r, FeedbackObservation)],
                              json.loads(fb_file.read_text()))
    tally.check("cryptonia", GROUND_TRUTH_FLOORS["cryptonia"])


def _compare_feedback(tally: Tally, rows: list[FeedbackObservation],
                      lists: list[list[Any]]) -> None:
    dates, kinds, _products, messages, _ids, _buyers, currencies, prices = lists
    tally.add("feedback.count", len(rows) == len(dates))
    for row, date, kind, message, currency, price in zip(
            rows, dates, kinds, messages, currencies, prices, strict=False):
        tally.add("feedback.posted", row.posted == date)
        tally.add("feedback.rating", row.rating == POLARITY.get(kind.split()[0].casefold()))
        tally.add("feedback.text", row.text == " ".join(message.split()))
        tally.add("feedback.currency", row.currency == currency)
        tally.add("feedback.price", row.price is not None and abs(row.price - float(price))
                  < 1e-9)


# --- ground truth: the Cypher / WHM scraper's own CSV -----------------------------------------
def _csv_rows(folder: str) -> Iterator[dict[str, str]]:
    for path in sorted((YELLOWBRICK / folder / "page-scrapes").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            yield from csv.DictReader(f)


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


@pytest.mark.parametrize(("market", "folder"), [("cypher", "cypher-market"),
                                                ("whitehousemarket", "white-house-market")])
def test_index_pages_match_the_scrapers_csv(market: str, folder: str) -> None:
    pages = _present(market)
    truth: dict[str, dict[str, str]] = {}
    for line in _csv_rows(folder):
        url = line["Product URL"]
        lid = path_after(url, "product") if market == "cypher" else query_value(url, "listing")
        if lid:
            truth.setdefault(lid, line)
    if not truth:
        pytest.skip(f"the scraper's CSV of {market} is absent")
    adapter, tally = _adapter(market), Tally()
    for path in pages:
        for rec in adapter.parse(page_of(market, path)):
            if not isinstance(rec, ListingObservation):
                continue
            row = truth.get(rec.listing_id)
            tally.add("listing.in_csv", row is not None)
            if row is None:
                continue
            tally.add("listing.title", _norm(rec.title) == _norm(row["Product"]))
            tally.add("listing.vendor_id", rec.vendor_id == PSEUD.vendor_id(row["Vendor"]))
            tally.add("listing.category", _norm(rec.category) == _norm(row["Category"]))
            if market == "cypher":
                tally.add("listing.stock", rec.stock == int(float(row["Quantity"] or -1)))
            else:
                tally.add("listing.ships_from", rec.ships_from == row["Shipping From"])
                tally.add("listing.ships_to", rec.ships_to == row["Shipping To"])
    tally.check(market, GROUND_TRUTH_FLOORS[market])


def test_summaries_hide_identifying_text() -> None:
    """The frozen files hold hashes, never titles or texts in clear."""
    rec = FeedbackObservation(market="m", listing_id="1", vendor_id=None, rating=5.0,
                              text="great stuff", posted="1d", captured_at=page_of(
                                  "cypher", Path(__file__)).captured_at)
    assert summary(rec)["text"] == short_hash("great stuff") != "great stuff"


# --- ground truth: the handle each profile page puts in its own action links -----------------
PROFILE_LINKS: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "empire": ('a[href*="/store/"]', lambda h: path_after(h, "store")),
    "cryptonia": ('a.toolbar_link[href^="/products/"]', lambda h: path_after(h, "products")),
    "dream": ('a[href*="reportVendor?vendor="]', lambda h: query_value(h, "vendor")),
    "apollon": ('a[href*="ss_usr="]', lambda h: query_value(h, "ss_usr")),
}


@pytest.mark.parametrize("market", list(PROFILE_LINKS))
def test_profile_handles_match_the_pages_own_links(market: str) -> None:
    """The handle read from a profile's heading is the one in its "store"/"report" link: an
    independent reading of ``vendor_id`` on every profile page present."""
    selector, read = PROFILE_LINKS[market]
    adapter, tally = _adapter(market), Tally()
    for path in _present(market):
        page = page_of(market, path)
        vendors = [r for r in adapter.parse(page) if isinstance(r, VendorObservation)]
        href = next(Document.of(page).hrefs(selector), None)
        handle = read(href) if vendors and href else None
        if handle:
            tally.add("vendor.vendor_id", vendors[0].vendor_id == PSEUD.vendor_id(handle))
    if not tally.total:
        pytest.skip(f"no profile page of {market} present")
    tally.check(market, {"vendor.vendor_id": 1.0})
