"""``dnmwatch demo``: the whole tool on a synthetic ecosystem, on this machine, in about a minute.

This module is wiring, not a stage: it may import the simulator *and* the pipeline, which no
stage may do (ARCHITECTURE.md; ``sim`` stays an independent yardstick). Its stages:

1. **generate** a world and write its ground truth (``WORKDIR/truth/``);
2. **serve** its markets on loopback, and beside them one single-vendor **shop** and one
   **forum** on the same clock; write one messaging-**channel export**
   (``WORKDIR/channel/result.json``). Which ones: :mod:`dnmwatch.demo_sources` (chosen so that
   vendors of the market taken down turn up in them: cross-channel displacement);
3. **crawl** every market and site on a weekly schedule over the simulated period
   (:func:`crawl_schedule`), moving the simulator's clock, into ``WORKDIR/data`` (WARC files,
   the ``crawls`` and ``markets`` tables). A market that is down on a crawl day (seizure banner,
   refused connections) gets a failed crawl, which later stages read as a takedown or an exit.
4. **extract** the crawls' WARC files and the channel export, **build** the estimates, measure
   their **accuracy** against the truth (the markets' figures, and each other source's recall),
   write the **report** (``WORKDIR/report.html``) and a disclosure-controlled **export**
   (``WORKDIR/export/``): :func:`dnmwatch.demo_pipeline.run_pipeline`.

Every safeguard is on: the demo has its own pseudonymisation key, created through
:class:`~dnmwatch.privacy.keys.KeyStore` at ``WORKDIR/keys/pseudonym.key`` (outside
``WORKDIR/data``, mode 0600, its creation and use audit-logged in ``WORKDIR/data``); it never
touches the researcher's real key. :func:`demo_settings` names it in ``privacy.key_file``, so a
stage loads it with ``KeyStore.for_settings(settings).load(purpose)``.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dnmwatch.collect import Crawler, CrawlResult, LinkSource, record_result, record_start
from dnmwatch.demo_pipeline import (
    PipelineResult,
    accuracy_table,
    locations_table,
    pipeline_summary,
    run_pipeline,
    timing_table,
)
from dnmwatch.demo_sources import prepare_sources, sources_table
from dnmwatch.settings import Settings, load_settings
from dnmwatch.sim.cli import (
    DaysOpt,
    ScaleOpt,
    SeedOpt,
    build_world,
    print_markets,
    print_sites,
    print_truth,
)
from dnmwatch.sim.model import World
from dnmwatch.sim.server import SimClock, SimServer, SiteServer
from dnmwatch.store import Store

console = Console(stderr=True)
out = Console()

ADAPTER_BY_ENGINE = {"table": "sim-table", "cards": "sim-cards", "minimal": "sim-minimal",
                     "shop": "sim-shop", "forum": "sim-forum"}
"""The built-in adapter that reads each simulator engine's pages (markets, then sites)."""
CRAWL_EVERY_DAYS = 7
_FAILURE_PREFIXES = ("error:", "http:", "truncated:", "gate:", "refused:", "stopped:", "failed:")


def weekly_days(world: World, every: int = CRAWL_EVERY_DAYS) -> list[int]:
    """The crawl days: day 0, then every ``every`` days, and the last day of the period."""
    last = world.config.days - 1
    days = list(range(0, last + 1, every))
    return days if days[-1] == last else [*days, last]


def demo_key_file(data_dir: Path) -> Path:
    """Where the demo's key lives: ``keys/`` beside the data folder, never inside it."""
    return Path(data_dir).parent / "keys" / "pseudonym.key"


def ensure_demo_key(settings: Settings) -> str:
    """Create the demo's key (``dnmwatch keys init`` for the demo) unless it exists; return its
    fingerprint. An existing key is checked (permissions) and reused, so that a second demo
    run in the same folder keeps its pseudonyms."""
    from dnmwatch.privacy.keys import KeyStore, fingerprint, read_key

    store = KeyStore.for_settings(settings, actor="demo")
    if store.path.exists():
        return fingerprint(read_key(store.path))
    return store.init()


