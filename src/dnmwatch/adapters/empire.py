"""Adapter for Empire Market (2018-2020 design), from saved raw pages.

Pages: search results and category pages (``div.col-1search`` rows), the home page (featured
``div.col-2`` cards), listings (``/product/<id>/<cat>/<n>``: ``div.listDes`` and a
``table.productTbl`` of label/value cell pairs), user profiles (``/u/<handle>``, tabs About,
Positive/Negative/Neutral/Left Feedback and PGP under ``Profile/setUserTab/<tab>/<token>``) and
a bare ``<meta http-equiv=refresh>`` page that sends a logged-out crawler to ``/index/login``.

Decisions:
* the listing id is the number Empire prints as "Item #" and puts in every listing action link
  (favourite, report, tabs); it is read from those links, the page URL only as a fallback;
* a profile showing a received-feedback tab is a ``feedback`` page and yields the profile's
  vendor observation as well as the rows; the "Left Feedback" tab (feedback the user gave as a
  buyer) is treated as the plain profile, its rows are not about this vendor;
* positive/neutral/negative feedback becomes 5/3/1 (:data:`realkit.POLARITY`); the "Market
  Positive feedback" percentage becomes the vendor rating on 0-5;
* the buyer column ("b***s" and the price paid) keeps only the price;
* the meta-refresh page is a ``gate:login`` when it points at a login URL;
* the PGP fingerprint is computed from the key block of the PGP tab (:mod:`.pgp`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.html import Document, clean, node_text, parse_int, parse_money
from dnmwatch.adapters.pgp import fingerprint_on_page
from dnmwatch.adapters.realkit import path_after, percent_rating, polarity_rating, raw_text
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    PageType,
    Record,
    VendorObservation,
)

_ITEM_LINE = re.compile(r"Item\s*#\s*(\d+)\s*-\s*(.*?)\s*-(?:\s|$)")
_LISTING_ACTION = re.compile(
    r"/(?:addFavorite_listing|markalert|reportPage|setTab)/(\d+)(?:/|$)", re.IGNORECASE)
_ICON_POLARITY = {"feedback1": "positive", "feedback2": "neutral", "feedback3": "negative"}
_VERIFIED = re.compile(r"^Verified (.+?) successful sales", re.IGNORECASE)
_FEEDBACK_TABS = ("/p_feedback/", "/n_feedback/", "/c_feedback/")


def _vendor_link(node: LexborNode | Document) -> LexborNode | None:
    return node.css_first('a[href*="/u/"]') if isinstance(node, LexborNode) \
        else node.first('a[href*="/u/"]')


def _own_text(node: LexborNode | None) -> str:
    """Text of ``node`` itself, without its children (a handle before its badges)."""
    return clean(node.text(deep=False)) if node is not None else ""


class EmpireAdapter(MarketAdapter):
    name = "empire"
    version = "1.0"
    description = "Empire Market (2019 design): listings, profiles, feedback, search pages"
    hosts = ("empiremktxgjovhm.onion", "empiremktw5g6njb.onion")

    def classify(self, doc: Document) -> PageType:
        if doc.first("div.listDes h2") is not None:
            return "listing"
        if doc.first("h3.user_info_mid_head") is not None:
            focus = " ".join(doc.hrefs("div.tab a.tablinks.focus"))
            if doc.first("table.user_feedbackTbl") is not None \
                    and any(t in focus for t in _FEEDBACK_TABS):
                return "feedback"
            return "vendor"
        if doc.first("div.col-1search, div.feature-listing") is not None \
                or doc.text("div.right-content h2").startswith("Search Results"):
            return "index"
        refresh = doc.first('meta[http-equiv="refresh" i]')
        if refresh is not None and "login" in (refresh.attributes.get("content") or "").lower():
            return "gate:login"
        return "unknown"

    # --- records ------------------------------------------------------------------------------
    def parse_index(self, doc: Document) -> Iterator[Record]:
        for row in doc.css("div.col-1search"):
            link = row.css_first('div.head a[href*="/product/"]')
            item = row.css_first("div.head p.padp")
            if link is None or item is None:
                yield self.reject("missing_field", "search row without product link")
                continue
            found = _ITEM_LINE.search(clean(item.text(deep=False, separator=" ")))
            head_node = row.css_first("div.head")
            head = clean(head_node.text(deep=True, separator=" ")) if head_node else ""
            price, currency = parse_money(node_text(row.css_first("div.col-1right p.bold")))
            yield ListingObservation(
                market=self.market,
                listing_id=found.group(1) if found else path_after(
                    link.attributes.get("href"), "product") or "",
                title=node_text(link), vendor_id=self.vendor_id(node_text(_vendor_link(item))),
                price=price, currency=currency,
                category=(found.group(2) or None) if found else None,
                stock=parse_int(_after(head, "Quantity left:")),
                sold=parse_int(_after(head, "Sales:")))
        for card in doc.css("div.feature-listing div.col-2"):
            lines = card.css("p.paddingInit")
            if len(lines) < 3:
                continue
            titles = [a for a in lines[0].css('a[href*="/product/"]') if node_text(a)]
            found = _ITEM_LINE.search(clean(lines[1].text(deep=False, separator=" ")))
            if not titles or found is None:
                yield self.reject("missing_field", "featured card without item line")
                continue
            price, currency = parse_money(node_text(lines[2]))
            yield ListingObservation(
                market=self.market, listing_id=found.group(1), title=node_text(titles[0]),
                vendor_id=self.vendor_id(node_text(_vendor_link(lines[1]))), price=price,
                currency=currency, category=found.group(2) or None)

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        lid = self._listing_id(doc)
        if lid is None:
            yield self.reject("missing_field", "listing id not in links or URL")
            return
        info = doc.first("div.listDes")
        cells: dict[str, str] = {}
        for tr in doc.css("table.productTbl tbody tr"):
            tds = tr.css("td")
            for i in range(0, len(tds) - 1, 2):
                cells.setdefault(node_text(tds[i]).casefold(), node_text(tds[i + 1]))
        sold = next((node_text(s) for s in info.css("span") if "sold since" in node_text(s)),
                    "") if info is not None else ""
        price, currency = parse_money(doc.text("div.listDes p.padp span"))
        path = [node_text(a) for a in doc.css("div.sub_head_inner_header h3 a")]
        yield ListingObservation(
            market=self.market, listing_id=lid, title=doc.text("div.listDes h2"),
            vendor_id=self.vendor_id(node_text(_vendor_link(info) if info else None)),
            price=price, currency=currency,
            ships_from=cells.get("origin country") or None,
            ships_to=cells.get("ships to") or None,
            category=" / ".join(p for p in path if p) or None,
            stock=parse_int(cells.get("quantity left")), sold=parse_int(sold))

    def parse_feedback(self, doc: Document) -> Iterator[Record]:
        vendor = self._vendor(doc)
        if vendor is not None:
            yield vendor
        vid = vendor.vendor_id if vendor is not None else None
        for tr in doc.css("table.user_feedbackTbl tr"):
            tds = tr.css("td")
            if len(tds) < 4:
                continue
            img = tds[0].css_first("img")
            icon = (img.attributes.get("src") or "") if img is not None else ""
            polarity = next((v for k, v in _ICON_POLARITY.items() if k in icon), "")
            paid_p = tds[2].css_first("p")
            paid = clean(paid_p.text(deep=False, separator=" ")) if paid_p is not None else ""
            price, currency = parse_money(paid)
            date_p = tds[3].css_first("p")
            item = tds[3].css_first('a[href*="/product/"]')
            yield FeedbackObservation(
                market=self.market,
                listing_id=path_after(item.attributes.get("href"), "product") if item else None,
                vendor_id=vid, rating=polarity_rating(polarity),
                text=node_text(tds[1].css_first("p.feedback_msg")),
                posted=_own_text(date_p), captured_at=doc.page.captured_at,
                price=price, currency=currency if price is not None else None)

    def parse_vendor(self, doc: Document) -> Iterator[Record]:
        vendor = self._vendor(doc)
        if vendor is None:
            yield self.reject("missing_field", "profile without a handle")
            return
        yield vendor

    # --- helpers ------------------------------------------------------------------------------
    def _listing_id(self, doc: Document) -> str | None:
        for href in doc.hrefs("a"):
            found = _LISTING_ACTION.search(href)
            if found:
                return found.group(1)
        return path_after(doc.page.url, "product")

    def _vendor(self, doc: Document) -> VendorObservation | None:
        head = doc.first("h3.user_info_mid_head")
        vid = self.vendor_id(_own_text(head))
        if vid is None:
            return None
        mid = doc.first("div.user_info_mid")
        since = next((node_text(p.css_first("span.bold1")) for p in
                      (mid.css("p") if mid is not None else ())
                      if "member since" in node_text(p).casefold()), "")
        markets = []
        for span in doc.css("div.user_info_mid span[title]"):
            found = _VERIFIED.match(span.attributes.get("title") or "")
            if found and found.group(1) not in markets:
                markets.append(found.group(1))
        keys = [raw_text(n) for n in doc.css("div.tabcontent_user_feedback pre")]
        return VendorObservation(
            market=self.market, vendor_id=vid, pgp_fingerprint=fingerprint_on_page(*keys),
            sales=parse_int(node_text(head.css_first("span")) if head is not None else ""),
            rating=percent_rating(doc.text("div.user_info_mid p.bold")),
            member_since=since or None, other_markets=tuple(markets))

    # --- crawling -----------------------------------------------------------------------------
    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        hrefs = list(doc.hrefs("a"))
        if page_type == "index":
            yield from (h for h in hrefs if "/product/" in h or "/category/categories/" in h)
        elif page_type == "listing":
            yield from (h for h in hrefs if h.lower().rstrip("/").endswith("/feed"))
            yield from (h for h in hrefs if "/u/" in h)
        elif page_type in ("feedback", "vendor"):
            yield from (h for h in hrefs
                        if any(t in h for t in _FEEDBACK_TABS) or "/setUserTab/pgp/" in h)


def _after(text: str, label: str) -> str:
    """The text right after ``label`` in ``text`` (up to the next "/"), "" when absent."""
    at = text.find(label)
    return text[at + len(label):].split("/", 1)[0] if at >= 0 else ""
