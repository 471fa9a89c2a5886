"""The ``table`` engine: an AlphaBay/Dream-like design.

Path URLs (``/category/<slug>?page=N``, ``/listing/<id>``, ``/listing/<id>/feedback?page=N``,
``/vendor/<handle>``), HTML tables everywhere, numbered pagination, prices in the listing's
currency beside their BTC equivalent, and feedback dated both absolutely and relatively. When the
market's spec says so, feedback rows show the price paid in USD and BTC, as Dream did.
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
from dnmwatch.sim.server.index import Feedback, Listing
from dnmwatch.sim.server.text import (
    e,
    masked,
    money,
    pgp_block,
    relative,
    spaced_fingerprint,
    stars,
)

_CSS = ("body{font-family:Verdana,sans-serif;font-size:12px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px}.pagination a,.pagination span{margin:0 3px}")


class TableEngine(Engine):
    name = "table"
    listings_per_page = 20
    feedback_per_page = 15

    # --- URLs -------------------------------------------------------------------------------
    def listing_url(self, view: View, listing: Listing) -> str:
        return f"/listing/{quote(listing.listing_id, safe='')}"

    def category_url(self, view: View, slug: str, page: int = 1) -> str:
        return f"/category/{slug}" + (f"?page={page}" if page > 1 else "")

    def feedback_url(self, view: View, listing: Listing, page: int = 1) -> str:
        base = f"{self.listing_url(view, listing)}/feedback"
        return base + (f"?page={page}" if page > 1 else "")

    def vendor_url(self, view: View, handle: str) -> str:
        return f"/vendor/{quote(handle, safe='')}"

    # --- routing ----------------------------------------------------------------------------
    def dispatch(self, path: str, query: Mapping[str, str], view: View) -> Page:
        parts = [p for p in path.split("/") if p]
        page = to_int(query.get("page"), 1)
        if page is None:
            return self.not_found("Page")
        if not parts:
            return self._home(view)
        if parts[0] == "category" and len(parts) == 2:
            return self._category(view, parts[1], page)
        if parts[0] == "listing" and len(parts) == 2:
            return self._listing(view, parts[1])
        if parts[0] == "listing" and len(parts) == 3 and parts[2] == "feedback":
            return self._feedback(view, parts[1], page)
        if parts[0] == "vendor" and len(parts) == 2:
            return self._vendor(view, parts[1])
        return self.not_found("Page")

    # --- layout -----------------------------------------------------------------------------
    def _wrap(self, view: View, title: str, body: str, page_type: str, status: int = 200) -> Page:
        market = display_name(view.market.spec.name)
        nav = "".join(f'<li><a href="{e(self.category_url(view, c.slug))}">{e(c.name)}</a></li>'
                      for c in view.market.categories)
        doc = (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)} | {e(market)} Market</title><style>{_CSS}</style></head><body>"
            f"<div id=\"header\"><a href=\"/\" class=\"logo\">{e(market)} Market</a>"
            f"<span class=\"date\">Server time: {view.now:%Y-%m-%d %H:%M} UTC</span></div>"
            f"<div id=\"sidebar\"><h3>Categories</h3><ul>{nav}</ul></div>"
            f"<div id=\"content\">{body}</div>"
            "<div id=\"footer\">Escrow &amp; multisig available.</div></body></html>\n")
        return Page(status, doc, page_type)

    def _numbers(self, page: int, pages: int, url: str, sep: str) -> str:
        links = []
        for n in range(1, pages + 1):
            if n == page:
                links.append(f'<span class="current">{n}</span>')
            else:
                href = url if n == 1 else f"{url}{sep}page={n}"
                links.append(f'<a href="{e(href)}">{n}</a>')
        return f'<div class="pagination">Pages: {"".join(links)}</div>'

    def _price(self, view: View, amount: float, currency: str) -> str:
        if currency == "BTC":
            usd = view.world.convert(amount, "BTC", "USD", view.day)
            return f"{money(amount, 'BTC')} ({money(usd, 'USD')})"
        return f"{money(amount, currency)} ({money(view.btc(amount, currency), 'BTC')})"

    # --- pages ------------------------------------------------------------------------------
    def _home(self, view: View) -> Page:
        rows = "".join(
            f'<tr><td><a href="{e(self.category_url(view, c.slug))}">{e(c.name)}</a></td>'
            f'<td class="count">{len(view.market.live_listings(c.slug, view.day))}</td></tr>'
            for c in view.market.categories)
        body = ("<h1>Welcome</h1><table class=\"categories\"><tr><th>Category</th>"
                f"<th>Listings</th></tr>{rows}</table>")
        return self._wrap(view, "Home", body, "home")

    def _category(self, view: View, slug: str, page: int) -> Page:
        cat = view.market.category(slug)
        if cat is None:
            return self.not_found("Category")
        paged = paginate(view.market.live_listings(slug, view.day), page, self.listings_per_page)
        if paged is None:
            return self.not_found("Page")
        rows = [
            f'<tr class="listing"><td><a href="{e(self.listing_url(view, x))}">'
            f'{e(x.title)}</a></td><td><a href="{e(self.vendor_url(view, x.vendor))}">'
            f"{e(x.vendor)}</a></td><td class=\"price\">"
            f"{e(self._price(view, view.price(x), x.currency))}</td>"
            f"<td>{e(x.ships_from)}</td><td>{e(x.ships_to)}</td></tr>"
            for x in listings_of(paged)
        ]
        empty = "" if rows else '<tr><td colspan="5">No listings in this category.</td></tr>'
        body = (f"<h1>{e(cat.name)}</h1><table class=\"listings\"><tr><th>Item</th>"
                "<th>Vendor</th><th>Price</th><th>Ships from</th><th>Ships to</th></tr>"
                f"{''.join(rows)}{empty}</table>"
                + self._numbers(paged.page, paged.pages, self.category_url(view, slug), "?"))
        return self._wrap(view, cat.name, body, "index")

    def _feedback_rows(self, view: View, items: list[Feedback]) -> str:
        shows_price = view.market.spec.feedback_shows_price
        head = ("<tr><th>Rating</th><th>Feedback</th><th>Buyer</th><th>Date</th>"
                "<th>Bought</th>" + ("<th>Price paid</th>" if shows_price else "") + "</tr>")
        rows = []
        for f in items:
            when = f"{f.posted:%Y-%m-%d} ({relative(f.posted, view.now)})"
            paid = ""
            if shows_price:
                usd, btc = view.paid(f, "USD"), view.paid(f, "BTC")
                shown = "-" if usd is None or btc is None else \
                    f"{money(usd, 'USD')} / {money(btc, 'BTC')}"
                paid = f'<td class="paid">{e(shown)}</td>'
            rows.append(f'<tr class="feedback"><td class="rating">{f.rating}/5</td>'
                        f"<td class=\"text\">{e(f.text)}</td><td>{e(masked(f.buyer))}</td>"
                        f'<td class="date">{e(when)}</td>'
                        f'<td class="bought">{e(f.item or "-")}</td>{paid}</tr>')
        if not rows:
            rows.append('<tr><td colspan="4">No feedback yet.</td></tr>')
        return f'<table class="feedback">{head}{"".join(rows)}</table>'

    def _listing(self, view: View, listing_id: str) -> Page:
        x = view.listing(listing_id)
        if x is None:
            return self.not_found("Listing")
        price = view.price(x)
        tiers = "".join(
            f'<tr class="tier"><td>{e(t.label)}</td>'
            f"<td>{e(self._price(view, price * t.multiplier, x.currency))}</td></tr>"
            for t in x.tiers)
        fbs = view.feedback(x)
        body = (
            f"<h1 class=\"title\">{e(x.title)}</h1><table class=\"details\">"
            f'<tr><th>Vendor</th><td><a href="{e(self.vendor_url(view, x.vendor))}">'
            f"{e(x.vendor)}</a></td></tr>"
            f'<tr><th>Price</th><td class="price">{e(self._price(view, price, x.currency))}'
            "</td></tr>"
            f"<tr><th>Ships from</th><td class=\"ships-from\">{e(x.ships_from)}</td></tr>"
            f"<tr><th>Ships to</th><td class=\"ships-to\">{e(x.ships_to)}</td></tr>"
            f"<tr><th>Sold</th><td>{x.sales_until(view.day)} since listed</td></tr></table>"
            f"<h2>Quantity options</h2><table class=\"tiers\">{tiers}</table>"
            f"<h2>Feedback ({len(fbs)})</h2>"
            + self._feedback_rows(view, fbs[:self.latest_feedback])
            + f'<p><a href="{e(self.feedback_url(view, x))}">View all feedback</a></p>')
        return self._wrap(view, x.title, body, "listing")

    def _feedback(self, view: View, listing_id: str, page: int) -> Page:
        x = view.listing(listing_id)
        if x is None:
            return self.not_found("Listing")
        paged = paginate(view.feedback(x), page, self.feedback_per_page)
        if paged is None:
            return self.not_found("Page")
        items = [f for f in paged.items if isinstance(f, Feedback)]
        body = (f'<h1>Feedback for <a href="{e(self.listing_url(view, x))}">{e(x.title)}</a>'
                "</h1>" + self._feedback_rows(view, items)
                + self._numbers(paged.page, paged.pages, self.feedback_url(view, x), "?"))
        return self._wrap(view, f"Feedback: {x.title}", body, "feedback")

    def _vendor(self, view: View, handle: str) -> Page:
        v = view.vendor(handle)
        if v is None:
            return self.not_found("Vendor")
        rating, n, since = view.standing(v)
        others = "".join(f"<li>{e(name)}: {sales} sales</li>"
                         for name, sales in view.other_markets(v)) or "<li>None claimed</li>"
        listings = "".join(
            f'<tr><td><a href="{e(self.listing_url(view, x))}">{e(x.title)}</a></td>'
            f"<td>{e(self._price(view, view.price(x), x.currency))}</td></tr>"
            for x in view.vendor_listings(handle))
        body = (
            f"<h1 class=\"vendor\">{e(v.handle)}</h1><table class=\"profile\">"
            f"<tr><th>Member since</th><td>{since:%Y-%m-%d}</td></tr>"
            f"<tr><th>Ships from</th><td class=\"ships-from\">{e(v.country)}</td></tr>"
            f"<tr><th>Ships to</th><td>{e(v.ships_to)}</td></tr>"
            f"<tr><th>Sales</th><td class=\"sales\">{v.sales_until(view.day)}</td></tr>"
            f"<tr><th>Rating</th><td class=\"rating\">{e(stars(rating))} ({n} ratings)</td></tr>"
            f"<tr><th>PGP fingerprint</th><td class=\"fingerprint\">"
            f"{e(spaced_fingerprint(v.fingerprint))}</td></tr></table>"
            f"<h2>Also vending on</h2><ul class=\"other-markets\">{others}</ul>"
            f"<h2>PGP public key</h2><pre class=\"pgp\">{e(pgp_block(v.fingerprint))}</pre>"
            f"<h2>Listings</h2><table class=\"vendor-listings\">{listings}</table>")
        return self._wrap(view, f"Vendor {v.handle}", body, "vendor")
