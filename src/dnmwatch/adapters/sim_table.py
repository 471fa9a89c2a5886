"""Adapter for the simulator's ``table`` design (AlphaBay/Dream-like).

Pages, as a crawler meets them: ``/`` (category table), ``/category/<slug>?page=N`` (a table of
listings), ``/listing/<id>`` (details, quantity tiers, sold counter, latest feedback),
``/listing/<id>/feedback?page=N`` (all feedback with the option bought, and the price paid on
markets that show it)
and ``/vendor/<handle>`` (profile, PGP fingerprint, claimed accounts elsewhere).

Decisions: pages are recognised by their markup, not their URL (a mirror may rewrite paths);
the listing id comes from the listing's own link; the latest-feedback preview on a listing page
is not emitted (the feedback pages carry the same rows, complete); the feedback date keeps its
whole text as shown ("2024-03-01 (3 days ago)").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.fields import fingerprint, market_names, rating_of
from dnmwatch.adapters.html import (
    Document,
    href_of,
    node_text,
    parse_amount,
    parse_int,
    parse_money,
    path_id,
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


def _rows(table: LexborNode | None) -> dict[str, LexborNode]:
    """``<tr><th>Label</th><td>..</td></tr>`` rows by label."""
    out: dict[str, LexborNode] = {}
    for tr in table.css("tr") if table is not None else ():
        th, td = tr.css_first("th"), tr.css_first("td")
        if th is not None and td is not None:
            out.setdefault(node_text(th).casefold(), td)
    return out


def _bought(shown: str) -> str | None:
    """The quantity option a feedback row says was bought ("5 g"); ``-`` or empty: unknown."""
    return shown if shown and shown != "-" else None


class SimTableAdapter(MarketAdapter):
    name = "sim-table"
    version = "1.0"
    description = "simulator engine 'table' (AlphaBay/Dream-like tables, path URLs)"

    def classify(self, doc: Document) -> PageType:
        if doc.first("h1.title") is not None and doc.first("table.details") is not None:
            return "listing"
        if doc.first("h1.vendor") is not None and doc.first("table.profile") is not None:
            return "vendor"
        if doc.first("table.listings") is not None or doc.first("table.categories") is not None:
            return "index"
        link = doc.first("#content h1 a")
        if doc.first("table.feedback") is not None and link is not None \
                and path_id(href_of(link), "listing") is not None:
            return "feedback"
        return "unknown"

    # --- records ------------------------------------------------------------------------------
    def parse_index(self, doc: Document) -> Iterator[Record]:
        category = doc.text("#content h1") or None
        for tr in doc.css("table.listings tr.listing"):
            cells = tr.css("td")
            link = cells[0].css_first("a") if cells else None
            lid = path_id(href_of(link), "listing")
            if len(cells) < 5 or lid is None:
                yield self.reject("missing_field", "index row without listing link or cells")
                continue
            price, currency = parse_money(node_text(cells[2]))
            yield ListingObservation(
                market=self.market, listing_id=lid, title=node_text(link),
                vendor_id=self.vendor_id(node_text(cells[1])), price=price, currency=currency,
                ships_from=node_text(cells[3]) or None, ships_to=node_text(cells[4]) or None,
                category=category)

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        lid = path_id(doc.page.url, "listing")
        if lid is None:
            yield self.reject("missing_field", "listing id not in URL")
            return
        rows = _rows(doc.first("table.details"))
        price, currency = parse_money(node_text(rows.get("price")))
        tiers = []
        for tr in doc.css("table.tiers tr.tier"):
            cells = tr.css("td")
            if len(cells) >= 2:
                t_price, t_cur = parse_money(node_text(cells[1]))
                tiers.append(QuantityTier(node_text(cells[0]), t_price, t_cur))
        yield ListingObservation(
            market=self.market, listing_id=lid, title=doc.text("h1.title"),
            vendor_id=self.vendor_id(node_text(rows.get("vendor"))), price=price,
            currency=currency, ships_from=doc.text("td.ships-from") or None,
            ships_to=doc.text("td.ships-to") or None, tiers=tuple(tiers),
            sold=parse_int(node_text(rows.get("sold"))))

    def parse_feedback(self, doc: Document) -> Iterator[Record]:
        link = doc.first("#content h1 a")
        lid = path_id(href_of(link), "listing")
        for tr in doc.css("table.feedback tr.feedback"):
            paid, paid_cur = parse_money(sub_text(tr, "td.paid"))
            yield FeedbackObservation(
                market=self.market, listing_id=lid, vendor_id=None,
                rating=parse_amount(sub_text(tr, "td.rating")), text=sub_text(tr, "td.text"),
                posted=sub_text(tr, "td.date"), captured_at=doc.page.captured_at,
                price=paid, currency=paid_cur if paid is not None else None,
                item=_bought(sub_text(tr, "td.bought")))

    def parse_vendor(self, doc: Document) -> Iterator[Record]:
        vid = self.vendor_id(doc.text("h1.vendor"))
        if vid is None:
            yield self.reject("missing_field", "vendor page without a handle")
            return
        rows = _rows(doc.first("table.profile"))
        yield VendorObservation(
            market=self.market, vendor_id=vid,
            pgp_fingerprint=fingerprint(doc.text("td.fingerprint")),
            ships_from=doc.text("td.ships-from") or None,
            sales=parse_int(doc.text("td.sales")), rating=rating_of(doc.text("td.rating")),
            member_since=node_text(rows.get("member since")) or None,
            other_markets=market_names(node_text(li) for li in doc.css("ul.other-markets li")))

    # --- crawling -----------------------------------------------------------------------------
    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        if page_type == "index":
            yield from doc.hrefs("table.categories a")
            yield from doc.hrefs(".pagination a")
            for tr in doc.css("table.listings tr.listing"):
                yield from (a.attributes.get("href") or "" for a in tr.css("a"))
        elif page_type == "listing":
            yield from doc.hrefs("#content p a")
            yield from doc.hrefs("table.details a")
        elif page_type == "feedback":
            yield from doc.hrefs(".pagination a")
        elif page_type == "vendor":
            yield from doc.hrefs("table.vendor-listings a")

