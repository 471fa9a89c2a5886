"""Adapter for the simulator's ``minimal`` design (Hydra/Matanga-like, Russian/English).

Everything is a query on ``/``: ``?r=cat&id=3&p=2`` (lines of listings), ``?r=item&id=..``
(a definition list: shop, price, ships from/to, quantity options), ``?r=fb&id=..&p=..``
(reviews as ``<p>[4/5] text <i>— buyer, 3 дня назад</i> <small>Фасовка / Option: 5 g</small>
</p>``, the ``<small>`` naming the option bought) and ``?r=shop&id=..`` (profile).
Markup has almost no classes, so pages are recognised by their bilingual labels
("Цена / Price") and the listing id is read from the ``id`` parameter of the item's link.

Decisions: dates stay as shown, in Russian ("3 дня назад"); the buyer (inside ``<i>``, before
the last comma) is dropped; the reviews preview on an item page is not emitted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.fields import fingerprint, market_names, rating_of
from dnmwatch.adapters.html import (
    Document,
    clean,
    node_text,
    parse_int,
    parse_money,
    sub_text,
)
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    PageType,
    QuantityTier,
    Record,
    VendorObservation,
)

_REVIEW = re.compile(r"^\s*\[(\d+(?:[.,]\d+)?)\s*/\s*5\]\s*(.*)$", re.DOTALL)
_SEP = "—"


def _param(href: str | None, route: str) -> str | None:
    """The ``id`` of a ``/?r=<route>&id=..`` link, else ``None``."""
    query = parse_qs(urlsplit(href or "").query)
    if query.get("r", [""])[0] != route:
        return None
    ident = query.get("id", [""])[0]
    return ident or None


def _canonical(href: str, route: str, query: dict[str, list[str]]) -> str:
    """One URL per category page: the pager's ``?r=cat&id=N&p=1`` is the category link
    ``?r=cat&id=N`` (what the market itself links from home), so page 1 is crawled once."""
    if route != "cat" or query.get("p", [""])[0] != "1":
        return href
    parts = urlsplit(href)
    kept = [(k, v) for k, vs in query.items() for v in vs if k != "p"]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _definitions(doc: Document) -> dict[str, list[LexborNode]]:
    """``<dt>`` labels (case-folded, both languages) -> the ``<dd>`` nodes that follow."""
    out: dict[str, list[LexborNode]] = {}
    for dl in doc.css("dl"):
        label: str | None = None
        for child in dl.iter():
            if child.tag == "dt":
                label = node_text(child).casefold()
                out.setdefault(label, [])
            elif child.tag == "dd" and label is not None:
                out[label].append(child)
    return out


def _one(defs: dict[str, list[LexborNode]], english: str) -> str:
    """Text of the first ``<dd>`` of the label whose English half is ``english``."""
    for label, nodes in defs.items():
        if label.endswith("/ " + english) and nodes:
            return node_text(nodes[0])
    return ""


def _many(defs: dict[str, list[LexborNode]], english: str) -> list[str]:
    for label, nodes in defs.items():
        if label.endswith("/ " + english):
            return [node_text(n) for n in nodes]
    return []


class SimMinimalAdapter(MarketAdapter):
    name = "sim-minimal"
    version = "1.0"
    description = "simulator engine 'minimal' (Hydra/Matanga-like, bilingual, query URLs)"

    def classify(self, doc: Document) -> PageType:
        h2, h3 = doc.text("h2"), doc.text("h3")
        if h2 and doc.first("dl") is not None and "/ price" in doc.text("dl").casefold():
            return "listing"
        if h2.startswith("Магазин / Shop:"):
            return "vendor"
        if h3.startswith("Отзывы / Reviews:"):
            return "feedback"
        if h3 and not h2 and (doc.first("p.p") is not None or "Пусто / Empty" in doc.all_text()
                              or h3.startswith("Категории / Categories")):
            return "index"
        return "unknown"

    def parse_index(self, doc: Document) -> Iterator[Record]:
        category = doc.text("h3") or None
        for line in doc.css("p.p"):
            anchors = line.css("a")
            lid = _param(anchors[0].attributes.get("href"), "item") if anchors else None
            if lid is None:
                yield self.reject("missing_field", "listing line without an item link")
                continue
            texts = [clean(n.text(deep=False)) for n in line.iter(include_text=True)
                     if n.tag == "-text"]
            parts = [p.strip() for t in texts for p in t.split(_SEP) if p.strip()]
            shop = next((a for a in anchors if _param(a.attributes.get("href"), "shop")), None)
            price, currency = parse_money(parts[0] if parts else "")
            yield ListingObservation(
                market=self.market, listing_id=lid, title=node_text(anchors[0]),
                vendor_id=self.vendor_id(node_text(shop)), price=price, currency=currency,
                ships_from=parts[-1] if len(parts) >= 2 else None, category=category)

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        lid = doc.query.get("id") if doc.query.get("r") == "item" else None
        if not lid:
            yield self.reject("missing_field", "item id not in URL")
            return
        defs = _definitions(doc)
        price, currency = parse_money(_one(defs, "price"))
        tiers = []
        for shown in _many(defs, "quantity"):
            label, _, amount = shown.rpartition(":")
            t_price, t_cur = parse_money(amount)
            tiers.append(QuantityTier(label.strip() or shown, t_price, t_cur))
        yield ListingObservation(
            market=self.market, listing_id=lid, title=doc.text("h2"),
            vendor_id=self.vendor_id(_one(defs, "shop")), price=price, currency=currency,
            ships_from=_one(defs, "ships from") or None, ships_to=_one(defs, "ships to") or None,
            tiers=tuple(tiers))

    def parse_feedback(self, doc: Document) -> Iterator[Record]:
        lid = next((_param(h, "item") for h in doc.hrefs("h3 a")), None)
        for p in doc.css("p"):
            found = _REVIEW.match(clean(p.text(deep=False)))
            if found is None:
                continue
            shown = node_text(p.css_first("i"))
            posted = shown.rpartition(",")[2].strip() if "," in shown else ""
            yield FeedbackObservation(
                market=self.market, listing_id=lid, vendor_id=None,
                rating=float(found.group(1).replace(",", ".")), text=found.group(2).strip(),
                posted=posted, captured_at=doc.page.captured_at,
                item=sub_text(p, "small").partition(":")[2].strip() or None)

    def parse_vendor(self, doc: Document) -> Iterator[Record]:
        vid = self.vendor_id(doc.text("h2").partition(":")[2])
        if vid is None:
            yield self.reject("missing_field", "shop page without a name")
            return
        defs = _definitions(doc)
        yield VendorObservation(
            market=self.market, vendor_id=vid,
            pgp_fingerprint=fingerprint(_one(defs, "pgp fingerprint")),
            ships_from=_one(defs, "ships from") or None, sales=parse_int(_one(defs, "sales")),
            rating=rating_of(_one(defs, "rating")),
            member_since=_one(defs, "member since") or None,
            other_markets=market_names(_many(defs, "other markets")))

    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        for href in doc.hrefs("a"):
            query = parse_qs(urlsplit(href).query)
            route = query.get("r", [""])[0]
            wanted = {
                "index": ("cat", "item", "shop"),
                "listing": ("fb", "shop"),
                "feedback": ("fb",),
                "vendor": ("item",),
            }.get(page_type, ())
            if route in wanted and not (page_type == "index" and route == "cat"
                                        and not self._is_home_or_same(doc, query)):
                yield _canonical(href, route, query)

    @staticmethod
    def _is_home_or_same(doc: Document, query: dict[str, list[str]]) -> bool:
        """From a category page follow only its own pages; from home, every category."""
        if doc.query.get("r") != "cat":
            return True
        return query.get("id", [""])[0] == doc.query.get("id")
