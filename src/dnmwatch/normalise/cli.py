"""Command line of the normalise stage: ``dnmwatch normalise`` and ``dnmwatch rates import``.

The coordinator's ``cli.py`` calls :func:`register`. Errors are raised as
:class:`~dnmwatch.errors.DnmwatchError` subclasses and shown by the top-level handler.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.errors import NormaliseError

PROGRESS_MIN_BYTES = 1_000_000
"""Inputs larger than this get a Rich progress bar (by bytes read)."""


def normalise_command(
    input_csv: Annotated[Path, typer.Argument(help="CSV file with a column of listing titles.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output CSV path.")],
    column: Annotated[
        str, typer.Option("--column", "-c", help="Name of the title column.")
    ] = "title",
    category_column: Annotated[
        str | None,
        typer.Option("--category-column", help="Market category column (tie-breaker only)."),
    ] = None,
    max_rows: Annotated[
        int, typer.Option("--max-rows", help="Stop after this many rows.")
    ] = 10_000_000,
) -> None:
    """Add substance, category, form, mass_g, count, dose_value, dose_unit, volume_ml and
    purity_pct columns to a CSV of listing titles."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from dnmwatch.normalise.pipeline import normalise_csv

    try:
        size = input_csv.stat().st_size
        src = input_csv.open(newline="", encoding="utf-8", errors="replace")
        dst = output.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        raise NormaliseError(f"cannot open {exc.filename}: {exc.strerror}") from exc
    with src, dst:
        if size >= PROGRESS_MIN_BYTES:
            with Progress(
                TextColumn("normalising"),
                BarColumn(),
                TextColumn("{task.completed:,} rows"),
                TimeRemainingColumn(),
                transient=True,
            ) as bar:
                task = bar.add_task("rows", total=None)
                result = normalise_csv(
                    src,
                    dst,
                    column=column,
                    category_column=category_column,
                    max_rows=max_rows,
                    progress=lambda n: bar.update(task, completed=n) if n % 1000 == 0 else None,
                )
        else:
            result = normalise_csv(
                src, dst, column=column, category_column=category_column, max_rows=max_rows
            )
    counts = result.counters.counts
    unrecognised = counts.get("substance:unrecognised", 0)
    bad = sum(v for k, v in counts.items() if k in ("bad_csv_row", "ragged_row", "row_error"))
    typer.echo(
        f"{result.rows:,} rows -> {output} ({unrecognised:,} unrecognised, {bad:,} bad rows)"
    )


def rates_import_command(
    file: Annotated[Path, typer.Argument(help="Rate file: ECB history, generic, or a BTC series.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="auto | ecb | generic | bchain | yahoo | coindesk")
    ] = "auto",
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Import daily exchange rates into the store's ``rates`` table (EUR per unit)."""
    from dnmwatch.normalise.rates import FORMATS, read_rate_file
    from dnmwatch.normalise.rates_store import load_rate_table, write_rates
    from dnmwatch.store import Store

    if fmt not in FORMATS:
        raise NormaliseError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    with Store.open(resolve_settings(config, data_dir).data_dir) as store:
        conn = store.connection
        usd = load_rate_table(conn, ["USD"])
        parsed = read_rate_file(file, fmt, usd=usd)
        written = write_rates(conn, parsed.rows, source=file.name)
    rejected = ", ".join(f"{k}={v}" for k, v in sorted(parsed.counters.counts.items()))
    typer.echo(
        f"{written:,} rates imported from {file.name}"
        + (f" (skipped: {rejected})" if rejected else "")
    )


def register(app: typer.Typer) -> None:
    """Add ``normalise`` and the ``rates`` group (``rates import``) to the main app."""
    app.command("normalise")(normalise_command)
    rates = typer.Typer(
        help="Exchange rates (ECB, crypto) used to convert prices to EUR.", no_args_is_help=True
    )
    rates.command("import")(rates_import_command)
    app.add_typer(rates, name="rates")
