"""``dnmwatch crawl MARKET``: one snapshot of one market into WARC, with progress and summary.

The crawler knows no market; the link source comes from the market's adapter, looked up by the
name in ``markets.<name>.adapter`` through the ``dnmwatch.adapters`` entry point group (how
built-in and outside adapters register), or from a resolver the caller passes to
:func:`register`. ``collect`` never imports ``adapters`` itself (ARCHITECTURE.md).

Exit statuses: 0 finished, 75 paused at a gate (state saved; ``--resume`` continues), 1 failed
(unreachable, seized, or stopped by the circuit breaker; ``--resume`` continues a stopped one).
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
from rich.text import Text

from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.collect.crawler import Crawler, CrawlResult, GateHandler
from dnmwatch.collect.crawler import Progress as CrawlProgress
from dnmwatch.collect.fetch import Fetcher
from dnmwatch.collect.forms import single_field_form, visible_text
from dnmwatch.collect.protocol import LinkSource
from dnmwatch.collect.record import record_result, record_start
from dnmwatch.collect.state import latest_unfinished
from dnmwatch.collect.urls import resolve
from dnmwatch.errors import CaptureError, ConfigError
from dnmwatch.records import Page
from dnmwatch.settings import Settings
from dnmwatch.store import Store

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


def _ask(text: str, *, hide: bool = False) -> str:
    return str(typer.prompt(text, default="", show_default=False, hide_input=hide)).strip()


def _paste_session(fetcher: Fetcher) -> bool:
    """The operator's way round any gate: solve it in Tor Browser, paste that browser's
    session cookie (hidden input: it is a secret) and its User-Agent (markets bind a session
    to the User-Agent it was issued to)."""
    cookie = _ask("Paste the session cookie (name=value; ...) from Tor Browser "
                  "(empty to pause)", hide=True)
    if not cookie:
        return False
    fetcher.load_cookie(cookie)
    agent = _ask("That browser's User-Agent (empty: keep the crawler's)")
    if agent:
        fetcher.set_user_agent(agent)
    return True


def terminal_gate_handler(progress: Progress) -> GateHandler:
    """Ask the operator at a gate: answer a one-field form (a CAPTCHA) or paste a session.

    The page's visible text is shown (escaped, control characters removed, cut short: it is
    hostile input) so a text challenge can be read in the terminal; an image one needs the
    page opened in Tor Browser."""

    async def handle(kind: str, page: Page, fetcher: Fetcher) -> bool:
        progress.stop()
        try:
            html = page.body.decode("utf-8", errors="replace")
            console.print(Text.assemble((kind, "bold yellow"), f" at {page.url}"))
            console.print(Text.assemble("The page says: ", (visible_text(html), "italic")))
            form = single_field_form(html)
            if form is None:
                return _paste_session(fetcher)
            answer = _ask("Answer (empty: paste a session cookie from Tor Browser instead)")
            if not answer:
                return _paste_session(fetcher)
            target = resolve(page.url, form.action or page.url)
            if target is None:
                return False
            result = await fetcher.post(target, {**form.fields, form.text_inputs[0]: answer})
            return result.final is not None
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
        with Store.open(settings.data_dir) as store:
            record_start(store, crawler.crawl_id, market, datetime.now(UTC))
        result = asyncio.run(crawler.run())
    with Store.open(settings.data_dir) as store:
        record_result(store, result, settings.market(market).adapter)
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
        style = {"finished": "green", "paused": "yellow"}.get(result.status, "red")
        console.print(Text(result.message, style=style))
        raise typer.Exit(int(result.exit_code))
