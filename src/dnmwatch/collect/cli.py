"""``dnmwatch crawl MARKET``: one snapshot of one market into WARC, with progress and summary.

The crawler knows no market; the link source comes from the market's adapter, looked up by the
name in ``markets.<name>.adapter`` through the ``dnmwatch.adapters`` entry point group (how
built-in and outside adapters register), or from a resolver the caller passes to
:func:`register`. ``collect`` never imports ``adapters`` itself (ARCHITECTURE.md).

Exit statuses: 0 finished, 75 paused at a gate (state saved; ``--resume`` continues), 1 failed.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.collect.crawler import Crawler, CrawlResult, GateHandler
from dnmwatch.collect.crawler import Progress as CrawlProgress
from dnmwatch.collect.fetch import Fetcher
from dnmwatch.collect.forms import single_field_form
from dnmwatch.collect.protocol import LinkSource
from dnmwatch.collect.state import latest_unfinished
from dnmwatch.collect.urls import resolve
from dnmwatch.errors import CaptureError, ConfigError
from dnmwatch.records import Page
from dnmwatch.settings import Settings

ENTRY_POINT_GROUP = "dnmwatch.adapters"
LinkSourceResolver = Callable[[str], LinkSource]
console = Console(stderr=True)


def adapter_link_source(name: str) -> LinkSource:
    """The adapter registered as ``name`` in the ``dnmwatch.adapters`` entry point group."""
    found = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
             if ep.name == name]
    if not found:
        raise ConfigError(f"no adapter named {name!r} is installed "
                          f"(entry point group {ENTRY_POINT_GROUP})")
    obj = found[0].load()
    source = obj() if isinstance(obj, type) else obj
    if not isinstance(source, LinkSource):
        raise ConfigError(f"adapter {name!r} has no page_type()/links(): it cannot drive a crawl")
    return source


def record_crawl(settings: Settings, row: dict[str, object]) -> None:
    """Upsert a row of the store's ``crawls`` table (the store is opened only briefly, so a
    long crawl does not hold the single-writer lock)."""
    from dnmwatch.store import Store

    with Store.open(settings.data_dir) as store:
        store.upsert("crawls", [row])


def terminal_gate_handler(progress: Progress) -> GateHandler:
    """Ask the operator at a gate: answer a one-field form (a CAPTCHA) or paste a cookie."""

    async def handle(kind: str, page: Page, fetcher: Fetcher) -> bool:
        progress.stop()
        try:
            console.print(f"[bold yellow]{kind}[/] at {page.url}")
            form = single_field_form(page.body.decode("utf-8", errors="replace"))
            if form is not None:
                console.print("Open the page in Tor Browser to see the challenge.")
                answer = typer.prompt("Answer (empty to pause)", default="", show_default=False)
                if not answer:
                    return False
                target = resolve(page.url, form.action or page.url)
                if target is None:
                    return False
                fields = {**form.fields, form.text_inputs[0]: answer}
                result = await fetcher.post(target, fields)
                return result.final is not None
            cookie = typer.prompt("Paste a session cookie from Tor Browser (empty to pause)",
                                  default="", show_default=False, hide_input=True)
            if not cookie:
                return False
            fetcher.load_cookie(cookie)
            return True
        finally:
            progress.start()

    return handle


def run_crawl(settings: Settings, market: str, links: LinkSource, *, resume: bool,
              interactive: bool) -> CrawlResult:
    crawl_id = None
    if resume:
        crawl_id = latest_unfinished(settings.data_dir, market)
        if crawl_id is None:
            raise CaptureError(f"no unfinished crawl of {market} to resume")
    columns = (TextColumn("[bold]{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total} pages"), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(market, total=None, info="starting")

        def show(p: CrawlProgress) -> None:
            errors = " ".join(f"{k}={v}" for k, v in sorted(p.errors.items()))
            progress.update(task, completed=p.done + p.failed,
                            total=p.done + p.failed + p.queued + p.in_flight,
                            info=f"{p.pages_per_s:.1f}/s queued={p.queued} {errors}"[:120])

        crawler = Crawler(settings, market, links, data_dir=settings.data_dir,
                          crawl_id=crawl_id, on_progress=show,
                          gate_handler=terminal_gate_handler(progress) if interactive else None)
        record_crawl(settings, {"crawl_id": crawler.crawl_id, "market": market,
                                "started_at": datetime.now(UTC), "status": "running"})
        result = asyncio.run(crawler.run())
    record_crawl(settings, result.store_row())
    return result


def summary(result: CrawlResult) -> Table:
    table = Table(title=f"crawl {result.crawl_id}: {result.status}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("pages captured", str(result.pages_ok))
    table.add_row("pages failed", str(result.pages_failed))
    table.add_row("still queued", str(result.queued))
    for key, value in sorted(result.counters.items()):
        table.add_row(key, str(value))
    table.add_row("WARC files", str(len(result.warc_files)))
    return table


def register(app: typer.Typer, resolver: LinkSourceResolver | None = None) -> None:
    """Add ``dnmwatch crawl`` to ``app``. ``resolver`` maps an adapter name to a link source
    (default: the ``dnmwatch.adapters`` entry points)."""
    find = resolver or adapter_link_source

    @app.command("crawl")
    def crawl(
        market: Annotated[str, typer.Argument(help="Market name from the config file.")],
        config: ConfigOpt = None,
        data_dir: DataDirOpt = None,
        resume: Annotated[bool, typer.Option(
            "--resume", help="Continue the latest unfinished crawl of this market.")] = False,
    ) -> None:
        """Take one snapshot of MARKET into WARC files (through Tor, politely)."""
        settings = resolve_settings(config, data_dir)
        links = find(settings.market(market).adapter)
        result = run_crawl(settings, market, links, resume=resume,
                           interactive=sys.stdin.isatty() and sys.stderr.isatty())
        console.print(summary(result))
        style = "green" if result.status == "finished" else "yellow"
        console.print(f"[{style}]{result.message}[/]")
        raise typer.Exit(int(result.exit_code))
