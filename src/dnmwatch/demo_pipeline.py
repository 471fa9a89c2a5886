"""The demo's stages after the crawls: extract, build, accuracy, report, export.

Kept apart from :mod:`dnmwatch.demo` (which generates, serves and crawls) so each file stays
small; like it, this is wiring, allowed to import both the simulator and the pipeline
(ARCHITECTURE.md), and it calls every stage through the same functions as the commands
(``dnmwatch extract``, ``build``, ``report``, ``export``), so the demo shows what the tool does,
not a shortcut of it.

Every stage works in ONE writer session of the store (:func:`run_pipeline`): DuckDB lets a
process hold a database in one mode only, and reopening it between stages would cost more than
the stages that follow the build. Safeguards stay on: vendor handles become pseudonyms with the
demo's own key (loaded through :class:`~dnmwatch.privacy.keys.KeyStore`, each use
audit-logged), the report and the export apply disclosure control with the settings' rules,
and both publications are written to the audit log.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dnmwatch.privacy.disclosure import Rules
from dnmwatch.privacy.keys import KeyStore, Pseudonymizer
from dnmwatch.settings import Settings
from dnmwatch.sim.model import World
from dnmwatch.store import Store

if TYPE_CHECKING:
    from dnmwatch.demo_sources import DemoSources
    from dnmwatch.estimate.accuracy import Accuracy
    from dnmwatch.estimate.build import BuildResult
    from dnmwatch.sources.extract import ExtractSummary

EXTRACT_WORKERS = 2
"""Worker processes for extraction at most (one per core, the demo targets two cores)."""
EXPORT_LABEL = "dnmwatch-demo"
"""The export's release label; an earlier demo export with this label is replaced."""
TARGETS = {"recall": 0.99, "duplicates": 0.005, "revenue": 0.02, "eur_per_gram": 0.02,
           "link_precision": 0.98, "link_recall": 0.90}
"""The acceptance targets of the estimation issue, printed beside the measured figures."""


@dataclass(slots=True)
class PipelineResult:
    """What the stages after the crawls produced, and how long each took (seconds)."""

    extract: ExtractSummary
    build: BuildResult
    accuracy: Accuracy
    report: Path
    charts: int
    suppressed_cells: int
    export: Path
    export_tables: int
    rates: int
    timings: dict[str, float] = field(default_factory=dict)
    sources: DemoSources | None = None
    """The shop, forum and channel export beside the markets (``None``: markets only)."""


