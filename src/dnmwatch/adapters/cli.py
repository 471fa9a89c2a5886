"""``dnmwatch adapters`` and ``dnmwatch parse``: the adapters on the command line.

``parse`` prints JSON lines exactly as ARCHITECTURE.md specifies: for every input one
``{"kind": "page", "source": ..., "page_type": ...}`` line, then one line per record with its
``kind`` (``listing``, ``vendor``, ``feedback`` or ``rejection``). Vendor ids are pseudonyms
made with the key named by ``privacy.key_file``; handles never appear. The key is never created
here: ``dnmwatch keys init`` does that once, and each use is written to the audit log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.registry import AdapterRegistry, describe, load_registry
from dnmwatch.cliopts import ConfigOpt, DataDirOpt, resolve_settings
from dnmwatch.errors import ConfigError
from dnmwatch.privacy.keys import KeyStore
from dnmwatch.records import Page, Provenance, record_to_dict

FilesArg = Annotated[
    list[Path],
    typer.Argument(help="Saved HTML pages.", exists=True, dir_okay=False, readable=True,
                   show_default=False),
]
AdapterOpt = Annotated[
    str | None,
    typer.Option("--adapter", help="Adapter name (see `dnmwatch adapters`). Default: by --url."),
]
UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="The URL the page was fetched from (one input only). Adapters "
                               "read ids and routes from it. Default: the file's file:// URL."),
]
CapturedOpt = Annotated[
    str | None,
    typer.Option("--captured-at", help="Capture time, ISO 8601 (UTC if no offset). "
                                       "Default: the file's modification time."),
]
MarketOpt = Annotated[
    str | None,
    typer.Option("--market", help="Market name written into records (default: adapter name)."),
]


def adapters_command() -> None:
    """List the installed market adapters with their versions."""
    rows = describe(load_registry())
    width = max((len(name) for name, _, _ in rows), default=4)
    for name, version, description in rows:
        typer.echo(f"{name:<{width}}  {version:<6}  {description}".rstrip())


def parse_captured_at(value: str | None, path: Path) -> datetime:
    """``--captured-at`` as an aware UTC datetime, else the file's modification time."""
    if value is None:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--captured-at {value!r} is not an ISO 8601 date or time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def choose_adapter(registry: AdapterRegistry, name: str | None, url: str | None) -> str:
    if name is not None:
        registry.get(name)
        return name
    found = registry.for_url(url) if url else None
    if found is None:
        raise ConfigError("no adapter recognises this input; give --adapter NAME "
                          f"(available: {', '.join(registry.names())})")
    return found.name


def parse_files(adapter: MarketAdapter, files: list[Path], url: str | None,
                captured_at: str | None) -> list[str]:
    """The JSON lines of ``dnmwatch parse`` for ``files`` (a function, so tests can call it)."""
    lines: list[str] = []
    for path in files:
        moment = parse_captured_at(captured_at, path)
        page = Page(url=url or path.resolve().as_uri(), captured_at=moment,
                    body=path.read_bytes(),
                    provenance=Provenance(source=str(path), captured_at=moment))
        head = {"kind": "page", "source": str(path), "page_type": adapter.page_type(page)}
        lines.append(json.dumps(head, ensure_ascii=False))
        lines.extend(json.dumps(record_to_dict(r), ensure_ascii=False)
                     for r in adapter.parse(page))
    return lines


def parse_command(files: FilesArg, adapter: AdapterOpt = None, url: UrlOpt = None,
                  captured_at: CapturedOpt = None, market: MarketOpt = None,
                  config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Print the records an adapter extracts from saved pages, as JSON lines."""
    if url is not None and len(files) > 1:
        raise ConfigError("--url names the address of one page; give one file with it")
    registry = load_registry()
    name = choose_adapter(registry, adapter, url)
    settings = resolve_settings(config, data_dir)
    pseudonymizer = KeyStore.for_settings(settings).load("parse")
    instance = registry.create(name, pseudonymizer, market=market)
    for line in parse_files(instance, files, url, captured_at):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add ``adapters`` and ``parse`` to the root command."""
    app.command("adapters")(adapters_command)
    app.command("parse")(parse_command)
