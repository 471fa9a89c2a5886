"""Adapter for the simulator's ``cards`` design (Empire-like).

Pages: ``/`` (category cards), ``/c/<n>/p/<page>`` (a grid of listing cards, "Next"/"Prev"
pagination only), ``/item/<hex>`` (listing: price box, origin, tiers as ``<option>``s, latest
reviews), ``/item/<hex>/reviews/<page>`` (reviews, relative dates only, stars as ★/☆ with a
``title="4 of 5"``, "Purchased: 5 g" naming the option bought) and ``/u/<handle>``
(profile, fingerprint, "verified on other markets").

Decisions: the listing id is the opaque item id the market exposes (``/item/<hex>``): it is the
only stable key a crawler has; the reviews preview on an item page is not emitted (the review
pages carry every row); the star count is read from the ``title`` attribute, else by counting ★.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.fields import fingerprint, market_names, option_tier, rating_of
from dnmwatch.adapters.html import (
    Document,
    href_of,
    node_text,
    parse_int,
    parse_money,
    path_id,
    sub_text,
)
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    PageType,
    Record,
    VendorObservation,
)

_DASH = " — "
_ARROW = "→"
_BOUGHT = "Purchased:"


def _stat(doc: Document, label: str) -> str:
    """The text after ``label`` in the ``.stat`` line that starts with it."""
    for node in doc.css(".profile .stat"):
        text = node_text(node)
        if text.casefold().startswith(label.casefold()):
            return text[len(label):].strip(" :")
    return ""


class SimCardsAdapter(MarketAdapter):
    name = "sim-cards"
    version = "1.0"
    description = "simulator engine 'cards' (Empire-like cards, opaque item ids)"

    def classify(self, doc: Document) -> PageType:
        if doc.first(".item-head h1") is not None and doc.first(".price-box") is not None:
            return "listing"
        if doc.first(".profile h1") is not None and doc.first(".profile .fpr") is not None:
            return "vendor"
        heading = doc.first("main h2 a")
        if heading is not None and path_id(href_of(heading), "item") is not None \
                and doc.first("div.reviews") is not None:
            return "feedback"
        if doc.first("main .grid .card") is not None or doc.first("main .empty") is not None:
            return "index"
        return "unknown"

    def parse_index(self, doc: Document) -> Iterator[Record]:
        category = doc.text("main > h2") or None
        for card in doc.css("main .grid .card.item"):
            link = card.css_first(".card-title a")
            lid = path_id(href_of(link), "item")
            if link is None or lid is None:
                yield self.reject("missing_field", "item card without a link")
                continue
            price, currency = parse_money(sub_text(card, ".card-price"))
            ship_from, _, ship_to = sub_text(card, ".card-ship").partition(_ARROW)
            yield ListingObservation(
                market=self.market, listing_id=lid, title=node_text(link),
                vendor_id=self.vendor_id(sub_text(card, ".card-vendor a")), price=price,
                currency=currency, ships_from=ship_from.strip() or None,
                ships_to=ship_to.strip() or None, category=category)

    def _info_row(self, doc: Document, label: str) -> str | None:
        for row in doc.css(".item-info .row"):
            if sub_text(row, "b").casefold() == label:
                return sub_text(row, "span") or None
        return None

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        lid = path_id(doc.page.url, "item")
        if lid is None:
            yield self.reject("missing_field", "item id not in URL")
            return
        price, currency = parse_money(doc.text(".price-box"))
        tiers = [
            option_tier(node_text(option), _DASH.strip())
            for option in doc.css("form.buy select option")
        ]
        yield ListingObservation(
            market=self.market, listing_id=lid, title=doc.text(".item-head h1"),
            vendor_id=self.vendor_id(doc.text(".item-head .seller a")), price=price,
            currency=currency, ships_from=self._info_row(doc, "origin country"),
            ships_to=self._info_row(doc, "ships to"), tiers=tuple(tiers))

    def parse_feedback(self, doc: Document) -> Iterator[Record]:
        heading = doc.first("main h2 a")
        lid = path_id(href_of(heading), "item")
        for review in doc.css("div.reviews div.review"):
            stars = review.css_first("span.stars")
            if stars is None:
                continue
            rating = rating_of(stars.attributes.get("title"))
            if rating is None:
                rating = float(node_text(stars).count("★")) or None
            yield FeedbackObservation(
                market=self.market, listing_id=lid, vendor_id=None, rating=rating,
                text=sub_text(review, "p.body"), posted=sub_text(review, "span.when"),
                captured_at=doc.page.captured_at,
                item=sub_text(review, "span.bought").removeprefix(_BOUGHT).strip() or None)

    def parse_vendor(self, doc: Document) -> Iterator[Record]:
        vid = self.vendor_id(doc.text(".profile h1"))
        if vid is None:
            yield self.reject("missing_field", "profile without a handle")
            return
        yield VendorObservation(
            market=self.market, vendor_id=vid, pgp_fingerprint=fingerprint(doc.text(".fpr")),
            ships_from=_stat(doc, "Ships from") or None, sales=parse_int(doc.text("b.sales")),
            rating=rating_of(_stat(doc, "Positive")),
            member_since=_stat(doc, "Joined") or None,
            other_markets=market_names(node_text(n) for n in doc.css(".claims .claim")))

    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        if page_type == "index":
            yield from doc.hrefs("main .card.cat a")
            yield from doc.hrefs(".pager a")
            yield from doc.hrefs("main .card.item .card-title a")
            yield from doc.hrefs("main .card.item .card-vendor a")
        elif page_type == "listing":
            yield from doc.hrefs("a.all")
            yield from doc.hrefs(".item-head .seller a")
        elif page_type == "feedback":
            yield from doc.hrefs(".pager a")
        elif page_type == "vendor":
            yield from doc.hrefs("main .grid .card.item a")
