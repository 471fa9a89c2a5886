"""Options shared by every sub-command, and how they become :class:`~dnmwatch.settings.Settings`.

Each command that touches the store takes ``--data-dir`` and ``--config`` itself (so they can be
written after the sub-command, where users type them); both feed the *command line* layer of
the settings, the highest one. ``DNMWATCH_DATA_DIR`` and the other ``DNMWATCH_*`` variables are
read by :func:`dnmwatch.settings.load_settings`, nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dnmwatch.settings import Settings, load_settings

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Store folder (DuckDB file + warc/). Default: $DNMWATCH_DATA_DIR or ./dnmwatch-data.",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML settings file (default: $DNMWATCH_CONFIG).", show_default=False
    ),
]


def resolve_settings(
    config: Path | None = None,
    data_dir: Path | None = None,
    overrides: dict[str, object] | None = None,
) -> Settings:
    """Settings from every layer, with the command line's values on top."""
    cli: dict[str, object] = dict(overrides or {})
    if data_dir is not None:
        cli["data_dir"] = data_dir
    return load_settings(config, overrides=cli)
