"""``dnmwatch build``: consolidate + estimate over the store, with progress and a summary.

Wire it with ``register(app)`` from ``dnmwatch.cli``. The summary lists the rows of every
derived table, the exclusions by reason, and the lower-bound revenue beside the corrected one
when a feedback probability is given.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.estimate.build import STEPS, BuildOptions, BuildResult, build
from dnmwatch.store import Store


def _summary(store: Store, result: BuildResult, console: Console) -> None:
    head = "nothing changed since the last build" if result.skipped else "build complete"
    console.print(f"[bold]{head}[/bold] (inputs {result.fingerprint[:12]})")
    rows = Table("table", "rows", title="derived tables")
    for name, n in result.rows.items():
        rows.add_row(name, f"{n:,}")
    console.print(rows)
    reasons = Table("reason", "count", title="exclusions and rejections")
    for reason, n in result.exclusions().items():
        reasons.add_row(reason, f"{n:,}")
    console.print(reasons)
    lower, corrected = store.fetchall(
        "SELECT coalesce(sum(price_eur), 0), coalesce(sum(price_eur * weight), 0) FROM sales")[0]
    line = f"revenue lower bound: EUR {lower:,.0f}"
    if abs(corrected - lower) > 1e-6:
        line += f"   corrected (weight = 1/feedback probability): EUR {corrected:,.0f}"
    console.print(line)


def build_command(
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
    feedback_rate: Annotated[
        float | None,
        typer.Option("--feedback-rate", min=0.01, max=1.0,
                     help="Assumed share of buyers leaving feedback, for the corrected figure "
                          "reported beside the lower bound (default: no correction)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if nothing changed.")
                     ] = False,
) -> None:
    """Consolidate snapshots and estimate sales (incremental: a second run changes nothing)."""
    settings = resolve_settings(config, data_dir)
    console = Console()
    with Store.open(settings.data_dir) as store:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                      TextColumn("{task.completed}/{task.total}"), console=console,
                      transient=True) as bar:
            task = bar.add_task("build", total=len(STEPS))

            def step(name: str) -> None:
                bar.update(task, description=f"build: {name}",
                           completed=STEPS.index(name) if name in STEPS else 0)

            result = build(store, BuildOptions(feedback_probability=feedback_rate),
                           force=force, progress=step)
            bar.update(task, completed=len(STEPS))
        _summary(store, result, console)
    from dnmwatch.privacy.audit import AuditLog

    AuditLog.for_data_dir(settings.data_dir).append(
        "cli", "build", {"skipped": result.skipped, "rows": result.rows, "forced": force}
    )


def register(app: typer.Typer) -> None:
    """Add ``dnmwatch build`` to the main command."""
    app.command("build")(build_command)
