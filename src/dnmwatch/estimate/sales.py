"""Sales from de-duplicated feedback: one feedback = one transaction, a documented lower bound.

Rules, in the order they are applied (docs/estimation.md has the reasoning):

1. **Day**: a feedback whose resolved date interval lies inside one UTC day is dated on that
   day. The others (a relative date read at noon is a noon-to-noon interval) are dated by
   *balanced assignment* (:func:`assign_days`): feedback of one market whose intervals cover
   the same days are taken together, each day's expected value is the sum of the sales' EUR
   times the share of each interval on that day (uniform within the interval), and the sales,
   largest first, go one by one to the day of their interval furthest below its expected
   value. Every day's (hence month's) total is then its expected value to within one sale,
   where an independent draw per sale left a few large sales to chance (a small month moved
   by ±14%, 90% range). Prices and rates are looked up at the interval's midpoint. The
   purchase itself happened up to a couple of weeks earlier; the interval is kept in
   ``feedback``.
2. **Listing**: the feedback's listing, normalised. A feedback whose listing was never observed
   and that shows no price is excluded (``no_listing``).
3. **Placeholders**: a listing classified ``non_drug`` whose title says test / tip / donation /
   reserved / custom / escrow / refund / reship / extra payment / "do not buy" (several
   languages), or any listing titled "(Duplicate) ...", is excluded (``placeholder``). Other
   non-drug goods stay, as substance ``non_drug``.
4. **Price**: the price the feedback row itself shows, where the market shows one
   (``price_source = feedback``); else, when the row names the option bought ("5 g") and the
   listing's tiers (at the observation showing tiers nearest *before* the feedback midpoint,
   else the first after) have an option of that label, that option's price
   (``price_source = tier``); else the listing's price observed *nearest before* the feedback
   date midpoint, or the first one after when the listing was first seen later
   (``price_source = listing``). No price at all: ``no_price``.
5. **Quantity**: the tier is the option the row names (matched by folded label), else the tier
   whose price is closest to a shown price (in EUR, at the observation nearest in time, within
   a factor of :data:`TIER_TOLERANCE`). That tier's label, normalised like a title, gives
   mass/count (:func:`tier_quantity` has the fallbacks). Without a tier, the title's quantity.
6. **EUR**: EUR prices as they are; otherwise the market's own rate when the price observation
   shows one (``price_eur`` within :data:`OWN_RATE_DAYS` days), else the ``rates`` table with
   its 3-day gap rule: for a price the feedback shows (paid, so converted by the market on the
   purchase day), the sale day's rate; for a listing or tier price, the mean rate over the
   likely purchase days, the ``k`` = 0..:data:`PURCHASE_WINDOW_DAYS` days before the feedback
   weighted ``exp(-k / PURCHASE_LAG_DAYS)`` (:func:`purchase_weights`): the buyer paid the
   listing's price in its currency on the purchase day, not on the feedback day, and a crypto
   rate moves several percent a day. No rate: ``no_rate``.
7. **Holding prices**: the unit price (EUR per gram, else per unit) above :data:`HOLDING_FACTOR`
   times the median unit price of that substance on that market (over the market's listings,
   at their latest price) is a parked listing: ``holding_price``.
8. **Correction**: ``weight`` = 1 / the assumed feedback probability when one is given, else 1.
   Headline figures sum ``price_eur`` (weight 1): the lower bound. ``sum(price_eur * weight)``
   is the corrected figure, reported beside it, never instead.
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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
PURCHASE_LAG_DAYS = 3.5
"""Feedback follows the purchase by days: most within a few, a tail to the window."""
PURCHASE_WINDOW_DAYS = 14
"""The usual feedback / auto-finalise window of a market."""
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
    purchase_lag_days: float = PURCHASE_LAG_DAYS
    """Scale of the assumed delay between a purchase and its feedback (0: none)."""
    purchase_window_days: int = PURCHASE_WINDOW_DAYS


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


def purchase_weights(scale_days: float, window_days: int) -> tuple[float, ...]:
    """Assumed share of feedback left ``k`` = 0..``window_days`` days after the purchase,
    decaying as ``exp(-k / scale_days)``; ``(1.0,)`` (the feedback day only) when either is 0."""
    if scale_days <= 0 or window_days <= 0:
        return (1.0,)
    raw = [math.exp(-k / scale_days) for k in range(window_days + 1)]
    return tuple(w / sum(raw) for w in raw)


def _rate(currency: str, day: datetime, rates: RateTable,
          weights: tuple[float, ...]) -> float | Rejection:
    """The rate of the feedback day, or its mean over the likely purchase days (``weights``
    by days before the feedback; days without a rate are left out)."""
    first = rates.lookup(currency, day.date())
    if isinstance(first, Rejection) or len(weights) == 1:
        return first
    total = norm = 0.0
    for k, w in enumerate(weights):
        rate = rates.lookup(currency, (day - timedelta(days=k)).date())
        if not isinstance(rate, Rejection):
            total, norm = total + w * rate, norm + w
    return total / norm


def _eur(amount: float, currency: str | None, day: datetime, sighting: PriceSighting | None,
         rates: RateTable, weights: tuple[float, ...] = (1.0,)) -> float | Rejection:
    if currency == "EUR":
        return amount
    if currency is None:
        return Rejection("no_rate", "price without a currency")
    if (sighting is not None and sighting.price_eur is not None and sighting.price
            and sighting.currency == currency
            and abs(sighting.at - day) <= timedelta(days=OWN_RATE_DAYS)):
        return amount * sighting.price_eur / sighting.price
    rate = _rate(currency, day, rates, weights)
    return rate if isinstance(rate, Rejection) else amount * rate


def _quantity(label: str, hist: ListingHistory) -> tuple[float | None, int | None]:
    norm = hist.normalised
    q = parse_quantity(fold(label), unit_sold=norm is not None and norm.count is not None,
                       cannabis=norm is not None and norm.substance == "cannabis")
    return q.mass_g, q.count


@dataclass(frozen=True, slots=True)
class Undated:
    """A sale still to be dated: what :func:`assign_days` needs of it."""

    group: str
    """Sales are balanced within a group (the market) and the days their intervals cover."""
    key: str
    """Deterministic tie-break (hashed): the feedback's content and first sighting."""
    earliest: datetime
    latest: datetime
    value: float


