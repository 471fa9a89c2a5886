"""Hypothesis fuzzing of every simulator adapter: hostile pages never make an exception escape.

Seeds are real pages of the three designs (rendered by the simulator at one day); Hypothesis
truncates them, splices random bytes in, re-encodes them as latin-1/cp1252/UTF-16, blows up an
attribute to a megabyte, strips closing tags, changes the HTTP status, or replaces them by random
bytes. Whatever comes in: ``page_type`` returns a known type, ``parse`` yields only records, ids
are pseudonyms, ``links`` stay on the host, and a page nobody recognises is one counted rejection.
Runs are derandomised (same examples every run) and keep no example database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import get_args
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnmwatch.adapters.base import CONTENT_TYPES, MarketAdapter
from dnmwatch.adapters.sim_cards import SimCardsAdapter
from dnmwatch.adapters.sim_minimal import SimMinimalAdapter
from dnmwatch.adapters.sim_table import SimTableAdapter
from dnmwatch.pseudonym import PSEUDONYM, Pseudonymizer
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Page,
    PageType,
    Rejection,
    VendorObservation,
)
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sim.server import SimServer

ADAPTERS: dict[str, type[MarketAdapter]] = {
    "silkway": SimTableAdapter, "bazaar": SimCardsAdapter, "gidra": SimMinimalAdapter}
PAGE_TYPES = set(get_args(PageType))
RECORD_TYPES = (ListingObservation, VendorObservation, FeedbackObservation, Rejection)
PSEUD = Pseudonymizer(b"\x07" * 32)
NOW = datetime(2019, 9, 16, 12, tzinfo=UTC)
FUZZ = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _seed_pages() -> dict[str, list[Page]]:
    """Home, category, listing, feedback and vendor pages of each market (rendered, no HTTP)."""
    world = generate_world(preset("tiny"))
    out: dict[str, list[Page]] = {}
    with SimServer(world, day=15) as sim:
        for market in ADAPTERS:
            engine, view = sim.engine(market), sim.view(market)
            listing = next(x for x in view.market.listings.values()
                           if x.live(view.day) and view.feedback(x))
            cat = next(c.slug for c in view.market.categories
                       if view.market.live_listings(c.slug, view.day))
            paths = ["/", engine.category_url(view, cat), engine.listing_url(view, listing),
                     engine.feedback_url(view, listing), engine.vendor_url(view, listing.vendor)]
            pages = []
            for path in paths:
                parts = urlsplit(path)
                query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
                html = engine.dispatch(parts.path or "/", query, view).html
                pages.append(Page(url=sim.urls[market] + path, captured_at=sim.clock.now,
                                  body=html.encode("utf-8")))
            out[market] = pages
    return out


@pytest.fixture(scope="module")
def seeds() -> dict[str, list[Page]]:
    return _seed_pages()


def _mutate(body: bytes, op: str, data: st.DataObject) -> bytes:
    if op == "truncate":
        return body[:data.draw(st.integers(0, len(body)))]
    if op == "splice":
        at = data.draw(st.integers(0, len(body)))
        return body[:at] + data.draw(st.binary(max_size=64)) + body[at:]
    if op in ("cp1252", "latin-1", "utf-16"):
        return body.decode("utf-8").encode(op, "replace")
    if op == "huge_attr":
        size = data.draw(st.sampled_from([10_000, 1_000_000]))
        return body.replace(b"<a ", b'<a data-x="' + b"\xe2\x82\xac" * (size // 3) + b'" ', 3)
    if op == "drop_closing":
        return re.sub(rb"</(td|tr|div|p|dd|dl|table|a|h1|h2|h3|span)>", b"", body)
    if op == "nest":
        return b"<div>" * 5000 + body
    return data.draw(st.binary(min_size=0, max_size=4096))


OPS = ["truncate", "splice", "cp1252", "latin-1", "utf-16", "huge_attr", "drop_closing", "nest",
       "random"]


def _check_contract(adapter: MarketAdapter, page: Page) -> None:
    ptype = adapter.page_type(page)
    assert ptype in PAGE_TYPES
    records = list(adapter.parse(page))
    assert all(isinstance(r, RECORD_TYPES) for r in records)
    # The safety net exists, but these adapters should not even need it on damaged pages.
    assert not [r for r in records if isinstance(r, Rejection) and r.reason == "parser_error"]
    for rec in records:
        if not isinstance(rec, Rejection) and rec.vendor_id is not None:
            assert PSEUDONYM.match(rec.vendor_id)
    if ptype not in CONTENT_TYPES:
        assert len(records) == 1 and isinstance(records[0], Rejection)
        assert adapter.counters[f"rejected:{records[0].reason}"] >= 1
    origin = urlsplit(page.url).netloc
    assert all(urlsplit(u).netloc == origin for u in adapter.links(page))


@pytest.mark.parametrize("market", list(ADAPTERS))
@FUZZ
@given(data=st.data())
def test_mutated_pages_never_raise(seeds: dict[str, list[Page]], market: str,
                                   data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(seeds[market]))
    op = data.draw(st.sampled_from(OPS))
    status = data.draw(st.sampled_from([200, 200, 200, 403, 404, 429, 503]))
    page = Page(url=seed.url, captured_at=seed.captured_at, body=_mutate(seed.body, op, data),
                status=status, content_type=data.draw(st.sampled_from(
                    ["text/html", "text/html; charset=windows-1251", "text/html; charset=bogus"])))
    _check_contract(ADAPTERS[market](PSEUD, market=market), page)


@pytest.mark.parametrize("market", list(ADAPTERS))
@FUZZ
@given(body=st.binary(max_size=8192))
def test_random_bytes_are_a_counted_rejection(market: str, body: bytes) -> None:
    adapter = ADAPTERS[market](PSEUD, market=market)
    page = Page(url="http://127.0.0.1:9/x", captured_at=NOW,
                body=body)
    ptype = adapter.page_type(page)
    records = list(adapter.parse(page))
    assert ptype not in CONTENT_TYPES
    assert len(records) == 1 and isinstance(records[0], Rejection)
    assert adapter.counters[f"rejected:{records[0].reason}"] == 1


def test_unmutated_seeds_parse_without_rejections(seeds: dict[str, list[Page]]) -> None:
    for market, pages in seeds.items():
        adapter = ADAPTERS[market](PSEUD, market=market)
        kinds = [adapter.page_type(p) for p in pages]
        assert kinds == ["index", "index", "listing", "feedback", "vendor"], market
        assert not [r for p in pages for r in adapter.parse(p) if isinstance(r, Rejection)]
