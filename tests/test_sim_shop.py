"""The single-vendor shop: simulator site, ``sim-shop`` adapter, golden test, lifecycle, fuzz.

The shop of one account of the ``tiny`` world is served on loopback and crawled by
``adapter.links()`` alone; the records are compared with the world's truth tables (listings
live that day, the latest price change, tiers, ships from/to, the account's fingerprint and
country, its feedback) and with stock recomputed here from the transactions table by the
documented restock rule. Floors are 1.0: the simulator is the yardstick.
"""

from __future__ import annotations

import math
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _sim_helpers import FUZZ, check_mutated_page, crawl_pages, dispatch_pages
from _sim_helpers import mutate as _mutate
from dnmwatch.adapters.html import Document
from dnmwatch.adapters.shop import ShopAdapter
from dnmwatch.adapters.sim_shop import SimShopAdapter
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Page,
    Record,
    Rejection,
    VendorObservation,
)
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sim.server.engines.shop import RESTOCK_DAYS, STOCK_MARGIN
from dnmwatch.sim.server.index import opaque_id, slugify
from dnmwatch.sim.server.sites import ShopSpec, SiteServer

KEY = bytes(range(32))
PSEUD = Pseudonymizer(KEY)
SHOP = ShopSpec("gidra", "swiss_worldofficial", reviews=True)
"""A vendor that migrated to gidra on day 32 after silkway's takedown: it runs its own shop."""
DAYS = (35, 39)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


@dataclass
class Crawl:
    products: dict[str, ListingObservation] = field(default_factory=dict)
    cards: dict[str, ListingObservation] = field(default_factory=dict)
    reviews: dict[str, list[FeedbackObservation]] = field(default_factory=dict)
    vendors: list[VendorObservation] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)


def crawl(base: str, now: datetime, adapter: SimShopAdapter) -> Crawl:
    out = Crawl()
    for page in crawl_pages(base, now, adapter):
        ptype = adapter.page_type(page)
        for rec in adapter.parse(page):
            out.records.append(rec)
            if isinstance(rec, FeedbackObservation):
                out.reviews.setdefault(rec.listing_id or "", []).append(rec)
            elif isinstance(rec, VendorObservation):
                out.vendors.append(rec)
            elif isinstance(rec, ListingObservation):
                (out.products if ptype == "listing" else out.cards)[rec.listing_id] = rec
    return out


BUSY = ShopSpec("bazaar", "frostyshop69")
"""A vendor with a longer history (bazaar until its exit on day 32), whose products sell out."""


def _slug(spec: ShopSpec, title: str, lid: str) -> str:
    return f"{slugify(title)[:40].strip('-') or 'product'}-{opaque_id(spec.site, lid)[:8]}"


def truth(world: World, today: date, now: datetime,
          spec: ShopSpec = SHOP) -> dict[str, dict[str, Any]]:
    """The shop's products on ``today`` from the truth tables, keyed by product slug."""
    rows = [x for x in world.table("listings").to_pylist()
            if x["market"] == spec.market and x["vendor_handle"] == spec.vendor
            and x["start_day"] <= today and (x["end_day"] is None or today < x["end_day"])]
    out: dict[str, dict[str, Any]] = {}
    for x in rows:
        lid = x["listing_id"]
        prices = sorted((r["day"], r["price"]) for r in world.table("price_changes").to_pylist()
                        if r["market"] == spec.market and r["listing_id"] == lid
                        and r["day"] <= today)
        tiers = sorted((r["tier"], r["label"], r["multiplier"])
                       for r in world.table("listing_tiers").to_pylist()
                       if r["market"] == spec.market and r["listing_id"] == lid)
        sales = sorted(t["day"] for t in world.table("transactions").to_pylist()
                       if t["market"] == spec.market and t["listing_id"] == lid)
        start = x["start_day"]
        level = STOCK_MARGIN
        if sales:
            periods = (sales[-1] - start).days // RESTOCK_DAYS + 1
            level += math.ceil(len(sales) / periods)
        restock = (today - start).days // RESTOCK_DAYS * RESTOCK_DAYS
        sold = sum(1 for d in sales if restock <= (d - start).days and d <= today)
        feedback = sorted((f for f in world.table("feedback").to_pylist()
                           if f["market"] == spec.market and f["listing_id"] == lid
                           and f["posted_at"] <= now), key=lambda f: f["posted_at"],
                          reverse=True)
        out[_slug(spec, x["title"], lid)] = dict(
            x, price=prices[-1][1], tiers=tiers, stock=max(level - sold, 0),
            reviews=sorted(float(f["rating"]) for f in feedback[:10]))
    return out