def demo_settings(server: SimServer, data_dir: Path, key_file: Path | None = None,
                  sites: SiteServer | None = None) -> Settings:
    """Crawl settings for the simulated markets: direct loopback, no delay, two workers.

    Built from defaults and explicit values only (no config file, no ``DNMWATCH_*``
    environment) so the demo runs the same everywhere. ``privacy.key_file`` is ``key_file``,
    by default :func:`demo_key_file` (create it with :func:`ensure_demo_key`). The shops and
    forums of ``sites`` are "markets" of the settings too, each with its site adapter."""
    overrides: dict[str, object] = {
        "allow_direct_loopback": True, "data_dir": str(data_dir),
        "crawl.concurrency": 2, "crawl.delay_s": 0, "crawl.jitter_s": 0,
        "crawl.attempts": 3, "crawl.backoff_base_s": 0.05, "crawl.backoff_cap_s": 0.5,
        "crawl.timeout_s": 10,
    }
    overrides["privacy.key_file"] = str(key_file or demo_key_file(data_dir))
    for served in (server, *([sites] if sites is not None else [])):
        for name, base in served.urls.items():
            overrides[f"markets.{name}.adapter"] = ADAPTER_BY_ENGINE[served.engine(name).name]
            overrides[f"markets.{name}.hosts"] = [base.removeprefix("http://")]
            overrides[f"markets.{name}.seeds"] = [base + "/"]
    return load_settings(None, env={}, overrides=overrides)


def _link_sources(settings: Settings) -> dict[str, LinkSource]:
    """One adapter per market. Crawling reads no records, so a throw-away pseudonym key will
    do: the demo never touches the researcher's real key file."""
    from dnmwatch.adapters.registry import load_registry
    from dnmwatch.pseudonym import Pseudonymizer

    registry = load_registry()
    key = Pseudonymizer(secrets.token_bytes(32))
    return {name: registry.create(m.adapter, key, market=name, hosts=m.hosts)
            for name, m in settings.markets.items()}


def sim_time(clock: SimClock) -> Callable[[], datetime]:
    """The simulator's day plus the real time spent on it: crawl times and WARC dates are in
    simulated time (so later stages date observations on the simulated calendar) and still
    move forward during a crawl."""
    anchor = (clock.now, time.monotonic())

    def now() -> datetime:
        if clock.now != anchor[0]:
            return clock.now
        return anchor[0] + timedelta(seconds=time.monotonic() - anchor[1])

    return now


def _crawl_day(store: Store, settings: Settings, markets: list[str],
               links: dict[str, LinkSource], clock: Callable[[], datetime]) -> list[CrawlResult]:
    """The markets of one day side by side, each crawler on its own thread and event loop:
    every page costs two ``fsync``s (WARC and frontier), which block a loop but release the
    GIL, so separate threads let one market's disk waits overlap another's work. Each crawl's
    start is recorded first (a ``running`` row and an audit entry), as ``dnmwatch crawl``
    does, so a crawl that dies still leaves a trace."""
    crawlers = [Crawler(settings, name, links[name], data_dir=settings.data_dir, clock=clock)
                for name in markets]
    for crawler in crawlers:
        record_start(store, crawler.crawl_id, crawler.market_name, clock())
    with ThreadPoolExecutor(max_workers=len(crawlers), thread_name_prefix="demo-crawl") as pool:
        return list(pool.map(lambda c: asyncio.run(c.run()), crawlers))


def launch_days(world: World, server: SimServer, sites: SiteServer | None = None
                ) -> dict[str, int]:
    """The day each served market, then each site, opens (a shop: its account's join)."""
    days = {s.name: s.launch_day for s in world.config.markets if s.name in server.urls}
    if sites is not None:
        days.update({name: sites.index.markets[name].spec.launch_day for name in sites.urls})
    return days


