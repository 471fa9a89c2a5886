"""SIGKILL the crawler at random moments, resume, and get every page exactly once.

The simulator runs in this process; the crawler runs in a child process that is killed
without warning (no cleanup, no flush) several times, then resumed until it finishes. The
snapshot must hold every reachable page exactly once, every WARC file must verify, and each kill
may cost at most ``concurrency`` re-fetches. (``bench/bench_crawl.py --kills 20`` runs the long
version.)
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from dnmwatch.collect import verify
from dnmwatch.sim.server import SimServer
from dnmwatch.sim.server.testworld import handmade_world
from test_collect_crawl import content_captures
from test_collect_support import walk

TESTS = Path(__file__).resolve().parent

_CHILD = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from test_collect_support import GenericLinks, sim_settings
    from dnmwatch.collect import Crawler

    tmp, market, base, crawl_id = Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    settings = sim_settings(tmp, market, base, concurrency=2, delay_s=float(sys.argv[6]))
    crawler = Crawler(settings, market, GenericLinks(), data_dir=settings.data_dir,
                      crawl_id=crawl_id)
    result = asyncio.run(crawler.run())
    print("STATUS", result.status, flush=True)
""")


def run_with_kills(tmp_path: Path, market: str, base: str, kills: int,
                   rng: random.Random, delay_s: float = 0.06) -> tuple[int, int]:
    """Run the child until it finishes, killing it ``kills`` times; returns (kills, runs)."""
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    args = [sys.executable, str(script), str(TESTS), str(tmp_path), market, base, "crash-1",
            str(delay_s)]
    done_kills = runs = 0
    while runs < kills + 10:
        runs += 1
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        if done_kills < kills:
            time.sleep(rng.uniform(0.7, 1.4))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                done_kills += 1
        out, _ = proc.communicate(timeout=120)
        if "STATUS finished" in out:
            return done_kills, runs
    raise AssertionError("crawl never finished")


def test_sigkill_then_resume_keeps_every_page_exactly_once(tmp_path: Path) -> None:
    market = "bazaar"
    with SimServer(handmade_world(), day=15) as sim:
        expected = walk(sim.urls[market])
        sim.log.clear()
        kills, _runs = run_with_kills(tmp_path, market, sim.urls[market], 4, random.Random(3))
        served = Counter(r.path for r in sim.requests
                         if r.status == 200 and r.page_type not in (None, "gate"))
    assert kills >= 2
    warc_dir = tmp_path / "data" / "warc" / market
    assert not list(warc_dir.glob("*.open"))
    assert all(verify(p).ok for p in warc_dir.glob("*.warc.gz"))
    captured = content_captures(warc_dir)
    assert set(captured) == expected
    assert set(captured.values()) == {1}
    refetched = sum(n - 1 for n in served.values())
    assert refetched <= 2 * kills, refetched
