"""Golden test of the three simulator adapters against the simulator's truth.

The ``tiny`` world is served on loopback at one day; each market is crawled from its front page
by following nothing but ``adapter.links()`` (so the links contract is tested too), every page
is parsed, and the records are compared, field by field, with the truth tables of the world
(not with the renderer). Per-field accuracy floors are pinned: the simulator is our yardstick,
so the floor is 100% on it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest

from _sim_helpers import crawl_pages
from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.sim_cards import SimCardsAdapter
from dnmwatch.adapters.sim_minimal import SimMinimalAdapter
from dnmwatch.adapters.sim_table import SimTableAdapter
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Rejection,
    VendorObservation,
)
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sim.server.index import opaque_id

DAY = 15
KEY = bytes(range(32))
ADAPTERS: dict[str, type[MarketAdapter]] = {
    "silkway": SimTableAdapter, "bazaar": SimCardsAdapter, "gidra": SimMinimalAdapter}
BTC_DECIMALS = {"silkway": 8, "bazaar": 6, "gidra": 8}
"""How many decimals of a BTC price each design shows (fiat: 2)."""

FLOORS: dict[str, float] = {
    "listing.title": 1.0, "listing.vendor_id": 1.0, "listing.price": 1.0,
    "listing.currency": 1.0, "listing.ships_from": 1.0, "listing.ships_to": 1.0,
    "listing.tiers": 1.0, "index.title": 1.0, "index.price": 1.0, "index.category": 1.0,
    "vendor.pgp_fingerprint": 1.0, "vendor.ships_from": 1.0, "vendor.sales": 1.0,
    "vendor.other_markets": 1.0, "feedback.count": 1.0, "feedback.ratings": 1.0,
    "feedback.texts": 1.0, "feedback.items": 1.0, "coverage.listings": 1.0,
    "coverage.vendors": 1.0,
}
"""Pinned per-field accuracy floors (share of truth items matched exactly)."""


@dataclass
class Crawl:
    market: str
    now: datetime
    page_types: Counter[str] = field(default_factory=Counter)
    index: list[ListingObservation] = field(default_factory=list)
    listings: dict[str, ListingObservation] = field(default_factory=dict)
    vendors: dict[str, VendorObservation] = field(default_factory=dict)
    feedback: list[FeedbackObservation] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    adapter: MarketAdapter | None = None


def _crawl(base: str, market: str, now: datetime) -> Crawl:
    adapter = ADAPTERS[market](Pseudonymizer(KEY), market=market)
    out = Crawl(market, now, adapter=adapter)
    for page in crawl_pages(base, now, adapter):
        ptype = adapter.page_type(page)
        out.page_types[ptype] += 1
        for rec in adapter.parse(page):
            if isinstance(rec, Rejection):
                out.rejections.append(rec)
            elif isinstance(rec, FeedbackObservation):
                out.feedback.append(rec)
            elif isinstance(rec, VendorObservation):
                out.vendors[rec.vendor_id] = rec
            elif ptype == "listing":
                out.listings[rec.listing_id] = rec
            else:
                out.index.append(rec)
    return out


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


@pytest.fixture(scope="module")
def crawls(world: World) -> Iterator[dict[str, Crawl]]:
    with SimServer(world, day=DAY) as sim:
        now = sim.clock.now
        yield {m: _crawl(sim.urls[m], m, now) for m in ADAPTERS}


def _rows(world: World, table: str) -> list[dict[str, Any]]:
    return list(world.table(table).to_pylist())


def _active(start: date, end: date | None, today: date) -> bool:
    return start <= today and (end is None or today < end)


@dataclass
class Truth:
    listings: dict[str, dict[str, Any]]
    vendors: dict[str, dict[str, Any]]
    feedback: dict[str, list[dict[str, Any]]]


def _truth(world: World, market: str, now: datetime) -> Truth:
    today = now.date()
    pseud = Pseudonymizer(KEY)
    vendors = {v["vendor_handle"]: v for v in _rows(world, "vendors")
               if v["market"] == market and _active(v["join_day"], v["leave_day"], today)}
    key = (lambda lid: opaque_id(market, lid)) if market == "bazaar" else (lambda lid: lid)
    listings = {}
    for x in _rows(world, "listings"):
        if x["market"] == market and x["vendor_handle"] in vendors and \
                _active(x["start_day"], x["end_day"], today):
            listings[x["listing_id"]] = dict(x, key=key(x["listing_id"]),
                                             vendor_id=pseud.vendor_id(x["vendor_handle"]))
    changes = sorted((r for r in _rows(world, "price_changes") if r["listing_id"] in listings
                      and r["market"] == market and r["day"] <= today), key=lambda r: r["day"])
    for r in changes:
        listings[r["listing_id"]]["price"] = r["price"]
    for r in _rows(world, "listing_tiers"):
        if r["market"] == market and r["listing_id"] in listings:
            listings[r["listing_id"]].setdefault("tiers", []).append((r["tier"], r["label"]))
    sales: Counter[str] = Counter()
    for t in _rows(world, "transactions"):
        if t["market"] == market and t["day"] <= today:
            sales[t["vendor_handle"]] += 1
    accounts: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for v in _rows(world, "vendors"):
        accounts[v["actor_id"]].append((v["market"], v["join_day"]))
    linked = {x["vendor_handle"] for x in listings.values()}
    by_id = {}
    for handle, v in vendors.items():
        if handle in linked:
            others = sorted(m.capitalize() for m, join in accounts[v["actor_id"]]
                            if m != market and join <= today)
            by_id[pseud.vendor_id(handle)] = dict(v, sales=sales[handle], others=others)
    labels = {(r["listing_id"], r["tier"]): r["label"] for r in _rows(world, "listing_tiers")
              if r["market"] == market}
    bought = {t["tx_id"]: labels.get((t["listing_id"], t["tier"]))
              for t in _rows(world, "transactions") if t["market"] == market}
    feedback: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in _rows(world, "feedback"):
        if f["market"] == market and f["listing_id"] in listings and f["posted_at"] <= now:
            feedback[listings[f["listing_id"]]["key"]].append(dict(f, item=bought[f["tx_id"]]))
    return Truth({x["key"]: x for x in listings.values()}, by_id, feedback)


def _price_ok(market: str, shown: float | None, true: float, currency: str) -> bool:
    decimals = BTC_DECIMALS[market] if currency == "BTC" else 2
    return shown is not None and math.isclose(shown, true, rel_tol=0,
                                              abs_tol=0.5 * 10 ** -decimals + 1e-12)


def _accuracy(crawl: Crawl, truth: Truth) -> dict[str, float]:
    scores: dict[str, list[bool]] = defaultdict(list)
    m = crawl.market
    for key, x in truth.listings.items():
        got = crawl.listings.get(key)
        scores["coverage.listings"].append(got is not None)
        if got is None:
            continue
        scores["listing.title"].append(got.title == x["title"])
        scores["listing.vendor_id"].append(got.vendor_id == x["vendor_id"])
        scores["listing.price"].append(_price_ok(m, got.price, x["price"], x["currency"]))
        scores["listing.currency"].append(got.currency == x["currency"])
        scores["listing.ships_from"].append(got.ships_from == x["ships_from"])
        scores["listing.ships_to"].append(got.ships_to == x["ships_to"])
        labels = [label for _, label in sorted(x.get("tiers", []))]
        scores["listing.tiers"].append([t.label for t in got.tiers] == labels)
        fb = truth.feedback.get(key, [])
        mine = [f for f in crawl.feedback if f.listing_id == key]
        scores["feedback.count"].append(len(mine) == len(fb))
        scores["feedback.ratings"].append(
            sorted(f.rating or 0 for f in mine) == sorted(float(f["rating"]) for f in fb))
        scores["feedback.texts"].append(
            sorted(f.text for f in mine) == sorted(" ".join(f["text"].split()) for f in fb))
        scores["feedback.items"].append(
            sorted((f.text, f.item or "") for f in mine)
            == sorted((" ".join(f["text"].split()), f["item"] or "") for f in fb))
    for row in crawl.index:
        shown = truth.listings.get(row.listing_id)
        if shown is None:
            scores["index.title"].append(False)
            continue
        scores["index.title"].append(row.title == shown["title"])
        scores["index.price"].append(_price_ok(m, row.price, shown["price"], shown["currency"]))
        scores["index.category"].append(row.category == shown["market_category"])
    for vid, v in truth.vendors.items():
        got_v = crawl.vendors.get(vid)
        scores["coverage.vendors"].append(got_v is not None)
        if got_v is None:
            continue
        scores["vendor.pgp_fingerprint"].append(got_v.pgp_fingerprint == v["pgp_fingerprint"])
        scores["vendor.ships_from"].append(got_v.ships_from == v["country"])
        scores["vendor.sales"].append(got_v.sales == v["sales"])
        scores["vendor.other_markets"].append(sorted(got_v.other_markets) == v["others"])
    return {name: sum(vals) / len(vals) for name, vals in scores.items() if vals}


@pytest.mark.parametrize("market", list(ADAPTERS))
def test_field_accuracy_meets_pinned_floors(world: World, crawls: dict[str, Crawl],
                                            market: str) -> None:
    crawl = crawls[market]
    truth = _truth(world, market, crawl.now)
    assert len(truth.listings) >= 10 and len(truth.vendors) >= 3
    scores = _accuracy(crawl, truth)
    assert set(scores) == set(FLOORS)
    below = {name: round(score, 4) for name, score in scores.items() if score < FLOORS[name]}
    assert not below, f"{market}: fields below their floor: {below}"


@pytest.mark.parametrize("market", list(ADAPTERS))
def test_crawl_sees_every_content_type_and_no_rejection(crawls: dict[str, Crawl],
                                                         market: str) -> None:
    crawl = crawls[market]
    assert {"index", "listing", "feedback", "vendor"} <= set(crawl.page_types)
    assert set(crawl.page_types) <= {"index", "listing", "feedback", "vendor"}
    assert crawl.rejections == []
    assert crawl.adapter is not None
    counts = crawl.adapter.counters
    assert counts["records:feedback"] == len(crawl.feedback)
    assert counts["pages"] == sum(crawl.page_types.values())


def test_feedback_keeps_capture_time_and_date_as_shown(crawls: dict[str, Crawl]) -> None:
    for market, crawl in crawls.items():
        assert all(f.captured_at == crawl.now for f in crawl.feedback)
        assert all(f.posted for f in crawl.feedback), market
    assert any("назад" in f.posted or f.posted == "вчера" for f in crawls["gidra"].feedback)
    assert any(f.posted.endswith("ago)") for f in crawls["silkway"].feedback)


def test_table_feedback_shows_price_paid(world: World, crawls: dict[str, Crawl]) -> None:
    paid = [f for f in crawls["silkway"].feedback if f.price is not None]
    assert paid and all(f.currency == "USD" for f in paid)
    assert all(f.price is None for f in crawls["bazaar"].feedback)


def test_vendor_ids_are_pseudonyms_never_handles(world: World,
                                                 crawls: dict[str, Crawl]) -> None:
    handles = {v["vendor_handle"].casefold() for v in _rows(world, "vendors")}
    for crawl in crawls.values():
        ids = {r.vendor_id for r in [*crawl.index, *crawl.listings.values()]}
        ids |= set(crawl.vendors)
        assert ids and all(i is not None and i.startswith("v_") for i in ids)
        assert not {str(i).casefold() for i in ids} & handles


def test_feedback_names_the_option_bought(crawls: dict[str, Crawl]) -> None:
    for market, crawl in crawls.items():
        items = [f.item for f in crawl.feedback]
        assert items and all(items), market
        assert any(i != items[0] for i in items), market
