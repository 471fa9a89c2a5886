"""Observations from the simulator without the crawler, for the consolidate/estimate tests.

The simulator's markets are served on loopback at chosen days; each market is walked from its
front page by following ``adapter.links()`` (as the crawler would), every page is fetched with
urllib and parsed by the market's adapter, and the records go into a real store through
:func:`dnmwatch.consolidate.observation_rows`. A market that refuses connections (gone) or
shows a seizure banner yields a failed ``crawls`` row, as a scheduled crawl would.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.sim_cards import SimCardsAdapter
from dnmwatch.adapters.sim_minimal import SimMinimalAdapter
from dnmwatch.adapters.sim_table import SimTableAdapter
from dnmwatch.consolidate import observation_rows
from dnmwatch.estimate.build import build
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Page, Record
from dnmwatch.sim.model import World
from dnmwatch.sim.server import SimServer
from dnmwatch.store import Store

KEY = bytes(range(32))
ADAPTERS: dict[str, type[MarketAdapter]] = {
    "silkway": SimTableAdapter, "bazaar": SimCardsAdapter, "gidra": SimMinimalAdapter}


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def crawl_market(base: str, market: str, now: datetime, crawl_id: str
                 ) -> tuple[list[Record], list[dict[str, Any]], bool]:
    """Records, ``pages`` rows and whether the market answered at all."""
    adapter = ADAPTERS[market](Pseudonymizer(KEY), market=market)
    records: list[Record] = []
    pages: list[dict[str, Any]] = []
    todo, seen = [base + "/"], set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                page = Page(url=url, captured_at=now, body=resp.read(), status=resp.status)
        except (urllib.error.URLError, ConnectionError):
            return records, pages, False
        ptype = adapter.page_type(page)
        found = list(adapter.parse(page))
        pages.append({"source": url, "market": market, "crawl_id": crawl_id, "url": url,
                      "captured_at": _naive(now), "page_type": ptype, "adapter": adapter.name,
                      "records": len(found)})
        records.extend(found)
        todo.extend(u for u in adapter.links(page) if u not in seen)
    return records, pages, True


def built_store(world: World, data_dir: Path) -> Store:
    """A store in ``data_dir`` with ``world`` crawled every 4 days and the estimate built;
    the caller closes it."""
    store = Store.open(data_dir)
    crawl_world(world, store, list(range(0, world.config.days, 4)))
    build(store)
    return store


def crawl_world(world: World, store: Store, days: list[int]) -> None:
    """Crawl every market of ``world`` on each of ``days`` into ``store`` (and its rates)."""
    store.upsert("rates", [
        {"day": r["day"], "currency": r["currency"], "eur_per_unit": r["eur_per_unit"],
         "source": "sim"} for r in world.table("rates").to_pylist()])
    with SimServer(world, day=days[0]) as sim:
        for day in days:
            sim.clock.set_day(day)
            now = sim.clock.now
            for market in sorted(ADAPTERS):
                crawl_id = f"{market}-{day:04d}"
                records, pages, answered = crawl_market(sim.urls[market], market, now, crawl_id)
                rows = observation_rows(records, crawl_id=crawl_id, adapter=market)
                for table, batch in rows.items():
                    store.insert_rows(table, batch)
                store.insert_rows("pages", pages)
                content = sum(len(b) for b in rows.values())
                store.insert_rows("crawls", [{
                    "crawl_id": crawl_id, "market": market, "started_at": _naive(now),
                    "finished_at": _naive(now), "pages_ok": len(pages),
                    "pages_failed": 0 if answered else 1,
                    "status": "finished" if answered and content else "failed"}])
