"""How an input's path is written to the store's ``source`` columns.

Why: ``pages.source``, ``rejections.source`` and the ``*_observations.source`` columns say
which file a row came from, so that a page can be found again in its WARC file. Planning
resolves inputs to absolute paths (workers may run in another folder or on another machine),
and an absolute path names the researcher's account (``/home/alice/dnmwatch/warc/...``). A
copy of the store handed to a colleague or a data-protection officer would carry it.

The rule, the same for every ``source`` column and applied by the single writer
(:mod:`dnmwatch.sources.writer`):

* an input under the data directory is stored relative to it (``warc/m/c-00000.warc.gz``), as
  ``crawls.warc_path`` already is;
* else an input under the home directory is stored as ``~/...``;
* else it is stored as given (resolved to an absolute path); such inputs should live in
  folders whose names identify nobody.

Values that are not paths (a page URL used as provenance) never match a prefix and stay as
they are. The rule exists twice, in Python (:func:`stored_source`) and as a SQL expression
over spooled Parquet rows (:func:`stored_source_sql`), both built from :func:`prefixes` so
that they cannot disagree.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_MARK = "~" + os.sep


def _home() -> Path | None:
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        return None
    return home if home != Path(home.anchor) else None


def prefixes(data_dir: Path) -> list[tuple[str, str]]:
    """``(prefix, replacement)`` pairs, most specific first: the data directory, then home."""
    pairs = [(str(Path(data_dir).resolve()) + os.sep, "")]
    home = _home()
    if home is not None:
        pairs.append((str(home) + os.sep, HOME_MARK))
    return pairs


def stored_source(source: str, data_dir: Path) -> str:
    """``source`` as the store keeps it (see the module docstring)."""
    for prefix, replacement in prefixes(data_dir):
        if source.startswith(prefix):
            return replacement + source[len(prefix):]
    return source


def stored_text(text: str, data_dir: Path) -> str:
    """``text`` (an error message, which may quote a path anywhere) with every occurrence of
    the data directory and home prefixes shortened as :func:`stored_source` does."""
    for prefix, replacement in prefixes(data_dir):
        text = text.replace(prefix, replacement)
    return text


def stored_source_sql(column: str, data_dir: Path) -> tuple[str, list[object]]:
    """A DuckDB expression giving :func:`stored_source` of ``column``, and its parameters in
    the order of their ``?`` placeholders."""
    quoted = '"' + column.replace('"', '""') + '"'
    cases: list[str] = []
    params: list[object] = []
    for prefix, replacement in prefixes(data_dir):
        cases.append(f"WHEN starts_with({quoted}, ?) THEN ? || substr({quoted}, ?)")
        params += [prefix, replacement, len(prefix) + 1]
    return f"CASE {' '.join(cases)} ELSE {quoted} END", params
