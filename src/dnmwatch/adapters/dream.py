"""Adapter for Dream Market (2017-2019 design), from saved raw pages.

Pages: category/search results (``?category=N&page=M``: ``div.shopItem`` cards), listings
(``viewProduct?offer=<id>``: ``div.viewProduct`` with ``div.tabularDetails`` label/value rows),
vendor pages (``contactMember?member=<handle>``: profile tab with the PGP key, ratings tab
``&tab=ratings`` with ``table.ratingTable`` rows) and a "Listing not found" page.

Decisions:
* the listing id is the ``offer`` value ("956188.13597"), from the order form or the URL;
* a vendor's ratings tab is a ``feedback`` page: it yields the header's vendor observation and
  one feedback row per line; rating = gold stars counted; date as shown ("9d"); the price paid
  as shown ("~ ฿0.0012" -> 0.0012 BTC); the buyer column is dropped;
* other markets come from the ``externalVendorRef`` badges' titles ("Alphabay vendor rating");
* "Listing not found" is an ``error`` page (a counted ``error_page`` rejection).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.fields import rating_of
from dnmwatch.adapters.html import Document, clean, node_text, parse_amount, parse_int, parse_money
from dnmwatch.adapters.pgp import fingerprint_on_page
from dnmwatch.adapters.realkit import labelled, query_value, raw_text, split_route, strip_bracket
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    PageType,
    Record,
    VendorObservation,
)

_EXTERNAL = re.compile(r"^(?:(?:user|vendor) rating on )?(.+?)(?: vendor rating| total sales|"
                       r" \(|$)", re.IGNORECASE)


def _label_value(node: LexborNode | None) -> str:
    """Text of the value ``<span>`` next to a ``<label>``."""
    return node_text(node.css_first("span")) if node is not None else ""


def _first_text(node: LexborNode | None) -> str:
    """The first text of ``node`` itself: the handle, before its badges and brackets."""
    for child in node.iter(include_text=True) if node is not None else ():
        if child.tag == "-text" and clean(child.text_content):
            return clean(child.text_content)
    return ""


def _markets(nodes: Iterable[LexborNode]) -> tuple[str, ...]:
    out: list[str] = []
    for node in nodes:
        found = _EXTERNAL.match(node.attributes.get("title") or "")
        name = clean(found.group(1)) if found else ""
        if name and name not in out:
            out.append(name)
    return tuple(out)


class DreamAdapter(MarketAdapter):
    name = "dream"
    version = "1.0"
    description = "Dream Market (2018 design): shop pages, listings, vendor profiles and ratings"

    def classify(self, doc: Document) -> PageType:
        if doc.first("div.viewProduct div.tabularDetails") is not None:
            return "listing"
        if doc.first("div.contactMember") is not None:
            return "feedback" if doc.first("table.ratingTable") is not None else "vendor"
        if doc.first("div.shopItem") is not None or doc.first("div.shop div.title") is not None:
            return "index"
        if doc.text("div.content div.title").casefold() == "listing not found":
            return "error"
        if doc.first('div.sidebar.browse a[href*="category="]') is not None \
                and doc.first("div.content") is not None:
            return "index"  # the home page: news, and the category tree to crawl from
        return "unknown"

    # --- records ------------------------------------------------------------------------------
    def parse_index(self, doc: Document) -> Iterator[Record]:
        category = strip_bracket(doc.text("div.shop > div.title")) or None
        for item in doc.css("div.shopItem"):
            link = item.css_first('div.oTitle a[href*="offer="]')
            lid = query_value(link.attributes.get("href"), "offer") if link is not None else None
            if link is None or lid is None:
                yield self.reject("missing_field", "shop item without offer link")
                continue
            price, currency = parse_money(node_text(item.css_first("div.oPrice")))
            src, dst = split_route(node_text(item.css_first("div.oShips")))
            yield ListingObservation(
                market=self.market, listing_id=lid, title=node_text(link),
                vendor_id=self.vendor_id(node_text(item.css_first(
                    'div.oVendor a[href*="member="]:not(.viewRatings)'))),
                price=price, currency=currency, ships_from=src, ships_to=dst, category=category)

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        offer = doc.first('input[name="offer"]')
        lid = (offer.attributes.get("value") if offer is not None else None) \
            or query_value(doc.page.url, "offer")
        if not lid:
            yield self.reject("missing_field", "offer id not in form or URL")
            return
        rows = labelled(doc.css("div.tabularDetails > div"), "label")
        vendor = rows.get("vendor")
        price, currency = parse_money(_label_value(rows.get("price")))
        yield ListingObservation(
            market=self.market, listing_id=lid, title=doc.text("div.viewProduct > div.title"),
            vendor_id=self.vendor_id(node_text(vendor.css_first('a[href*="member="]'))
                                     if vendor is not None else None),
            price=price, currency=currency,
            ships_from=_label_value(rows.get("ships from")) or None,
            ships_to=_label_value(rows.get("ships to")) or None)

    def parse_feedback(self, doc: Document) -> Iterator[Record]:
        vendor = self._vendor(doc)
        if vendor is not None:
            yield vendor
        for tr in doc.css("table.ratingTable tr"):
            tds = tr.css("td")
            if len(tds) < 5:
                continue
            stars = tds[1].css("img.star")
            gold = sum(1 for s in stars if "gold" in (s.attributes.get("src") or "")
                       + (s.attributes.get("alt") or ""))
            price, currency = parse_money(node_text(tds[4]))
            yield FeedbackObservation(
                market=self.market, listing_id=None,
                vendor_id=vendor.vendor_id if vendor is not None else None,
                rating=float(gold) if stars else None, text=node_text(tds[2]),
                posted=node_text(tds[0]), captured_at=doc.page.captured_at,
                price=price, currency=currency if price is not None else None)

    def parse_vendor(self, doc: Document) -> Iterator[Record]:
        vendor = self._vendor(doc)
        if vendor is None:
            yield self.reject("missing_field", "vendor page without a user name")
            return
        yield vendor

    def _vendor(self, doc: Document) -> VendorObservation | None:
        name_cell: LexborNode | None = None
        for tr in doc.css("table.pTable tr"):
            if node_text(tr.css_first("td.ptableLabel")).casefold() == "username":
                cells = tr.css("td")
                name_cell = cells[-1].css_first("span") if len(cells) > 1 else None
        handle = _first_text(name_cell)
        vid = self.vendor_id(handle) or self.vendor_id(query_value(doc.page.url, "member"))
        if vid is None:
            return None
        since = next((_label_value(d) for d in doc.css("div.memberSince")
                      if "join date" in node_text(d.css_first("label")).casefold()), "")
        rating = name_cell.css_first("span.userRating") if name_cell is not None else None
        return VendorObservation(
            market=self.market, vendor_id=vid,
            pgp_fingerprint=fingerprint_on_page(*(raw_text(p) for p in doc.css(
                "div.messagingTab pre, div.preformattedNotes pre"))),
            sales=parse_int(node_text(name_cell.css_first('span[title="Successful transactions"]'))
                            if name_cell is not None else ""),
            rating=rating_of(f"{parse_amount(node_text(rating))}/5") if rating else None,
            member_since=since or None,
            other_markets=_markets(doc.css("div.contactMember span.externalVendorRef")))

    # --- crawling -----------------------------------------------------------------------------
    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        content = doc.first("div.content")
        hrefs = [a.attributes.get("href") or "" for a in content.css("a")] \
            if content is not None else []
        if page_type == "index":
            yield from (h for h in hrefs if "offer=" in h or "page=" in h)
            yield from doc.hrefs('div.sidebar.browse a[href*="category="]')
        elif page_type == "listing":
            for h in hrefs:
                if "member=" in h and "action=" not in h:
                    yield h
                    if "tab=ratings" not in h:
                        yield h.split("#")[0] + "&tab=ratings"
        elif page_type in ("vendor", "feedback"):
            yield from (h for h in hrefs if "tab=ratings" in h or "page=" in h)
