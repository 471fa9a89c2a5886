"""How many pages per second the simulated markets serve on loopback (no gates, no faults).

A client with a few concurrent connections fetches a mix of index, listing, feedback and vendor
pages from every market of a generated world and prints pages/s. Run:

    .venv/bin/python bench/bench_sim_serve.py [--scale small] [--pages 3000] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from urllib.parse import urljoin

import aiohttp

from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sim.server import SimServer


def page_urls(sim: SimServer, day: int) -> list[str]:
    """Index, listing, feedback and vendor URLs of every market alive on ``day``."""
    urls: list[str] = []
    for market, base in sim.urls.items():
        view, engine = sim.view(market), sim.engine(market)
        if not view.market.alive(day):
            continue
        for cat in view.market.categories:
            urls.append(urljoin(base, engine.category_url(view, cat.slug)))
        live = [x for x in view.market.listings.values() if view.listing(x.listing_id)]
        for listing in live:
            urls.append(urljoin(base, engine.listing_url(view, listing)))
            urls.append(urljoin(base, engine.feedback_url(view, listing)))
        for handle in sorted({x.vendor for x in live}):
            urls.append(urljoin(base, engine.vendor_url(view, handle)))
    return urls


async def fetch_all(urls: list[str], total: int, concurrency: int) -> tuple[int, int, float]:
    """Fetch ``total`` pages cycling through ``urls``; (pages ok, bytes, seconds)."""
    source = itertools.islice(itertools.cycle(urls), total)
    ok = size = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok, size
        for url in source:
            async with session.get(url) as resp:
                body = await resp.read()
                ok += resp.status == 200
                size += len(body)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return ok, size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "medium"])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    world = generate_world(preset(args.scale))
    day = int(world.config.days * 0.5)
    started = time.perf_counter()
    with SimServer(world, day=day) as sim:
        print(f"index built and servers up in {time.perf_counter() - started:.2f} s")
        urls = page_urls(sim, day)
        ok, size, seconds = asyncio.run(fetch_all(urls, args.pages, args.concurrency))
    print(f"scale={args.scale} day={day} distinct urls={len(urls)} pages={ok}/{args.pages} "
          f"concurrency={args.concurrency} avg page={size / max(ok, 1) / 1024:.1f} KiB")
    print(f"{ok / seconds:.0f} pages/s served on loopback ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