def _draw(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / float(16 ** 12)


def day_shares(earliest: datetime, latest: datetime) -> dict[date, float]:
    """The share of ``[earliest, latest]`` on each UTC day it covers (the whole interval on
    its first day when it is empty or reversed)."""
    if latest <= earliest or latest.date() == earliest.date():
        return {earliest.date(): 1.0}
    width = (latest - earliest).total_seconds()
    shares: dict[date, float] = {}
    cur = earliest
    while cur < latest:
        end = min(datetime.combine(cur.date() + timedelta(days=1), time.min), latest)
        shares[cur.date()] = (end - cur).total_seconds() / width
        cur = end
    return shares


def assign_days(sales: Sequence[Undated]) -> list[date]:
    """The day of each sale, in order (rule 1 of the module docstring).

    An interval inside one day gives that day. The others are grouped by ``group`` and the
    days they cover; in a group each day's target is ``sum(value * share of the day)``, the
    expected value of an independent uniform draw per sale. Sales are taken by decreasing value
    (ties by a hash of ``key``) and each goes to the day of its interval with the largest
    remaining target, which leaves every day of the group within about one sale of its target:
    the same expectation as drawing each day, without the variance that let a few large sales
    swing a small month. Deterministic and independent of the input order."""
    days: list[date | None] = [None] * len(sales)
    groups: dict[tuple[str, tuple[date, ...]], list[tuple[int, dict[date, float]]]] = \
        defaultdict(list)
    for i, s in enumerate(sales):
        shares = day_shares(s.earliest, s.latest)
        if len(shares) == 1:
            days[i] = next(iter(shares))
        else:
            groups[(s.group, tuple(sorted(shares)))].append((i, shares))
    for members in groups.values():
        remaining: dict[date, float] = defaultdict(float)
        for i, shares in members:
            for day, share in shares.items():
                remaining[day] += sales[i].value * share
        members.sort(key=lambda m: (-sales[m[0]].value, _draw(sales[m[0]].key), m[0]))
        for i, shares in members:
            key = sales[i].key
            day = max(sorted(shares), key=lambda d: (remaining[d], _draw(f"{key}\x1f{d}")))
            days[i] = day
            remaining[day] -= sales[i].value
    return [d if d is not None else sales[i].earliest.date() for i, d in enumerate(days)]


def _draw_key(c: Cluster) -> str:
    """The tie-break of :func:`assign_days`: the feedback's content and first sighting, not the
    page address (a mirror or another port must not move a sale to another day)."""
    f = c.first
    return "\x1f".join([f.market, f.listing_id or "", f.vendor_id or "", f.snapshot,
                         str(f.position), str(f.rating), f.norm])


def _label_key(label: str) -> str:
    return " ".join(fold(label).split())


def find_tier(item: str, tiers: Iterable[Tier]) -> tuple[int, Tier] | None:
    """The listing option whose label is the one a feedback row names (folded, white space
    collapsed), with its position; the first of equal labels."""
    key = _label_key(item)
    return next(((i, t) for i, t in enumerate(tiers) if _label_key(t.label) == key), None)


_BARE_NUMBER = re.compile(r"^\s*[x×]?\s*(\d+(?:[.,]\d+)?)\s*[x×]?\s*$")


def tier_quantity(label: str, position: int, tiers: tuple[Tier, ...],
                  hist: ListingHistory) -> tuple[float | None, int | None]:
    """Mass/count of one purchase of the option ``label`` (at ``position`` in ``tiers``).

    1. The label normalised like a title ("5 g", "1/2 oz", "50 pcs") when it states a mass, or
       a count on a listing sold by the unit (or without a mass in its title).
    2. A bare multiple ("2", "2x", "x2"), or a count on a listing whose title states a mass:
       that many times the title's quantity.
    3. Otherwise the title's quantity times the option's price ratio to the first option (an
       upper bound on the quantity: bulk options are discounted); the first option itself is
       the title's quantity.
    """
    norm = hist.normalised
    t_mass = norm.mass_g if norm is not None else None
    t_count = norm.count if norm is not None else None
    mass, count = _quantity(label, hist)
    if mass is not None:
        return mass, count
    bare = _BARE_NUMBER.match(fold(label))
    times = float(bare.group(1).replace(",", ".")) if bare else (
        float(count) if count is not None else None)
    if times is not None and t_mass is not None and t_count is None:
        return t_mass * times, None
    if count is not None:
        return None, count
    if times is not None and t_count is not None:
        return None, round(t_count * times)
    base, this = tiers[0].price if tiers else None, tiers[position].price if tiers else None
    ratio = this / base if position and base and this else 1.0
    return (t_mass * ratio if t_mass is not None else None,
            round(t_count * ratio) if t_count is not None else None)


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
    undated: list[Undated] = []
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
        undated.append(Undated(market, _draw_key(c), c.interval.earliest, c.interval.latest,
                               float(row_or_reason["price_eur"])))
    for row, day in zip(result.rows, assign_days(undated), strict=True):
        row["day"] = day
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
    tiered = hist.tiered_at(when) if hist is not None and c.item else None
    named = find_tier(c.item, tiered.tiers) if tiered is not None and c.item else None
    tier_label: str | None = None
    if named is not None and hist is not None and tiered is not None:
        tier_label = named[1].label
        mass, count = tier_quantity(named[1].label, named[0], tiered.tiers, hist)
    if c.price is not None:
        source, amount, currency = "feedback", c.price, c.currency
        paid = _eur(amount, currency, when, None, rates)
        if named is None and hist is not None and not isinstance(paid, Rejection) and paid > 0:
            tier = _match_tier(paid, hist.tiers_near(when), when, rates)
            if tier is not None:
                tier_label = tier.label
                t_mass, t_count = _quantity(tier.label, hist)
                if t_mass is not None or t_count is not None:
                    mass, count = t_mass, t_count
    elif named is not None and named[1].price is not None:
        source, amount, currency = "tier", named[1].price, named[1].currency
        sighting = tiered
    elif sighting is not None and sighting.price is not None:
        source, amount, currency = "listing", sighting.price, sighting.currency
    else:
        return Rejection("no_price", "no price shown or observed")
    eur = _eur(amount, currency, when, sighting if source != "feedback" else None, rates,
               purchase_weights(opts.purchase_lag_days, opts.purchase_window_days)
               if source != "feedback" else (1.0,))
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
        "day": None,  # dated with the market's other sales by assign_days
        "substance": substance,
        "category": norm.category if norm is not None else None,
        "ships_from": origin or vendor_origin.get((market, vendor or "")),
        "price_eur": round(eur, 6), "mass_g": mass, "count": count,
        "feedback_id": c.feedback_id, "price_source": source, "tier": tier_label,
        "unit_price_eur": round(per, 6) if per is not None else None,
    }
