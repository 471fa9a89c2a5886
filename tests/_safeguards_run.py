"""One end-to-end run of the pipeline with every safeguard on, shared by the safeguard tests.

The tiny simulated world is served on loopback, but the crawler only knows each market by a
made-up ``.onion`` name that exists in the test SOCKS proxy's map (as with Tor): so the
loopback ``host:port`` of the servers is something the researcher's machine has and the market
does not, and must appear in no WARC header, log or table. The WARC files are then extracted
with a key made by ``KeyStore.init`` (never created on first use), the store is built, and both
export formats are written.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnmwatch.adapters.registry import load_registry
from dnmwatch.collect import CrawlResult
from dnmwatch.collect.testing_socks import SocksRequest, SocksServer
from dnmwatch.demo import ADAPTER_BY_ENGINE, crawl_schedule
from dnmwatch.estimate.build import build
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.export import export
from dnmwatch.privacy.keys import KeyStore
from dnmwatch.settings import Settings, load_settings
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sources.extract import ExtractSummary, extract, plan
from dnmwatch.sources.worker import MarketRoute
from dnmwatch.store import Store

CRAWL_DAYS = (6, 19)
"""Two snapshots while all three tiny markets are up (feedback between them makes sales)."""


def onion(name: str) -> str:
    """A v3-shaped onion name (56 base-32 characters) for a market."""
    return (name + "a" * 56)[:56] + ".onion"


@dataclass
class Run:
    world: World
    settings: Settings
    results: list[CrawlResult]
    summary: ExtractSummary
    sessions: set[str]
    """Session cookie values the simulated markets issued to the crawler."""
    loopback: list[str]
    """``127.0.0.1:PORT`` of every simulated market and of the proxy."""
    socks_requests: list[SocksRequest]
    exports: dict[str, Path]
    lookups: list[tuple[str, str]] = field(default_factory=list)
    """(thread name, host) of every ``getaddrinfo`` during the crawls."""
    connects: list[tuple[str, Any]] = field(default_factory=list)
    """(thread name, address) of every ``socket.connect`` during the crawls."""


@contextmanager
def watch_network(lookups: list[tuple[str, str]], connects: list[tuple[str, Any]]
                  ) -> Iterator[None]:
    """Record DNS look-ups and connections of *every* thread (the demo crawls markets on
    worker threads, aiohttp may resolve on executor threads); restore the originals after."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
        lookups.append((threading.current_thread().name, str(host)))
        if str(host).endswith(".onion"):
            raise socket.gaierror("no local DNS for onion names")
        return real_getaddrinfo(host, *args, **kw)

    def connect(self: socket.socket, address: Any) -> Any:
        connects.append((threading.current_thread().name, address))
        return real_connect(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect  # type: ignore[method-assign]


def _settings(tmp: Path, proxy: str, names: list[str], engines: dict[str, str]) -> Settings:
    overrides: dict[str, object] = {
        "proxy.url": proxy, "data_dir": str(tmp / "data"),
        "privacy.key_file": str(tmp / "keys" / "pseudonym.key"),
        "crawl.concurrency": 2, "crawl.delay_s": 0, "crawl.jitter_s": 0, "crawl.attempts": 3,
        "crawl.backoff_base_s": 0.05, "crawl.backoff_cap_s": 0.5, "crawl.timeout_s": 10,
    }
    for name in names:
        overrides[f"markets.{name}.adapter"] = engines[name]
        overrides[f"markets.{name}.hosts"] = [onion(name)]
        overrides[f"markets.{name}.seeds"] = [f"http://{onion(name)}/"]
    return load_settings(None, env={}, overrides=overrides)


def run_pipeline(tmp: Path) -> Run:
    world = generate_world(preset("tiny", seed=3))
    with SimServer(world, day=CRAWL_DAYS[0]) as server:
        ports = {name: int(url.rsplit(":", 1)[1]) for name, url in server.urls.items()}
        engines = {name: ADAPTER_BY_ENGINE[server.engine(name).name] for name in server.urls}
        with SocksServer({onion(name): port for name, port in ports.items()}) as socks:
            settings = _settings(tmp, socks.proxy_url, sorted(ports), engines)
            KeyStore.for_settings(settings).init()
            lookups: list[tuple[str, str]] = []
            connects: list[tuple[str, Any]] = []
            with watch_network(lookups, connects):
                results = crawl_schedule(world, server, settings, CRAWL_DAYS)
            requests = list(socks.requests)
            loopback = [f"127.0.0.1:{p}" for p in [*ports.values(), socks.port]]
        sessions = {entry.session for entry in server.log if entry.session}
    routes = [MarketRoute(name, m.adapter, tuple(m.hosts)) for name, m in
              settings.markets.items()]
    tasks = plan([settings.data_dir / "warc"], load_registry(plugins=False))
    key = KeyStore.for_settings(settings).load("extract")
    with Store.open(settings.data_dir) as store:
        summary = extract(store, tasks, key=key, routes=routes, workers=1)
        store.upsert("rates", [
            {"day": r["day"], "currency": r["currency"], "eur_per_unit": r["eur_per_unit"],
             "source": "sim"} for r in world.table("rates").to_pylist()])
        build(store)
        exports = {}
        for fmt in ("csv", "parquet"):
            out = tmp / f"export-{fmt}"
            export(store.connection, out, fmt="csv" if fmt == "csv" else "parquet",
                   audit=AuditLog.for_data_dir(settings.data_dir), label=f"test-{fmt}")
            exports[fmt] = out
    return Run(world, settings, results, summary, sessions, loopback, requests, exports,
               lookups, connects)
