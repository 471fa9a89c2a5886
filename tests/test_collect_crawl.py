"""Crawling the simulator: completeness under injected faults, gates, pause and resume."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dnmwatch.collect import Crawler, CrawlResult, ExitCode, Fetcher, verify
from dnmwatch.collect.warc_read import iter_records, parse_http_response
from dnmwatch.records import Page
from dnmwatch.settings import SecretRef, Settings
from dnmwatch.sim.server import FaultPlan, GatePlan, ServerOptions, SimServer
from dnmwatch.sim.server.testworld import handmade_world
from test_collect_support import GenericLinks, path_qs, sim_settings, walk

DAY = 15


def content_captures(warc_dir: Path) -> Counter[str]:
    """How many times each page was captured as content (status 200, whole, not a gate)."""
    double = GenericLinks()
    seen: Counter[str] = Counter()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        assert verify(path).ok, path
        for record in iter_records(path):
            if record.type != "response" or record.get("WARC-Truncated"):
                continue
            status, _headers, body = parse_http_response(record.block)
            url = record.get("WARC-Target-URI") or ""
            page = Page(url, datetime.now(UTC), body, status)
            if status == 200 and double.page_type(page) == "index":
                seen[path_qs(url)] += 1
    return seen


def crawl(settings: Settings, market: str, **kw: object) -> CrawlResult:
    crawler = Crawler(settings, market, GenericLinks(), data_dir=settings.data_dir, **kw)  # type: ignore[arg-type]
    return asyncio.run(crawler.run())


def expected_pages(market: str, day: int = DAY) -> set[str]:
    with SimServer(handmade_world(), day=day) as clean:
        return walk(clean.urls[market])


@pytest.mark.parametrize("market", ["silkway", "bazaar", "gidra"])
def test_crawl_with_faults_captures_every_page_once(tmp_path: Path, market: str) -> None:
    expected = expected_pages(market)
    faults = FaultPlan(seed=7, error_5xx=0.05, timeout=0.015, drop=0.04, truncate=0.04,
                       slow=0.02, malformed=0.04, hold_s=3.0, slow_s=0.3)
    with SimServer(handmade_world(), day=DAY, options=ServerOptions(faults=faults)) as sim:
        settings = sim_settings(tmp_path, market, sim.urls[market], concurrency=2)
        result = crawl(settings, market)
        injected = Counter(r.fault for r in sim.requests if r.fault)
    assert result.status == "finished" and result.exit_code == ExitCode.FINISHED, result.message
    assert sum(injected.values()) >= 5, injected
    captured = content_captures(settings.data_dir / "warc" / market)
    assert set(captured) == expected
    assert all(n == 1 for n in captured.values()), [k for k, n in captured.items() if n > 1]
    assert result.pages_ok == len(expected) and result.pages_failed == 0
    assert result.counters.get("retry", 0) >= 1


def test_login_queue_and_rate_limit_are_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    market = "gidra"
    expected = expected_pages(market)
    gates = GatePlan(login=True, queue=True, queue_wait_s=0.1, rate_limit=25, rate_window_s=1.0)
    with SimServer(handmade_world(), day=DAY, options=ServerOptions(gates=gates)) as sim:
        settings = sim_settings(tmp_path, market, sim.urls[market], backoff_cap_s=2.0)
        monkeypatch.setenv("SIM_USER", "researcher")
        monkeypatch.setenv("SIM_PASS", "simpass")
        settings = settings.model_copy(update={"markets": {market: settings.markets[
            market].model_copy(update={"username": _ref("env:SIM_USER"),
                                       "password": _ref("env:SIM_PASS")})}})
        result = crawl(settings, market)
        posted = [r for r in sim.requests if r.method == "POST"]
    assert result.status == "finished", result.message
    assert set(content_captures(settings.data_dir / "warc" / market)) == expected
    assert result.counters["gate:login"] >= 1 and result.counters["passed:gate:login"] >= 1
    assert result.counters["gate:queue"] >= 1
    assert result.counters["gate:rate_limit"] >= 1
    assert len(posted) >= 1
    for path in (settings.data_dir / "warc" / market).glob("*.warc.gz"):
        assert b"simpass" not in gzip.decompress(path.read_bytes())


def _ref(text: str) -> SecretRef:
    return SecretRef(text)


def test_captcha_pauses_then_resume_with_operator(tmp_path: Path) -> None:
    market = "bazaar"
    expected = expected_pages(market)
    gates = GatePlan(captcha_every=20)
    with SimServer(handmade_world(), day=DAY, options=ServerOptions(gates=gates)) as sim:
        settings = sim_settings(tmp_path, market, sim.urls[market])
        first = crawl(settings, market)
        assert first.status == "paused" and first.exit_code == ExitCode.PAUSED
        assert first.gate == "gate:captcha" and "--resume" in first.message
        assert 0 < first.pages_ok < len(expected)

        async def operator(kind: str, page: Page, fetcher: Fetcher) -> bool:
            challenge = re.search(rb"<b>([A-Z0-9]{5})</b>", page.body)
            nxt = re.search(rb'name="next" value="([^"]*)"', page.body)
            assert kind == "gate:captcha" and challenge and nxt
            base = page.url.split("/", 3)[:3]
            result = await fetcher.post("/".join(base) + "/captcha",
                                        {"answer": challenge.group(1).decode(),
                                         "next": nxt.group(1).decode()})
            return result.final is not None

        second = crawl(settings, market, crawl_id=first.crawl_id, gate_handler=operator)
    assert second.status == "finished", second.message
    assert second.counters["solved:gate:captcha"] >= 1
    captured = content_captures(settings.data_dir / "warc" / market)
    assert set(captured) == expected and set(captured.values()) == {1}


def test_seized_market_fails_as_seized_and_is_never_content(tmp_path: Path) -> None:
    with SimServer(handmade_world(), day=25) as sim:
        settings = sim_settings(tmp_path, "silkway", sim.urls["silkway"])
        result = crawl(settings, "silkway")
    assert result.status == "failed" and result.reason == "seized"
    assert result.exit_code == ExitCode.FAILED and "seizure" in result.message
    assert result.pages_ok == 0 and result.counters["gate:seized"] == 1
    assert result.counters["stopped:seized"] == 1
    assert not content_captures(settings.data_dir / "warc" / "silkway")
