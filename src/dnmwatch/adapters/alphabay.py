"""AlphaBay (2017) listing dataset: CSV rows scraped with the Web Scraper browser extension.

Columns used: ``listing_title``, ``listing_price`` (``"Buy price\\nUSD 50.17\\n\\n(0.0376 BTC)"``;
auctions show a ``Current price`` first, the ``Buy price`` is the one kept), ``listing_vendor``,
``listing_item`` (``"Views: N / Bids: Fixed price\\nQuantity left: 10"`` or ``"Item # 123 -
Stimulants / Cocaine"``), ``detail_qty_sold`` (``"Sold by <vendor> -\\n116 sold since Nov 14,
2015 ... Vendor Level 6 Trust Level 5"``; the vendor named there is never read, the
``listing_vendor`` column is), ``category_id``/``subcategory_id``/``subcategory2_id``.

``detail_price`` (``"Purchase price: USD 3.00"``, read on the listing's own page) is the
fallback when ``listing_price`` shows no price (``null`` in a few rows).

The files were saved by a spreadsheet in Mac Roman with mangled emoji; the CSV source decodes
and repairs the text before it gets here (and counts what it repaired).

Listing ids: the dataset has none in most rows (``listing_link`` holds the title). When
``listing_item`` shows ``Item # N`` that number is the id; otherwise the id is derived from the
vendor's pseudonym and the title (``t_`` + 16 hex of a BLAKE2b digest), which is stable across
the dataset's files for one pseudonym key and reveals nothing about the handle. The capture
day is the date in the file name (``..._-_20170422.csv``), given by the source.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping

from dnmwatch.adapters.html import clean, parse_money
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.records import ListingObservation, Provenance, Record

_BUY = re.compile(r"Buy price\s*(.*)", re.IGNORECASE | re.DOTALL)
_ITEM = re.compile(r"Item\s*#\s*(\d+)", re.IGNORECASE)
_LEFT = re.compile(r"Quantity left:\s*(\d[\d,]*)", re.IGNORECASE)
_SOLD = re.compile(r"(?<![\d,])(\d[\d,]*)\s+sold since", re.IGNORECASE)
"""The look-behind starts a number only at its first digit: without it a long run of digits
not followed by "sold since" is tried from every position (quadratic time on a hostile cell)."""
_MISSING = frozenset({"", "null", "na"})


def _shown(value: str | None) -> str | None:
    text = clean(value)
    return None if text.casefold() in _MISSING else text


def buy_price(text: str | None) -> tuple[float | None, str | None]:
    """``"Buy price\\nUSD 50.17\\n\\n(0.0376 BTC)"`` -> ``(50.17, "USD")``."""
    found = _BUY.search(text or "")
    return parse_money(found.group(1) if found else text)


def derived_id(vendor_id: str | None, title: str) -> str:
    digest = hashlib.blake2b(f"{vendor_id or ''}\x1f{title.casefold()}".encode(),
                             digest_size=8)
    return "t_" + digest.hexdigest()


def _count(pattern: re.Pattern[str], text: str | None) -> int | None:
    found = pattern.search(text or "")
    return int(found.group(1).replace(",", "")) if found else None


class AlphaBayAdapter(RowAdapter):
    name = "alphabay"
    version = "1.1"
    description = "AlphaBay 2017 listing dataset (CSV, USD with BTC, sold counters)"
    columns = frozenset({"listing_title", "listing_price", "listing_vendor", "detail_qty_sold"})

    def read_row(self, row: Mapping[str, str], provenance: Provenance) -> Iterator[Record]:
        if provenance.captured_at is None:
            yield self.reject("missing_field", "no capture date (none in the file name; "
                                               "give --captured-at)")
            return
        title = clean(row.get("listing_title"))
        vendor = self.vendor_id(_shown(row.get("listing_vendor")))
        item = _ITEM.search(row.get("listing_item", ""))
        listing_id = item.group(1) if item else derived_id(vendor, title)
        price, currency = buy_price(row.get("listing_price"))
        if price is None:
            price, currency = parse_money(row.get("detail_price"))
        parts = (_shown(row.get(k)) for k in ("category_id", "subcategory_id", "subcategory2_id"))
        category = " / ".join(dict.fromkeys(p for p in parts if p))
        yield ListingObservation(
            market=self.market, listing_id=listing_id, title=title, vendor_id=vendor,
            price=price, currency=currency, category=category or None,
            stock=_count(_LEFT, row.get("listing_item")),
            sold=_count(_SOLD, row.get("detail_qty_sold")))
