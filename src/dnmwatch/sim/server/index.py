"""Per-market lookup structures built once from a World's Arrow tables.

Rendering a page must be cheap and must never scan the truth tables, so at start the server turns
them into plain Python structures: listings by category, feedback by listing (sorted by time, so
"visible at now" is a bisection), vendors by handle with their sale days and rating sums, price
changes per listing, and each actor's accounts across markets. Days are integers counted from the
world's day 0, timestamps are POSIX seconds: comparisons with the clock stay integer-only.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from dnmwatch.errors import SimulationError
from dnmwatch.sim.model import MarketSpec, SimConfig, World

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Tier:
    tier: int
    label: str
    multiplier: float


@dataclass(frozen=True, slots=True)
class Feedback:
    feedback_id: int
    listing_id: str
    vendor: str
    posted_ts: int
    rating: int
    text: str
    buyer: str
    price_eur: float | None
    """The transaction's price in EUR (for markets whose feedback shows the price paid)."""
    tx_day: int | None
    item: str | None = None
    """The quantity option bought (the tier label of the transaction), as reviews show it."""

    @property
    def posted(self) -> datetime:
        return datetime.fromtimestamp(self.posted_ts, tz=UTC)


@dataclass(slots=True)
class Listing:
    listing_id: str
    vendor: str
    actor: str
    title: str
    kind: str
    category: str
    currency: str
    ships_from: str
    ships_to: str
    start: int
    end: int | None
    tiers: list[Tier] = field(default_factory=list)
    price_days: list[int] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)
    sale_days: list[int] = field(default_factory=list)
    fb_ts: list[int] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)

    def live(self, day: int) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def price_on(self, day: int) -> float:
        """Tier-0 price in the listing's currency as of the latest change on or before ``day``."""
        i = bisect_right(self.price_days, day) - 1
        return self.prices[max(i, 0)] if self.prices else 0.0

    def visible_feedback(self, now_ts: int) -> list[Feedback]:
        """Feedback posted at or before ``now_ts``, newest first."""
        n = bisect_right(self.fb_ts, now_ts)
        return self.feedback[:n][::-1]

    def sales_until(self, day: int) -> int:
        return bisect_right(self.sale_days, day)


@dataclass(slots=True)
class Vendor:
    handle: str
    actor: str
    fingerprint: str
    country: str
    ships_to: str
    join: int
    leave: int | None
    sale_days: list[int] = field(default_factory=list)
    fb_ts: list[int] = field(default_factory=list)
    rating_cum: list[int] = field(default_factory=lambda: [0])

    def active(self, day: int) -> bool:
        return self.join <= day and (self.leave is None or day < self.leave)

    def sales_until(self, day: int) -> int:
        return bisect_right(self.sale_days, day)

    def rating_at(self, now_ts: int) -> tuple[float | None, int]:
        """Mean rating of the feedback visible at ``now_ts`` and how many there are."""
        n = bisect_right(self.fb_ts, now_ts)
        return (self.rating_cum[n] / n if n else None), n


@dataclass(frozen=True, slots=True)
class Category:
    number: int
    slug: str
    name: str


@dataclass(slots=True)
class MarketIndex:
    spec: MarketSpec
    listings: dict[str, Listing] = field(default_factory=dict)
    categories: list[Category] = field(default_factory=list)
    by_category: dict[str, list[str]] = field(default_factory=dict)
    vendors: dict[str, Vendor] = field(default_factory=dict)
    opaque_to_id: dict[str, str] = field(default_factory=dict)

    def alive(self, day: int) -> bool:
        s = self.spec
        return s.launch_day <= day and (s.end_day is None or day < s.end_day)

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)

    def category_no(self, number: int) -> Category | None:
        return self.categories[number - 1] if 1 <= number <= len(self.categories) else None

    def live_listings(self, slug: str, day: int) -> list[Listing]:
        """Listings of a category visible on ``day``, in the category's fixed order."""
        out: list[Listing] = []
        for lid in self.by_category.get(slug, ()):
            listing = self.listings[lid]
            vendor = self.vendors.get(listing.vendor)
            if listing.live(day) and (vendor is None or vendor.active(day)):
                out.append(listing)
        return out


