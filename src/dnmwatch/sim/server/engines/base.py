"""What every engine shares: the per-request view of the world, pages, pagination, lookups.

An engine is a pure function of (path, query, view) to a page: no aiohttp, no clock, no state.
The view fixes "now" for the whole request, so every number on a page is consistent with the
simulated instant, and the same world and instant always give byte-identical HTML.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from dnmwatch.sim.server.index import Feedback, Listing, MarketIndex, Vendor, WorldIndex
from dnmwatch.sim.server.text import e


@dataclass(frozen=True, slots=True)
class Page:
    status: int
    html: str
    page_type: str
    """home | index | listing | feedback | vendor | not_found (for the traffic log and tests)."""


@dataclass(frozen=True, slots=True)
class View:
    """The world as seen from one market at one simulated instant."""

    world: WorldIndex
    market: MarketIndex
    now: datetime

    @property
    def day(self) -> int:
        return (self.now.date() - self.world.config.start).days

    @property
    def now_ts(self) -> int:
        return int(self.now.timestamp())

    def listing(self, listing_id: str) -> Listing | None:
        """A listing if it is live today and its vendor is active, else ``None``."""
        listing = self.market.listings.get(listing_id)
        if listing is None or not listing.live(self.day):
            return None
        vendor = self.market.vendors.get(listing.vendor)
        return listing if vendor is None or vendor.active(self.day) else None

    def vendor(self, handle: str) -> Vendor | None:
        vendor = self.market.vendors.get(handle)
        return vendor if vendor is not None and vendor.active(self.day) else None

    def vendor_listings(self, handle: str) -> list[Listing]:
        return sorted((x for x in self.market.listings.values()
                       if x.vendor == handle and x.live(self.day)), key=lambda x: x.listing_id)

    def feedback(self, listing: Listing) -> list[Feedback]:
        return listing.visible_feedback(self.now_ts)

    def price(self, listing: Listing) -> float:
        return listing.price_on(self.day)

    def btc(self, amount: float, currency: str) -> float:
        return self.world.convert(amount, currency, "BTC", self.day)

    def paid(self, item: Feedback, currency: str) -> float | None:
        """What the buyer of a feedback paid, in ``currency`` at the rate of the sale's day."""
        if item.price_eur is None:
            return None
        day = item.tx_day if item.tx_day is not None else self.day
        return item.price_eur / self.world.eur_per(currency, day)

    def standing(self, vendor: Vendor) -> tuple[float | None, int, date]:
        """What a profile page shows of an account: mean rating, number of ratings (visible
        now) and the day it joined the market."""
        rating, n = vendor.rating_at(self.now_ts)
        return rating, n, self.world.config.day_date(vendor.join)

    def other_markets(self, vendor: Vendor) -> list[tuple[str, int]]:
        """The actor's accounts on other markets (joined by today) and their sales so far."""
        out: list[tuple[str, int]] = []
        for name, handle in self.world.accounts.get(vendor.actor, ()):
            if name == self.market.spec.name:
                continue
            other = self.world.markets[name].vendors[handle]
            if other.join <= self.day:
                out.append((display_name(name), other.sales_until(self.day)))
        return out


def display_name(market: str) -> str:
    """How a market's name is written by people: "AlphaBay"-style capitalisation."""
    return market[:1].upper() + market[1:]


@dataclass(frozen=True, slots=True)
class Paged:
    items: list[Feedback] | list[Listing]
    page: int
    pages: int


def paginate(items: list[Feedback] | list[Listing], page: int, per: int) -> Paged | None:
    """One page of ``items`` (1-based), or ``None`` when the page does not exist.

    An empty list still has page 1 (an empty category is a page saying so, not an error).
    """
    pages = max(1, -(-len(items) // per))
    if not 1 <= page <= pages:
        return None
    return Paged(items[(page - 1) * per: page * per], page, pages)


def listings_of(paged: Paged) -> list[Listing]:
    """The items of a page of listings, typed as such (a category or shop page)."""
    out: list[Listing] = []
    for x in paged.items:
        assert isinstance(x, Listing)
        out.append(x)
    return out


def to_int(value: str | None, default: int | None = None) -> int | None:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number >= 0 else None


class Engine(ABC):
    """One HTML/URL design. Subclasses set the page sizes and implement :meth:`dispatch`."""

    name: str = ""
    listings_per_page: int = 20
    feedback_per_page: int = 10
    latest_feedback: int = 5
    lang: str = "en"

    @abstractmethod
    def dispatch(self, path: str, query: Mapping[str, str], view: View) -> Page:
        """Render the page at ``path`` (with ``query``) as seen through ``view``."""

    @abstractmethod
    def listing_url(self, view: View, listing: Listing) -> str:
        """The URL path of a listing page (used by tests and by the other pages)."""

    @abstractmethod
    def category_url(self, view: View, slug: str, page: int = 1) -> str: ...

    @abstractmethod
    def feedback_url(self, view: View, listing: Listing, page: int = 1) -> str: ...

    @abstractmethod
    def vendor_url(self, view: View, handle: str) -> str: ...

    def not_found(self, what: str) -> Page:
        body = (f"<!DOCTYPE html><html><head><title>Not found</title></head><body>"
                f"<h1>404</h1><p>{e(what)} not found.</p><p><a href=\"/\">Home</a></p>"
                "</body></html>")
        return Page(404, body, "not_found")
