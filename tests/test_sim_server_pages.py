"""Pages of the three engines over real HTTP on loopback: content, escaping, pagination, clock.

Expected values are derived from the world's truth tables (not from the renderer), so a test
fails when a page shows something a crawler on that day could not have seen.
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urljoin

import pyarrow.compute as pc
import pytest

from dnmwatch.sim.model import World
from dnmwatch.sim.server import SimServer
from dnmwatch.sim.server.testworld import (
    CANNABIS_LISTINGS,
    HOSTILE_TITLE,
    LATE_LISTING_DAY,
    first_listing,
    handmade_world,
    hostile_listing,
    late_listing,
)
from dnmwatch.sim.server.text import pgp_block, relative

DAY = 15
ENGINES = {"silkway": "table", "bazaar": "cards", "gidra": "minimal"}


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8")


@pytest.fixture(scope="module")
def world() -> World:
    return handmade_world()


@pytest.fixture(scope="module")
def sim(world: World) -> Iterator[SimServer]:
    with SimServer(world, day=DAY) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_clock(sim: SimServer) -> None:
    sim.clock.set_day(DAY)


def url_of(sim: SimServer, market: str, kind: str, arg: str = "", page: int = 1) -> str:
    eng, view = sim.engine(market), sim.view(market)
    if kind == "home":
        path = "/"
    elif kind == "category":
        path = eng.category_url(view, arg, page)
    elif kind == "vendor":
        path = eng.vendor_url(view, arg)
    else:
        listing = view.market.listings[arg]
        path = (eng.listing_url(view, listing) if kind == "listing"
                else eng.feedback_url(view, listing, page))
    return urljoin(sim.urls[market], path)


def visible_feedback(world: World, market: str, listing: str, now: datetime) -> int:
    rows = world.table("feedback").select(["market", "listing_id", "posted_at"]).to_pylist()
    return sum(1 for r in rows if r["market"] == market and r["listing_id"] == listing
               and r["posted_at"] <= now)


def live_in_category(world: World, market: str, category: str, day: int) -> int:
    rows = world.table("listings").select(["market", "market_category", "start_day"]).to_pylist()
    today = world.config.day_date(day)
    return sum(1 for r in rows if r["market"] == market and r["market_category"] == category
               and r["start_day"] <= today)


@pytest.mark.parametrize("market", sorted(ENGINES))
def test_every_page_type_renders(sim: SimServer, world: World, market: str) -> None:
    lid = first_listing(market)
    status, home = get(url_of(sim, market, "home"))
    assert status == 200 and "Cannabis" in home and "Stimulants" in home
    status, index = get(url_of(sim, market, "category", "cannabis"))
    assert status == 200 and "Amnesia Haze 1g #0 top shelf" in index
    status, page = get(url_of(sim, market, "listing", lid))
    assert status == 200
    assert "Amnesia Haze 1g #0 top shelf" in page and "greenleaf" in page
    assert "NL" in page and "EU" in page and "5 g" in page and "1 g" in page
    # price as of the latest change on or before the day (1.2 x the start price on day 8+)
    currency = world.table("listings").filter(pc.equal(world.table("listings")["listing_id"],
                                                        lid))["currency"][0].as_py()
    assert currency in page
    assert ("12.00" in page) or ("0.00120000" in page)
    assert ("54.00" in page) or ("0.00540000" in page)  # tier 1 = 4.5 x the current price
    status, fb = get(url_of(sim, market, "feedback", lid))
    assert status == 200 and "great stuff" in fb
    status, vendor = get(url_of(sim, market, "vendor", "greenleaf"))
    assert status == 200
    assert "-----BEGIN PGP PUBLIC KEY BLOCK-----" in vendor
    fpr = world.table("vendors")["pgp_fingerprint"][0].as_py()
    assert fpr in vendor.replace(" ", "")
    assert re.search(r"\b\w+: \d+ sales", vendor), "claimed other markets with sales counts"


@pytest.mark.parametrize("market", sorted(ENGINES))
def test_latest_feedback_on_listing_page_is_newest_five(sim: SimServer, world: World,
                                                        market: str) -> None:
    now = sim.clock.now
    n = visible_feedback(world, market, first_listing(market), now)
    _, page = get(url_of(sim, market, "listing", first_listing(market)))
    shown = [int(x) for x in re.findall(r"great stuff #(\d+)", page)]
    assert shown == list(range(n - 1, n - 6, -1))


def test_feedback_shows_price_paid_on_table_engine(sim: SimServer) -> None:
    _, page = get(url_of(sim, "silkway", "feedback", first_listing("silkway")))
    paid = re.findall(r'<td class="paid">USD ([\d.]+) / ([\d.]+) BTC</td>', page)
    assert paid, "price paid in USD and BTC"
    _, cards = get(url_of(sim, "bazaar", "feedback", first_listing("bazaar")))
    assert "paid" not in cards


@pytest.mark.parametrize("market", sorted(ENGINES))
def test_hostile_titles_and_handles_are_escaped(sim: SimServer, market: str) -> None:
    _, page = get(url_of(sim, market, "listing", hostile_listing(market)))
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;Speed&#x27;" in page
    assert "\U0001f680" in page
    _, index = get(url_of(sim, market, "category", "stimulants"))
    assert "<script>" not in index and "h&amp;&lt;x&gt;&#x27;&quot;" in index
    status, vendor = get(url_of(sim, market, "vendor", "h&<x>'\""))
    assert status == 200 and "<x>" not in vendor
    assert HOSTILE_TITLE not in vendor and "&lt;b&gt;bold&lt;/b&gt;" in vendor


def _page_links(html: str, engine: str) -> list[str]:
    if engine == "cards":
        return re.findall(r'<a class="next" rel="next" href="([^"]+)"', html)
    block = re.search(r"(?:Pages:|Страницы / Pages:)(.*?)</(?:div|p)>", html, re.S)
    assert block is not None
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', block.group(1))]


@pytest.mark.parametrize("market", sorted(ENGINES))
def test_category_pagination_exact_page_count(sim: SimServer, world: World, market: str) -> None:
    per = sim.engine(market).listings_per_page
    n = live_in_category(world, market, "Cannabis", DAY)
    assert n == CANNABIS_LISTINGS
    expected_pages = -(-n // per)
    seen: list[str] = []
    url = url_of(sim, market, "category", "cannabis")
    visited = {url}
    queue = [url]
    while queue:
        current = queue.pop(0)
        status, html = get(current)
        assert status == 200
        seen += re.findall(r"Amnesia Haze \d+g #(\d+) top shelf", html)
        for link in _page_links(html, ENGINES[market]):
            absolute = urljoin(current, link)
            if absolute not in visited:
                visited.add(absolute)
                queue.append(absolute)
    assert len(visited) == expected_pages
    assert sorted(seen, key=int) == [str(i) for i in range(n)]
    status, _ = get(url_of(sim, market, "category", "cannabis", expected_pages + 1))
    assert status == 404


@pytest.mark.parametrize("market", sorted(ENGINES))
def test_following_feedback_pages_yields_each_visible_feedback_once(
        sim: SimServer, world: World, market: str) -> None:
    lid = first_listing(market)
    n = visible_feedback(world, market, lid, sim.clock.now)
    per = sim.engine(market).feedback_per_page
    ids: list[int] = []
    url: str | None = url_of(sim, market, "feedback", lid)
    pages = 0
    while url is not None:
        status, html = get(url)
        assert status == 200
        pages += 1
        ids += [int(x) for x in re.findall(r"great stuff #(\d+)", html)]
        nxt = [u for u in _page_links(html, ENGINES[market]) if
               urljoin(url, u) not in {url}]
        later = [urljoin(url, u) for u in nxt if _page_no(urljoin(url, u)) == pages + 1]
        url = later[0] if later else None
    assert pages == -(-n // per)
    assert sorted(ids) == list(range(n)) and len(ids) == len(set(ids))


def _page_no(url: str) -> int:
    match = re.search(r"(?:page=|p=|reviews/)(\d+)", url)
    return int(match.group(1)) if match else 1


@pytest.mark.parametrize("market", sorted(ENGINES))
def test_listing_starting_on_day_d_is_absent_before(sim: SimServer, market: str) -> None:
    lid = late_listing(market)
    sim.clock.set_day(LATE_LISTING_DAY - 1)
    url = url_of(sim, market, "listing", lid)
    assert get(url)[0] == 404
    assert "fishscale" not in get(url_of(sim, market, "category", "stimulants"))[1]
    sim.clock.set_day(LATE_LISTING_DAY)
    status, page = get(url)
    assert status == 200 and "fishscale" in page
    assert "fishscale" in get(url_of(sim, market, "category", "stimulants"))[1]


def test_feedback_after_now_is_invisible_and_relative_dates_move(sim: SimServer,
                                                                world: World) -> None:
    lid = first_listing("silkway")
    sim.clock.set_day(5)
    now = sim.clock.now
    n = visible_feedback(world, "silkway", lid, now)
    fb = world.table("feedback").filter(pc.equal(world.table("feedback")["listing_id"], lid))
    posted = sorted(fb["posted_at"].to_pylist())
    assert 0 < n < len(posted)
    _, html = get(url_of(sim, "silkway", "feedback", lid))
    shown = {int(x) for x in re.findall(r"great stuff #(\d+)", html)}
    assert max(shown) == n - 1
    newest = posted[n - 1]
    assert f"({relative(newest, now)})" in html
    sim.clock.set_day(12)
    _, later = get(url_of(sim, "silkway", "feedback", lid, page=1))
    assert relative(newest, sim.clock.now) in later
    assert relative(newest, sim.clock.now) != relative(newest, now)


def test_relative_dates_english_and_russian() -> None:
    now = datetime(2020, 1, 20, 12, tzinfo=UTC)
    ago = [now.replace(hour=12, minute=0, second=30), now.replace(hour=9),
           datetime(2020, 1, 19, 10, tzinfo=UTC), datetime(2020, 1, 17, 10, tzinfo=UTC),
           datetime(2020, 1, 5, 10, tzinfo=UTC), datetime(2019, 12, 15, tzinfo=UTC)]
    assert [relative(t, now) for t in ago] == [
        "just now", "3 hours ago", "yesterday", "3 days ago", "2 weeks ago", "1 month ago"]
    assert [relative(t, now, "ru") for t in ago] == [
        "только что", "3 часа назад", "вчера", "3 дня назад", "2 недели назад",
        "1 месяц назад"]
    assert relative(datetime(2020, 1, 9, tzinfo=UTC), now, "ru") == "11 дней назад"


def test_minimal_engine_is_bilingual_and_russian_dated(sim: SimServer) -> None:
    _, page = get(url_of(sim, "gidra", "listing", first_listing("gidra")))
    assert "Цена / Price" in page and "Отправка из / Ships from" in page
    assert "назад" in page or "вчера" in page


def test_pgp_block_is_deterministic_with_valid_armour() -> None:
    block = pgp_block("1FFD4BA3EB9FFADF4DB3C3FF4C1BBCF94A64CC59")
    assert block == pgp_block("1ffd4ba3eb9ffadf4db3c3ff4c1bbcf94a64cc59")
    lines = block.splitlines()
    assert lines[0] == "-----BEGIN PGP PUBLIC KEY BLOCK-----"
    assert lines[-1] == "-----END PGP PUBLIC KEY BLOCK-----"
    assert re.fullmatch(r"=[A-Za-z0-9+/]{4}", lines[-2])
    assert block != pgp_block("0" * 40)


def test_same_world_same_day_gives_byte_identical_pages(sim: SimServer, world: World) -> None:
    urls = [url_of(sim, m, k, a) for m in ENGINES for k, a in
            (("home", ""), ("category", "cannabis"), ("listing", first_listing(m)),
             ("feedback", first_listing(m)), ("vendor", "greenleaf"))]
    first = [get(u)[1] for u in urls]
    with SimServer(handmade_world(), day=DAY) as other:
        second = [get(u.replace(sim.urls[m], other.urls[m]))[1]
                  for m in ENGINES for u in urls if u.startswith(sim.urls[m])]
    assert first == second


def test_traffic_log_records_requests(sim: SimServer) -> None:
    url = url_of(sim, "silkway", "vendor", "greenleaf")
    get(url)
    last = sim.requests[-1]
    assert (last.market, last.method, last.status, last.page_type) == (
        "silkway", "GET", 200, "vendor")
    assert last.path == "/vendor/greenleaf" and last.session is not None


def test_generated_world_pages_agree_with_its_truth() -> None:
    from dnmwatch.sim.generate import generate_world
    from dnmwatch.sim.model import preset

    world = generate_world(preset("tiny"))
    day = 15
    today = world.config.day_date(day)
    tx = world.table("transactions").select(["market", "vendor_handle", "day"]).to_pylist()
    with SimServer(world, day=day) as sim:
        for market in sim.urls:
            assert get(sim.urls[market] + "/")[0] == 200
            view = sim.view(market)
            live = [x for x in view.market.listings.values() if view.listing(x.listing_id)]
            assert live
            for listing in live[:25]:
                status, page = get(urljoin(sim.urls[market],
                                           sim.engine(market).listing_url(view, listing)))
                assert status == 200 and html.escape(listing.title) in page
            vendors = sorted({x.vendor for x in view.market.listings.values()
                              if x.live(day) and view.vendor(x.vendor) is not None})
            for handle in vendors[:3]:
                status, page = get(urljoin(sim.urls[market],
                                           sim.engine(market).vendor_url(view, handle)))
                assert status == 200
                sold = sum(1 for r in tx if r["market"] == market
                           and r["vendor_handle"] == handle and r["day"] <= today)
                assert re.search(rf"(?:Sales|Продажи / Sales)\D{{0,40}}>{sold}<", page), handle
