"""Listing identity across snapshots, the price history, and the ``listings``/``vendors`` rows.

**Identity.** A listing is ``(market, listing_id)``: every market we know shows a stable id in
the listing's URL, and adapters take it from there. Sources without one (some datasets) give the
*fallback* id :func:`fallback_listing_id` = ``"t:"`` + a hash of the vendor pseudonym and the
normalised title, so that the same vendor's same title in two snapshots is one listing. An
observation with an empty ``listing_id`` gets the fallback id here too.

**Price history.** Observations of a listing, in time order, are cut into runs of the same
``(price, currency)``; each run is one ``listing_prices`` row valid from its first to its last
sighting. A price change between two snapshots is therefore dated at the later snapshot
(the earliest moment we know of it).

**Rows.** ``listings`` takes the title, vendor, category and ship-from/to of the *latest*
observation (a listing may be edited), normalised with :func:`normalise_title` and
:func:`parse_location`; ``vendors`` takes first/last seen over vendor profiles and listings, the
latest non-empty PGP fingerprint and the latest profile's ship-from (else the most common
ship-from of its listings).

**Delivery.** ``delivery_method``/``delivery_area`` come from :func:`classify_delivery`: the
latest non-empty ``delivery`` text of the observations first (what the source shows about
delivery apart from the title: Matanga's ``"dead drop: Tbilisi — Saburtalo, Vake"``, a channel
offer's delivery lines), then category and ship-from/to as delivery *fields*, then the latest
title, and the market's default method from :data:`ADAPTER_DELIVERY_DEFAULTS` (keyed by the
adapter that read the observations: Matanga is a dead-drop shop market). The area of a
Matanga listing is ``"<City>: <District>, <District>"`` (districts sorted), or ``"<City>"``
when the offer is flagged for the whole city only; elsewhere it is the first place the
delivery text, fields or title name (``docs/channels.md``, "Delivery in the store").
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dnmwatch.normalise.countries import parse_location
from dnmwatch.normalise.delivery import classify_delivery
from dnmwatch.normalise.lexicon import fold
from dnmwatch.normalise.pipeline import Normalised, normalise_title


def fallback_listing_id(vendor_id: str | None, title: str) -> str:
    """The documented fallback identity: vendor pseudonym + normalised title."""
    key = f"{vendor_id or ''}\x1f{' '.join(fold(title).split())}"
    return "t:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


ADAPTER_DELIVERY_DEFAULTS: dict[str, str] = {"matanga": "dead_drop"}
"""The delivery method a market states once for all its offers, by adapter name."""


def location_code(text: str | None) -> str | None:
    """One ISO / region code for a ship-from string (``XX`` when empty; ``None`` when not
    shown at all or not recognised)."""
    if text is None:
        return None
    loc = parse_location(text)
    return loc.code if loc.known else None


@dataclass(frozen=True, slots=True)
class Tier:
    label: str
    price: float | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class PriceSighting:
    """One observed price of a listing."""

    at: datetime
    price: float | None
    currency: str | None
    price_eur: float | None
    tiers: tuple[Tier, ...]


@dataclass(slots=True)
class ListingHistory:
    """Everything observed about one listing, in time order."""

    market: str
    listing_id: str
    sightings: list[PriceSighting] = field(default_factory=list)
    title: str = ""
    vendor_id: str | None = None
    category: str | None = None
    ships_from: str | None = None
    ships_to: str | None = None
    adapter: str | None = None
    delivery: str | None = None
    normalised: Normalised | None = None
    _times: list[datetime] = field(default_factory=list)

    @property
    def first_seen(self) -> datetime:
        return self.sightings[0].at

    @property
    def last_seen(self) -> datetime:
        return self.sightings[-1].at

    def priced(self) -> list[PriceSighting]:
        return [s for s in self.sightings if s.price is not None]

    def price_at(self, moment: datetime) -> PriceSighting | None:
        """The priced sighting nearest *before* ``moment``; if none, the first one after."""
        priced = self.priced()
        if not priced:
            return None
        if len(self._times) != len(priced):
            self._times = [s.at for s in priced]
        i = bisect_right(self._times, moment) - 1
        return priced[i] if i >= 0 else priced[0]

    def tiered_at(self, moment: datetime) -> PriceSighting | None:
        """The sighting showing tiers nearest *before* ``moment``; if none, the first after
        (the same rule as :meth:`price_at`, for the quantity options)."""
        tiered = [s for s in self.sightings if s.tiers]
        if not tiered:
            return None
        before = [s for s in tiered if s.at <= moment]
        return before[-1] if before else tiered[0]

    def tiers_near(self, moment: datetime) -> tuple[Tier, ...]:
        """Tiers of the sighting nearest in time to ``moment`` that shows any."""
        best: PriceSighting | None = None
        for s in self.sightings:
            if s.tiers and (best is None or abs(s.at - moment) < abs(best.at - moment)):
                best = s
        return best.tiers if best is not None else ()


def _tiers(text: str | None) -> tuple[Tier, ...]:
    if not text:
        return ()
    try:
        items = json.loads(text)
    except ValueError:
        return ()
    out: list[Tier] = []
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(item.get("label"), str):
            price = item.get("price")
            out.append(Tier(item["label"], float(price) if isinstance(price, int | float)
                            else None, item.get("currency")))
    return tuple(out)


LISTING_OBS_SQL = """
SELECT market, listing_id, observed_at, title, vendor_id, price, currency, price_eur,
       ships_from, ships_to, category, tiers, adapter, delivery
