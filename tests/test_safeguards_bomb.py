"""A gzip decompression bomb through the crawler's fetcher (issue 8, hostile input).

A real aiohttp server on loopback answers the seed URL with about 1 MB of gzip that expands to
1 GiB (``make_hostile.decompression_bomb``, built at test time, never committed) and
``Content-Encoding: gzip``. A whole crawl runs against it with the default body cap (8 MiB):
the page must be stored cut at the cap *after* decompression, its WARC response record marked
``WARC-Truncated: length``, and the process must not have inflated the bomb: the peak of
Python allocations (tracemalloc) and the growth of the peak resident set (``ru_maxrss``) during
the crawl stay far below 200 MB.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import io
import resource
import tracemalloc
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp import web

from dnmwatch.collect import Crawler, CrawlResult
from dnmwatch.collect.warc_read import iter_records, parse_http_response
from dnmwatch.settings import load_settings
from test_collect_fetch import _app
from test_collect_support import GenericLinks

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
EXPANDED = 1 << 30
BOUND = 200 * 1024 * 1024
"""Allowed growth: the cap is 8 MiB; inflating the bomb would cost 1 GiB."""


def _make_hostile() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return bytes(_make_hostile().decompression_bomb(EXPANDED))


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _crawl_bomb(tmp_path: Path, bomb: bytes) -> tuple[CrawlResult, int, int]:
    """The crawl's result, the tracemalloc peak and the ru_maxrss growth during it."""

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip",
                                                "Content-Type": "text/html"})

    async def main() -> tuple[CrawlResult, int, int]:
        async with _app({"/": serve}) as host:
            settings = load_settings(None, env={}, overrides={
                "proxy.url": "socks5h://127.0.0.1:9", "data_dir": str(tmp_path / "data"),
                "privacy.key_file": str(tmp_path / "key"), "allow_direct_loopback": True,
                "markets.m.adapter": "generic", "markets.m.hosts": [host],
                "markets.m.seeds": [f"http://{host}/"], "crawl.delay_s": 0,
                "crawl.jitter_s": 0, "crawl.attempts": 1, "crawl.timeout_s": 30})
            assert settings.for_market("m").max_body_bytes == 8 * 1024 * 1024  # the default
            crawler = Crawler(settings, "m", GenericLinks(), data_dir=settings.data_dir)
            rss_before = _peak_rss_bytes()
            tracemalloc.start()
            try:
                result = await crawler.run()
                _now, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            return result, peak, _peak_rss_bytes() - rss_before

    return asyncio.run(main())


def test_a_gzip_bomb_is_cut_at_the_cap_after_decompression(tmp_path: Path,
                                                           bomb: bytes) -> None:
    assert len(bomb) < 2 * 1024 * 1024
    with gzip.GzipFile(fileobj=io.BytesIO(bomb)) as probe:
        assert probe.read(1 << 16) == b"<" * (1 << 16)  # really gzip of the page's bytes
    result, traced_peak, rss_growth = _crawl_bomb(tmp_path, bomb)
    assert result.status == "finished" and result.pages_ok == 1, result.counters
    assert traced_peak < BOUND, f"Python allocations peaked at {traced_peak / 2**20:.0f} MiB"
    assert rss_growth < BOUND, f"peak RSS grew by {rss_growth / 2**20:.0f} MiB"
    print(f"bomb crawl: traced peak {traced_peak / 2**20:.1f} MiB, "
          f"peak RSS growth {rss_growth / 2**20:.1f} MiB")
    responses = [r for p in result.warc_files for r in iter_records(Path(p))
                 if r.type == "response"]
    assert len(responses) == 1
    record = responses[0]
    assert record.get("WARC-Truncated") == "length"
    status, headers, body = parse_http_response(record.block)
    assert status == 200 and len(body) == 8 * 1024 * 1024 and set(body) == {ord("<")}
    names = {k.lower(): v for k, v in headers}
    assert names["x-archive-orig-content-encoding"] == "gzip"  # stored decoded, said so
    assert names["content-length"] == str(len(body))
    assert result.counters.get("truncated:length") == 1
