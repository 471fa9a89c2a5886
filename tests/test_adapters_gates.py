"""Gate pages from the real simulator servers are typed, never parsed as content.

Each gate is switched on in a :class:`GatePlan` and met the way a crawler meets it over
loopback (redirects followed, error statuses read), so the adapters are checked against what the
server really sends, not against hand-written copies.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.sim_cards import SimCardsAdapter
from dnmwatch.adapters.sim_minimal import SimMinimalAdapter
from dnmwatch.adapters.sim_table import SimTableAdapter
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Page, Rejection
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server import GatePlan, ServerOptions, SimServer

ADAPTERS: dict[str, type[MarketAdapter]] = {
    "silkway": SimTableAdapter, "bazaar": SimCardsAdapter, "gidra": SimMinimalAdapter}
PLANS = {
    "gate:login": GatePlan(login=True),
    "gate:queue": GatePlan(queue=True),
    "gate:captcha": GatePlan(captcha_every=1),
    "gate:rate_limit": GatePlan(rate_limit=1),
}


def _fetch(url: str) -> Page:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    status, body = 0, b""
    for _ in range(2):  # the second request meets per-session gates (CAPTCHA, rate limit)
        try:
            with opener.open(url, timeout=10) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, body = err.code, err.read()
    return Page(url=url, captured_at=datetime(2019, 9, 16, tzinfo=UTC), body=body,
                status=status)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


@pytest.fixture(scope="module", params=list(PLANS))
def gated(request: pytest.FixtureRequest, world: World) -> Iterator[tuple[str, dict[str, Page]]]:
    kind: str = request.param
    with SimServer(world, day=15, options=ServerOptions(gates=PLANS[kind])) as sim:
        yield kind, {m: _fetch(sim.urls[m] + "/") for m in ADAPTERS}


def test_gate_pages_are_typed_and_counted(gated: tuple[str, dict[str, Page]]) -> None:
    kind, pages = gated
    for market, page in pages.items():
        adapter = ADAPTERS[market](Pseudonymizer(bytes(32)), market=market)
        assert adapter.page_type(page) == kind, market
        records = list(adapter.parse(page))
        assert [type(r) for r in records] == [Rejection]
        assert isinstance(records[0], Rejection) and records[0].reason == kind
        assert adapter.counters[f"rejected:{kind}"] == 1
        assert adapter.links(page) == []


def test_seized_market_banner(world: World) -> None:
    with SimServer(world, day=30) as sim:  # silkway is taken down on day 22 of the tiny world
        page = _fetch(sim.urls["silkway"] + "/listing/1")
    adapter = SimTableAdapter(Pseudonymizer(bytes(32)))
    assert adapter.page_type(page) == "gate:seized"


def test_not_found_and_server_errors_are_error_pages(world: World) -> None:
    with SimServer(world, day=15) as sim:
        for market, cls in ADAPTERS.items():
            page = _fetch(sim.urls[market] + "/no/such/page?r=nothing")
            adapter = cls(Pseudonymizer(bytes(32)))
            assert page.status == 404
            assert adapter.page_type(page) == "error"
            assert [r.reason for r in adapter.parse(page) if isinstance(r, Rejection)] == [
                "error_page"]