def _price_ok(shown: float | None, true: float, currency: str) -> bool:
    tol = 0.5e-8 if currency == "BTC" else 0.005
    return shown is not None and math.isclose(shown, true, rel_tol=0, abs_tol=tol + 1e-12)


def accuracy(got: Crawl, want: dict[str, dict[str, Any]], world: World) -> dict[str, float]:
    vid = PSEUD.vendor_id(SHOP.vendor)
    scores: dict[str, list[bool]] = defaultdict(list)
    for slug, x in want.items():
        p, card = got.products.get(slug), got.cards.get(slug)
        scores["coverage"].append(p is not None and card is not None)
        if p is None or card is None:
            continue
        scores["title"].append(p.title == " ".join(x["title"].split()) == card.title)
        scores["price"].append(_price_ok(p.price, x["price"], x["currency"])
                               and _price_ok(card.price, x["price"], x["currency"]))
        scores["currency"].append(p.currency == x["currency"] == card.currency)
        scores["stock"].append(p.stock == x["stock"] == card.stock)
        scores["ships"].append((p.ships_from, p.ships_to) == (x["ships_from"], x["ships_to"]))
        scores["tiers"].append(
            [t.label for t in p.tiers] == [label for _, label, _ in x["tiers"]]
            and all(_price_ok(t.price, x["price"] * m, x["currency"])
                    for t, (_, _, m) in zip(p.tiers, x["tiers"], strict=True)))
        scores["vendor"].append(p.vendor_id == card.vendor_id == vid)
        scores["reviews"].append(
            sorted(f.rating or 0 for f in got.reviews.get(slug, [])) == x["reviews"])
    scores["precision"] = [slug in want for slug in got.products]
    account = next(v for v in world.table("vendors").to_pylist()
                   if v["market"] == SHOP.market and v["vendor_handle"] == SHOP.vendor)
    scores["key"] = [[(v.vendor_id, v.pgp_fingerprint, v.ships_from) for v in got.vendors]
                     == [(vid, account["pgp_fingerprint"], account["country"])]]
    return {k: sum(v) / len(v) for k, v in scores.items() if v}


FLOORS = {k: 1.0 for k in ("coverage", "title", "price", "currency", "stock", "ships", "tiers",
                           "vendor", "reviews", "precision", "key")}


@pytest.mark.parametrize("day", DAYS)
def test_golden_against_truth(world: World, day: int) -> None:
    with SiteServer(world, [SHOP], day=day) as sites:
        now = sites.clock.now
        adapter = SimShopAdapter(PSEUD, market=SHOP.site)
        got = crawl(sites.urls[SHOP.site], now, adapter)
    want = truth(world, now.date(), now)
    assert len(want) >= 3
    scores = accuracy(got, want, world)
    assert set(scores) == set(FLOORS)
    for name, floor in FLOORS.items():
        assert scores[name] >= floor, (name, scores[name])
    assert not [r for r in got.records if isinstance(r, Rejection)]
    assert {r.vendor_id for r in got.records if not isinstance(r, Rejection)} == \
        {PSEUD.vendor_id(SHOP.vendor)}


def test_stock_falls_with_sales_and_some_products_sell_out(world: World) -> None:
    """Across the shop's days, stock changes with sales and 'Sold out' is shown at zero."""
    stocks: dict[int, dict[str, int]] = {}
    join = next(v["join_day"] for v in world.table("vendors").to_pylist()
                if (v["market"], v["vendor_handle"]) == (BUSY.market, BUSY.vendor))
    first = (join - world.config.start).days
    with SiteServer(world, [BUSY], day=first) as sites:
        for day in range(first, 32):
            sites.clock.set_day(day)
            want = truth(world, sites.clock.now.date(), sites.clock.now, BUSY)
            stocks[day] = {k: v["stock"] for k, v in want.items()}
            got = crawl(sites.urls[BUSY.site], sites.clock.now, SimShopAdapter(PSEUD))
            assert {k: p.stock for k, p in got.products.items()} == stocks[day]
    flat = [s for day in stocks.values() for s in day.values()]
    assert 0 in flat and max(flat) > 0
    assert len({tuple(sorted(d.items())) for d in stocks.values()}) > 1


