"""Benchmark of the crawler against the simulator on loopback, beside a plain sequential loop.

Usage: ``python bench/bench_crawl.py [--rounds N] [--kills K]``.

* throughput: pages/s and CPU ms/page of ``dnmwatch.collect.Crawler`` (no delay, concurrency
  1 and 2, WARC + durable frontier) against a plain sequential aiohttp loop that fetches and
  follows the same pages and stores nothing (the baseline), and their ratio;
* ``--kills K``: the long crash test: SIGKILL a crawl K times at random moments, resume, and
  check every page is in the snapshot exactly once (the suite runs a short version).

The simulator runs in a child process so the CPU figures are the crawler's own.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dnmwatch.collect import Crawler  # noqa: E402
from dnmwatch.records import Page  # noqa: E402
from test_collect_support import GenericLinks, sim_settings  # noqa: E402

MARKET = "bazaar"


def _serve(queue: mp.Queue[str], stop: mp.Event) -> None:  # type: ignore[type-arg]
    from dnmwatch.sim.server import SimServer
    from dnmwatch.sim.server.testworld import handmade_world

    with SimServer(handmade_world(), day=15) as sim:
        queue.put(sim.urls[MARKET])
        stop.wait()


async def baseline(base: str) -> int:
    """Sequential fetch-and-follow with one aiohttp session, storing nothing."""
    double = GenericLinks()
    seen, todo = {base + "/"}, [base + "/"]
    async with aiohttp.ClientSession() as session:
        while todo:
            url = todo.pop(0)
            async with session.get(url) as resp:
                body = await resp.read()
            page = Page(url, datetime.now(UTC), body, resp.status)
            for link in double.links(page):
                target = urljoin(url, link)
                if target.startswith(base) and target not in seen:
                    seen.add(target)
                    todo.append(target)
    return len(seen)


def timed(fn: object) -> tuple[int, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    pages = fn()  # type: ignore[operator]
    return pages, time.perf_counter() - t0, time.process_time() - c0


def crawler_run(base: str, concurrency: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        settings = sim_settings(Path(tmp), MARKET, base, concurrency=concurrency)
        crawler = Crawler(settings, MARKET, GenericLinks(), data_dir=settings.data_dir)
        result = asyncio.run(crawler.run())
        assert result.status == "finished", result.message
        return result.pages_ok


def throughput(base: str, rounds: int) -> None:
    runs = {"baseline (sequential aiohttp, no storage)": lambda: asyncio.run(baseline(base)),
            "crawler concurrency=1": lambda: crawler_run(base, 1),
            "crawler concurrency=2": lambda: crawler_run(base, 2)}
    ref = None
    for name, fn in runs.items():
        best = min((timed(fn) for _ in range(rounds)), key=lambda r: r[1])
        pages, wall, cpu = best
        rate, cpu_ms = pages / wall, 1000 * cpu / pages
        ref = ref or (rate, cpu_ms)
        print(f"{name:45s} {pages:4d} pages  {rate:7.1f} pages/s  {cpu_ms:6.2f} CPU ms/page  "
              f"speed x{rate / ref[0]:.2f}  CPU x{cpu_ms / ref[1]:.2f}", flush=True)


def kills(base: str, count: int) -> None:
    from test_collect_crash import run_with_kills
    from test_collect_crawl import content_captures

    with tempfile.TemporaryDirectory() as tmp:
        done, runs = run_with_kills(Path(tmp), MARKET, base, count, random.Random(1),
                                    delay_s=0.3)
        captured = content_captures(Path(tmp) / "data" / "warc" / MARKET)
        once = all(n == 1 for n in captured.values())
        print(f"SIGKILL x{done} over {runs} runs: {len(captured)} pages, "
              f"each exactly once: {once}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kills", type=int, default=0)
    args = parser.parse_args()
    queue: mp.Queue[str] = mp.Queue()
    stop = mp.Event()
    server = mp.Process(target=_serve, args=(queue, stop), daemon=True)
    server.start()
    try:
        base = queue.get(timeout=30)
        throughput(base, args.rounds)
        if args.kills:
            kills(base, args.kills)
    finally:
        stop.set()
        server.join(10)


if __name__ == "__main__":
    main()