@dataclass(slots=True)
class WorldIndex:
    config: SimConfig
    markets: dict[str, MarketIndex]
    rates: dict[str, tuple[list[int], list[float]]]
    accounts: dict[str, list[tuple[str, str]]]
    """actor id -> [(market, handle)] sorted by market: the claims of "also on" a vendor makes."""

    def eur_per(self, currency: str, day: int) -> float:
        """EUR per unit of ``currency`` on ``day`` (the latest rate on or before it)."""
        if currency == "EUR":
            return 1.0
        days, values = self.rates.get(currency, ([], []))
        if not days:
            raise SimulationError(f"the world has no {currency} rates")
        return values[max(bisect_right(days, day) - 1, 0)]

    def convert(self, amount: float, currency: str, to: str, day: int) -> float:
        return amount * self.eur_per(currency, day) / self.eur_per(to, day)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "misc"


def opaque_id(market: str, listing_id: str) -> str:
    """A stable opaque item id (as Empire-like markets expose instead of the database id)."""
    return hashlib.sha256(f"{market}/{listing_id}".encode()).hexdigest()[:14]


def _cols(table: pa.Table, *names: str) -> list[list[Any]]:
    return [table.column(n).to_pylist() for n in names]


def _days(table: pa.Table, name: str, start: date) -> list[int | None]:
    offset = (start - _EPOCH).days
    values = table.column(name).cast(pa.int32()).to_pylist()
    return [None if v is None else v - offset for v in values]


def build_index(world: World) -> WorldIndex:
    """Turn a World's tables into per-market indexes (done once, at server start)."""
    cfg = world.config
    markets = {m.name: MarketIndex(spec=m) for m in cfg.markets}
    _add_vendors(world, markets)
    _add_listings(world, markets)
    _add_prices_and_tiers(world, markets)
    _add_sales_and_feedback(world, markets)
    accounts: dict[str, list[tuple[str, str]]] = {}
    for name, mi in sorted(markets.items()):
        for handle, vendor in sorted(mi.vendors.items()):
            accounts.setdefault(vendor.actor, []).append((name, handle))
    rates_t = world.table("rates")
    rdays = _days(rates_t, "day", cfg.start)
    (rcur, rval) = _cols(rates_t, "currency", "eur_per_unit")
    rates: dict[str, tuple[list[int], list[float]]] = {}
    for d, c, v in sorted(zip(rdays, rcur, rval, strict=True), key=lambda r: (r[1], r[0])):
        if d is not None and v:
            rates.setdefault(c, ([], []))
            rates[c][0].append(d)
            rates[c][1].append(float(v))
    return WorldIndex(config=cfg, markets=markets, rates=rates, accounts=accounts)


def _add_vendors(world: World, markets: dict[str, MarketIndex]) -> None:
    t = world.table("vendors")
    joins = _days(t, "join_day", world.config.start)
    leaves = _days(t, "leave_day", world.config.start)
    rows = _cols(t, "market", "vendor_handle", "actor_id", "pgp_fingerprint", "country",
                 "ships_to")
    for i, (mkt, handle, actor, fpr, country, ships_to) in enumerate(zip(*rows, strict=True)):
        if mkt in markets:
            markets[mkt].vendors[handle] = Vendor(
                handle=handle, actor=actor, fingerprint=fpr, country=country or "XX",
                ships_to=ships_to or "WW", join=joins[i] or 0, leave=leaves[i])


def _add_listings(world: World, markets: dict[str, MarketIndex]) -> None:
    t = world.table("listings")
    starts = _days(t, "start_day", world.config.start)
    ends = _days(t, "end_day", world.config.start)
    rows = _cols(t, "market", "listing_id", "vendor_handle", "actor_id", "title", "kind",
                 "market_category", "currency", "ships_from", "ships_to")
    cats: dict[str, dict[str, str]] = {m: {} for m in markets}
    for i, (mkt, lid, vendor, actor, title, kind, mcat, cur, sf, st) in enumerate(
            zip(*rows, strict=True)):
        if mkt not in markets:
            continue
        name = mcat or "Other"
        slug = slugify(name)
        cats[mkt].setdefault(slug, name)
        mi = markets[mkt]
        mi.listings[lid] = Listing(
            listing_id=lid, vendor=vendor, actor=actor, title=title or "", kind=kind or "drug",
            category=slug, currency=cur or "USD", ships_from=sf or "XX", ships_to=st or "WW",
            start=starts[i] or 0, end=ends[i])
        mi.by_category.setdefault(slug, []).append(lid)
        mi.opaque_to_id[opaque_id(mkt, lid)] = lid
    for mkt, mi in markets.items():
        ordered = sorted(cats[mkt].items(), key=lambda kv: kv[1].lower())
        mi.categories = [Category(n, slug, name) for n, (slug, name) in enumerate(ordered, 1)]
        listings = mi.listings
        for ids in mi.by_category.values():
            ids.sort(key=lambda lid: (listings[lid].start, lid))