def stage_progress(console: Console) -> Progress:
    """The bar every demo stage shows (the crawl's columns, with a free ``detail`` field)."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                    console=console, transient=True)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - started


def load_sim_rates(store: Store, world: World) -> int:
    """The simulated world's daily BTC and USD rates into ``rates`` (what ``dnmwatch rates
    import`` does with ECB and exchange files for a real study); returns the rows written."""
    from dnmwatch.normalise.rates import RateRow
    from dnmwatch.normalise.rates_store import write_rates

    rows = [RateRow(r["day"], r["currency"], float(r["eur_per_unit"]))
            for r in world.table("rates").to_pylist()]
    return write_rates(store.connection, rows, source="simulator")


def extract_crawls(store: Store, settings: Settings, key: Pseudonymizer, console: Console,
                   workers: int | None = None, extra: tuple[Path, ...] = ()) -> ExtractSummary:
    """Every WARC file of the store, and the files ``extra`` (a channel export), into
    observations (``dnmwatch extract DATA/warc EXTRA...``), each market read by the adapter its
    settings name, with a bar over the files."""
    from dnmwatch.adapters.registry import load_registry
    from dnmwatch.sources.extract import default_workers, extract, plan
    from dnmwatch.sources.worker import MarketRoute, TaskResult

    workers = workers or min(EXTRACT_WORKERS, default_workers())
    tasks = plan([store.warc_dir, *extra], load_registry())
    routes = [MarketRoute(name, m.adapter, tuple(m.hosts)) for name, m in
              settings.markets.items()]
    with stage_progress(console) as progress:
        bar = progress.add_task("extracting", total=len(tasks), detail="0 pages")
        pages = 0

        def tick(result: TaskResult) -> None:
            nonlocal pages
            pages += result.written.get("pages", 0)
            progress.update(bar, advance=1, detail=f"{pages:,} pages")

        return extract(store, tasks, key=key, routes=routes, workers=workers, on_result=tick)


def build_with_progress(store: Store, console: Console) -> BuildResult:
    """``dnmwatch build`` with a bar over its steps."""
    from dnmwatch.estimate.build import STEPS, build

    with stage_progress(console) as progress:
        bar = progress.add_task("building", total=len(STEPS), detail="")
        done: list[str] = []

        def step(name: str) -> None:
            if done:
                progress.update(bar, advance=1)
            done.append(name)
            progress.update(bar, detail=name)

        result = build(store, progress=step)
        progress.update(bar, completed=len(STEPS))
    return result


def measure(store: Store, world: World, key: Pseudonymizer,
            sources: DemoSources | None = None) -> Accuracy:
    """The built store against the world's truth. A truth vendor handle is pseudonymised with
    the demo's key; a truth listing id becomes the id its market shows (the ``cards`` engine
    shows an opaque item id instead of the database id). The market figures count the world's
    markets only; each of ``sources`` (shop, forum, channel) gets its recall against its own
    truth (:func:`dnmwatch.demo_sources.measure_sources`)."""
    from dnmwatch.estimate.accuracy import evaluate
    from dnmwatch.sim.server.index import opaque_id

    opaque = frozenset(s.name for s in world.config.markets if s.engine == "cards")

    def listing_key(market: str, listing_id: str) -> str:
        return opaque_id(market, listing_id) if market in opaque else listing_id

    acc = evaluate(store, world.tables, vendor_key=key.vendor_id, listing_key=listing_key,
                   markets=[s.name for s in world.config.markets])
    if sources is not None:
        from dnmwatch.demo_sources import measure_sources

        acc.sources = measure_sources(store, world, key, sources)
    return acc


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_report(store: Store, path: Path, settings: Settings, console: Console
                 ) -> tuple[int, int]:
    """The HTML report (``dnmwatch report -o PATH``) with the settings' disclosure rules,
    audit-logged like the command does; returns (charts, suppressed cells)."""
    from dnmwatch.privacy.audit import AuditLog
    from dnmwatch.report.build import ReportOptions
    from dnmwatch.report.render import write_report as render

    rules = Rules(min_vendors=settings.privacy.min_vendors,
                  dominance_pct=settings.privacy.dominance_pct)
    with stage_progress(console) as progress:
        bar = progress.add_task("writing the report", total=1, detail="")
        content = render(store, path, ReportOptions(rules=rules))
        progress.update(bar, advance=1)
    AuditLog.for_data_dir(settings.data_dir).append("demo", "report", {
        "file": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size,
        "charts": len(content.charts), "suppressed_cells": content.suppressed_cells,
        "scope": content.scope_text})
    return len(content.charts), content.suppressed_cells


def _clear_earlier_export(folder: Path) -> None:
    """Remove an earlier DEMO export so the demo can run again in the same folder; anything
    else there is left alone (``export`` then refuses a non-empty folder)."""
    package = folder / "datapackage.json"
    if not package.is_file():
        return
    try:
        label = json.loads(package.read_text(encoding="utf-8"))["dnmwatch"]["label"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    if label == EXPORT_LABEL:
        shutil.rmtree(folder)


def write_export(store: Store, folder: Path, settings: Settings) -> int:
    """Disclosure-controlled aggregate CSV tables and ``datapackage.json`` (``dnmwatch export
    --format csv``); returns the number of tables."""
    from dnmwatch.privacy.audit import AuditLog
    from dnmwatch.privacy.export import export

    _clear_earlier_export(folder)
    package = export(store.connection, folder, fmt="csv",
                     audit=AuditLog.for_data_dir(settings.data_dir),
                     rules=Rules(settings.privacy.min_vendors, 2, settings.privacy.dominance_pct),
                     label=EXPORT_LABEL, actor="demo")
    return len(package["resources"])


def run_pipeline(world: World, settings: Settings, workdir: Path, console: Console,
                 *, workers: int | None = None, sources: DemoSources | None = None
                 ) -> PipelineResult:
    """Extract the crawls in ``settings.data_dir`` (and the channel export of ``sources``),
    build, measure, write ``WORKDIR/report.html`` and ``WORKDIR/export/``, in one writer
    session of the store."""
    timings: dict[str, float] = {}
    keys = KeyStore.for_settings(settings, actor="demo")
    report, export_dir = workdir / "report.html", workdir / "export"
    with Store.open(settings.data_dir) as store:
        with _timed(timings, "extract"):
            extra = (sources.channel_file,) if sources is not None else ()
            summary = extract_crawls(store, settings, keys.load("extract"), console, workers,
                                     extra)
            rates = load_sim_rates(store, world)
        with _timed(timings, "build"):
            built = build_with_progress(store, console)
        with _timed(timings, "accuracy"):
            acc = measure(store, world, keys.load("accuracy against the simulator's truth"),
                          sources)
        with _timed(timings, "report"):
            charts, suppressed = write_report(store, report, settings, console)
        with _timed(timings, "export"):
            tables = write_export(store, export_dir, settings)
    return PipelineResult(summary, built, acc, report, charts, suppressed, export_dir, tables,
                          rates, timings, sources)


# ------------------------------------------------------------------------------ printing

def _pct(x: float) -> str:
    return f"{x * 100:+.2f}%"


def _within(errors: list[float], bound: float) -> str:
    if not errors:
        return "none measured"
    worst = max(errors, key=abs)
    inside = sum(1 for e in errors if abs(e) <= bound)
    return f"{inside}/{len(errors)} within, worst {_pct(worst)}"


def market_revenue_errors(acc: Accuracy) -> dict[str, float]:
    """Each market's whole-period revenue error (estimate / truth - 1)."""
    est: dict[str, float] = {}
    true: dict[str, float] = {}
    for market, _month, e, t in acc.revenue:
        est[market] = est.get(market, 0.0) + e
        true[market] = true.get(market, 0.0) + t
    return {m: est[m] / true[m] - 1.0 for m in sorted(true) if true[m] > 0}


