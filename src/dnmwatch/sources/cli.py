"""``dnmwatch extract PATH...``: WARC files, mirror folders and CSV datasets into the store.

Progress goes to stderr (a Rich bar over the input bytes); the summary of records and of
rejections by reason goes to stdout, so it can be kept in a log. Vendor handles never appear:
records carry pseudonyms made with the key named by ``privacy.key_file`` (created beforehand
by ``dnmwatch keys init``; its use is audit-logged), and contact details in free text are
scrubbed before storage (counted in the ``scrubbed:`` line).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from dnmwatch.adapters.cli import AdapterOpt, CapturedOpt, MarketOpt
from dnmwatch.adapters.registry import load_registry
from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.errors import ConfigError
from dnmwatch.privacy.keys import KeyStore
from dnmwatch.records import Counters
from dnmwatch.sources.extract import ExtractSummary, Runner, default_workers, extract, plan
from dnmwatch.sources.worker import MarketRoute, TaskResult
from dnmwatch.store import Store

PathsArg = Annotated[
    list[Path],
    typer.Argument(help="WARC files, folders (of WARC files, or an HTML mirror) or CSV files.",
                   exists=True, show_default=False),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Worker processes (default: one per core)."),
]
RunnerScope = Callable[[int], AbstractContextManager[Runner | None]]
"""Given the number of workers, a context that yields where tasks run (``None``: the built-in
process pool); :mod:`dnmwatch.scale.cli` passes one that starts or joins a Dask cluster."""
BaseUrlOpt = Annotated[
    str | None,
    typer.Option("--base-url", help="Mirror folders: the URL the folder's root stood for "
                                    "(adapters read ids from URLs)."),
]


def parse_moment(value: str | None) -> datetime | None:
    """``--captured-at`` as an aware UTC datetime (``None`` when not given)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--captured-at {value!r} is not an ISO 8601 date or time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1],
                                                                                    kv[0])))


def format_summary(summary: ExtractSummary) -> list[str]:
    """The summary lines ``extract`` prints."""
    mb = summary.bytes / 1e6
    lines = [f"extracted {summary.files} file(s), {mb:.1f} MB in {summary.seconds:.1f} s: "
             f"{summary.pages} pages ({summary.pages_per_s:.0f} pages/s)",
             f"records: {_pairs(summary.records) or 'none'}",
             f"rejections: {_pairs(summary.rejections) or 'none'}",
             f"scrubbed: {_pairs(summary.scrubbed) or 'none'}"]
    problems = {k: v for k, v in summary.counters.items()
                if k.split(":", 1)[0] in ("warc", "csv", "mirror", "plan")
                and not k.endswith((":pages", ":rows")) and ":type:" not in k}
    if problems:
        lines.append(f"inputs: {_pairs(problems)}")
    lines += [f"FAILED {line}" for line in summary.failed]
    return lines


def extract_command(paths: PathsArg, adapter: AdapterOpt = None, market: MarketOpt = None,
                    captured_at: CapturedOpt = None, base_url: BaseUrlOpt = None,
                    workers: WorkersOpt = None, config: ConfigOpt = None,
                    data_dir: DataDirOpt = None) -> None:
    """Extract listings, vendors and feedback from WARC files, mirrors or CSV datasets."""
    run_extract(paths, adapter=adapter, market=market, captured_at=captured_at,
                base_url=base_url, workers=workers, config=config, data_dir=data_dir)


def run_extract(paths: list[Path], *, adapter: str | None, market: str | None,
                captured_at: str | None, base_url: str | None, workers: int | None,
                config: Path | None, data_dir: Path | None, scope: RunnerScope | None = None,
                spool_dir: Path | None = None) -> None:
    """The body of ``extract`` (shared with the cluster variant of the command): plan, run
    with a progress bar, print the summary; exit 1 when a task failed (its inputs are
    quarantined, the others extracted)."""
    settings = resolve_settings(config, data_dir)
    registry = load_registry()
    if adapter is not None:
        registry.get(adapter)
    counters = Counters()
    tasks = plan(paths, registry, adapter, counters=counters)
    key = KeyStore.for_settings(settings).load("extract")
    routes = [MarketRoute(name, m.adapter, tuple(m.hosts)) for name, m in
              settings.markets.items()]
    moment = parse_moment(captured_at)
    console = Console(stderr=True)
    n_workers = workers or default_workers()
    runners = scope(n_workers) if scope is not None else nullcontext(None)
    with Store.open(settings.data_dir) as store, runners as runner, Progress(
            TextColumn("[bold]extract"), BarColumn(), DownloadColumn(),
            TextColumn("{task.fields[pages]} pages"), TimeElapsedColumn(),
            console=console, transient=False) as progress:
        bar = progress.add_task("extract", total=sum(t.size for t in tasks) or 1, pages=0)
        pages = [0]

        def advance(result: TaskResult) -> None:
            pages[0] += result.written.get("pages", 0)
            progress.update(bar, advance=result.task.size, pages=pages[0])

        summary = extract(store, tasks, key=key, adapter=adapter, market=market,
                          captured_at=moment,
                          base_url=base_url, routes=routes, workers=n_workers,
                          on_result=advance, runner=runner, spool_dir=spool_dir)
    summary.counters = {**counters.counts, **summary.counters}
    for line in format_summary(summary):
        typer.echo(line)
    if summary.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``extract`` to the root command."""
    app.command("extract")(extract_command)
