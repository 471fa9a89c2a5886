"""Sales from de-duplicated feedback: one feedback = one transaction, a documented lower bound.

Rules, in the order they are applied (docs/estimation.md has the reasoning):

1. **Day**: the sale is dated at the midpoint of the feedback's resolved date interval (the
   purchase itself happened up to a couple of weeks earlier; the interval is kept in
   ``feedback``).
2. **Listing**: the feedback's listing, normalised. A feedback whose listing was never observed
   and that shows no price is excluded (``no_listing``).
3. **Placeholders**: a listing classified ``non_drug`` whose title says test / tip / donation /
   reserved / custom / escrow / refund / reship / extra payment / "do not buy" (several
   languages), or any listing titled "(Duplicate) ...", is excluded (``placeholder``). Other
   non-drug goods stay, as substance ``non_drug``.
4. **Price**: the price the feedback row itself shows, where the market shows one
   (``price_source = feedback``); else the listing's price observed *nearest before* the
   feedback date midpoint, or the first one after when the listing was first seen later
   (``price_source = listing``). No price at all: ``no_price``.
5. **Quantity**: a shown price is matched to the listing's quantity tier whose price (at the
   observation nearest in time, in EUR) is closest, within a factor of :data:`TIER_TOLERANCE`;
   that tier's label gives mass/count. Otherwise the title's quantity (tier 0).
6. **EUR**: EUR prices as they are; otherwise the market's own rate when the price observation
   shows one (``price_eur`` within :data:`OWN_RATE_DAYS` days), else the ``rates`` table on the
   sale's day with its 3-day gap rule. No rate: ``no_rate``.
7. **Holding prices**: the unit price (EUR per gram, else per unit) above :data:`HOLDING_FACTOR`
   times the median unit price of that substance on that market (over the market's listings,
   at their latest price) is a parked listing: ``holding_price``.
8. **Correction**: ``weight`` = 1 / the assumed feedback probability when one is given, else 1.
   Headline figures sum ``price_eur`` (weight 1): the lower bound. ``sum(price_eur * weight)``
   is the corrected figure, reported beside it, never instead.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dnmwatch.consolidate.feedback import Cluster
from dnmwatch.consolidate.listings import ListingHistory, PriceSighting, Tier, location_code
from dnmwatch.normalise.lexicon import fold
from dnmwatch.normalise.quantities import parse_quantity
from dnmwatch.normalise.rates import RateTable
from dnmwatch.records import Counters, Rejection

HOLDING_FACTOR = 10.0
TIER_TOLERANCE = 2.0
OWN_RATE_DAYS = 3
PLACEHOLDER = re.compile(
    r"\b(?:test|tip|tips|jar|donat\w*|placeholder|custom\s+(?:listing|order)|reserv\w*|"
    r"escrow|refund|"
    r"reship\w*|extra\s+payment|shipping\s+upgrade|pay\s+(?:the\s+)?difference|"
    r"do\s*n[o']?t\s*buy|dont\s*buy|gereserveerd|nur\s+fur|резерв\w*|тест|"
    r"не\s+покупать|spende|fooi)\b"
)
DUPLICATE = re.compile(r"^\W*(?:duplicate|dupe)\b")
"""A listing re-posted as a "(Duplicate)" of another is a placeholder whatever it sells."""
EXCLUSION_REASONS = ("no_listing", "placeholder", "no_price", "no_rate", "holding_price")


@dataclass(frozen=True, slots=True)
class SalesOptions:
    feedback_probability: float | None = None
    """Assumed share of buyers who leave feedback (for the correction); ``None``: no correction."""
    holding_factor: float = HOLDING_FACTOR


@dataclass(slots=True)
class SalesResult:
    rows: list[dict[str, Any]]
    exclusions: list[dict[str, Any]]
    counters: Counters


def is_placeholder(title: str, substance: str) -> bool:
    """A non-drug listing that exists to be tested, tipped, reserved or parked, or any listing
    marked as a duplicate of another."""
    folded = fold(title)
    if DUPLICATE.search(folded):
        return True
    return substance == "non_drug" and PLACEHOLDER.search(folded) is not None


def _eur(amount: float, currency: str | None, day: datetime, sighting: PriceSighting | None,
         rates: RateTable) -> float | Rejection:
    if currency == "EUR":
        return amount
    if currency is None:
        return Rejection("no_rate", "price without a currency")
    if (sighting is not None and sighting.price_eur is not None and sighting.price
            and sighting.currency == currency
            and abs(sighting.at - day) <= timedelta(days=OWN_RATE_DAYS)):
        return amount * sighting.price_eur / sighting.price
    rate = rates.lookup(currency, day.date())
    return rate if isinstance(rate, Rejection) else amount * rate


def _quantity(label: str, hist: ListingHistory) -> tuple[float | None, int | None]:
    norm = hist.normalised
    q = parse_quantity(fold(label), unit_sold=norm is not None and norm.count is not None,
                       cannabis=norm is not None and norm.substance == "cannabis")
    return q.mass_g, q.count


def _match_tier(paid_eur: float, tiers: Iterable[Tier], day: datetime,
                rates: RateTable) -> Tier | None:
    best: tuple[float, Tier] | None = None
    for t in tiers:
        if t.price is None or t.price <= 0:
            continue
        eur = _eur(t.price, t.currency, day, None, rates)
        if isinstance(eur, Rejection) or eur <= 0:
            continue
        gap = abs(math.log(paid_eur / eur))
        if best is None or gap < best[0]:
            best = (gap, t)
    if best is None or best[0] > math.log(TIER_TOLERANCE):
        return None
    return best[1]


def unit_price(price_eur: float, mass_g: float | None, count: int | None) -> float | None:
    """EUR per gram where the mass is known, else EUR per unit (EMCDDA convention)."""
    if mass_g:
        return price_eur / mass_g
    if count:
        return price_eur / count
    return None


def substance_medians(histories: Iterable[ListingHistory],
                      rates: RateTable) -> dict[tuple[str, str, str], float]:
    """Median unit price per (market, substance, g|unit) over listings at their latest price."""
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for h in histories:
        norm, priced = h.normalised, h.priced()
        if norm is None or norm.substance == "non_drug" or not priced:
            continue
        last = priced[-1]
        assert last.price is not None
        eur = _eur(last.price, last.currency, last.at, last, rates)
        per = unit_price(eur, norm.mass_g, norm.count) if not isinstance(eur, Rejection) else None
        if per is not None and per > 0:
            values[(h.market, norm.substance, "g" if norm.mass_g else "unit")].append(per)
    return {k: statistics.median(v) for k, v in values.items()}


def estimate_sales(clusters: list[Cluster], histories: dict[tuple[str, str], ListingHistory],
                   rates: RateTable, vendor_origin: dict[tuple[str, str], str | None],
                   options: SalesOptions | None = None) -> SalesResult:
    """``sales`` rows and ``sales_exclusions`` rows for every feedback cluster."""
    opts = options or SalesOptions()
    weight = 1.0 / opts.feedback_probability if opts.feedback_probability else 1.0
    medians = substance_medians(histories.values(), rates)
    result = SalesResult([], [], Counters())
    for c in clusters:
        row_or_reason = _one_sale(c, histories, rates, vendor_origin, medians, opts)
        fid, market = c.feedback_id, c.first.market
        if isinstance(row_or_reason, Rejection):
            result.counters.inc(f"excluded:{row_or_reason.reason}")
            result.exclusions.append({"market": market, "feedback_id": fid,
                                      "listing_id": c.first.listing_id,
                                      "reason": row_or_reason.reason,
                                      "detail": row_or_reason.detail})
            continue
        row_or_reason["weight"] = weight
        result.counters.inc("sales")
        result.rows.append(row_or_reason)
    result.rows.sort(key=lambda r: (r["market"], r["feedback_id"]))
    result.exclusions.sort(key=lambda r: (r["market"], r["feedback_id"]))
    return result


def _one_sale(c: Cluster, histories: dict[tuple[str, str], ListingHistory], rates: RateTable,
              vendor_origin: dict[tuple[str, str], str | None],
              medians: dict[tuple[str, str, str], float],
              opts: SalesOptions) -> dict[str, Any] | Rejection:
    market, when = c.first.market, c.interval.midpoint
    hist = histories.get((market, c.first.listing_id or ""))
    if hist is None and c.price is None:
        return Rejection("no_listing", "listing never observed and no price shown")
    norm = hist.normalised if hist is not None else None
    if hist is not None and norm is not None and is_placeholder(hist.title, norm.substance):
        return Rejection("placeholder", norm.substance)
    mass = norm.mass_g if norm is not None else None
    count = norm.count if norm is not None else None
    sighting = hist.price_at(when) if hist is not None else None
    tier_label: str | None = None
    if c.price is not None:
        source, amount, currency = "feedback", c.price, c.currency
        paid = _eur(amount, currency, when, None, rates)
        if hist is not None and not isinstance(paid, Rejection) and paid > 0:
            tier = _match_tier(paid, hist.tiers_near(when), when, rates)
            if tier is not None:
                tier_label = tier.label
                t_mass, t_count = _quantity(tier.label, hist)
                if t_mass is not None or t_count is not None:
                    mass, count = t_mass, t_count
    elif sighting is not None and sighting.price is not None:
        source, amount, currency = "listing", sighting.price, sighting.currency
    else:
        return Rejection("no_price", "no price shown or observed")
    eur = _eur(amount, currency, when, sighting if source == "listing" else None, rates)
    if isinstance(eur, Rejection):
        return Rejection("no_rate", eur.detail)
    per = unit_price(eur, mass, count)
    substance = norm.substance if norm is not None else None
    if per is not None and substance is not None:
        median = medians.get((market, substance, "g" if mass else "unit"))
        if median is not None and per > opts.holding_factor * median:
            return Rejection("holding_price", f"{per:.2f} EUR per unit vs median {median:.2f}")
    vendor = c.vendor_id or (hist.vendor_id if hist is not None else None)
    origin = location_code(hist.ships_from) if hist is not None else None
    return {
        "market": market, "listing_id": c.first.listing_id, "vendor_id": vendor,
        "day": when.date(), "substance": substance,
        "category": norm.category if norm is not None else None,
        "ships_from": origin or vendor_origin.get((market, vendor or "")),
        "price_eur": round(eur, 6), "mass_g": mass, "count": count,
        "feedback_id": c.feedback_id, "price_source": source, "tier": tier_label,
        "unit_price_eur": round(per, 6) if per is not None else None,
    }
