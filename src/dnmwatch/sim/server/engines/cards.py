"""The ``cards`` engine: an Empire-like design.

Numbered category paths (``/c/<n>/p/<page>``), a grid of ``div`` cards instead of tables, opaque
item ids (``/item/<hex>``) that are not the database id, reviews on ``/item/<id>/reviews/<page>``,
vendors on ``/u/<handle>``, "next"/"prev" pagination only (a crawler cannot know the page count
in advance), prices with currency symbols, and relative dates only.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from dnmwatch.sim.server.engines.base import (
    Engine,
    Page,
    View,
    display_name,
    listings_of,
    paginate,
    to_int,
)
from dnmwatch.sim.server.index import Feedback, Listing, opaque_id
from dnmwatch.sim.server.text import e, masked, pgp_block, relative, stars

_SYMBOL = {"USD": "$", "EUR": "€", "BTC": "₿"}


def _price(amount: float, currency: str) -> str:
    digits = f"{amount:.6f}" if currency == "BTC" else f"{amount:.2f}"
    return f"{_SYMBOL.get(currency, '')}{digits} {currency}"


def _stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating)


class CardsEngine(Engine):
    name = "cards"
    listings_per_page = 12
    feedback_per_page = 10

    def listing_url(self, view: View, listing: Listing) -> str:
        return f"/item/{opaque_id(view.market.spec.name, listing.listing_id)}"

    def category_url(self, view: View, slug: str, page: int = 1) -> str:
        cat = view.market.category(slug)
        return f"/c/{cat.number if cat else 0}/p/{page}"

    def feedback_url(self, view: View, listing: Listing, page: int = 1) -> str:
        return f"{self.listing_url(view, listing)}/reviews/{page}"

    def vendor_url(self, view: View, handle: str) -> str:
        return f"/u/{quote(handle, safe='')}"

    def dispatch(self, path: str, query: Mapping[str, str], view: View) -> Page:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self._home(view)
        if parts[0] == "c" and len(parts) == 4 and parts[2] == "p":
            number, page = to_int(parts[1]), to_int(parts[3])
            if number is None or page is None:
                return self.not_found("Page")
            return self._category(view, number, page)
        if parts[0] == "item" and len(parts) in (2, 4):
            lid = view.market.opaque_to_id.get(parts[1])
            listing = view.listing(lid) if lid is not None else None
            if listing is None:
                return self.not_found("Item")
            if len(parts) == 2:
                return self._item(view, listing)
            page = to_int(parts[3]) if parts[2] == "reviews" else None
            return self.not_found("Page") if page is None else self._reviews(view, listing, page)
        if parts[0] == "u" and len(parts) == 2:
            return self._user(view, parts[1])
        return self.not_found("Page")

    def _wrap(self, view: View, title: str, body: str, page_type: str) -> Page:
        market = display_name(view.market.spec.name)
        nav = "".join(
            f'<a class="nav-cat" href="{e(self.category_url(view, c.slug))}">{e(c.name)}</a>'
            for c in view.market.categories)
        doc = (
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{e(market)} — {e(title)}</title></head><body class=\"theme-dark\">"
            f"<nav class=\"topbar\"><a class=\"brand\" href=\"/\">{e(market)}</a>{nav}</nav>"
            f"<main class=\"container\">{body}</main>"
            "<footer class=\"foot\"><div>Never finalize early.</div></footer></body></html>\n")
        return Page(200, doc, page_type)

    def _pager(self, page: int, pages: int, url_of_page: str) -> str:
        """``url_of_page`` has a ``{}`` for the page number."""
        prev = (f'<a class="prev" rel="prev" href="{e(url_of_page.format(page - 1))}">« Prev</a>'
                if page > 1 else "")
        nxt = (f'<a class="next" rel="next" href="{e(url_of_page.format(page + 1))}">Next »</a>'
               if page < pages else "")
        return f'<div class="pager">{prev}<span class="here">Page {page}</span>{nxt}</div>'

    def _home(self, view: View) -> Page:
        cards = "".join(
            f'<div class="card cat"><a href="{e(self.category_url(view, c.slug))}">'
            f"{e(c.name)}</a><div class=\"n\">"
            f"{len(view.market.live_listings(c.slug, view.day))} items</div></div>"
            for c in view.market.categories)
        return self._wrap(view, "Home", f'<div class="grid">{cards}</div>', "home")

    def _category(self, view: View, number: int, page: int) -> Page:
        cat = view.market.category_no(number)
        if cat is None:
            return self.not_found("Category")
        paged = paginate(view.market.live_listings(cat.slug, view.day), page,
                         self.listings_per_page)
        if paged is None:
            return self.not_found("Page")
        cards = [
            f'<div class="card item"><div class="card-title">'
            f'<a href="{e(self.listing_url(view, x))}">{e(x.title)}</a></div>'
            f'<div class="card-vendor">by <a href="{e(self.vendor_url(view, x.vendor))}">'
            f"{e(x.vendor)}</a></div><div class=\"card-price\">"
            f"{e(_price(view.price(x), x.currency))}</div>"
            f"<div class=\"card-ship\">{e(x.ships_from)} → {e(x.ships_to)}</div></div>"
            for x in listings_of(paged)
        ]
        if not cards:
            cards.append('<div class="empty">Nothing here yet.</div>')
        body = (f"<h2>{e(cat.name)}</h2><div class=\"grid\">{''.join(cards)}</div>"
                + self._pager(paged.page, paged.pages, f"/c/{number}/p/{{}}"))
        return self._wrap(view, cat.name, body, "index")

    def _review_divs(self, view: View, items: list[Feedback]) -> str:
        out = [f'<div class="review"><span class="stars" title="{f.rating} of 5">'
               f"{_stars(f.rating)}</span><span class=\"who\">{e(masked(f.buyer))}</span>"
               f"<span class=\"when\">{e(relative(f.posted, view.now))}</span>"
               + (f'<span class="bought">Purchased: {e(f.item)}</span>' if f.item else "")
               + f"<p class=\"body\">{e(f.text)}</p></div>" for f in items]
        return "".join(out) or '<div class="review none">No reviews yet.</div>'

    def _item(self, view: View, x: Listing) -> Page:
        price = view.price(x)
        tiers = "".join(f'<option value="{t.tier}">{e(t.label)} — '
                        f"{e(_price(price * t.multiplier, x.currency))}</option>"
                        for t in x.tiers)
        fbs = view.feedback(x)
        body = (
            f"<div class=\"item-head\"><h1>{e(x.title)}</h1>"
            f"<div class=\"seller\">Sold by <a href=\"{e(self.vendor_url(view, x.vendor))}\">"
            f"{e(x.vendor)}</a></div></div><div class=\"item-info\">"
            f"<div class=\"price-box\">{e(_price(price, x.currency))}</div>"
            f"<div class=\"row\"><b>Origin country</b> <span>{e(x.ships_from)}</span></div>"
            f"<div class=\"row\"><b>Ships to</b> <span>{e(x.ships_to)}</span></div>"
            f"<form class=\"buy\"><select name=\"tier\">{tiers}</select>"
            "<button disabled>Buy now</button></form></div>"
            f"<h3>Latest reviews ({len(fbs)})</h3><div class=\"reviews\">"
            + self._review_divs(view, fbs[:self.latest_feedback])
            + f'</div><a class="all" href="{e(self.feedback_url(view, x))}">All reviews</a>')
        return self._wrap(view, x.title, body, "listing")

    def _reviews(self, view: View, x: Listing, page: int) -> Page:
        paged = paginate(view.feedback(x), page, self.feedback_per_page)
        if paged is None:
            return self.not_found("Page")
        items = [f for f in paged.items if isinstance(f, Feedback)]
        body = (f'<h2>Reviews of <a href="{e(self.listing_url(view, x))}">{e(x.title)}</a></h2>'
                f'<div class="reviews">{self._review_divs(view, items)}</div>'
                + self._pager(paged.page, paged.pages, self.listing_url(view, x) + "/reviews/{}"))
        return self._wrap(view, f"Reviews: {x.title}", body, "feedback")

    def _user(self, view: View, handle: str) -> Page:
        v = view.vendor(handle)
        if v is None:
            return self.not_found("User")
        rating, n, since = view.standing(v)
        claims = "".join(f'<span class="claim">{e(name)}: {sales} sales</span>'
                         for name, sales in view.other_markets(v))
        items = "".join(
            f'<div class="card item"><a href="{e(self.listing_url(view, x))}">{e(x.title)}</a>'
            f"<div class=\"card-price\">{e(_price(view.price(x), x.currency))}</div></div>"
            for x in view.vendor_listings(handle))
        body = (
            f"<div class=\"profile\"><h1>{e(v.handle)}</h1>"
            f"<div class=\"stat\">Sales: <b class=\"sales\">{v.sales_until(view.day)}</b></div>"
            f"<div class=\"stat\">Positive: <b>{e(stars(rating))}</b> from {n} reviews</div>"
            f"<div class=\"stat\">Joined: {since:%b %d, %Y}</div>"
            f"<div class=\"stat\">Ships from: <b>{e(v.country)}</b></div>"
            f"<div class=\"claims\">Verified on other markets: {claims or 'none'}</div>"
            f"<div class=\"pgp\"><div class=\"fpr\">Fingerprint: {e(v.fingerprint.upper())}</div>"
            f"<textarea readonly rows=\"12\">{e(pgp_block(v.fingerprint))}</textarea></div></div>"
            f"<h3>Items</h3><div class=\"grid\">{items}</div>")
        return self._wrap(view, v.handle, body, "vendor")
