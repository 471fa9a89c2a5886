"""Adapter for Apollon Market (2019-2020 design), from saved raw pages.

Pages: category and search pages (``home.php?cid=..&csid=..&pg=N``: a table of listings with
"Item #N -|- Created .. -|- Category / Sub -|- vendor" lines), listings (``listing.php?ls_id=N``,
"Label : value" pairs in ``<small>`` elements), user profiles (``user.php?u_id=<handle>``,
tabs 1 profile, 2/3/4 positive/neutral/negative feedback, 6 PGP key) and a plain 404 page.

Decisions:
* a profile showing tab 2, 3 or 4 is a ``feedback`` page; it yields the vendor observation of
  its header and the rows, rated 5/3/1 after the tab (positive/neutral/negative); a row's
  "Price" has no currency printed, so ``currency`` stays ``None`` (as shown);
* a buyer's profile ("User Type : Buyer") is a counted ``buyer_profile`` rejection, not a
  vendor observation (its name is never pseudonymised or kept);
* other markets are the "Imported Feedback" badges, named by their icon file ("dream");
* the "Error 404" page is an ``error`` page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.html import Document, clean, node_text, parse_int, parse_money
from dnmwatch.adapters.pgp import fingerprint_on_page
from dnmwatch.adapters.realkit import (
    percent_rating,
    polarity_rating,
    query_value,
    raw_text,
    strip_bracket,
)
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    PageType,
    Record,
    VendorObservation,
)

_FEEDBACK_TABS = {"2": "positive", "3": "neutral", "4": "negative"}
_LABELS = ("Sold", "Origin Country", "Ship to", "Payment", "Product class", "Quantity",
           "Sales", "Orders", "Member since", "Last Login", "Positive Feedback", "User Type",
           "Won/Lost Disputes", "FE", "Verified Seller", "Trusted Seller", "Views", "XMR")
_ICON_NAME = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\.(?:png|jpe?g|gif|svg)$", re.IGNORECASE)


def _fields(node: LexborNode | None) -> dict[str, str]:
    """"Label : value" pairs of a block: each ``<b>Label :</b>`` and the rest of the ``<small>``
    (or ``<span>``) holding it, else the next element ("Ship to :" puts its value in the next
    ``<small>``)."""
    if node is None:
        return {}
    out: dict[str, str] = {}
    for bold in node.css("b"):
        shown = node_text(bold)
        label = shown.rstrip(" :")
        if not shown.endswith(":") or label not in _LABELS:
            continue
        holder: LexborNode | None = bold.parent
        while holder is not None and holder.tag not in ("small", "span", "p", "div"):
            holder = holder.parent
        if holder is not None and holder.tag == "span" and holder.parent is not None \
                and holder.parent.tag == "small":
            holder = holder.parent
        text = node_text(holder) if holder is not None else ""
        value = text[text.find(shown) + len(shown):].strip(" :") if shown in text else ""
        if not value and holder is not None:
            sibling = holder.next
            while sibling is not None and sibling.tag in ("-text", "br") \
                    and not clean(sibling.text_content or ""):
                sibling = sibling.next
            value = node_text(sibling) if sibling is not None else ""
        out.setdefault(label.casefold(), value)
    return out


class ApollonAdapter(MarketAdapter):
    name = "apollon"
    version = "1.0"
    description = "Apollon Market (2019 design): category pages, listings, profiles, feedback"

    def classify(self, doc: Document) -> PageType:
        if doc.first('a[href*="fvlst=1"]') is not None:
            return "listing"
        if doc.text("div.page-header h3").startswith("User Profile"):
            return "feedback" if self._feedback_tab(doc) else "vendor"
        if doc.first('div#page-wrapper table a[href^="listing.php?ls_id="]') is not None \
                or doc.first('div#page-wrapper a[href^="home.php?cid="]') is not None:
            return "index"
        if "error 404" in doc.text("title").casefold():
            return "error"
        return "unknown"

    # --- records ------------------------------------------------------------------------------
    def parse_index(self, doc: Document) -> Iterator[Record]:
        for row in doc.css("div#page-wrapper table tr"):
            link = next((a for a in row.css('a[href^="listing.php?ls_id="]') if node_text(a)),
                        None)
            if link is None:
                continue
            lid = query_value(link.attributes.get("href"), "ls_id")
            if lid is None:
                yield self.reject("missing_field", "row without listing id")
                continue
            path = [node_text(a) for a in row.css('a[href^="home.php?cid="]')]
            info = _fields(row)
            price, currency = parse_money(info.get("sale price") or _sale_price(row))
            yield ListingObservation(
                market=self.market, listing_id=lid, title=node_text(link),
                vendor_id=self.vendor_id(node_text(row.css_first('a[href^="user.php?u_id="]'))),
                price=price, currency=currency, category=" / ".join(path) or None,
                stock=parse_int(info.get("quantity")),
                sold=parse_int(info.get("sold")))

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        lid = query_value(next(doc.hrefs('a[href*="fvlst=1"]'), None), "ls_id") \
            or query_value(doc.page.url, "ls_id")
        if lid is None:
            yield self.reject("missing_field", "listing id not in links or URL")
            return
        table = doc.first("div.panel-body table.table")
        info = _fields(table)
        vendor = table.css_first('a[href^="user.php?u_id="]') if table is not None else None
        price, currency = parse_money(_sale_price(table))
        yield ListingObservation(
            market=self.market, listing_id=lid,
            title=node_text(table.css_first('a[href^="?ls_id="]') if table else None)
            or doc.text("title").removesuffix("- Apollon Market").strip(),
            vendor_id=self.vendor_id(strip_bracket(node_text(vendor))), price=price,
            currency=currency, ships_from=info.get("origin country") or None,
            ships_to=info.get("ship to") or None, stock=parse_int(info.get("quantity")),
            sold=parse_int(info.get("sold")))

    def parse_feedback(self, doc: Document) -> Iterator[Record]:
        vendor = self._vendor(doc)
        if vendor is not None:
            yield vendor
        rating = polarity_rating(_FEEDBACK_TABS.get(self._feedback_tab(doc) or "", ""))
        for tr in doc.css("div.tab-content table tbody tr"):
            tds = tr.css("td")
            if len(tds) < 5:
                continue
            item = tds[4].css_first('a[href*="ls_id="]')
            price, currency = parse_money(node_text(tds[3]))
            date = tds[4].css_first("small")
            yield FeedbackObservation(
                market=self.market,
                listing_id=query_value(item.attributes.get("href"), "ls_id") if item else None,
                vendor_id=vendor.vendor_id if vendor is not None else None, rating=rating,
                text=node_text(tds[1].css_first("small")),
                posted=clean(date.text(deep=False)) if date is not None else "",
                captured_at=doc.page.captured_at, price=price, currency=currency)

    def parse_vendor(self, doc: Document) -> Iterator[Record]:
        info = _fields(doc.first("div.panel-body div.col-sm-12"))
        if info.get("user type", "").casefold() == "buyer":
            yield self.reject("buyer_profile", "a buyer's profile: not a vendor")
            return
        vendor = self._vendor(doc)
        if vendor is None:
            yield self.reject("missing_field", "profile without a user name")
            return
        yield vendor

    # --- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _feedback_tab(doc: Document) -> str | None:
        tab = query_value(next(doc.hrefs("ul.nav-tabs li.active a"), None), "tab")
        return tab if tab in _FEEDBACK_TABS else None

    def _vendor(self, doc: Document) -> VendorObservation | None:
        head = doc.first("div.panel-body div.col-sm-12")
        if head is None:
            return None
        vid = self.vendor_id(strip_bracket(node_text(head.css_first("div.col-sm-5 a b"))))
        if vid is None:
            return None
        info = _fields(head)
        markets: list[str] = []
        for panel in doc.css("div.panel-body div.col-sm-6"):
            if "imported feedback" in node_text(panel.css_first("h4")).casefold():
                for img in panel.css("img"):
                    found = _ICON_NAME.search(img.attributes.get("src") or "")
                    if found and found.group(1) not in markets:
                        markets.append(found.group(1))
        return VendorObservation(
            market=self.market, vendor_id=vid,
            pgp_fingerprint=fingerprint_on_page(*(raw_text(p) for p in doc.css(
                "div.tab-content pre, div.tab-content textarea"))),
            sales=parse_int(info.get("sales")),
            rating=percent_rating(info.get("positive feedback")),
            member_since=info.get("member since") or None, other_markets=tuple(markets))

    # --- crawling -----------------------------------------------------------------------------
    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        hrefs = list(doc.hrefs("div#page-wrapper a"))
        if page_type == "index":
            yield from (h for h in hrefs if (h.startswith("listing.php?ls_id=")
                        and "&" not in h) or ("pg=" in h and "ss_" not in h))
        elif page_type == "listing":
            yield from (h for h in hrefs if h.startswith("user.php?u_id=") and "fvusr" not in h)
            yield from (h for h in hrefs if "ls_id=" in h and "tab=4" in h)
        elif page_type in ("vendor", "feedback"):
            yield from (h for h in hrefs if (h.startswith("user.php?u_id=")
                        and any(f"tab={t}" in h for t in ("2", "3", "4", "6"))) or "pg=" in h)


def _sale_price(node: LexborNode | None) -> str:
    """"Sale Price : 4.00 USD / 0.00042 BTC" of the first price badge -> "4.00 USD / ..."."""
    if node is None:
        return ""
    for span in node.css("span"):
        text = node_text(span)
        if text.startswith("Sale Price"):
            return text.partition(":")[2]
    return ""
