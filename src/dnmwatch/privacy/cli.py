"""Command line of the safeguards: ``keys``, ``audit``, ``export`` and ``purge``.

Registered on the root command by :func:`register` (the coordinator wires it into
``dnmwatch.cli``). Every command reads the layered settings (``--config``, ``--data-dir``),
raises :class:`~dnmwatch.errors.DnmwatchError` subclasses for the root command to print, and
writes what it did to the audit log of the data directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.privacy.keys import KeyStore
from dnmwatch.settings import Settings


def _keystore(settings: Settings) -> KeyStore:
    return KeyStore(
        settings.privacy.key_file, settings.data_dir, AuditLog.for_data_dir(settings.data_dir)
    )


def keys_init(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Create the pseudonymisation key (256 bits, mode 0600) at privacy.key_file."""
    ks = _keystore(resolve_settings(config, data_dir))
    fp = ks.init()
    typer.echo(f"created key {fp} at {ks.path}")
    typer.echo("Back it up somewhere safe and offline: without it, pseudonyms cannot be re-made.")


def keys_rotate(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Replace the key; the old one is kept as <key>.old-YYYY-MM-DD for re-keying."""
    ks = _keystore(resolve_settings(config, data_dir))
    old_path, old_fp, new_fp = ks.rotate()
    typer.echo(f"new key {new_fp} at {ks.path}; old key {old_fp} kept at {old_path}")
    typer.echo("Re-key the store (see docs/data-protection.md), then delete the old key.")


def keys_show_path(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Print where the key file is (never the key)."""
    typer.echo(str(resolve_settings(config, data_dir).privacy.key_file))


def audit_verify(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Check the hash chain of the audit log; exit status 1 and the first bad seq if broken."""
    log = AuditLog.for_data_dir(resolve_settings(config, data_dir).data_dir)
    result = log.verify()
    if result.ok:
        typer.echo(f"audit log intact: {result.entries} entries")
        return
    typer.secho(
        f"audit log BROKEN at seq {result.first_bad_seq}: {result.reason} "
        f"({result.entries} entries verified before it)",
        err=True,
        fg=typer.colors.RED,
    )
    raise typer.Exit(1)


def audit_show(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    last: Annotated[int, typer.Option("--last", min=0, help="Only the last N entries.")] = 0,
    head: Annotated[bool, typer.Option("--head", help="Print the head seq and hash.")] = False,
) -> None:
    """Print audit entries as JSON lines (or the head, to copy somewhere safe)."""
    log = AuditLog.for_data_dir(resolve_settings(config, data_dir).data_dir)
    if head:
        typer.echo(json.dumps(log.head()))
        return
    entries = list(log.entries())
    for entry in entries[-last:] if last else entries:
        typer.echo(json.dumps(entry, sort_keys=True, ensure_ascii=True))


def export_cmd(
    out: Annotated[Path, typer.Option("-o", "--out", help="Empty or new folder to write.")],
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    label: Annotated[
        str | None, typer.Option("--label", help="Name of the release (audit log).")
    ] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write disclosure-controlled aggregate tables and a datapackage.json."""
    from dnmwatch.privacy.export import ExportError, export
    from dnmwatch.store import DB_NAME, Store

    if fmt not in ("parquet", "csv"):
        raise ExportError(f"--format must be parquet or csv, not {fmt!r}")
    settings = resolve_settings(config, data_dir)
    rules = Rules(settings.privacy.min_vendors, 2, settings.privacy.dominance_pct)
    fresh = not (settings.data_dir / DB_NAME).exists()
    with Store.open(settings.data_dir, read_only=not fresh) as store:
        package = export(
            store.connection,
            out,
            fmt="csv" if fmt == "csv" else "parquet",
            audit=AuditLog.for_data_dir(settings.data_dir),
            rules=rules,
            label=label,
        )
    for res in package["resources"]:
        typer.echo(f"wrote {out / res['path']}")
    typer.echo(f"wrote {out / 'datapackage.json'}")


def purge_cmd(
    apply_: Annotated[
        bool, typer.Option("--apply/--dry-run", help="Delete for real (default: dry run).")
    ] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Apply retention: delete old WARC files and blank old free text (dry run by default)."""
    from dnmwatch.privacy import retention
    from dnmwatch.store import Store

    settings = resolve_settings(config, data_dir)
    with Store.open(settings.data_dir) as store:
        todo = retention.plan(
            store.connection,
            store.warc_dir,
            warc_days=settings.privacy.warc_retention_days,
            text_days=settings.privacy.text_retention_days,
        )
        verb = "deleting" if apply_ else "would delete"
        for item in todo.files:
            typer.echo(f"{verb} {item.path} ({item.size} bytes, {item.modified:%Y-%m-%d})")
        for column, n in todo.text.items():
            typer.echo(f"{'blanking' if apply_ else 'would blank'} {n} cells of {column}")
        if not apply_:
            typer.echo("dry run: nothing changed; run with --apply to purge")
            return
        done = retention.apply(
            store.connection,
            todo,
            audit=AuditLog.for_data_dir(settings.data_dir),
            warc_root=store.warc_dir,
        )
    typer.echo(
        f"purged {len(done.files)} files ({done.bytes} bytes), {sum(done.text.values())} cells"
    )


def register(app: typer.Typer) -> None:
    """Add ``keys``, ``audit``, ``export`` and ``purge`` to the root command."""
    keys_app = typer.Typer(help="The pseudonymisation key.", no_args_is_help=True)
    keys_app.command("init")(keys_init)
    keys_app.command("rotate")(keys_rotate)
    keys_app.command("show-path")(keys_show_path)
    audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
    audit_app.command("verify")(audit_verify)
    audit_app.command("show")(audit_show)
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
    app.command("export")(export_cmd)
    app.command("purge")(purge_cmd)