def accuracy_table(acc: Accuracy) -> Table:
    """The headline figures beside the issue's targets (details in ``acc.report()``)."""
    table = Table(title="accuracy against the simulator's truth")
    table.add_column("figure")
    table.add_column("measured", justify="right")
    table.add_column("target", justify="right")
    table.add_row("feedback recall", f"{acc.recall:.4f} ({acc.matched_feedback:,}/"
                  f"{acc.visible_feedback:,})", f">= {TARGETS['recall']}")
    table.add_row("duplicates", f"{acc.duplicates:.4f}", f"<= {TARGETS['duplicates']}")
    bound = TARGETS["revenue"]
    table.add_row("revenue per market and month",
                  _within([e for *_, e in acc.revenue_errors()], bound), f"±{bound:.0%}")
    table.add_row("revenue per market, whole period",
                  _within(list(market_revenue_errors(acc).values()), bound), f"±{bound:.0%}")
    table.add_row("median EUR/g per substance",
                  _within([e / t - 1 for _, e, t, _ in acc.eur_per_gram],
                          TARGETS["eur_per_gram"]), f"±{TARGETS['eur_per_gram']:.0%}")
    table.add_row("vendor links precision", f"{acc.link_precision:.4f}",
                  f">= {TARGETS['link_precision']}")
    table.add_row("vendor links recall", f"{acc.link_recall:.4f} ({acc.link_pairs[1]} pairs)",
                  f">= {TARGETS['link_recall']}")
    if acc.sources:
        from dnmwatch.demo_sources import floor_of

        for r in acc.sources:
            table.add_row(f"{r.source} {r.what} recall",
                          f"{r.recall:.4f} ({r.found:,}/{r.expected:,})", f">= {floor_of(r)}")
    return table


def pipeline_summary(result: PipelineResult) -> Table:
    """What extraction and the build produced."""
    table = Table(title="extract and build")
    table.add_column("what")
    table.add_column("count", justify="right")
    s = result.extract
    table.add_row("WARC files extracted", f"{s.files:,}")
    table.add_row("pages read", f"{s.pages:,}")
    for kind, n in sorted(s.records.items()):
        table.add_row(f"{kind} observations", f"{n:,}")
    table.add_row("rejections", f"{sum(s.rejections.values()):,}")
    table.add_row("exchange-rate rows", f"{result.rates:,}")
    for name in ("listings", "vendors", "feedback", "sales", "sales_exclusions",
                 "vendor_links"):
        table.add_row(f"{name.replace('_', ' ')} built", f"{result.build.rows.get(name, 0):,}")
    return table


def timing_table(timings: dict[str, float]) -> Table:
    """Seconds per stage and share of the total."""
    total = sum(timings.values())
    table = Table(title=f"stages ({total:.1f} s)")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("share", justify="right")
    for stage, seconds in timings.items():
        table.add_row(stage, f"{seconds:.1f}", f"{seconds / total:.0%}" if total else "-")
    return table


def locations_table(rows: dict[str, Path]) -> Table:
    """Where the demo left each thing."""
    table = Table(title="where everything is")
    table.add_column("what")
    table.add_column("where", overflow="fold")
    for what, path in rows.items():
        table.add_row(what, str(path))
    return table