def _refused(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.URLError as exc:
        return isinstance(exc.reason, ConnectionRefusedError)
    return False


def test_shop_opens_with_the_account_and_follows_a_shared_clock(world: World) -> None:
    with SimServer(world, day=20) as sim, \
            SiteServer(world, [SHOP], clock=sim.clock) as sites:
        url = sites.urls[SHOP.site] + "/"
        assert _refused(url)  # the account joins gidra on day 32
        sim.clock.set_day(35)
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200
            assert SHOP.vendor.encode() in resp.read()
        states = urllib.request.urlopen(sites.control_url + "/markets", timeout=10).read()
        assert b'"engine": "shop"' in states and b'"state": "up"' in states


def test_vendor_from_configuration_beats_site_identity(world: World) -> None:
    with SiteServer(world, [SHOP], day=35) as sites:
        now = sites.clock.now
        got = crawl(sites.urls[SHOP.site], now, SimShopAdapter(PSEUD, shop="Configured Name"))
        by_site = crawl(sites.urls[SHOP.site], now, SimShopAdapter(PSEUD, market="x"))
    assert {r.vendor_id for r in got.records if not isinstance(r, Rejection)} == \
        {PSEUD.vendor_id("Configured Name")}
    assert {p.vendor_id for p in by_site.products.values()} == {PSEUD.vendor_id(SHOP.vendor)}


def test_shop_adapters_cannot_bypass_the_vendor_stamp() -> None:
    with pytest.raises(TypeError, match="read_"):
        class Bad(ShopAdapter):  # pragma: no cover - the class statement raises
            name = "bad-shop"

            def parse_listing(self, doc: Document) -> list[Record]:
                return []

    class Plain(ShopAdapter):
        name = "plain-shop"

        def read_product(self, doc: Document) -> list[Record]:
            return [ListingObservation(market=self.market, listing_id="1", title="x",
                                       vendor_id=None, price=1.0, currency="EUR")]

        def classify(self, doc: Document) -> Any:
            return "listing"

    page = Page(url="http://s.onion/p/1", captured_at=datetime(2020, 1, 1),
                body=b"<html><body>x</body></html>")
    records = list(Plain(PSEUD, market="shop-plain").parse(page))
    assert [r.vendor_id for r in records if isinstance(r, ListingObservation)] == \
        [PSEUD.vendor_id("shop-plain")]


# --- fuzz -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seeds(world: World) -> list[Page]:
    with SiteServer(world, [SHOP], day=36) as sites:
        engine, view = sites.engine(SHOP.site), sites.view(SHOP.site)
        listing = next(x for x in view.market.listings.values()
                       if view.listing(x.listing_id) and view.feedback(x))
        return dispatch_pages(
            sites, SHOP.site, ["/", "/shop", engine.listing_url(view, listing), "/pgp"])


def _huge_attr(body: bytes) -> bytes:
    return body.replace(b"<a ", b'<a data-x="' + b"x" * 1_000_000 + b'" ', 2)


def mutate(body: bytes, op: str, data: st.DataObject) -> bytes:
    return _mutate(body, op, data, rb"div|p|a|h1|dd|dl|li|ul|section|article|code|pre|span",
                   {"huge_attr": _huge_attr})


OPS = ["truncate", "splice", "cp1252", "utf-16", "huge_attr", "drop_closing", "random"]


def test_seed_pages_parse_cleanly(seeds: list[Page]) -> None:
    adapter = SimShopAdapter(PSEUD)
    assert [adapter.page_type(p) for p in seeds] == ["index", "index", "listing", "vendor"]
    assert not [r for p in seeds for r in adapter.parse(p) if isinstance(r, Rejection)]


@FUZZ
@given(data=st.data())
def test_mutated_shop_pages_never_raise(seeds: list[Page], data: st.DataObject) -> None:
    check_mutated_page(SimShopAdapter(PSEUD), seeds, data,
                       lambda body, op: mutate(body, op, data), OPS,
                       [200, 200, 200, 404, 429, 503])
