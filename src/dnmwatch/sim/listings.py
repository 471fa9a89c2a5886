"""Listings of every vendor account: what is offered, how the title reads, its price over time.

Each account gets about ``listings_per_vendor`` listings that appear and end over its life:
mostly drugs, some non-drug goods and placeholders, a few drug listings parked at a holding
price. An actor selling on several markets (or migrating) often copies its titles, as real
vendors do, which is what lets a linker match accounts across markets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dnmwatch.sim.actors import Account, market_stop
from dnmwatch.sim.catalog import LANGS, Product, products_of
from dnmwatch.sim.goods import non_drug_good, placeholder
from dnmwatch.sim.model import MarketSpec, PriceBand, SimConfig
from dnmwatch.sim.pricing import (
    Tier,
    banded_price,
    change_days,
    change_factor,
    in_currency,
    make_tiers,
    title_unit_price,
)
from dnmwatch.sim.rates import Rates
from dnmwatch.sim.rng import pick, stream
from dnmwatch.sim.titles import drug_title

_LABELS: dict[str, tuple[str, str]] = {
    "cannabis/herbal": ("Cannabis", "Weed"), "cannabis/resin": ("Cannabis", "Hash"),
    "cannabis/concentrate": ("Cannabis", "Concentrates"), "cocaine": ("Stimulants", "Cocaine"),
    "amphetamine": ("Stimulants", "Speed"), "methamphetamine": ("Stimulants", "Meth"),
    "mdma": ("Ecstasy", "Pills"), "lsd": ("Psychedelics", "LSD"),
    "psilocybin": ("Psychedelics", "Mushrooms"), "2c": ("Psychedelics", "2C-B"),
    "heroin": ("Opioids", "Heroin"), "oxycodone": ("Opioids", "Oxycodone"),
    "tramadol": ("Opioids", "Tramadol"), "ketamine": ("Dissociatives", "Ketamine"),
    "alprazolam": ("Benzos", "Xanax"), "diazepam": ("Benzos", "Valium"),
    "cathinone": ("Stimulants", "RCs"), "anabolic_steroid": ("Steroids", "Orals"),
}
_MISFILED: dict[str, tuple[str, str]] = {
    "tramadol": ("Benzos", "Other"), "oxycodone": ("Benzos", "Other"),
    "diazepam": ("Opioids", "Other"), "ketamine": ("Psychedelics", "Other"),
    "2c": ("Ecstasy", "Pills"), "cathinone": ("Ecstasy", "MDMA"),
    "amphetamine": ("Stimulants", "Meth"), "psilocybin": ("Cannabis", "Other"),
}
HOLDING_SHARE = 0.03
"""Share of drug listings parked at an absurd price (out of stock, kept for the reviews)."""


@dataclass(slots=True)
class Offer:
    """The product side of a drug listing, reusable across an actor's markets."""

    product: Product
    market: str
    """Where the offer was first listed: it is copied only to the actor's other markets."""
    title: str
    language: str
    quantity: float
    dose: float | None
    purity: float | None


@dataclass(slots=True)
class Listing:
    """Everything about one listing; the generator turns a list of these into truth tables."""

    market: str
    listing_id: str
    account: Account
    title: str
    language: str
    kind: str
    substance: str
    category: str
    form: str | None
    market_category: str
    mass_g: float | None
    count: int | None
    dose_value: float | None
    dose_unit: str | None
    purity_pct: float | None
    unit: str | None
    unit_price_eur: float
    currency: str
    start: int
    stop: int
    """Exclusive last day of activity (the market's or the account's end included)."""
    end_day: int | None
    holding: bool
    tiers: list[Tier]
    changes: list[tuple[int, float]] = field(default_factory=list)
    popularity: float = 1.0
    price_effect: float = 1.0


def market_label(engine: str, top: str, sub: str) -> str:
    """How a market engine names a category: a path, a top level, or a short sub-category.

    Non-drug sections (``top == sub``) are not filed under "Drugs".
    """
    if engine == "table" and top == sub:
        return top
    if engine == "table":
        return f"Drugs > {top} > {sub}"
    if engine == "minimal":
        return sub.lower()
    return top


