"""The real-market adapters on synthetic pages (``tests/fixtures/adapters/<market>/``).

The pages were written by hand in each market's structure with invented handles, titles and an
invented ed25519 key (fingerprint checked with ``gpg --show-keys``), so this runs in CI with no
third-party data. Every expected value is spelled out below; vendors are compared as the
pseudonym of the invented handle.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Page, Record, Rejection

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
PSEUD = Pseudonymizer(b"\x05" * 32)
NOW = datetime(2019, 11, 1, tzinfo=UTC)
KEY_FPR = "5854B79704748747945062E93F3A608BA8D2FC65"
URLS = {"empire": "http://empire.test/x", "cryptonia": "http://cryptonia.test/x",
        "dream": "http://dream.test/x", "apollon": "http://apollon.test/x",
        "cypher": "http://cypher.test/category/abc", "whitehousemarket": "http://whm.test/welcome"}


def v(handle: str) -> str:
    vid = PSEUD.vendor_id(handle)
    assert vid is not None
    return vid


# (market, file) -> (page type, [records as dicts of the fields that matter])
CASES: dict[tuple[str, str], tuple[str, list[dict[str, Any]]]] = {
    ("empire", "listing.html"): ("listing", [dict(
        kind="listing", listing_id="4242", title="10x Blue Owl pills 120mg",
        vendor_id=v("owl_keeper"), price=35.5, currency="EUR", ships_from="Netherlands",
        ships_to="Europe", category="Drugs & Chemicals / Ecstasy", stock=120, sold=57)]),
    ("empire", "index.html"): ("index", [dict(
        kind="listing", listing_id="4242", title="10x Blue Owl pills 120mg",
        vendor_id=v("owl_keeper"), price=35.5, currency="EUR", category="Ecstasy / Pills",
        stock=120, sold=57)]),
    ("empire", "feedback.html"): ("feedback", [
        dict(kind="vendor", vendor_id=v("owl_keeper"), sales=80, rating=4.9,
             member_since="May 01, 2019", other_markets=("Fakebay Market",)),
        dict(kind="feedback", listing_id="4242", vendor_id=v("owl_keeper"), rating=5.0,
             text="fast and tasty", posted="Sep 27, 2019 20:49", price=35.5, currency="EUR"),
        dict(kind="feedback", listing_id="4242", rating=1.0, text="never arrived",
             price=71.0)]),
    ("empire", "meta_refresh.html"): ("gate:login", [dict(kind="rejection",
                                                          reason="gate:login")]),
    ("cryptonia", "listing.html"): ("listing", [dict(
        kind="listing", listing_id="777001", title="7g Lemon Fog", vendor_id=v("fog_garden"),
        price=60.0, currency="USD", ships_from="Spain", ships_to="Worldwide", category="Weed",
        stock=12)]),
    ("cryptonia", "index.html"): ("index", [dict(
        kind="listing", listing_id="777001", title="7g Lemon Fog", vendor_id=v("fog_garden"),
        price=60.0, currency="USD", ships_from="ES", ships_to="WW", category="Weed")]),
    ("cryptonia", "vendor.html"): ("vendor", [
        dict(kind="vendor", vendor_id=v("fog_garden"), pgp_fingerprint=KEY_FPR,
             ships_from="Spain", sales=31, rating=4.5, member_since="2019-05-01 10:00:00",
             other_markets=("Fakebay",)),
        dict(kind="feedback", listing_id=None, vendor_id=v("fog_garden"), rating=5.0,
             text="lovely", posted="2019-10-27", price=0.007, currency="BTC"),
        dict(kind="feedback", rating=1.0, text="wet", posted="2019-10-20", price=0.0071)]),
    ("dream", "listing.html"): ("listing", [dict(
        kind="listing", listing_id="123456.654321", title="Pressed tabs 25x",
        vendor_id=v("tab_mill"), price=0.0125, currency="BTC", ships_from="Germany",
        ships_to="Europe")]),
    ("dream", "index.html"): ("index", [dict(
        kind="listing", listing_id="123456.654321", title="Pressed tabs 25x",
        vendor_id=v("tab_mill"), price=0.0125, currency="BTC", ships_from="DE", ships_to="EU",
        category="Ecstasy")]),
    ("dream", "vendor.html"): ("vendor", [dict(
        kind="vendor", vendor_id=v("tab_mill"), pgp_fingerprint=KEY_FPR, sales=44, rating=4.8,
        member_since="01/02/2018", other_markets=("Fakebay",))]),
    ("dream", "feedback.html"): ("feedback", [
        dict(kind="vendor", vendor_id=v("tab_mill"), sales=44),
        dict(kind="feedback", vendor_id=v("tab_mill"), rating=3.0, text="ok but slow",
             posted="3d", price=0.0125, currency="BTC")]),
    ("dream", "not_found.html"): ("error", [dict(kind="rejection", reason="error_page")]),
    ("apollon", "listing.html"): ("listing", [dict(
        kind="listing", listing_id="5150", title="Hash 5g", vendor_id=v("hash_baron"),
        price=30.0, currency="USD", ships_from="Morocco", ships_to="World Wide", stock=40,
        sold=12)]),
    ("apollon", "index.html"): ("index", [dict(
        kind="listing", listing_id="5150", title="Hash 5g", vendor_id=v("hash_baron"),
        price=30.0, currency="USD", category="Drugs / Cannabis & Hashish", stock=40,
        sold=12)]),
    ("apollon", "feedback.html"): ("feedback", [
        dict(kind="vendor", vendor_id=v("hash_baron"), sales=88, rating=4.85,
             member_since="Jul 01, 2019", other_markets=("fakebay",)),
        dict(kind="feedback", listing_id="5150", vendor_id=v("hash_baron"), rating=5.0,
             text="smooth smoke", posted="Feb 03, 2020 02:59", price=30.0, currency=None)]),
    ("apollon", "not_found.html"): ("error", [dict(kind="rejection", reason="error_page")]),
    ("cypher", "index.html"): ("index", [dict(
        kind="listing", listing_id="0a1b2c3d-0000-11ea-0000-000000000001",
        title="Speed paste 10g", vendor_id=v("paste_pal"), price=45.0, currency="USD",
        category="Stimulants", stock=300)]),
    ("whitehousemarket", "index.html"): ("index", [dict(
        kind="listing", listing_id="4711", title="10 tabs 100ug", vendor_id=v("white_rabbit"),
        price=40.0, currency="EUR", ships_from="Germany", ships_to="European Union",
        category="Psychedelics - LSD")]),
}
LINKS = {
    ("empire", "listing.html"): {"http://empire.test/Product_List/setTab/4242/22/99/feed",
                                 "http://empire.test/u/owl_keeper"},
    ("empire", "index.html"): {"http://empire.test/product/4242/22/99",
                               "http://empire.test/category/categories/22/1"},
    ("empire", "feedback.html"): {"http://empire.test/Profile/setUserTab/p_feedback/T0K",
                                  "http://empire.test/Profile/setUserTab/pgp/T0K"},
    ("cryptonia", "index.html"): {"http://cryptonia.test/product/777001",
                                  "http://cryptonia.test/products/all/Weed?page=2"},
    ("cryptonia", "listing.html"): {"http://cryptonia.test/user/fog_garden"},
    ("cryptonia", "vendor.html"): {"http://cryptonia.test/products/fog_garden"},
    ("dream", "index.html"): {"http://dream.test/viewProduct?offer=123456.654321",
                              "http://dream.test/x?page=2&category=104"},
    ("dream", "listing.html"): {"http://dream.test/contactMember?member=tab_mill",
                                "http://dream.test/contactMember?member=tab_mill&tab=ratings"},
    ("dream", "feedback.html"): {"http://dream.test/x?member=tab_mill&tab=ratings&page=2"},
    ("apollon", "index.html"): {"http://apollon.test/listing.php?ls_id=5150",
                                "http://apollon.test/x?cid=2&csid=7&pg=2"},
    ("apollon", "listing.html"): {"http://apollon.test/user.php?u_id=hash_baron&tab=6",
                                  "http://apollon.test/listing.php?ls_id=5150&tab=4"},
    ("cypher", "index.html"): {
        "http://cypher.test/product/0a1b2c3d-0000-11ea-0000-000000000001",
        "http://cypher.test/vendor/9f9f9f9f-0000-11ea-0000-000000000002",
        "http://cypher.test/category/abc?page=2"},
    ("whitehousemarket", "index.html"): {
        "http://whm.test/welcome?action=show&listing=4711",
        "http://whm.test/userinfo?user=white_rabbit", "http://whm.test/welcome?sc=9",
        "http://whm.test/welcome?display=all&page=2"},
}


def _page(market: str, name: str) -> Page:
    return Page(url=URLS[market], captured_at=NOW, body=(FIXTURES / market / name).read_bytes())


def _matches(record: Record, want: dict[str, Any]) -> list[str]:
    return [f"{k}: {getattr(record, k, None)!r} != {w!r}" for k, w in want.items()
            if (getattr(record, k, None) if k != "kind" else record.kind) != w]


@pytest.mark.parametrize(("market", "name"), list(CASES))
def test_synthetic_page_gives_the_expected_records(market: str, name: str) -> None:
    adapter = load_registry(plugins=False).create(market, PSEUD)
    page = _page(market, name)
    ptype, wanted = CASES[(market, name)]
    assert adapter.page_type(page) == ptype
    records = list(adapter.parse(page))
    assert len(records) == len(wanted), [r.kind for r in records]
    for record, want in zip(records, wanted, strict=True):
        assert not _matches(record, want)
        if not isinstance(record, Rejection):
            assert record.provenance is not None and record.provenance.captured_at == NOW


@pytest.mark.parametrize(("market", "name"), list(LINKS))
def test_synthetic_page_links_follow_the_crawl_order(market: str, name: str) -> None:
    adapter = load_registry(plugins=False).create(market, PSEUD)
    assert LINKS[(market, name)] <= set(adapter.links(_page(market, name)))


def test_buyer_names_never_reach_a_record() -> None:
    """The masked buyers of the fixtures ("z***q", "b***r", "q . . . 1", "t...y") are dropped."""
    for (market, name), _ in CASES.items():
        adapter = load_registry(plugins=False).create(market, PSEUD)
        blob = repr(list(adapter.parse(_page(market, name))))
        for buyer in ("z***q", "k***a", "b***r", "c***d", "q . . . 1", "t...y"):
            assert buyer not in blob, (market, name)


def test_sim_minimal_page_one_has_one_url() -> None:
    """The pager's ``&p=1`` and the plain category link are one page, crawled once."""
    html = ('<html><body><h3>Кокаин / Cocaine</h3><p class="p"><a href="/?r=item&id=7">x</a>'
            ' — 10 $ — <a href="/?r=shop&id=s">s</a> — NL</p>'
            '<a href="/?r=cat&id=3&p=1">1</a> <a href="/?r=cat&id=3&p=2">2</a>'
            '<a href="/?r=cat&id=3">Cocaine</a></body></html>')
    adapter = load_registry(plugins=False).create("sim-minimal", PSEUD)
    page = Page(url="http://127.0.0.1:8003/?r=cat&id=3", captured_at=NOW, body=html.encode())
    cats = [u for u in adapter.links(page) if "r=cat" in u]
    assert cats == ["http://127.0.0.1:8003/?r=cat&id=3", "http://127.0.0.1:8003/?r=cat&id=3&p=2"]
