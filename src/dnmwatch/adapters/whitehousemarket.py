"""Adapter for White House Market (2020 design): its listing index pages.

Pages: ``/welcome?display=all&page=N`` and ``/welcome?sc=<sub category>`` (one
``div.listinglist`` per listing: vendor ``userinfo?user=<handle>``, category ``welcome?sc=N``,
title ``welcome?action=show&listing=<id>``, the price in the vendor's currency ("USD 85"), its
conversions in a drop-down, and "Ships from: / Ships to:" lines).

Decisions: only index pages are in the archive this adapter was built from (ht-weng's
2020-09-17 crawl), so only ``index`` is recognised; the listing id is the ``listing`` query
value; the price is the one in ``<strong>`` (the listing's own currency), not a conversion;
"In stock" carries no count, so ``stock`` stays ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.html import Document, node_text, parse_money
from dnmwatch.adapters.realkit import query_value
from dnmwatch.records import ListingObservation, PageType, Record


def _line(row: LexborNode, label: str) -> str | None:
    """Value of the first ``<p>`` reading "``label`` value" in ``row``."""
    for p in row.css("p"):
        text = node_text(p)
        if text.startswith(label):
            return text[len(label):].strip() or None
    return None


class WhiteHouseMarketAdapter(MarketAdapter):
    name = "whitehousemarket"
    version = "1.0"
    description = "White House Market (2020 design): listing index pages"

    def classify(self, doc: Document) -> PageType:
        if doc.first('div.listinglist a[href*="action=show"]') is not None:
            return "index"
        if doc.first('a.catbutton[href^="welcome"]') is not None:
            return "index"  # the home page: the category menu, no listings
        return "unknown"

    def parse_index(self, doc: Document) -> Iterator[Record]:
        for row in doc.css("div.listinglist"):
            link = next((a for a in row.css('a[href*="action=show"]') if node_text(a)), None)
            if link is None:
                continue
            lid = query_value(link.attributes.get("href"), "listing")
            if lid is None:
                yield self.reject("missing_field", "row without listing id")
                continue
            price, currency = parse_money(node_text(row.css_first("strong")))
            yield ListingObservation(
                market=self.market, listing_id=lid, title=node_text(link),
                vendor_id=self.vendor_id(node_text(row.css_first('a[href^="userinfo?user="]'))),
                price=price, currency=currency, ships_from=_line(row, "Ships from:"),
                ships_to=_line(row, "Ships to:"),
                category=node_text(row.css_first('a[href*="sc="]')) or None)

    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        for href in doc.hrefs("a"):
            if "action=show" in href or href.startswith("userinfo?user=") or (
                    "page=" in href and "sortby" not in href) or "sc=" in href \
                    or href.startswith("welcome?c="):
                yield href
