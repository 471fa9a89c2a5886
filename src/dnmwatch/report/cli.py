"""``dnmwatch report``: write the self-contained HTML report of a store.

Registered on the root command by :func:`register` (the coordinator wires it into
``dnmwatch.cli``). Reads the layered settings (``--config``, ``--data-dir``; disclosure rules
from ``privacy.min_vendors`` and ``privacy.dominance_pct``), opens the store read-only, and
writes the publication to the audit log (file name, size, hash, suppressed cells).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.errors import ConfigError


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} must be a date like 2020-03-16, got {value!r}") from None


def report(
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path(
        "report.html"
    ),
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD), inclusive.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")
    ] = None,
    markets: Annotated[
        list[str] | None,
        typer.Option("--markets", "--market", help="Only these markets (repeatable)."),
    ] = None,
    event: Annotated[
        str | None,
        typer.Option("--event", help="Day of an event to compare before/after (YYYY-MM-DD)."),
    ] = None,
    window: Annotated[
        int,
        typer.Option("--window", min=1, max=3650, help="Days before/after closures and events."),
    ] = 30,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the indicators as one self-contained HTML report (charts inlined, no network)."""
    from dnmwatch.estimate.indicators import Scope
    from dnmwatch.privacy.audit import AuditLog
    from dnmwatch.privacy.disclosure import Rules
    from dnmwatch.report.build import ReportOptions
    from dnmwatch.report.render import report_from_data_dir

    settings = resolve_settings(config, data_dir)
    try:
        scope = Scope(_day(date_from, "--from"), _day(date_to, "--to"), tuple(markets or ()))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    rules = Rules(
        min_vendors=settings.privacy.min_vendors, dominance_pct=settings.privacy.dominance_pct
    )
    options = ReportOptions(
        scope=scope, event_day=_day(event, "--event"), window_days=window, rules=rules
    )
    content = report_from_data_dir(settings.data_dir, output, options)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    AuditLog.for_data_dir(settings.data_dir).append(
        "dnmwatch report",
        "report",
        {
            "file": output.name,
            "sha256": digest,
            "bytes": output.stat().st_size,
            "charts": len(content.charts),
            "suppressed_cells": content.suppressed_cells,
            "scope": content.scope_text,
        },
    )
    state = "empty store: explanatory page" if content.empty else f"{len(content.charts)} charts"
    typer.echo(f"wrote {output} ({state}, {content.suppressed_cells} cells suppressed)")


def register(app: typer.Typer) -> None:
    """Add ``report`` to the root command."""
    app.command("report")(report)
