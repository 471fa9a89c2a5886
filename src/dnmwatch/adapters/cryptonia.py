"""Adapter for Cryptonia Market (2019 design), from saved raw pages.

Pages: product tables (``/products?...``, rows with ``a.growlink``), listings
(``/product/<id>``: ``div.product_data`` blocks of ``<label>`` + value), user profiles
(``/user/<handle>``: counters, "Verifications" from other markets, the PGP key in
``textarea.ascii_armour_textarea`` and the vendor's received feedback in ``#feedback_div``).

Decisions:
* the listing id is the number of the listing's "Report" link (``Reporting product #<id>``),
  the URL only as a fallback (a saved page has no URL);
* a profile is a ``vendor`` page; its feedback rows are emitted with it (Cryptonia has no
  separate feedback pages: the feedback tab is part of the profile). The rows on a listing page
  are the vendor's latest feedback on all products, the same rows as the profile: not emitted;
* rows carry no listing link (only the product title), so their ``listing_id`` is ``None``;
  the price paid is kept in the crypto-currency shown ("0.23110000 BTC");
* check/cross icons are positive/negative feedback (5/1); another icon is neutral (3);
* "Canada → Worldwide" is split into ships from / ships to; "In stock: 17 112g" -> 17.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.html import Document, clean, node_text, parse_int, parse_money
from dnmwatch.adapters.pgp import fingerprint_on_page
from dnmwatch.adapters.realkit import (
    labelled,
    path_after,
    percent_rating,
    raw_text,
    split_route,
)
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    PageType,
    Record,
    VendorObservation,
)

_REPORTED = re.compile(r"Reporting product #(\d+)")
_CLAIM = re.compile(r"^\s*([^:]{1,60}?)\s*:")


def _handle(node: LexborNode | None) -> str:
    return clean(node.text(deep=False)) if node is not None else ""


class CryptoniaAdapter(MarketAdapter):
    name = "cryptonia"
    version = "1.0"
    description = "Cryptonia Market (2019 design): product tables, listings, profiles+feedback"

    def classify(self, doc: Document) -> PageType:
        if doc.first("a.growlink") is not None \
                or doc.first("div.mainarea_inner h2 span.icono-caretRightSquare") is not None:
            return "index"
        if doc.first("div.product_details div.product_data") is not None \
                or doc.first('div.mainarea_inner a[href*="Reporting+product"]') is not None:
            return "listing"
        if doc.first("div.mainarea_inner h2 span.icono-user") is not None:
            return "vendor"
        return "unknown"

    # --- records ------------------------------------------------------------------------------
    def parse_index(self, doc: Document) -> Iterator[Record]:
        heading = doc.first("div.mainarea_inner h2 span.icono-caretRightSquare")
        shown = node_text(heading.parent) if heading is not None and heading.parent else ""
        category = shown.removesuffix("Products").strip() or None
        for tr in doc.css("tr"):
            link = tr.css_first("td.product a.growlink")
            if link is None:
                continue
            lid = path_after(link.attributes.get("href"), "product")
            if lid is None:
                yield self.reject("missing_field", "product row without product link")
                continue
            route = next((node_text(s) for s in tr.css("td.product div span")
                          if "→" in node_text(s)), "")
            src, dst = split_route(route)
            prices = [node_text(s) for s in tr.css("td.price span.listprice")]
            price, currency = parse_money(next((p for p in prices if parse_money(p)[1]), ""))
            yield ListingObservation(
                market=self.market, listing_id=lid, title=node_text(link),
                vendor_id=self.vendor_id(node_text(tr.css_first('td.vendor a[href^="/user/"]'))),
                price=price, currency=currency, ships_from=src, ships_to=dst, category=category)

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        lid = self._listing_id(doc)
        if lid is None:
            yield self.reject("missing_field", "listing id not in links or URL")
            return
        data = labelled(doc.css("div.product_details div.product_data"), "label")
        seller = data.get("sold by")
        price_node = data.get("price")
        price, currency = parse_money(node_text(price_node.css_first("span"))
                                      if price_node is not None else "")
        ships = data.get("ships from")
        route = node_text(ships.css_first("div.lbllist")) if ships is not None else ""
        src, dst = split_route(route)
        yield ListingObservation(
            market=self.market, listing_id=lid, title=doc.text("div.mainarea_inner h2"),
            vendor_id=self.vendor_id(node_text(seller.css_first('a[href^="/user/"]'))
                                     if seller is not None else None),
            price=price, currency=currency, ships_from=src, ships_to=dst,
            category=_value(data.get("category")) or None,
            stock=_leading_int(_value(data.get("in stock"))))

    def parse_vendor(self, doc: Document) -> Iterator[Record]:
        head = doc.first("div.mainarea_inner h2")
        vid = self.vendor_id(_handle(head))
        if vid is None:
            yield self.reject("missing_field", "profile without a handle")
            return
        info = labelled(doc.css("div.inline_div > div"), "label")
        claims = [node_text(s) for s in info["verifications"].css("span.verified")] \
            if "verifications" in info else []
        markets = tuple(dict.fromkeys(m.group(1) for c in claims if (m := _CLAIM.match(c))))
        yield VendorObservation(
            market=self.market, vendor_id=vid,
            pgp_fingerprint=fingerprint_on_page(*(raw_text(t) for t in doc.css(
                "#pgp_div textarea, #pgp_div pre"))),
            ships_from=_value(info.get("ships from")) or None,
            sales=parse_int(node_text(head.css_first("span.lgtext")) if head else ""),
            rating=percent_rating(_value(info.get("positive"))),
            member_since=_value(info.get("member since")) or None, other_markets=markets)
        for tr in doc.css("#feedback_div tr"):
            cell = tr.css_first("td.rating_cell")
            if cell is None:
                continue
            icon = cell.css_first("span")
            kind = (icon.attributes.get("class") or "") if icon is not None else ""
            rating = 5.0 if "checkCircle" in kind else 1.0 if "crossCircle" in kind else 3.0
            shown = [node_text(s) for s in tr.css("td.rating_user span.rating_date")]
            price, currency = parse_money(shown[1] if len(shown) > 1 else "")
            yield FeedbackObservation(
                market=self.market, listing_id=None, vendor_id=vid, rating=rating,
                text=node_text(tr.css_first("td.rating_message p")),
                posted=shown[0] if shown else "", captured_at=doc.page.captured_at,
                price=price, currency=currency if price is not None else None)

    # --- helpers ------------------------------------------------------------------------------
    def _listing_id(self, doc: Document) -> str | None:
        for href in doc.hrefs('a[href*="Reporting"]'):
            found = _REPORTED.search(unquote(href.replace("+", " ")))
            if found:
                return found.group(1)
        return path_after(doc.page.url, "product")

    # --- crawling -----------------------------------------------------------------------------
    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        hrefs = list(doc.hrefs("a"))
        if page_type == "index":
            yield from (h for h in hrefs if h.startswith("/product/") or "page=" in h)
        elif page_type == "listing":
            yield from (h for h in hrefs if h.startswith("/user/") and "#" not in h)
        elif page_type == "vendor":
            yield from (h for h in hrefs if h.startswith("/products/") or "page=" in h)


def _leading_int(text: str) -> int | None:
    """``"17 112g"`` (17 units of 112 g) -> 17: the count before the unit, never "17112"."""
    found = re.match(r"\s*(\d{1,18})\b", text)
    return int(found.group(1)) if found else None


def _value(node: LexborNode | None) -> str:
    """The shown value of a ``<label>``-plus-value block (its text minus the label)."""
    if node is None:
        return ""
    label = node.css_first("label")
    text = clean(node.text(deep=True, separator=" "))
    lead = clean(label.text(deep=True, separator=" ")) if label is not None else ""
    return text[len(lead):].strip(" :") if lead and text.startswith(lead) else text
