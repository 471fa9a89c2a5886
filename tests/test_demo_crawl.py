"""The demo's crawl stage on the ``tiny`` world: weekly crawls of every launched market into
the store and verified WARC files; takedowns and exits recorded as failed crawls."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pytest

from dnmwatch.collect import CrawlResult, verify
from dnmwatch.collect.warc_read import iter_records
from dnmwatch.demo import crawl_schedule, demo_settings, weekly_days
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server import SimServer
from dnmwatch.store import Store


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny", seed=3))


@pytest.fixture(scope="module")
def crawled(world: World, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, list[tuple[int, CrawlResult]]]:
    tmp = tmp_path_factory.mktemp("demo")
    seen: list[tuple[int, CrawlResult]] = []
    with SimServer(world, day=0) as server:
        settings = demo_settings(server, tmp / "data", key_file=tmp / "key")
        results = crawl_schedule(world, server, settings, weekly_days(world),
                                 on_crawl=lambda day, r: seen.append((day, r)))
    assert [r for _, r in seen] == results
    return tmp / "data", seen


def test_schedule_is_weekly_and_skips_markets_not_launched(
        world: World, crawled: tuple[Path, list[tuple[int, CrawlResult]]]) -> None:
    days = weekly_days(world)
    assert days[0] == 0 and days[-1] == world.config.days - 1
    assert all(b - a <= 7 for a, b in pairwise(days))
    _, seen = crawled
    launch = {s.name: s.launch_day for s in world.config.markets}
    expected = [(d, m) for d in days for m in launch if launch[m] <= d]
    assert sorted((d, r.market) for d, r in seen) == sorted(expected)


def test_crawls_are_in_the_store_with_simulated_times(
        world: World, crawled: tuple[Path, list[tuple[int, CrawlResult]]]) -> None:
    data, seen = crawled
    with Store.open(data, read_only=True) as store:
        rows = {r[0]: r[1:] for r in store.fetchall(
            "SELECT crawl_id, market, started_at, status, pages_ok, pages_failed FROM crawls")}
        markets = store.fetchall("SELECT market, adapter, first_seen, last_seen FROM markets "
                                 "ORDER BY market")
    assert len(rows) == len(seen)
    for day, result in seen:
        market, started, status, pages_ok, _failed = rows[result.crawl_id]
        assert (market, status, pages_ok) == (result.market, result.status, result.pages_ok)
        assert started.date() == world.config.day_date(day)
    engines = {s.name: s.engine for s in world.config.markets}
    assert [(m, a) for m, a, _, _ in markets] == sorted(
        (m, f"sim-{engines[m]}") for m in engines)
    finished = [r for _, r in seen if r.status == "finished"]
    assert finished and all(r.pages_ok > 0 and r.pages_failed == 0 for r in finished)


def test_warc_files_are_sealed_and_verified(
        world: World, crawled: tuple[Path, list[tuple[int, CrawlResult]]]) -> None:
    data, seen = crawled
    files = sorted((data / "warc").rglob("*.warc.gz"))
    assert files and not list((data / "warc").rglob("*.open"))
    assert set(files) == {p for _, r in seen for p in r.warc_files}
    for path in files:
        assert verify(path).ok, path
    first = next(iter_records(files[0]))
    assert first.type == "warcinfo"
    dates = {str(r.get("WARC-Date"))[:4] for r in iter_records(files[0])}
    assert dates == {str(world.config.start.year)}  # simulated, not wall-clock, time


def test_takedown_and_exit_are_recorded_as_failed_crawls(
        world: World, crawled: tuple[Path, list[tuple[int, CrawlResult]]]) -> None:
    data, seen = crawled
    by_market: dict[str, list[tuple[int, CrawlResult]]] = defaultdict(list)
    for day, result in seen:
        by_market[result.market].append((day, result))
    checked = set()
    for spec in world.config.markets:
        for day, result in by_market[spec.name]:
            if spec.end_day is None or day < spec.end_day:
                assert result.status == "finished", (spec.name, day, result.message)
            elif spec.end_kind == "takedown":
                assert (result.status, result.reason) == ("failed", "seized")
                assert result.counters["gate:seized"] == 1 and result.pages_ok == 0
                checked.add("takedown")
            else:
                assert (result.status, result.reason) == ("failed", "unreachable")
                assert result.counters["error:connection"] >= 1 and not result.warc_files
                checked.add("exit")
    assert checked == {"takedown", "exit"}
    with Store.open(data, read_only=True) as store:
        seized = store.fetchall("SELECT count(*) FROM crawls WHERE status = 'failed' "
                                "AND counters LIKE '%gate:seized%'")[0][0]
        last_seen = dict(store.fetchall("SELECT market, last_seen FROM markets"))
    assert seized == sum(1 for _, r in seen if r.reason == "seized")
    for spec in world.config.markets:
        if spec.end_day is not None:
            assert last_seen[spec.name].date() < world.config.day_date(spec.end_day)
