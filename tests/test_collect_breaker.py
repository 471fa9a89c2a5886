"""The circuit breaker, unreachable and seized markets, WARC rotation by setting, and the
store's ``markets`` and ``crawls`` rows written after a crawl."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from dnmwatch.collect import Crawler, CrawlResult, ExitCode, record_result, verify
from dnmwatch.settings import Settings
from dnmwatch.sim.server import SimServer
from dnmwatch.sim.server.testworld import handmade_world
from dnmwatch.store import Store
from test_collect_support import GenericLinks, sim_settings, walk

EXITED_DAY = 33  # bazaar's exit scam is on day 30: from then on connections are refused


def crawl(settings: Settings, market: str, **kw: object) -> CrawlResult:
    crawler = Crawler(settings, market, GenericLinks(), data_dir=settings.data_dir, **kw)  # type: ignore[arg-type]
    return asyncio.run(crawler.run())


def test_breaker_stops_a_dead_market_and_resume_continues(tmp_path: Path) -> None:
    with SimServer(handmade_world(), day=EXITED_DAY) as sim:
        settings = sim_settings(tmp_path, "bazaar", sim.urls["bazaar"], breaker_failures=3)
        stopped = crawl(settings, "bazaar")
        assert stopped.status == "failed" and stopped.reason == "breaker"
        assert stopped.exit_code == ExitCode.FAILED
        assert "3 fetch failures in a row" in stopped.message and "--resume" in stopped.message
        assert stopped.counters["error:connection"] == 3
        assert stopped.counters["stopped:breaker"] == 1
        assert stopped.queued == 1 and stopped.pages_ok == 0  # the seed waits for --resume
        sim.clock.set_day(15)
        expected = walk(sim.urls["bazaar"])
        resumed = crawl(settings, "bazaar", crawl_id=stopped.crawl_id)
    assert resumed.status == "finished", resumed.message
    assert resumed.pages_ok == len(expected) and resumed.reason is None


def test_captured_page_resets_the_breaker(tmp_path: Path) -> None:
    with SimServer(handmade_world(), day=15) as sim:
        expected = walk(sim.urls["bazaar"])
        # Four failures in all, but a captured page comes between: never three in a row.
        item = min(p for p in expected if p.startswith("/item/"))
        for pattern in ("^/$", f"^{re.escape(item)}$"):
            sim.force_fault(pattern, "5xx", market="bazaar", times=2)
        settings = sim_settings(tmp_path, "bazaar", sim.urls["bazaar"], breaker_failures=3)
        result = crawl(settings, "bazaar")
    assert result.status == "finished", result.message
    assert result.counters["http:503"] >= 4 and "stopped:breaker" not in result.counters
    assert result.pages_ok == len(expected)


def test_unreachable_market_is_a_failed_crawl(tmp_path: Path) -> None:
    with SimServer(handmade_world(), day=EXITED_DAY) as sim:
        settings = sim_settings(tmp_path, "bazaar", sim.urls["bazaar"], attempts=2)
        result = crawl(settings, "bazaar")
    assert result.status == "failed" and result.reason == "unreachable"
    assert "market unreachable" in result.message and "connection" in result.message
    assert (result.pages_ok, result.pages_failed, result.queued) == (0, 1, 0)
    assert result.counters["stopped:unreachable"] == 1
    assert result.warc_files == []  # nothing answered, nothing archived


def test_warc_rotation_size_comes_from_the_settings(tmp_path: Path) -> None:
    with SimServer(handmade_world(), day=15) as sim:
        settings = sim_settings(tmp_path, "gidra", sim.urls["gidra"], warc_max_bytes=64 * 1024)
        crawler = Crawler(settings, "gidra", GenericLinks(), data_dir=settings.data_dir)
        assert crawler.warc_max_bytes == 64 * 1024
        result = asyncio.run(crawler.run())
    assert result.status == "finished", result.message
    assert len(result.warc_files) >= 2
    for path in result.warc_files:
        assert verify(path).ok, path
    assert all(p.stat().st_size < 2 * 64 * 1024 for p in result.warc_files[:-1])
    default = sim_settings(tmp_path / "d", "gidra", "http://127.0.0.1:1")
    assert Crawler(default, "gidra", GenericLinks(),
                   data_dir=tmp_path).warc_max_bytes == 256 * 1024 * 1024


def test_markets_row_follows_the_crawls_that_found_the_market_up(tmp_path: Path) -> None:
    with SimServer(handmade_world(), day=15) as sim:
        settings = sim_settings(tmp_path, "bazaar", sim.urls["bazaar"], attempts=1)
        up = crawl(settings, "bazaar")
        sim.clock.set_day(EXITED_DAY)
        down = crawl(settings, "bazaar")
    assert up.status == "finished" and down.status == "failed"
    with Store.open(settings.data_dir) as store:
        record_result(store, up, "generic")
        record_result(store, down, "generic")
        markets = store.fetchall("SELECT market, adapter, first_seen, last_seen FROM markets")
        crawls = store.fetchall("SELECT crawl_id, status, pages_ok, counters FROM crawls "
                                "ORDER BY started_at")
        # A market never seen up still gets its row, with no first/last seen.
        never = CrawlResult("never-x", "ghost", "failed", down.started_at, down.finished_at,
                            0, 1, 0, {}, "down", reason="unreachable")
        record_result(store, never, "generic")
        ghost = store.fetchall("SELECT adapter, first_seen, last_seen FROM markets "
                               "WHERE market = 'ghost'")
    assert len(markets) == 1
    market, adapter, first, last = markets[0]
    assert (market, adapter) == ("bazaar", "generic")
    assert first == up.started_at.replace(tzinfo=None)
    assert last == up.finished_at.replace(tzinfo=None)  # the failed crawl does not move it
    assert [(c[0], c[1]) for c in crawls] == [(up.crawl_id, "finished"),
                                              (down.crawl_id, "failed")]
    assert "stopped:unreachable" in crawls[1][3]
    assert ghost == [("generic", None, None)]