def _listing_ids(rng: np.random.Generator, market: MarketSpec, n: int) -> list[str]:
    """Unique ids in the style of the market's engine (numbers, hex, short codes)."""
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < n:
        value = int(rng.integers(10_000, 99_999_999))
        text = (str(value) if market.engine == "table" else
                f"{value:08x}" if market.engine == "cards" else f"p{value % 9_999_991}")
        if text not in seen:
            seen.add(text)
            ids.append(text)
    return ids


class ListingFactory:
    """Creates the listings of one world; holds the per-actor offers that get copied."""

    def __init__(self, config: SimConfig, rates: Rates) -> None:
        self.config = config
        self.rates = rates
        self.rng = stream(config.seed, "listings")
        self.title_rng = stream(config.seed, "titles")
        self.bands: dict[str, PriceBand] = {b.substance: b for b in config.price_bands}
        self.offers: dict[str, list[Offer]] = {}
        self.recent_titles: list[str] = []

    def _language(self, account: Account, market: MarketSpec) -> str:
        roll = self.rng.random()
        if market.locale != "en" and roll < 0.5:
            return market.locale
        if account.actor.language != "en" and self.rng.random() < 0.5:
            return account.actor.language
        if self.rng.random() < 0.05:
            return pick(self.rng, LANGS)
        return "en"

    def _new_offer(self, account: Account, market: MarketSpec) -> Offer:
        rng = self.rng
        subs = account.actor.substances
        w = np.array([1.0, 0.6, 0.4, 0.3][:len(subs)])
        substance = subs[int(rng.choice(len(subs), p=w / w.sum()))]
        products = products_of(substance)
        pw = np.array([p.weight for p in products])
        product = products[int(rng.choice(len(products), p=pw / pw.sum()))]
        quantity = float(product.quantities[int(rng.integers(len(product.quantities)))])
        dose = None
        if product.doses and rng.random() < product.dose_stated:
            dose = float(product.doses[int(rng.integers(len(product.doses)))])
        purity = None
        if product.purities and rng.random() < product.purity_stated:
            purity = float(product.purities[int(rng.integers(len(product.purities)))])
        lang = self._language(account, market)
        title = drug_title(self.title_rng, product, lang, quantity, dose, purity)
        return Offer(product, market.name, title, lang, quantity, dose, purity)

    def _offer(self, account: Account, market: MarketSpec) -> Offer:
        mine = self.offers.setdefault(account.actor.actor_id, [])
        elsewhere = [o for o in mine if o.market != market.name]
        copy_p = 0.6 if account.migrated_from else 0.45
        if elsewhere and self.rng.random() < copy_p:
            original = elsewhere[int(self.rng.integers(len(elsewhere)))]
            if self.rng.random() < 0.5:
                return original
            # same product, title reworded for this market (new decorations, same facts)
            title = drug_title(self.title_rng, original.product, original.language,
                               original.quantity, original.dose, original.purity)
            return Offer(original.product, market.name, title, original.language,
                         original.quantity, original.dose, original.purity)
        offer = self._new_offer(account, market)
        mine.append(offer)
        return offer

    def _lifetime(self, account: Account, market: MarketSpec) -> tuple[int, int, int | None]:
        rng = self.rng
        mstop = market_stop(market, self.config.days)
        acc_stop = min(account.leave_day, mstop) if account.leave_day is not None else mstop
        last_start = max(account.join_day, acc_stop - 3)
        if rng.random() < 0.5:
            start = min(account.join_day + int(rng.integers(0, 4)), last_start)
        else:
            start = int(rng.integers(account.join_day, last_start + 1))
        stop = acc_stop
        if rng.random() < 0.45:
            stop = min(acc_stop, start + 7 + int(rng.exponential(50.0)))
        return start, stop, (None if stop == mstop else stop)

    def listings_for(self, account: Account, market: MarketSpec, n: int) -> list[Listing]:
        """``n`` listings of one account, without ids (set by :meth:`assign_ids`)."""
        out: list[Listing] = []
        for _ in range(n):
            start, stop, end_day = self._lifetime(account, market)
            roll = self.rng.random()
            if roll < self.config.placeholder_share:
                dup = self.recent_titles[-1] if self.recent_titles else None
                out.append(self._goods(account, market, start, stop, end_day, "placeholder", dup))
            elif roll < self.config.placeholder_share + self.config.non_drug_share:
                out.append(self._goods(account, market, start, stop, end_day, "non_drug", None))
            else:
                out.append(self._drug(account, market, start, stop, end_day))
        return out

    def _goods(self, account: Account, market: MarketSpec, start: int, stop: int,
               end_day: int | None, kind: str, dup: str | None) -> Listing:
        rng = self.rng
        good = placeholder(self.title_rng, dup) if kind == "placeholder" else non_drug_good(
            self.title_rng)
        currency = account.currency
        eur_rate = self.rates.eur_per(currency, start)
        if kind == "placeholder":  # placeholder prices are round numbers in the own currency
            price = good.price_eur if currency != "BTC" else round(good.price_eur / 8000.0, 4)
        else:
            price = in_currency(good.price_eur, currency, eur_rate)
        listing = Listing(market.name, "", account, good.title, good.language, kind, "non_drug",
                          "non_drug", None, market_label(market.engine, good.label, good.label),
                          None, None, None, None, None, None, price * eur_rate, currency, start,
                          stop, end_day, False, [Tier("1 pcs", None, None, 1.0)])
        listing.changes = [(start, price)]
        if kind == "non_drug":
            for day in change_days(rng, start, stop):
                price = round(price * change_factor(rng), 8 if currency == "BTC" else 2)
                listing.changes.append((day, price))
        return listing

    def _drug(self, account: Account, market: MarketSpec, start: int, stop: int,
              end_day: int | None) -> Listing:
        rng = self.rng
        offer = self._offer(account, market)
        product = offer.product
        band = self.bands[product.substance]
        count = int(offer.quantity) if product.kind == "count" else None
        mass = offer.quantity if product.kind == "mass" else None
        quantity = offer.quantity
        currency = account.currency
        holding = bool(rng.random() < HOLDING_SHARE)
        unit_eur = title_unit_price(rng, band, account.actor.country, quantity,
                                    min(product.quantities), self.config.quantity_elasticity)
        rate0 = self.rates.eur_per(currency, start)
        if holding:
            price = in_currency(unit_eur * quantity * float(rng.uniform(30, 300)), currency, rate0)
        else:
            price = banded_price(unit_eur, quantity, band, currency, rate0)
        if product.substance in _MISFILED and rng.random() < 0.05:
            top, sub = _MISFILED[product.substance]
        elif rng.random() < 0.01:
            top, sub = ("Other", "Other")
        else:
            key = f"{product.substance}/{product.form}"
            top, sub = _LABELS.get(key) or _LABELS.get(product.substance, ("Other", "Other"))
        tiers = make_tiers(rng, mass, count, self.config.quantity_elasticity,
                           offer_more=not holding and rng.random() < 0.35)
        listing = Listing(
            market.name, "", account, offer.title, offer.language, "drug", product.substance,
            product.category, product.form, market_label(market.engine, top, sub), mass, count,
            offer.dose if product.dose_unit else None,
            product.dose_unit if offer.dose is not None else None, offer.purity, band.unit,
            price * rate0 / quantity, currency, start, stop, end_day, holding, tiers)
        listing.changes = [(start, price)]
        if not holding:
            unit = listing.unit_price_eur
            for day in change_days(rng, start, stop):
                unit = min(band.high_eur, max(band.low_eur, unit * change_factor(rng)))
                listing.changes.append((day, banded_price(unit, quantity, band, currency,
                                                          self.rates.eur_per(currency, day))))
        mid = 0.5 * (band.low_eur + band.high_eur)
        listing.price_effect = float(np.clip((listing.unit_price_eur / mid) ** -0.8, 0.5, 2.0))
        self.recent_titles.append(offer.title)
        return listing


def assign_ids(config: SimConfig, listings: list[Listing]) -> None:
    """Give every listing a market-unique id in its engine's style."""
    rng = stream(config.seed, "listing-ids")
    for market in config.markets:
        mine = [x for x in listings if x.market == market.name]
        for listing, lid in zip(mine, _listing_ids(rng, market, len(mine)), strict=True):
            listing.listing_id = lid