def crawl_schedule(world: World, server: SimServer, settings: Settings, days: Iterable[int],
                   *, on_crawl: Callable[[int, CrawlResult], None] | None = None,
                   sites: SiteServer | None = None) -> list[CrawlResult]:
    """Crawl every launched market of ``world`` (and every opened site of ``sites``, which
    shares ``server``'s clock) on each of ``days`` (moving ``server``'s clock), record each
    crawl in the store under ``settings.data_dir``, return the results in order. Markets that
    are down that day give failed crawls (``seized``, ``unreachable``); a market not launched
    yet is not known to the researcher and is skipped. The markets of one day are crawled side
    by side (one thread each); ``on_crawl(day, result)`` is told of each."""
    links = _link_sources(settings)
    opens = launch_days(world, server, sites)
    results: list[CrawlResult] = []
    with Store.open(settings.data_dir) as store:
        for day in days:
            server.clock.set_day(day)
            markets = [name for name, launch in opens.items() if launch <= day]
            if not markets:
                continue
            for result in _crawl_day(store, settings, markets, links, sim_time(server.clock)):
                record_result(store, result, settings.market(result.market).adapter)
                results.append(result)
                if on_crawl is not None:
                    on_crawl(day, result)
    return results


def crawl_summary(results: list[CrawlResult]) -> Table:
    """Crawls by outcome, pages, and failures by kind (as counted by the crawler)."""
    outcomes = Counter(r.status if r.reason is None else f"{r.status} ({r.reason})"
                       for r in results)
    failures: Counter[str] = Counter()
    for r in results:
        failures.update({k: v for k, v in r.counters.items() if k.startswith(_FAILURE_PREFIXES)})
    table = Table(title=f"{len(results)} crawls")
    table.add_column("what")
    table.add_column("count", justify="right")
    for outcome, n in sorted(outcomes.items()):
        table.add_row(f"crawls {outcome}", f"{n:,}")
    table.add_row("pages captured", f"{sum(r.pages_ok for r in results):,}")
    table.add_row("pages failed", f"{sum(r.pages_failed for r in results):,}")
    table.add_row("WARC files", f"{sum(len(r.warc_files) for r in results):,}")
    for kind, n in sorted(failures.items()):
        table.add_row(kind, f"{n:,}")
    return table


def _crawl_with_progress(world: World, server: SimServer, settings: Settings,
                         days: list[int], sites: SiteServer | None) -> list[CrawlResult]:
    opens = launch_days(world, server, sites).values()
    total = sum(1 for d in days for launch in opens if launch <= d)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[pages]:,} pages"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("crawling", total=total, pages=0)
        pages = 0

        def tick(day: int, result: CrawlResult) -> None:
            nonlocal pages
            pages += result.pages_ok
            progress.update(task, advance=1, pages=pages, description=f"crawling day {day}")

        return crawl_schedule(world, server, settings, days, on_crawl=tick, sites=sites)


def _check_front_pages(urls: dict[str, str]) -> dict[str, int]:
    """Fetch each market's front page once over loopback, as a smoke test of the servers."""
    statuses: dict[str, int] = {}
    for market, url in urls.items():
        try:
            with urllib.request.urlopen(url + "/", timeout=10) as response:  # noqa: S310
                statuses[market] = int(response.status)
        except urllib.error.HTTPError as exc:
            statuses[market] = exc.code
        except OSError:
            statuses[market] = 0
    return statuses


def all_markets_up(world: World) -> int:
    """The last day on which every market is up (else the last day): the richest view."""
    specs = world.config.markets
    first = max(spec.launch_day for spec in specs)
    last = min([spec.end_day - 1 for spec in specs if spec.end_day is not None],
               default=world.config.days - 1)
    return last if first <= last else world.config.days - 1


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.print("stopped")


