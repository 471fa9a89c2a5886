"""The fetcher's network safety: SOCKS5 with remote DNS only, market hosts only, caps, errors.

The egress test runs a real crawl through the in-process SOCKS5 server with a market host that
exists only in the proxy's map, while ``socket.getaddrinfo`` and ``socket.connect`` are watched:
the crawler must ask the proxy for the host *name*, resolve nothing locally and connect to nothing
but the proxy.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from dnmwatch.collect import Crawler, Fetcher
from dnmwatch.collect.testing_socks import SocksServer
from dnmwatch.settings import Settings, load_settings
from dnmwatch.sim.server import SimServer
from dnmwatch.sim.server.testworld import handmade_world
from test_collect_support import GenericLinks, walk

ONION = "a" * 56 + ".onion"


def _settings(tmp_path: Path, proxy: str, hosts: list[str], **extra: object) -> Settings:
    overrides: dict[str, object] = {
        "proxy.url": proxy, "data_dir": str(tmp_path / "data"),
        "privacy.key_file": str(tmp_path / "key"),
        "markets.m.adapter": "generic", "markets.m.hosts": hosts,
        "crawl.delay_s": 0, "crawl.jitter_s": 0, "crawl.backoff_base_s": 0,
        "crawl.timeout_s": 2, "crawl.max_body_bytes": 4096,
    }
    overrides.update(extra)
    return load_settings(None, env={}, overrides=overrides)


def test_egress_only_through_socks_with_remote_dns(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    lookups: list[str] = []
    connects: list[Any] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    main = threading.current_thread()

    def watched_getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
        if threading.current_thread() is main:
            lookups.append(str(host))
        if str(host).endswith(".onion"):
            raise socket.gaierror("no local DNS for onion names")
        return real_getaddrinfo(host, *args, **kw)

    def watched_connect(self: socket.socket, address: Any) -> Any:
        if threading.current_thread() is main:
            connects.append(address)
        return real_connect(self, address)

    with SimServer(handmade_world(), day=15) as sim:
        expected = walk(sim.urls["gidra"])
        port = int(sim.urls["gidra"].rsplit(":", 1)[1])
        with SocksServer({ONION: port}) as socks:
            settings = _settings(tmp_path, socks.proxy_url, [ONION],
                                 **{"markets.m.seeds": [f"http://{ONION}/"],
                                    "crawl.max_body_bytes": 1 << 20})
            for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
                monkeypatch.setenv(var, "http://127.0.0.1:9")  # must be ignored
            monkeypatch.setattr(socket, "getaddrinfo", watched_getaddrinfo)
            monkeypatch.setattr(socket.socket, "connect", watched_connect)
            crawler = Crawler(settings, "m", GenericLinks(), data_dir=settings.data_dir)
            result = asyncio.run(crawler.run())
            monkeypatch.undo()
    assert result.status == "finished" and result.pages_ok == len(expected)
    assert not [h for h in lookups if h.endswith(".onion")], lookups
    assert all(addr == ("127.0.0.1", socks.port) for addr in connects), connects
    assert socks.requests and all(r.address_type == "domain" and r.host == ONION
                                  for r in socks.requests)
    assert {r.username for r in socks.requests} == {"m"}  # the market's own Tor circuits
    assert all(r.password for r in socks.requests)


@asynccontextmanager
async def _app(routes: dict[str, Callable[[web.Request], Any]]) -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def test_redirects_caps_timeouts_and_refusals(tmp_path: Path) -> None:
    hits: dict[str, int] = {}

    async def count(request: web.Request) -> None:
        hits[request.path] = hits.get(request.path, 0) + 1

    async def offsite(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(status=302, headers={"Location": "http://evil.onion/x"})

    async def inside(request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": "/big"})

    async def big(request: web.Request) -> web.Response:
        body = gzip.compress(b"<html>" + b"x" * 20000 + b"</html>")
        return web.Response(body=body, headers={"Content-Encoding": "gzip",
                                                "Content-Type": "text/html"})

    async def stall(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "1000"})
        await resp.prepare(request)
        await resp.write(b"<html>partial")
        await asyncio.sleep(2.5)
        return resp

    async def main() -> None:
        async with _app({"/off": offsite, "/in": inside, "/big": big, "/stall": stall}) as host:
            settings = _settings(tmp_path, "socks5h://127.0.0.1:9", [host],
                                 allow_direct_loopback=True)
            async with Fetcher(settings, "m") as fetcher:
                off = await fetcher.get(f"http://{host}/off")
                assert off.failure is not None and off.failure.kind == "offsite_redirect"
                assert not off.failure.retryable and len(off.exchanges) == 1
                refused = await fetcher.get("http://other.onion/")
                assert refused.failure is not None and refused.failure.kind == "refused_host"
                capped = await fetcher.get(f"http://{host}/in")
                final = capped.final
                assert final is not None and len(capped.exchanges) == 2
                assert final.truncated == "length" and len(final.body) == 4096
                assert final.body.startswith(b"<html>xxx")  # decoded before the cap
                stalled = await fetcher.get(f"http://{host}/stall")
                assert stalled.final is not None and stalled.final.truncated == "time"
                assert stalled.final.body == b"<html>partial"
                assert fetcher.connections_opened["proxy"] == 0

    asyncio.run(main())
    assert hits == {"/off": 1}


def test_proxy_down_is_a_typed_retryable_failure(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    settings = _settings(tmp_path, f"socks5h://127.0.0.1:{free_port}", [ONION])

    async def main() -> None:
        async with Fetcher(settings, "m") as fetcher:
            result = await fetcher.get(f"http://{ONION}/")
            assert result.failure is not None and result.failure.kind in ("proxy", "connection")
            assert result.failure.retryable

    asyncio.run(main())


def test_unknown_onion_is_refused_by_proxy(tmp_path: Path) -> None:
    with SocksServer({}) as socks:
        settings = _settings(tmp_path, socks.proxy_url, [ONION])

        async def main() -> None:
            async with Fetcher(settings, "m") as fetcher:
                result = await fetcher.get(f"http://{ONION}/")
                assert result.failure is not None and result.failure.kind == "proxy"

        asyncio.run(main())
    assert [r.host for r in socks.requests] == [ONION]
    assert not socks.requests[0].accepted
