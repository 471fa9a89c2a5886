"""Adapter for the simulator's ``shop`` design (a single-vendor storefront).

Pages: ``/`` (welcome: ``index``, no records), ``/shop?page=N`` (product cards with price and
stock: ``index``), ``/product/<slug>`` (price, options ``"<label> = <price>"``, stock, ships
from/to, optional latest reviews: ``listing``) and ``/pgp`` (fingerprint, key, ships from:
``vendor``). The vendor of every record is the shop itself (:class:`ShopAdapter`): the name in
the header ``a.brand`` unless configured.

Decisions: the listing id is the product slug the shop exposes (its only stable key); "Sold out"
is a stock of 0; the printed fingerprint is read before the armoured key (the simulator's key
blocks are not real keys, and on a real shop both agree); reviews on a product page are emitted
(a shop has no other review pages).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dnmwatch.adapters.fields import fingerprint, option_tier, rating_of
from dnmwatch.adapters.html import Document, href_of, node_text, parse_int, parse_money, sub_text
from dnmwatch.adapters.pgp import key_fingerprint
from dnmwatch.adapters.shop import ShopAdapter
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    PageType,
    Record,
    VendorObservation,
)


def _stock(text: str) -> int | None:
    if "sold out" in text.casefold():
        return 0
    return parse_int(text) if "stock" in text.casefold() else None


def _product_id(href: str | None) -> str | None:
    parts = [p for p in (href or "").split("?")[0].split("/") if p]
    if len(parts) >= 2 and parts[-2] == "product":
        return parts[-1]
    return None


class SimShopAdapter(ShopAdapter):
    name = "sim-shop"
    version = "1.0"
    description = "simulator engine 'shop' (single-vendor storefront, vendor = the shop)"

    def classify(self, doc: Document) -> PageType:
        if doc.first("header a.brand") is None:
            return "unknown"
        if doc.first("article.item h1") is not None:
            return "listing"
        if doc.first("code.fingerprint") is not None:
            return "vendor"
        if doc.first("main .products") is not None or doc.first("a.enter") is not None:
            return "index"
        return "unknown"

    def site_name(self, doc: Document) -> str | None:
        return doc.text("header a.brand") or None

    def read_products(self, doc: Document) -> Iterator[Record]:
        for card in doc.css("main .products .product"):
            link = card.css_first("a.name")
            lid = _product_id(href_of(link))
            if link is None or lid is None:
                yield self.reject("missing_field", "product card without a link")
                continue
            price, currency = parse_money(sub_text(card, ".price"))
            yield ListingObservation(market=self.market, listing_id=lid, title=node_text(link),
                                     vendor_id=None, price=price, currency=currency,
                                     stock=_stock(sub_text(card, ".stock")))

    def read_product(self, doc: Document) -> Iterator[Record]:
        lid = _product_id(doc.url.path)
        if lid is None:
            yield self.reject("missing_field", "product id not in URL")
            return
        price, currency = parse_money(doc.text("article.item .price"))
        tiers = [option_tier(node_text(o), " = ") for o in doc.css("form.order select option")]
        yield ListingObservation(
            market=self.market, listing_id=lid, title=doc.text("article.item h1"),
            vendor_id=None, price=price, currency=currency,
            ships_from=doc.text("dl.shipping dd.from") or None,
            ships_to=doc.text("dl.shipping dd.to") or None, tiers=tuple(tiers),
            stock=_stock(doc.text("article.item .stock")))
        for review in doc.css("section.reviews li.review"):
            yield FeedbackObservation(
                market=self.market, listing_id=lid, vendor_id=None,
                rating=rating_of(sub_text(review, ".score")), text=sub_text(review, ".text"),
                posted=sub_text(review, ".when"), captured_at=doc.page.captured_at)

    def read_about(self, doc: Document) -> Iterator[Record]:
        vid = self.shop_vendor_id(doc)
        if vid is None:
            return
        pre = doc.first("pre.pgp")
        fpr = fingerprint(doc.text("code.fingerprint")) or key_fingerprint(
            pre.text(deep=True) if pre is not None else None)
        yield VendorObservation(market=self.market, vendor_id=vid, pgp_fingerprint=fpr,
                                ships_from=doc.text("main .from") or None)

    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        if page_type == "index":
            yield from doc.hrefs("a.enter")
            yield from doc.hrefs("main .pager a")
            yield from doc.hrefs("main .products .product a.name")
            yield from doc.hrefs("header nav a")
        elif page_type == "listing":
            yield from doc.hrefs("header nav a")
