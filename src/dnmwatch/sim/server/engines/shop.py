"""The ``shop`` engine: one vendor's own storefront (a single-vendor shop).

Why a separate design: after a marketplace closes, vendors sell from their own hidden service.
Such a shop has no vendor field anywhere (the whole site *is* the vendor: its name is in the
header), usually no buyer feedback, and shows stock counts, which marketplaces rarely do.

URLs: ``/`` (welcome, links to the catalogue and the PGP page), ``/shop?page=N`` (product cards,
12 per page, "Older products" / "Newer products" links; page 1 has no query), ``/product/<slug>``
(price, options, stock, shipping, optional reviews) and ``/pgp`` (key and fingerprint).

**Stock.** The shop restocks every :data:`RESTOCK_DAYS` days from the listing's start to one
level per listing (its mean sales per restock period, rounded up, plus :data:`STOCK_MARGIN`;
periods counted up to its last sale), and each sale takes one unit away until the next restock:
``stock(d) = max(level - sales from the last restock day to d, 0)``, "Sold out" at 0 (busy
periods sell out). Stock is thus a function of the true transactions, as the stock-difference
estimators of the literature assume.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from urllib.parse import quote

from dnmwatch.sim.server.engines.base import Engine, Page, View, listings_of, paginate, to_int
from dnmwatch.sim.server.index import Feedback, Listing, opaque_id, slugify
from dnmwatch.sim.server.text import e, pgp_block, relative, spaced_fingerprint

RESTOCK_DAYS = 7
STOCK_MARGIN = 2
_SYMBOL = {"USD": "$", "EUR": "€"}
_CSS = ("body{font-family:Georgia,serif;background:#fbf8f2;margin:0}header{background:#2d4a2b;"
        "color:#fff;padding:12px}.products{display:flex;flex-wrap:wrap}.product{width:30%;"
        "margin:6px;padding:8px;border:1px solid #ddd;background:#fff}")


def stock_level(listing: Listing) -> int:
    """Units the shop restocks a listing to: mean sales per restock period + a margin."""
    if not listing.sale_days:
        return STOCK_MARGIN
    periods = (listing.sale_days[-1] - listing.start) // RESTOCK_DAYS + 1
    return -(-len(listing.sale_days) // periods) + STOCK_MARGIN


def stock_on(listing: Listing, day: int, level: int | None = None) -> int:
    """Units in stock at the end of ``day`` (sales of that day included)."""
    level = stock_level(listing) if level is None else level
    restock = listing.start + max(day - listing.start, 0) // RESTOCK_DAYS * RESTOCK_DAYS
    sold = bisect_right(listing.sale_days, day) - bisect_left(listing.sale_days, restock)
    return max(level - sold, 0)


def product_slug(shop: str, listing: Listing) -> str:
    """The product's URL slug: its title's words and a short stable code (shops use slugs)."""
    words = slugify(listing.title)[:40].strip("-") or "product"
    return f"{words}-{opaque_id(shop, listing.listing_id)[:8]}"


def shop_price(amount: float, currency: str) -> str:
    """``€45.00``, ``$12.50`` or ``0.00412000 BTC``: how a storefront prints a price."""
    if currency == "BTC":
        return f"{amount:.8f} BTC"
    symbol = _SYMBOL.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


class ShopEngine(Engine):
    """Renders one vendor's shop; ``view.market`` holds only that vendor and its listings."""

    name = "shop"
    listings_per_page = 12
    latest_feedback = 10

    def __init__(self, shop_name: str, *, reviews: bool = False) -> None:
        self.shop_name = shop_name
        self.reviews = reviews
        self._levels: dict[str, int] = {}
        self._slugs: dict[str, str] = {}

    # --- URLs -------------------------------------------------------------------------------
    def listing_url(self, view: View, listing: Listing) -> str:
        return f"/product/{quote(product_slug(view.market.spec.name, listing), safe='')}"

    def category_url(self, view: View, slug: str, page: int = 1) -> str:
        return "/shop" + (f"?page={page}" if page > 1 else "")

    def feedback_url(self, view: View, listing: Listing, page: int = 1) -> str:
        return self.listing_url(view, listing)

    def vendor_url(self, view: View, handle: str) -> str:
        return "/pgp"

    # --- helpers ----------------------------------------------------------------------------
    def products(self, view: View) -> list[Listing]:
        """Products on sale today, newest first (as shops list them)."""
        live = [x for x in view.market.listings.values() if view.listing(x.listing_id)]
        return sorted(live, key=lambda x: (-x.start, x.listing_id))

    def stock(self, listing: Listing, day: int) -> int:
        level = self._levels.get(listing.listing_id)
        if level is None:
            level = self._levels[listing.listing_id] = stock_level(listing)
        return stock_on(listing, day, level)

    def _by_slug(self, view: View, slug: str) -> Listing | None:
        if not self._slugs:
            self._slugs = {product_slug(view.market.spec.name, x): x.listing_id
                           for x in view.market.listings.values()}
        lid = self._slugs.get(slug)
        return view.listing(lid) if lid is not None else None

    def _stock_text(self, units: int) -> str:
        return f"In stock: {units}" if units else "Sold out"

    # --- routing ----------------------------------------------------------------------------
    def dispatch(self, path: str, query: Mapping[str, str], view: View) -> Page:
        parts = [p for p in path.split("/") if p]
        page = to_int(query.get("page"), 1)
        if page is None:
            return self.not_found("Page")
        if not parts:
            return self._home(view)
        if parts == ["shop"]:
            return self._catalogue(view, page)
        if parts[0] == "product" and len(parts) == 2:
            return self._product(view, parts[1])
        if parts == ["pgp"]:
            return self._pgp(view)
        return self.not_found("Page")

    def _wrap(self, view: View, title: str, body: str, page_type: str) -> Page:
        doc = (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)} - {e(self.shop_name)}</title><style>{_CSS}</style></head><body>"
            f"<header><a href=\"/\" class=\"brand\">{e(self.shop_name)}</a>"
            "<nav><a href=\"/shop\">Products</a> <a href=\"/pgp\">PGP</a></nav></header>"
            f"<main>{body}</main><footer>Orders are encrypted with our key. "
            f"&copy; {view.now:%Y} {e(self.shop_name)}</footer></body></html>\n")
        return Page(200, doc, page_type)

    # --- pages ------------------------------------------------------------------------------
    def _home(self, view: View) -> Page:
        n = len(self.products(view))
        body = (f"<h1>Welcome to {e(self.shop_name)}</h1><p class=\"about\">Direct deals, no "
                f"market fees. {n} products available today.</p>"
                "<p><a class=\"enter\" href=\"/shop\">Browse the shop</a></p>")
        return self._wrap(view, "Home", body, "home")

    def _catalogue(self, view: View, page: int) -> Page:
        paged = paginate(self.products(view), page, self.listings_per_page)
        if paged is None:
            return self.not_found("Page")
        cards = [
            f'<div class="product"><a class="name" href="{e(self.listing_url(view, x))}">'
            f"{e(x.title)}</a><div class=\"price\">"
            f"{e(shop_price(view.price(x), x.currency))}</div>"
            f'<div class="stock">{e(self._stock_text(self.stock(x, view.day)))}</div></div>'
            for x in listings_of(paged)
        ]
        nav = []
        if paged.page > 1:
            nav.append(f'<a class="newer" href="{e(self.category_url(view, "", page - 1))}">'
                       "Newer products</a>")
        if paged.page < paged.pages:
            nav.append(f'<a class="older" href="{e(self.category_url(view, "", page + 1))}">'
                       "Older products</a>")
        empty = "" if cards else '<p class="empty">Nothing for sale right now.</p>'
        body = (f"<h1>Products</h1><div class=\"products\">{''.join(cards)}</div>{empty}"
                f"<div class=\"pager\">{' '.join(nav)}</div>")
        return self._wrap(view, "Products", body, "index")

    def _product(self, view: View, slug: str) -> Page:
        x = self._by_slug(view, slug)
        if x is None:
            return self.not_found("Product")
        price = view.price(x)
        options = "".join(
            f"<option>{e(t.label)} = {e(shop_price(price * t.multiplier, x.currency))}</option>"
            for t in x.tiers)
        reviews = ""
        if self.reviews:
            reviews = self._reviews(view, view.feedback(x)[:self.latest_feedback])
        body = (
            f"<article class=\"item\"><h1>{e(x.title)}</h1>"
            f"<p class=\"price\">{e(shop_price(price, x.currency))}</p>"
            f"<p class=\"stock\">{e(self._stock_text(self.stock(x, view.day)))}</p>"
            f"<dl class=\"shipping\"><dt>Ships from</dt><dd class=\"from\">{e(x.ships_from)}</dd>"
            f"<dt>Ships to</dt><dd class=\"to\">{e(x.ships_to)}</dd></dl>"
            f"<form class=\"order\"><select name=\"option\">{options}</select>"
            "<button>Add to cart</button></form></article>" + reviews)
        return self._wrap(view, x.title, body, "listing")

    def _reviews(self, view: View, items: list[Feedback]) -> str:
        rows = "".join(
            f'<li class="review"><span class="score">{f.rating}/5</span> '
            f'<span class="when">{e(relative(f.posted, view.now))}</span>'
            f'<p class="text">{e(f.text)}</p></li>' for f in items)
        return (f"<section class=\"reviews\"><h2>Latest reviews</h2><ul>{rows}</ul></section>"
                if rows else "<section class=\"reviews\"><p>No reviews yet.</p></section>")

    def _pgp(self, view: View) -> Page:
        vendor = next(iter(view.market.vendors.values()), None)
        if vendor is None:
            return self.not_found("Key")
        body = (f"<h1>Our PGP key</h1><p>Fingerprint: <code class=\"fingerprint\">"
                f"{e(spaced_fingerprint(vendor.fingerprint))}</code></p>"
                f"<p>Ships from: <span class=\"from\">{e(vendor.country)}</span></p>"
                f"<pre class=\"pgp\">{e(pgp_block(vendor.fingerprint))}</pre>")
        return self._wrap(view, "PGP", body, "vendor")
