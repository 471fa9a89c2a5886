"""Normalise one title into the contract columns, and a CSV file into a CSV file.

``normalise_title`` is a pure function of (title, market category): it folds the text once,
tokenises it once, matches the lexicon once and runs the quantity patterns once. The CSV stream
keeps every input column, appends the contract columns, escapes formula injection and counts
bad rows instead of failing on them.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from dnmwatch.errors import NormaliseError
from dnmwatch.normalise.lexicon import Lexicon, default_lexicon, fold, token_spans
from dnmwatch.normalise.quantities import parse_quantity
from dnmwatch.normalise.substances import classify
from dnmwatch.records import Counters

CONTRACT_COLUMNS = (
    "substance",
    "category",
    "form",
    "mass_g",
    "count",
    "dose_value",
    "dose_unit",
    "volume_ml",
    "purity_pct",
)
MAX_TITLE_CHARS = 2000
"""Titles are cut to this length before parsing: bounded work per row on hostile input."""
MAX_CELL_CHARS = 100_000
MAX_ROWS_DEFAULT = 10_000_000
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_DOSE_FORMS = frozenset({"edible", "liquid", "injectable"})


@dataclass(frozen=True, slots=True)
class Normalised:
    """The contract columns for one title (``None`` = not stated)."""

    substance: str
    category: str
    form: str
    mass_g: float | None
    count: int | None
    dose_value: float | None
    dose_unit: str | None
    volume_ml: float | None
    purity_pct: float | None

    def as_row(self) -> dict[str, str]:
        """Strings for a CSV row; numbers without a trailing ``.0``."""
        return {name: _fmt(getattr(self, name)) for name in CONTRACT_COLUMNS}


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else repr(value)
    return str(value)


def normalise_title(
    title: str, market_category: str | None = None, *, lexicon: Lexicon | None = None
) -> Normalised:
    """Substance, form and quantities of one listing title."""
    lex = lexicon if lexicon is not None else default_lexicon()
    folded = fold(title[:MAX_TITLE_CHARS])
    tokens = token_spans(folded)
    matches = lex.match_tokens(tokens)
    sub = classify(matches, market_category)
    if sub.substance == "non_drug":
        return Normalised("non_drug", "non_drug", "", None, None, None, None, None, None)
    q = parse_quantity(
        folded,
        unit_sold=sub.unit_sold,
        dose_form=sub.form in _DOSE_FORMS,
        anchors=sub.anchors,
        cannabis=sub.substance == "cannabis",
        name_start=sub.name_start,
        tokens=tokens,
    )
    return Normalised(
        sub.substance,
        sub.category,
        sub.form,
        q.mass_g,
        q.count,
        q.dose_value,
        q.dose_unit,
        q.volume_ml,
        q.purity_pct,
    )


def escape_cell(value: str) -> str:
    """Defuse CSV formula injection: prefix ``'`` to cells starting with = + - @ tab CR."""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


@dataclass(slots=True)
class StreamResult:
    """Counts of one CSV run."""

    rows: int
    counters: Counters


def normalise_csv(
    src: IO[str],
    dst: IO[str],
    *,
    column: str = "title",
    category_column: str | None = None,
    max_rows: int = MAX_ROWS_DEFAULT,
    progress: Callable[[int], None] | None = None,
) -> StreamResult:
    """Read a CSV, append the contract columns, write a CSV. Bad rows are counted, not fatal.

    Raises :class:`NormaliseError` only when the input cannot be used at all (no header, the
    title column missing).
    """
    csv.field_size_limit(min(sys.maxsize, MAX_CELL_CHARS * 10))
    reader = csv.DictReader(src)
    header = reader.fieldnames
    if not header:
        raise NormaliseError("input CSV has no header row")
    if column not in header:
        raise NormaliseError(f"column {column!r} not in input (have: {', '.join(header)})")
    if category_column is not None and category_column not in header:
        raise NormaliseError(f"category column {category_column!r} not in input")
    extra = [c for c in CONTRACT_COLUMNS if c not in header]
    out_cols = [*header, *extra]
    writer = csv.DictWriter(dst, fieldnames=out_cols, extrasaction="ignore")
    writer.writeheader()
    counters = Counters()
    n = 0
    for row in _rows(reader, counters):
        if n >= max_rows:
            counters.inc("rows_over_limit")
            break
        n += 1
        title = row.get(column) or ""
        if not title.strip():
            counters.inc("empty_title")
        try:
            result = normalise_title(title, row.get(category_column) if category_column else None)
        except (ValueError, TypeError, OverflowError, RecursionError):
            counters.inc("row_error")
            result = None
        if result is not None:
            row.update(result.as_row())
            counters.inc("substance:" + (result.substance or "unrecognised"))
        writer.writerow(
            {
                k: escape_cell(str(v)[:MAX_CELL_CHARS])
                for k, v in row.items()
                if k is not None and v is not None
            }
        )
        if progress is not None:
            progress(n)
    counters.inc("rows", n)
    return StreamResult(n, counters)


def _rows(reader: csv.DictReader[str], counters: Counters) -> Iterator[dict[str, str]]:
    """Rows of a DictReader; a row the csv module cannot parse is counted and skipped."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            counters.inc("bad_csv_row")
            continue
        if None in row:  # more cells than header names
            counters.inc("ragged_row")
            row.pop(None, None)
        yield row


def normalise_titles(titles: Iterable[str]) -> list[Normalised]:
    """Normalise many titles (convenience for notebooks and the benchmark)."""
    lex = default_lexicon()
    return [normalise_title(t, lexicon=lex) for t in titles]