def _add_prices_and_tiers(world: World, markets: dict[str, MarketIndex]) -> None:
    pc = world.table("price_changes")
    days = _days(pc, "day", world.config.start)
    rows = _cols(pc, "market", "listing_id", "price")
    order = sorted(range(len(days)), key=lambda i: (days[i] or 0))
    for i in order:
        mkt, lid, price = rows[0][i], rows[1][i], rows[2][i]
        listing = markets[mkt].listings.get(lid) if mkt in markets else None
        if listing is not None and price is not None:
            listing.price_days.append(days[i] or 0)
            listing.prices.append(float(price))
    tt = world.table("listing_tiers")
    for mkt, lid, tier, label, mult in sorted(
            zip(*_cols(tt, "market", "listing_id", "tier", "label", "multiplier"), strict=True),
            key=lambda r: (r[0], r[1], r[2])):
        listing = markets[mkt].listings.get(lid) if mkt in markets else None
        if listing is not None:
            listing.tiers.append(Tier(int(tier), label or "", float(mult or 1.0)))


def _tier_label(listing: Listing | None, tier: int | None) -> str | None:
    """The label of the quantity tier a transaction bought (what a review shows as bought)."""
    if listing is None or tier is None:
        return None
    return next((t.label for t in listing.tiers if t.tier == tier and t.label), None)


def _add_sales_and_feedback(world: World, markets: dict[str, MarketIndex]) -> None:
    tx = world.table("transactions")
    tdays = _days(tx, "day", world.config.start)
    ids, mkts, lids, handles, eur, tiers = _cols(tx, "tx_id", "market", "listing_id",
                                                 "vendor_handle", "price_eur", "tier")
    tx_info: dict[int, tuple[float | None, int | None, str | None]] = {}
    for i, tx_id in enumerate(ids):
        mi = markets.get(mkts[i])
        if mi is None:
            continue
        d = tdays[i] or 0
        listing = mi.listings.get(lids[i])
        if listing is not None:
            listing.sale_days.append(d)
        vendor = mi.vendors.get(handles[i])
        if vendor is not None:
            vendor.sale_days.append(d)
        tx_info[tx_id] = (eur[i], tdays[i], _tier_label(listing, tiers[i]))
    for mi in markets.values():
        for listing in mi.listings.values():
            listing.sale_days.sort()
        for vendor in mi.vendors.values():
            vendor.sale_days.sort()
    fb = world.table("feedback")
    posted = fb.column("posted_at").cast(pa.int64()).to_pylist()
    cols = _cols(fb, "feedback_id", "tx_id", "market", "listing_id", "vendor_handle", "rating",
                 "text", "buyer_masked")
    rows = sorted(zip(posted, *cols, strict=True), key=lambda r: (r[0], r[1]))
    for ts, fid, tx_id, mkt, lid, handle, rating, text, buyer in rows:
        mi = markets.get(mkt)
        listing = mi.listings.get(lid) if mi is not None else None
        if mi is None or listing is None:
            continue
        price_eur, tx_day, bought = tx_info.get(tx_id, (None, None, None))
        item = Feedback(feedback_id=fid, listing_id=lid, vendor=handle, posted_ts=ts,
                        rating=int(rating), text=text or "", buyer=buyer or "a***n",
                        price_eur=price_eur, tx_day=tx_day, item=bought)
        listing.feedback.append(item)
        listing.fb_ts.append(ts)
        vendor = mi.vendors.get(handle)
        if vendor is not None:
            vendor.fb_ts.append(ts)
            vendor.rating_cum.append(vendor.rating_cum[-1] + item.rating)