FROM listing_observations {where}
ORDER BY market, listing_id, observed_at, source, source_offset NULLS FIRST, title, price,
         currency, crawl_id
"""


def market_scope(market: str | None) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause and its parameters restricting a raw table to one market (or none),
    so that an incremental build reads only the markets whose inputs changed."""
    return ("", []) if market is None else ("WHERE market = ?", [market])


def load_histories(conn: Any, market: str | None = None) -> dict[tuple[str, str],
                                                                   ListingHistory]:
    """Listing histories from ``listing_observations`` (fallback ids applied)."""
    out: dict[tuple[str, str], ListingHistory] = {}
    where, params = market_scope(market)
    for (market, lid, at, title, vendor, price, cur, eur, sf, st, cat,
         tiers, adapter, delivery) in conn.execute(LISTING_OBS_SQL.format(where=where),
                                         params).fetchall():
        lid = lid or fallback_listing_id(vendor, title or "")
        hist = out.get((market, lid))
        if hist is None:
            hist = out[(market, lid)] = ListingHistory(market, lid)
        hist.sightings.append(PriceSighting(at, price, cur, eur, _tiers(tiers)))
        hist.title = title or hist.title
        hist.vendor_id = vendor or hist.vendor_id
        hist.category = cat or hist.category
        hist.ships_from = sf or hist.ships_from
        hist.ships_to = st or hist.ships_to
        hist.adapter = adapter or hist.adapter
        hist.delivery = delivery or hist.delivery
    for hist in out.values():
        hist.sightings.sort(key=lambda s: s.at)
        hist.normalised = normalise_title(hist.title, hist.category)
    return out


def price_history_rows(hist: ListingHistory) -> list[dict[str, Any]]:
    """Runs of one price, each valid from its first to its last sighting.

    A second price at the very moment of the run's last sighting (one page showing the same
    listing twice at two prices: a forum price list with one title on two lines, a market
    listing one offer twice) does not start a run: a run starts at a moment, and two runs
    cannot start at one. The sightings are ordered by time, then price, so the lowest of the
    first moment's prices wins, the same way on every build; the others stay in
    ``listing_observations``."""
    rows: list[dict[str, Any]] = []
    for s in hist.priced():
        last = rows[-1] if rows else None
        if last is not None and (last["price"], last["currency"]) == (s.price, s.currency):
            last["valid_to"] = s.at
            last["observations"] += 1
            continue
        if last is not None and s.at == last["valid_to"]:
            continue
        rows.append({"market": hist.market, "listing_id": hist.listing_id, "valid_from": s.at,
                     "valid_to": s.at, "price": s.price, "currency": s.currency,
                     "price_eur": s.price_eur, "observations": 1})
    return rows