def demo(
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Folder for everything the demo writes.")
    ] = Path("dnmwatch-demo"),
    seed: SeedOpt = 1,
    scale: ScaleOpt = "small",
    days: DaysOpt = None,
    keep_serving: Annotated[
        bool | None,
        typer.Option(
            "--keep-serving/--no-keep-serving",
            help="Keep the markets up until Ctrl-C (default: only when run in a terminal).",
        ),
    ] = None,
) -> None:
    """Run the whole tool on a simulated world, from crawling its markets to the report.

    Generates a world (truth in WORKDIR/truth), serves its markets on loopback with one
    single-vendor shop and one forum beside them, writes one messaging-channel export
    (WORKDIR/channel/result.json), crawls markets and sites weekly, extracts the crawls and the
    export, builds the estimates, prints their accuracy against the truth, and writes
    WORKDIR/report.html and a disclosure-controlled export to WORKDIR/export. The crawls go to
    WORKDIR/data (WARC files and the store). Afterwards the markets are served on the last day
    on which all of them are up; move the clock through the control URL to see a takedown, an
    exit scam and the migration that follows (to the other markets, the shop, the forum)."""
    run_demo(workdir, seed, scale, days, keep_serving)


def run_demo(workdir: Path, seed: int = 1, scale: str = "small", days: int | None = None,
             keep_serving: bool | None = False) -> PipelineResult:
    """:func:`demo` without the command line (``keep_serving=None``: only in a terminal);
    returns what the stages after the crawls produced, accuracy included."""
    from dnmwatch.sim.truth import write_truth

    started = time.perf_counter()
    timings: dict[str, float] = {}
    truth_dir = workdir / "truth"
    world = build_world(seed, scale, days)
    print_truth(write_truth(world, truth_dir), truth_dir)
    sources = prepare_sources(world, workdir)
    out.print(sources_table(sources))
    timings["generate"] = time.perf_counter() - started
    with SimServer(world, day=0) as server, \
            SiteServer(world, sources.sites, clock=server.clock) as sites:
        sources.attach(sites)
        t0 = time.perf_counter()
        settings = demo_settings(server, workdir / "data", sites=sites)
        key = ensure_demo_key(settings)
        out.print(f"demo key {key} at {settings.privacy.key_file}")
        results = _crawl_with_progress(world, server, settings, weekly_days(world), sites)
        timings["crawl"] = time.perf_counter() - t0
        out.print(crawl_summary(results))
        pipeline = run_pipeline(world, settings, workdir, console, sources=sources)
        timings.update(pipeline.timings)
        _print_pipeline(pipeline)
        day = all_markets_up(world)
        server.clock.set_day(day)
        print_markets(world, server.urls, day, server.control_url)
        print_sites(sites, day)
        up = {name: url for name, url in {**server.urls, **sites.urls}.items()
              if name in server.urls or sites.index.markets[name].alive(day)}
        for market, status in _check_front_pages(up).items():
            out.print(f"  {market}: front page answered HTTP {status}")
        out.print(locations_table({
            "truth (Parquet)": truth_dir, "data (store, WARC, audit log)": settings.data_dir,
            "pseudonym key": settings.privacy.key_file,
            "channel export (Telegram JSON)": sources.channel_file, "report": pipeline.report,
            "export (CSV + datapackage.json)": pipeline.export}))
        out.print(timing_table(timings))
        out.print(f"demo ready in {time.perf_counter() - started:.1f} s; open {pipeline.report} "
                  "in a browser")
        if keep_serving if keep_serving is not None else sys.stdin.isatty():
            out.print("serving; press Ctrl-C to stop")
            _wait_for_interrupt()
    return pipeline


def _print_pipeline(result: PipelineResult) -> None:
    """Extraction and build counts, then the accuracy: headline beside the targets, details."""
    out.print(pipeline_summary(result))
    for line in result.extract.failed:
        out.print(f"extraction FAILED: {line}", markup=False)
    out.print(accuracy_table(result.accuracy))
    out.print(result.accuracy.report(), markup=False, highlight=False)
    out.print(f"report: {result.charts} charts, {result.suppressed_cells} cells suppressed "
              f"(disclosure control); export: {result.export_tables} tables")


def register(app: typer.Typer) -> None:
    """Add ``dnmwatch demo`` to the root command."""
    app.command("demo")(demo)
