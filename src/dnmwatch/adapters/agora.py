"""Agora (2014) product dataset: CSV rows extracted from Gwern's archive of Agora pages.

One row per product page as crawled: ``list`` (the saved page, ``2014-01-01__<id>.html``),
``date`` (crawl day), ``vendor``, ``product`` (title), ``price`` (BTC), ``cat``/``subcat``/
``subsubcat``, ``feedback`` (the page's feedback block as raw text), ``from``/``to`` (ships
from/to as shown, ``NA`` when absent).

The feedback block holds one entry per buyer feedback, laid out as the page indented it::

    5/5                              <- rating line (indented)
    text, possibly over many lines   <- lines inside the text are not indented
    <blank lines>
    5 days ago                       <- date line (indented), relative to the crawl day
    anon ~5/5, 1~2 deals             <- buyer line: dropped, buyer names are never kept

An entry is recognised by its indented rating line and ends at its indented ``... ago`` line,
so a text that itself starts with ``5/5`` is not mistaken for a new entry. An entry without
its date line is a ``malformed_feedback`` rejection.

Derived files of the same dataset (``random-sample100.csv``, ``derived/p14c-*.csv``) hold the
block with its white space collapsed to one line: ``"Feedbacks: 5/5 text 9 days ago anon
~5/5, 1~2 deals 4/5 ..."``. With no line structure left, an entry is a rating, the shortest
text, a date and a buyer ending in his deal count (``[N deals]``, ``[~R/5, ]N~M deals``); the
buyer is dropped as in the laid-out form.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from dnmwatch.adapters.html import clean, parse_amount
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Provenance,
    Record,
    Rejection,
)

_RATING_LINE = re.compile(r"^[ \t]{4,}(\d+(?:\.\d+)?)/5[ \t]*$")
_DATE_LINE = re.compile(r"^[ \t]{4,}(\d+\s+(?:second|minute|hour|day|week|month|year)s?\s+ago)"
                        r"[ \t]*$", re.IGNORECASE)
_FLAT_END = re.compile(
    r"(?<!\d)(\d+ (?:second|minute|hour|day|week|month|year)s? ago) \S+ "
    r"(?:\[\d+ deals?\]|(?:~?\d(?:\.\d+)?/5, )?\d+~\d+ deals?)(?= |$)", re.IGNORECASE)
_FLAT_RATING = re.compile(r"(?<![~\d.])(\d(?:\.\d+)?)/5(?= |$)")
_LIST_ID = re.compile(r"^(?:\d{4}-\d{2}-\d{2}__)?(.+?)(?:\.html?)?$", re.IGNORECASE)
_R_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
_MISSING = frozenset({"", "na", "n/a", "null", "none"})


def shown(value: str | None) -> str | None:
    """A cell as shown, ``None`` for R's ``NA`` and blanks."""
    text = clean(value)
    return None if text.casefold() in _MISSING else text


def listing_id_of(list_file: str) -> str | None:
    """``2014-01-01__a1BkWEipyk.html`` -> ``a1BkWEipyk`` (Agora's product id)."""
    name = clean(list_file).rsplit("/", 1)[-1]
    found = _LIST_ID.match(name)
    return found.group(1) if found and name else None


def btc_price(text: str | None) -> float | None:
    """The ``price`` cell: R wrote small amounts in scientific notation (``1e-04``), which a
    reader of shown prices would take for 1."""
    value = clean(text)
    if _R_NUMBER.fullmatch(value):
        number = float(value)
        return number if math.isfinite(number) else None
    return parse_amount(value)


def row_date(text: str | None) -> datetime | None:
    try:
        day = datetime.strptime(clean(text), "%Y-%m-%d")
    except ValueError:
        return None
    return day.replace(tzinfo=UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class FeedbackEntry:
    rating: float
    text: str
    posted: str | None


def flat_feedback_entries(block: str) -> list[FeedbackEntry]:
    """The entries of a feedback block whose white space was collapsed (buyers dropped).

    Each "date buyer deals" end is found first, then the first rating after the previous end:
    linear time, where one pattern with a lazy text part would be quadratic on a hostile cell.
    """
    text, entries, start = clean(block), [], 0
    for end in _FLAT_END.finditer(text):
        head = _FLAT_RATING.search(text, start, end.start())
        if head is not None:
            entries.append(FeedbackEntry(float(head.group(1)),
                                         text[head.end():end.start()].strip(), end.group(1)))
        start = end.end()
    return entries


def feedback_entries(block: str) -> list[FeedbackEntry]:
    """The entries of a raw feedback block (buyer lines dropped); a block on one line is read
    by :func:`flat_feedback_entries`."""
    if "\n" not in block.strip() and "\r" not in block.strip():
        return flat_feedback_entries(block)
    entries: list[FeedbackEntry] = []
    rating: float | None = None
    text: list[str] = []
    for line in block.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if rating is None:
            head = _RATING_LINE.match(line)
            if head is not None:
                rating, text = float(head.group(1)), []
            continue
        when = _DATE_LINE.match(line)
        if when is not None:
            entries.append(FeedbackEntry(rating, "\n".join(text).strip(), clean(when.group(1))))
            rating = None
            continue
        text.append(line.strip())
    if rating is not None:
        entries.append(FeedbackEntry(rating, "\n".join(text).strip(), None))
    return entries


class AgoraAdapter(RowAdapter):
    name = "agora"
    version = "1.1"
    description = "Agora 2014 product dataset (CSV, price in BTC, embedded feedback)"
    columns = frozenset({"list", "date", "vendor", "product", "price", "feedback"})

    def read_row(self, row: Mapping[str, str], provenance: Provenance) -> Iterator[Record]:
        listing_id = listing_id_of(row.get("list", ""))
        captured = row_date(row.get("date")) or provenance.captured_at
        if captured is None:
            yield self.reject("missing_field", "row without a crawl date")
            return
        prov = dataclasses.replace(provenance, captured_at=captured)
        vendor = self.vendor_id(shown(row.get("vendor")))
        category = " / ".join(c for c in (shown(row.get(k)) for k in ("cat", "subcat",
                                                                      "subsubcat")) if c)
        yield ListingObservation(
            market=self.market, listing_id=listing_id or "", title=clean(row.get("product")),
            vendor_id=vendor, price=btc_price(row.get("price")), currency="BTC",
            ships_from=shown(row.get("from")), ships_to=shown(row.get("to")),
            category=category or None, provenance=prov)
        for entry in feedback_entries(row.get("feedback", "")):
            if entry.posted is None:
                yield Rejection("malformed_feedback", "feedback entry without its date line",
                                provenance=prov)
                continue
            yield FeedbackObservation(
                market=self.market, listing_id=listing_id, vendor_id=vendor,
                rating=entry.rating, text=entry.text, posted=entry.posted,
                captured_at=captured, provenance=prov)