def listing_row(hist: ListingHistory) -> dict[str, Any]:
    norm = hist.normalised
    assert norm is not None
    last = hist.priced()[-1] if hist.priced() else None
    return {
        "market": hist.market, "listing_id": hist.listing_id, "vendor_id": hist.vendor_id,
        "title": hist.title, "substance": norm.substance, "category": norm.category,
        "form": norm.form or None, "mass_g": norm.mass_g, "count": norm.count,
        "dose_value": norm.dose_value, "dose_unit": norm.dose_unit,
        "volume_ml": norm.volume_ml, "purity_pct": norm.purity_pct,
        "ships_from": location_code(hist.ships_from), "ships_to": _to_code(hist.ships_to),
        "first_seen": hist.first_seen, "last_seen": hist.last_seen,
        "observations": len(hist.sightings),
        "last_price_eur": last.price_eur if last is not None else None,
        **delivery_columns(hist),
    }


def delivery_columns(hist: ListingHistory) -> dict[str, str | None]:
    """``delivery_method`` and ``delivery_area`` of a listing (see the module docstring)."""
    found = classify_delivery(
        hist.title, delivery=hist.delivery,
        fields=(hist.category, hist.ships_from, hist.ships_to),
        default=ADAPTER_DELIVERY_DEFAULTS.get(hist.adapter or ""))
    return {"delivery_method": found.method, "delivery_area": found.area}


def _to_code(text: str | None) -> str | None:
    loc = parse_location(text)
    return ",".join(loc.codes) if loc.known else None


VENDOR_OBS_SQL = """
SELECT market, vendor_id, observed_at, pgp_fingerprint, ships_from, other_markets
FROM vendor_observations {where} ORDER BY market, vendor_id, observed_at, source, source_offset
"""


@dataclass(slots=True)
class VendorFacts:
    """What is known of one vendor account: the input of ``vendors`` and of vendor linking."""

    market: str
    vendor_id: str
    first_seen: datetime
    last_seen: datetime
    fingerprints: list[str] = field(default_factory=list)
    ships_from: str | None = None
    listing_origins: Counter[str] = field(default_factory=Counter)
    substances: Counter[str] = field(default_factory=Counter)
    claims: set[str] = field(default_factory=set)

    def see(self, moment: datetime) -> None:
        self.first_seen = min(self.first_seen, moment)
        self.last_seen = max(self.last_seen, moment)

    @property
    def fingerprint(self) -> str | None:
        return self.fingerprints[-1] if self.fingerprints else None

    @property
    def origin(self) -> str | None:
        if self.ships_from is not None:
            return self.ships_from
        common = self.listing_origins.most_common(1)
        return common[0][0] if common else None


def load_vendors(conn: Any, histories: dict[tuple[str, str], ListingHistory],
                 market: str | None = None) -> dict[tuple[str, str], VendorFacts]:
    """Vendor facts from profiles (``vendor_observations``) and from listings."""
    out: dict[tuple[str, str], VendorFacts] = {}
    where, params = market_scope(market)
    for market, vid, at, fpr, sf, claims in conn.execute(VENDOR_OBS_SQL.format(where=where),
                                                         params).fetchall():
        facts = out.get((market, vid))
        if facts is None:
            facts = out[(market, vid)] = VendorFacts(market, vid, at, at)
        facts.see(at)
        if fpr:
            fpr = "".join(fpr.split()).upper()
            if fpr in facts.fingerprints:
                facts.fingerprints.remove(fpr)
            facts.fingerprints.append(fpr)
        facts.ships_from = location_code(sf) or facts.ships_from
        try:
            names = json.loads(claims) if claims else []
        except ValueError:
            names = []
        facts.claims.update(str(n).casefold() for n in names if isinstance(n, str))
    for hist in histories.values():
        if hist.vendor_id is None:
            continue
        key = (hist.market, hist.vendor_id)
        facts = out.get(key)
        if facts is None:
            facts = out[key] = VendorFacts(hist.market, hist.vendor_id, hist.first_seen,
                                           hist.last_seen)
        facts.see(hist.first_seen)
        facts.see(hist.last_seen)
        code = location_code(hist.ships_from)
        if code is not None:
            facts.listing_origins[code] += 1
        if hist.normalised is not None and hist.normalised.substance != "non_drug":
            facts.substances[hist.normalised.substance] += 1
    return out


def vendor_row(facts: VendorFacts, actor_id: str | None) -> dict[str, Any]:
    return {"market": facts.market, "vendor_id": facts.vendor_id,
            "first_seen": facts.first_seen, "last_seen": facts.last_seen,
            "ships_from": facts.origin, "pgp_fingerprint": facts.fingerprint,
            "vendor_group": actor_id}
