"""The ``minimal`` engine: a Hydra/Matanga-like bilingual (Russian/English) design.

Everything is a query string on ``/``: ``/?r=cat&id=3&p=2``, ``/?r=item&id=..``,
``/?r=fb&id=..&p=..``, ``/?r=shop&id=..``. Markup is sparse (definition lists and paragraphs,
few classes), labels are bilingual ("Цена / Price"), dates are relative and in Russian
("3 дня назад"), and pagination is a row of page numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

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
from dnmwatch.sim.server.text import e, masked, pgp_block, relative, stars


def _q(**params: object) -> str:
    return "/?" + urlencode({k: str(v) for k, v in params.items()})


def _price(amount: float, currency: str) -> str:
    return f"{amount:.8f} {currency}" if currency == "BTC" else f"{amount:.2f} {currency}"


class MinimalEngine(Engine):
    name = "minimal"
    listings_per_page = 25
    feedback_per_page = 20
    lang = "ru"

    def listing_url(self, view: View, listing: Listing) -> str:
        return _q(r="item", id=listing.listing_id)

    def category_url(self, view: View, slug: str, page: int = 1) -> str:
        cat = view.market.category(slug)
        number = cat.number if cat else 0
        return _q(r="cat", id=number, p=page) if page > 1 else _q(r="cat", id=number)

    def feedback_url(self, view: View, listing: Listing, page: int = 1) -> str:
        return _q(r="fb", id=listing.listing_id, p=page)

    def vendor_url(self, view: View, handle: str) -> str:
        return _q(r="shop", id=handle)

    def dispatch(self, path: str, query: Mapping[str, str], view: View) -> Page:
        if path not in ("", "/", "/index.php"):
            return self.not_found("Страница / Page")
        route = query.get("r", "")
        ident = query.get("id", "")
        page = to_int(query.get("p"), 1)
        if page is None:
            return self.not_found("Страница / Page")
        if route == "":
            return self._home(view)
        if route == "cat":
            number = to_int(ident)
            cat = view.market.category_no(number) if number is not None else None
            return self._category(view, cat.slug, cat.name, page) if cat else \
                self.not_found("Категория / Category")
        if route in ("item", "fb"):
            listing = view.listing(ident)
            if listing is None:
                return self.not_found("Товар / Item")
            return self._item(view, listing) if route == "item" else \
                self._feedback(view, listing, page)
        if route == "shop":
            return self._shop(view, ident)
        return self.not_found("Страница / Page")

    def _wrap(self, view: View, title: str, body: str, page_type: str) -> Page:
        market = display_name(view.market.spec.name)
        cats = " | ".join(f'<a href="{e(self.category_url(view, c.slug))}">{e(c.name)}</a>'
                          for c in view.market.categories)
        doc = ("<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">"
               f"<title>{e(title)} - {e(market)}</title></head><body>"
               f"<p><a href=\"/\"><b>{e(market)}</b></a> :: Магазины / Shops :: {cats}</p><hr>"
               f"{body}<hr><p><small>{e(market)} © {view.now:%Y}</small></p></body></html>\n")
        return Page(200, doc, page_type)

    def _pages(self, page: int, pages: int, url_of: dict[str, object]) -> str:
        links = [f"<b>[{n}]</b>" if n == page else
                 f'<a href="{e(_q(**url_of, p=n))}">{n}</a>' for n in range(1, pages + 1)]
        return f"<p>Страницы / Pages: {' '.join(links)}</p>"

    def _home(self, view: View) -> Page:
        items = "".join(
            f'<li><a href="{e(self.category_url(view, c.slug))}">{e(c.name)}</a> '
            f"({len(view.market.live_listings(c.slug, view.day))})</li>"
            for c in view.market.categories)
        return self._wrap(view, "Главная / Home",
                          f"<h3>Категории / Categories</h3><ul>{items}</ul>", "home")

    def _category(self, view: View, slug: str, name: str, page: int) -> Page:
        paged = paginate(view.market.live_listings(slug, view.day), page, self.listings_per_page)
        if paged is None:
            return self.not_found("Страница / Page")
        lines = [
            f'<p class="p"><a href="{e(self.listing_url(view, x))}">{e(x.title)}</a>'
            f" — {e(_price(view.price(x), x.currency))} — "
            f'<a href="{e(self.vendor_url(view, x.vendor))}">{e(x.vendor)}</a>'
            f" — {e(x.ships_from)}</p>"
            for x in listings_of(paged)
        ]
        number = view.market.category(slug)
        body = (f"<h3>{e(name)}</h3>" + ("".join(lines) or "<p>Пусто / Empty</p>")
                + self._pages(paged.page, paged.pages,
                              {"r": "cat", "id": number.number if number else 0}))
        return self._wrap(view, name, body, "index")

    def _fb_lines(self, view: View, items: list[Feedback]) -> str:
        out = [f"<p>[{f.rating}/5] {e(f.text)} <i>— {e(masked(f.buyer))}, "
               f"{e(relative(f.posted, view.now, 'ru'))}</i>"
               + (f" <small>Фасовка / Option: {e(f.item)}</small>" if f.item else "")
               + "</p>" for f in items]
        return "".join(out) or "<p>Отзывов нет / No reviews</p>"

    def _item(self, view: View, x: Listing) -> Page:
        price = view.price(x)
        tiers = "".join(f"<dd>{e(t.label)}: {e(_price(price * t.multiplier, x.currency))}</dd>"
                        for t in x.tiers)
        fbs = view.feedback(x)
        body = (
            f"<h2>{e(x.title)}</h2><dl>"
            f'<dt>Магазин / Shop</dt><dd><a href="{e(self.vendor_url(view, x.vendor))}">'
            f"{e(x.vendor)}</a></dd>"
            f"<dt>Цена / Price</dt><dd>{e(_price(price, x.currency))}</dd>"
            f"<dt>Отправка из / Ships from</dt><dd>{e(x.ships_from)}</dd>"
            f"<dt>Доставка в / Ships to</dt><dd>{e(x.ships_to)}</dd>"
            f"<dt>Фасовка / Quantity</dt>{tiers}</dl>"
            f"<h4>Отзывы / Reviews ({len(fbs)})</h4>"
            + self._fb_lines(view, fbs[:self.latest_feedback])
            + f'<p><a href="{e(self.feedback_url(view, x))}">Все отзывы / All reviews</a></p>')
        return self._wrap(view, x.title, body, "listing")

    def _feedback(self, view: View, x: Listing, page: int) -> Page:
        paged = paginate(view.feedback(x), page, self.feedback_per_page)
        if paged is None:
            return self.not_found("Страница / Page")
        items = [f for f in paged.items if isinstance(f, Feedback)]
        body = (f'<h3>Отзывы / Reviews: <a href="{e(self.listing_url(view, x))}">'
                f"{e(x.title)}</a></h3>" + self._fb_lines(view, items)
                + self._pages(paged.page, paged.pages, {"r": "fb", "id": x.listing_id}))
        return self._wrap(view, x.title, body, "feedback")

    def _shop(self, view: View, handle: str) -> Page:
        v = view.vendor(handle)
        if v is None:
            return self.not_found("Магазин / Shop")
        rating, n, since = view.standing(v)
        claims = "".join(f"<dd>{e(name)}: {sales} sales</dd>"
                         for name, sales in view.other_markets(v)) or "<dd>—</dd>"
        items = "".join(
            f'<li><a href="{e(self.listing_url(view, x))}">{e(x.title)}</a> '
            f"{e(_price(view.price(x), x.currency))}</li>" for x in view.vendor_listings(handle))
        body = (
            f"<h2>Магазин / Shop: {e(v.handle)}</h2><dl>"
            f"<dt>Продажи / Sales</dt><dd>{v.sales_until(view.day)}</dd>"
            f"<dt>Рейтинг / Rating</dt><dd>{e(stars(rating))} ({n})</dd>"
            f"<dt>На сайте с / Member since</dt><dd>{since:%d.%m.%Y}</dd>"
            f"<dt>Отправка из / Ships from</dt><dd>{e(v.country)}</dd>"
            f"<dt>Другие площадки / Other markets</dt>{claims}"
            f"<dt>Отпечаток PGP / PGP fingerprint</dt><dd>{e(v.fingerprint.upper())}</dd></dl>"
            f"<pre>{e(pgp_block(v.fingerprint))}</pre><ul>{items}</ul>")
        return self._wrap(view, v.handle, body, "vendor")
