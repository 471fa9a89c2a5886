"""CSV datasets of listings -> rows (column name -> text), with provenance and repaired text.

Research datasets of old markets come as CSV files made by many tools: R and pandas exports in
UTF-8, spreadsheets saved by Excel for Mac (Mac Roman, ``\\r`` line ends), scrapes whose text
was decoded with the wrong code page on the way. A row adapter should see clean text, so this
reader:

* picks the file's encoding from its first MiB: UTF-8 if that decodes strictly, else whichever
  of Windows-1252 and Mac Roman decodes it into more plausible text (accented letters of
  European languages rather than symbols: byte 0x8A is ``ä`` in Mac Roman, ``Š`` in
  Windows-1252); the choice is counted (``csv:encoding:<name>``);
* repairs mojibake in every field, run by run: a run of non-ASCII characters that, encoded
  back with a code page (the file's own, then Windows-1252, then Mac Roman), is valid UTF-8 is
  replaced by that UTF-8 text (``"Ã¤"`` -> ``"ä"``, ``"Œæ"`` -> ``"ξ"``); runs that do not
  round-trip (bytes lost for good, e.g. emoji mangled by a spreadsheet) are left as they are.
  Repaired fields are counted (``csv:repaired_fields``);
* streams the file (constant memory), and counts rather than raises on a malformed row.

Provenance of a row: the file, the row's number (1 = first data row) and the capture time the
caller knows for the file (``--captured-at`` or a date in the path); adapters prefer a date
written in the row itself.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dnmwatch.records import Counters, Provenance, Rejection

SNIFF_BYTES = 1 << 20
FIELD_LIMIT = 16 * 1024 * 1024
"""Largest field accepted (embedded feedback blocks can be long)."""
MAX_BAD_ROWS_IN_A_ROW = 1000
_RUN = re.compile(r"[^\x00-\x7f]+")
_REPAIR_CODECS = ("cp1252", "mac_roman")
_EIGHT_BIT = ("cp1252", "mac_roman")
"""Candidates for a file that is not UTF-8, in order of preference on a tie; Mac Roman decodes
any byte, so there is always an answer."""
_LIKELY = frozenset("äöüÄÖÜßéèêëÉàâáÀÂíìîïóòôõÓúùûÚñÑçÇøØåÅæÆœ€£°±×«»–—‘’“”…")


def _plausibility(text: str) -> int:
    """Letters of European languages count for a code page, other non-ASCII against it."""
    return sum(1 if ch in _LIKELY else -1 for ch in text if not ch.isascii())


def sniff_encoding(sample: bytes) -> str:
    """The encoding of a file whose first bytes are ``sample`` (see the module docstring)."""
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    scores: dict[str, int] = {}
    for name in _EIGHT_BIT:
        try:
            scores[name] = _plausibility(sample.decode(name))
        except UnicodeDecodeError:
            continue
    return max(scores, key=lambda name: scores[name])


def repair_text(text: str, encoding: str = "utf-8") -> str:
    """``text`` with every mojibake run that round-trips to UTF-8 replaced (see above)."""
    if text.isascii():
        return text
    order = tuple(dict.fromkeys(c for c in (encoding, *_REPAIR_CODECS) if c != "utf-8"))

    def fix(match: re.Match[str]) -> str:
        run = match.group(0)
        for name in order:
            try:
                fixed = run.encode(name).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if fixed != run:
                return fixed
        return run

    return _RUN.sub(fix, text)


class CsvSource:
    """The rows of one CSV file, as ``(provenance, row)`` pairs and counted problems."""

    def __init__(self, path: Path, *, captured_at: datetime | None = None,
                 counters: Counters | None = None) -> None:
        self.path = Path(path)
        self.source = str(self.path)
        self.captured_at = captured_at
        self.counters = counters if counters is not None else Counters()
        self.header: list[str] = []
        self.encoding = "utf-8"

    def _problem(self, reason: str, detail: str, offset: int | None) -> Rejection:
        self.counters.inc(f"csv:{reason}")
        return Rejection(reason=reason, detail=detail, source=self.source,
                         provenance=Provenance(source=self.source, offset=offset,
                                               captured_at=self.captured_at))

    def read_header(self) -> list[str]:
        """The header row alone (to choose an adapter before reading the file)."""
        for item in self.rows():
            if isinstance(item, Rejection):
                continue
            break
        return self.header

    def rows(self) -> Iterator[tuple[Provenance, dict[str, str]] | Rejection]:
        if csv.field_size_limit() < FIELD_LIMIT:
            csv.field_size_limit(min(FIELD_LIMIT, sys.maxsize))
        try:
            raw = self.path.open("rb")
        except OSError as exc:
            yield self._problem("unreadable_file", exc.strerror or type(exc).__name__, None)
            return
        with raw:
            self.encoding = sniff_encoding(raw.read(SNIFF_BYTES))
            self.counters.inc(f"csv:encoding:{self.encoding}")
            raw.seek(0)
            codec = "utf-8-sig" if self.encoding == "utf-8" else self.encoding
            text = io.TextIOWrapper(raw, encoding=codec, errors="replace", newline="")
            yield from self._parse(csv.reader(text))

    def _parse(self, reader: Iterator[list[str]]) -> Iterator[
            tuple[Provenance, dict[str, str]] | Rejection]:
        number, bad = 0, 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                bad += 1
                yield self._problem("bad_row", f"csv.Error: {str(exc)[:80]}", number + 1)
                if bad >= MAX_BAD_ROWS_IN_A_ROW:
                    yield self._problem("unreadable_file", "too many malformed rows", None)
                    return
                continue
            bad = 0
            if not self.header:
                self.header = [repair_text(c.strip(), self.encoding) for c in cells]
                continue
            number += 1
            if not any(c.strip() for c in cells):
                self.counters.inc("csv:blank_rows")
                continue
            if len(cells) != len(self.header):
                self.counters.inc("csv:ragged_rows")
            row: dict[str, str] = {}
            for name, cell in zip(self.header, cells, strict=False):
                fixed = repair_text(cell, self.encoding)
                if fixed != cell:
                    self.counters.inc("csv:repaired_fields")
                row.setdefault(name, fixed)
            self.counters.inc("csv:rows")
            yield Provenance(source=self.source, offset=number,
                             captured_at=self.captured_at), row
