"""Adapter for Cypher Market (2020 design): its category index pages.

Pages: ``/category/<uuid>?page=N`` (Bootstrap cards: ``h4.card-title`` title, "From: 10 $ -
Opiates -" subtitle with the lowest price and the category, "Stock: 5000" badge, the vendor
badge linking ``/vendor/<uuid>``), listings at ``/product/<uuid>``.

Decisions: only index pages are in the archive this adapter was built from (ht-weng's
2020-09-17 crawl), so only ``index`` is recognised; the listing id is the product UUID; the price
is the "From:" amount as shown ("10 $" -> 10.0 USD, the lowest option; Cypher shows no tiers
on cards); the category is the one printed on the card (the page title names the top
category). Listing and vendor pages are ``unknown`` until an archive has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.html import Document, clean, node_text, parse_int, parse_money
from dnmwatch.adapters.realkit import path_after
from dnmwatch.records import ListingObservation, PageType, Record


class CypherAdapter(MarketAdapter):
    name = "cypher"
    version = "1.0"
    description = "Cypher Market (2020 design): category index pages (cards)"
    hosts = ("jcnhui6sgumsawtd.onion",)

    def classify(self, doc: Document) -> PageType:
        if doc.first('div.card a[href*="/product/"]') is not None \
                and doc.first("div.card h4.card-title") is not None:
            return "index"
        if doc.first('div.categories a[href*="/category/"]') is not None:
            return "index"  # a page past the last one, or the home page: categories only
        return "unknown"

    def parse_index(self, doc: Document) -> Iterator[Record]:
        for card in doc.css("div.card"):
            title = card.css_first("h4.card-title")
            link = card.css_first('a[href*="/product/"]')
            if title is None or link is None:
                continue
            lid = path_after(link.attributes.get("href"), "product")
            if lid is None:
                yield self.reject("missing_field", "card without product id")
                continue
            sub = card.css_first("p.card-subtitle")
            price, currency = parse_money(node_text(sub.css_first("strong")) if sub else "")
            category = clean(sub.text(deep=False)).strip(" -") if sub is not None else ""
            stock = next((node_text(b.css_first("strong")) for b in card.css("span.badge")
                          if node_text(b).startswith("Stock")), "")
            yield ListingObservation(
                market=self.market, listing_id=lid, title=node_text(title),
                vendor_id=self.vendor_id(node_text(card.css_first('a[href*="/vendor/"]'))),
                price=price, currency=currency, category=category.removeprefix("From:").strip(
                    " -") or None, stock=parse_int(stock))

    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        for href in doc.hrefs("a"):
            if "/product/" in href or "/vendor/" in href or ("/category/" in href
                                                             and "page=" in href):
                yield href
