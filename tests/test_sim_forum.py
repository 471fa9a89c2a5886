"""The forum: simulator site, ``sim-forum`` adapter, golden test against the truth, fuzz.

A forum whose vendor threads advertise the accounts of ``bazaar`` (``tiny`` world) is served on
loopback and crawled by ``adapter.links()`` alone. The board's truth (its offers, reviews and
keys) is first checked against the world's truth tables (titles, the day's prices, feedback
ratings and texts, fingerprints), then the extracted records are compared with it: every offer,
review and key found, nothing extra, vendors linked by handle pseudonym and PGP fingerprint,
reviews linked to the offer's listing id, buyer names nowhere.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _sim_helpers import FUZZ, check_mutated_page, crawl_pages, dispatch_pages
from _sim_helpers import mutate as _mutate
from dnmwatch.adapters.pgpsig import signature_fingerprint
from dnmwatch.adapters.sim_forum import SimForumAdapter
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Page,
    Record,
    Rejection,
    VendorObservation,
    record_to_dict,
)
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server.engines.forum import ForumEngine
from dnmwatch.sim.server.forum_board import Board, ForumSpec, pgp_signature
from dnmwatch.sim.server.sites import SiteServer

PSEUD = Pseudonymizer(bytes(range(32)))
FORUM = ForumSpec("bazaar", name="hub")


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


def crawl(base: str, now: datetime) -> tuple[list[Record], Counter[str]]:
    adapter = SimForumAdapter(PSEUD, market=FORUM.name)
    out: list[Record] = []
    types: Counter[str] = Counter()
    for page in crawl_pages(base, now, adapter):
        types[adapter.page_type(page)] += 1
        out.extend(adapter.parse(page))
    return out, types


def _minute(ts: int) -> datetime:
    return datetime.fromtimestamp(ts - ts % 60, tz=UTC)


def test_board_truth_agrees_with_the_world(world: World) -> None:
    with SiteServer(world, [FORUM], day=10) as sites:
        board = sites.boards[FORUM.name]
    start = world.config.start
    listings = {x["listing_id"]: x for x in world.table("listings").to_pylist()
                if x["market"] == FORUM.market}
    changes = sorted((r["day"], r["listing_id"], r["price"])
                     for r in world.table("price_changes").to_pylist()
                     if r["market"] == FORUM.market)
    for o in board.offers:
        day = datetime.fromtimestamp(o.posted_ts, tz=UTC).date()
        assert o.title == listings[o.listing_id]["title"]
        assert o.vendor == listings[o.listing_id]["vendor_handle"]
        assert o.price == [p for d, lid, p in changes if lid == o.listing_id and d <= day][-1]
        assert start <= day
    feedback = {f["feedback_id"]: f for f in world.table("feedback").to_pylist()}
    for r in board.reviews:
        f = feedback[r.feedback_id]
        assert (f["listing_id"], f["vendor_handle"], f["rating"]) == \
            (r.listing_id, r.vendor, r.rating)
        assert r.text == " ".join(f["text"].split())
        assert r.posted_ts > f["posted_at"].timestamp()
    fprs = {v["vendor_handle"]: v["pgp_fingerprint"] for v in world.table("vendors").to_pylist()
            if v["market"] == FORUM.market}
    assert all(k.fingerprint == fprs[k.vendor] for k in board.keys)
    assert {k.how for k in board.keys} == {"key", "signature"}
    assert len(board.threads) > ForumEngine.threads_per_page


def _expected(board: Board,
              now: datetime) -> tuple[Counter[Any], Counter[Any], set[tuple[str, str]]]:
    cut = now.timestamp()
    offers = Counter((_minute(o.posted_ts), " ".join(o.title.split()), PSEUD.vendor_id(o.vendor),
                      round(o.price, 8), o.currency)
                     for o in board.offers if o.posted_ts <= cut)
    reviews = Counter((PSEUD.vendor_id(r.vendor), float(r.rating), r.text,
                       f"{_minute(r.posted_ts):%Y-%m-%d %H:%M} UTC")
                      for r in board.reviews if r.posted_ts <= cut)
    keys = {(PSEUD.vendor_id(k.vendor) or "", k.fingerprint) for k in board.keys}
    return offers, reviews, keys


@pytest.mark.parametrize("day", [20, 39])
def test_golden_against_truth(world: World, day: int) -> None:
    with SiteServer(world, [FORUM], day=day) as sites:
        now = sites.clock.now
        board = sites.boards[FORUM.name]
        records, types = crawl(sites.urls[FORUM.name], now)
    want_offers, want_reviews, want_keys = _expected(board, now)
    listings = [r for r in records if isinstance(r, ListingObservation)]
    feedback = [r for r in records if isinstance(r, FeedbackObservation)]
    vendors = [r for r in records if isinstance(r, VendorObservation)]
    got_offers = Counter((r.provenance.captured_at if r.provenance else None, r.title,
                          r.vendor_id, round(r.price or 0, 8), r.currency) for r in listings)
    got_reviews = Counter((r.vendor_id, r.rating, r.text, r.posted) for r in feedback)
    shown = board.visible_threads(int(now.timestamp()))
    assert types["feedback"] >= len(shown) and types["index"] >= 1
    if day == 39:  # both the board and threads are paginated
        assert types["index"] >= 2 and types["feedback"] > len(shown)
    assert got_offers == want_offers and sum(want_offers.values()) >= 10
    assert got_reviews == want_reviews and sum(want_reviews.values()) >= 20
    got_keys = {(v.vendor_id, v.pgp_fingerprint or "") for v in vendors}
    assert got_keys <= want_keys and (day < 39 or got_keys == want_keys)
    assert not [r for r in records if isinstance(r, Rejection)]
    # One listing id per (thread, vendor, product); reviews link to the offers' ids.
    ids: dict[tuple[str | None, str], set[str]] = {}
    for r in listings:
        ids.setdefault((r.vendor_id, r.title), set()).add(r.listing_id)
    assert all(len(v) == 1 for v in ids.values())
    offered = {lid for v in ids.values() for lid in v}
    reviewed_titles = {(PSEUD.vendor_id(r.vendor), " ".join(r.title.split()))
                       for r in board.reviews if r.posted_ts <= now.timestamp()}
    linkable = [key for key in reviewed_titles if key in ids]
    assert linkable and {fb.listing_id for fb in feedback} & offered
    review_ids = {fb.listing_id for fb in feedback}
    assert all(next(iter(ids[key])) in review_ids for key in linkable)
    # Buyer names are dropped: none appears anywhere in the records.
    dumped = json.dumps([record_to_dict(r) for r in records], ensure_ascii=False)
    buyers = {r.buyer for r in board.reviews}
    assert buyers and not [b for b in buyers if b in dumped]


def test_signature_issuer_fingerprint_round_trip() -> None:
    fpr = "0123456789ABCDEF0123456789ABCDEF01234567"
    block = pgp_signature(fpr, 1_570_000_000)
    assert signature_fingerprint("text before\n" + block) == fpr
    assert signature_fingerprint(block.replace("-----END", "")) is None
    damaged = re.sub(r"\n[A-Za-z0-9+/]{20}", "\n!!!!", block, count=1)
    assert signature_fingerprint(damaged) is None
    assert signature_fingerprint(None) is None


# --- fuzz -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seeds(world: World) -> list[Page]:
    with SiteServer(world, [FORUM], day=39) as sites:
        engine = sites.engine(FORUM.name)
        board = sites.boards[FORUM.name]
        with_key = next(t for t in board.threads if any(
            k.how == "key" and k.post_id == t.posts[0].post_id for k in board.keys))
        assert isinstance(engine, ForumEngine)
        return dispatch_pages(
            sites, FORUM.name, ["/", "/board?page=2", engine.thread_url(with_key)])


def _long_line(body: bytes) -> bytes:
    return body.replace(b"\xe2\x80\xa2 ", b"\xe2\x80\xa2 " + b"9" * 200_000 + b" ", 1)


def mutate(body: bytes, op: str, data: st.DataObject) -> bytes:
    return _mutate(body, op, data, rb"div|pre|b|a|h1|span|td|tr|table", {"long_line": _long_line})


OPS = ["truncate", "splice", "cp1252", "utf-16", "long_line", "drop_closing", "random"]


def test_seed_pages_parse_cleanly(seeds: list[Page]) -> None:
    adapter = SimForumAdapter(PSEUD)
    assert [adapter.page_type(p) for p in seeds] == ["index", "index", "feedback"]
    records = [r for p in seeds for r in adapter.parse(p)]
    assert not [r for r in records if isinstance(r, Rejection)]
    assert any(isinstance(r, VendorObservation) for r in records)


@FUZZ
@given(data=st.data())
def test_mutated_forum_pages_never_raise(seeds: list[Page], data: st.DataObject) -> None:
    check_mutated_page(SimForumAdapter(PSEUD), seeds, data,
                       lambda body, op: mutate(body, op, data), OPS,
                       [200, 200, 200, 403, 404, 429])
