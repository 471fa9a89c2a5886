"""Hostile pages through ``MarketAdapter.parse`` of each simulator adapter and one real one
(Empire): a page just over the body cap, a 50 MB page (both made at test time, never
committed) and a listing buried under thousands of nested ``<div>``.

Expectations: nothing escapes, an oversized page is one counted ``too_large`` rejection
without being parsed (so it costs no time), and a deeply nested page still gives the records
of the page inside it. Time is not asserted; the tests only have to finish under the pytest
timeout.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import ListingObservation, Page, Rejection
from test_adapters_fuzz import _seed_pages

PSEUD = Pseudonymizer(b"\x0d" * 32)
ADAPTERS = {"sim-table": "silkway", "sim-cards": "bazaar", "sim-minimal": "gidra",
            "empire": None}
EMPIRE_LISTING = Path(__file__).parent / "fixtures" / "adapters" / "empire" / "listing.html"
NESTING = 3_000
"""Deep, yet within the adapters' nesting bound (4,096): such a page must still parse. Deeper
pages are refused before parsing, because the HTML parser is quadratic in depth (100,000 nested
<div> take about 80 s)."""


@pytest.fixture(scope="module")
def listings() -> dict[str, Page]:
    """A listing page of each adapter's design: rendered by the simulator, or Empire's
    synthetic fixture."""
    seeds = _seed_pages()
    out = {name: seeds[market][2] for name, market in ADAPTERS.items() if market}
    out["empire"] = Page(url="http://empire.test/product/1", body=EMPIRE_LISTING.read_bytes(),
                         captured_at=datetime(2019, 11, 1, tzinfo=UTC))
    return out


def _adapter(name: str) -> MarketAdapter:
    return load_registry(plugins=False).create(name, PSEUD)


def _with_body(page: Page, body: bytes) -> Page:
    return Page(url=page.url, captured_at=page.captured_at, body=body, status=page.status,
                content_type=page.content_type)


@pytest.mark.parametrize("name", list(ADAPTERS))
@pytest.mark.parametrize("size", ["over_cap", "50MB"])
def test_an_oversized_page_is_one_counted_too_large(listings: dict[str, Page], name: str,
                                                    size: str) -> None:
    adapter = _adapter(name)
    seed = listings[name]
    target = adapter.max_body_bytes + 1 if size == "over_cap" else 50 * 1024 * 1024
    filler = b"<div><p>x</p></div>" * (max(0, target - len(seed.body)) // 19 + 1)
    page = _with_body(seed, seed.body + filler)
    assert len(page.body) > adapter.max_body_bytes
    assert adapter.page_type(page) == "unknown"
    records = list(adapter.parse(page))
    assert len(records) == 1 and isinstance(records[0], Rejection)
    assert records[0].reason == "too_large"
    assert adapter.counters["rejected:too_large"] == 1
    assert adapter.links(page) == []


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_a_deeply_nested_listing_still_parses(listings: dict[str, Page], name: str) -> None:
    seed = listings[name]
    plain = [r for r in _adapter(name).parse(seed) if isinstance(r, ListingObservation)]
    assert plain, "the seed page is a listing"
    adapter = _adapter(name)
    page = _with_body(seed, b"<div>" * NESTING + seed.body + b"</div>" * NESTING)
    assert adapter.page_type(page) == "listing"
    records = list(adapter.parse(page))
    assert not [r for r in records if isinstance(r, Rejection)]
    nested = [r for r in records if isinstance(r, ListingObservation)]
    assert [(r.listing_id, r.title, r.price) for r in nested] == \
        [(r.listing_id, r.title, r.price) for r in plain]


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_unclosed_nesting_and_a_huge_attribute_do_not_escape(listings: dict[str, Page],
                                                             name: str) -> None:
    adapter = _adapter(name)
    seed = listings[name]
    for body in (seed.body + b"<span>" * 200_000,
                 seed.body.replace(b"<a ", b'<a data-x="' + b"A" * 4_000_000 + b'" ', 1),
                 b"<" * 1_000_000, b"\x00" * 1_000_000):
        page = _with_body(seed, body)
        records = list(adapter.parse(page))
        assert records and all(not isinstance(r, Rejection) or r.reason != "parser_error"
                               for r in records)
        assert isinstance(adapter.links(page), list)


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_a_hundred_thousand_nested_divs_are_refused_before_parsing(
    listings: dict[str, Page], name: str
) -> None:
    adapter = _adapter(name)
    seed = listings[name]
    page = _with_body(seed, b"<div>" * 100_000 + seed.body + b"</div>" * 100_000)
    records = list(adapter.parse(page))
    assert [r.reason for r in records if isinstance(r, Rejection)] == ["too_deep"]
    assert adapter.counters["rejected:too_deep"] == 1
