"""Buyers: daily Poisson sales per listing, vectorised over listings x days with numpy.

The expected sales of a listing on a day are its base rate (popularity x price effect x kind)
times the market's logistic growth curve, a weekly rhythm (weekends busier), and any demand
shock for its substance; zero outside the listing's and the market's life. One dense
listings x days matrix keeps a million-sale world to a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnmwatch.sim.actors import market_stop
from dnmwatch.sim.listings import Listing
from dnmwatch.sim.model import SimConfig
from dnmwatch.sim.rates import CURRENCIES, Rates
from dnmwatch.sim.rng import stream

WEEKDAY_FACTORS = np.array([0.93, 0.9, 0.92, 0.97, 1.04, 1.15, 1.09])
"""Demand Monday..Sunday (mean 1): weekends are busier."""
KIND_FACTORS = {"drug": 1.0, "non_drug": 0.35, "placeholder": 0.02}
HOLDING_FACTOR = 0.003
MAX_TIERS = 5


@dataclass(frozen=True, slots=True)
class Sales:
    """One entry per transaction, ordered by (day, listing index); listings are pre-sorted."""

    listing: np.ndarray
    day: np.ndarray
    tier: np.ndarray
    price: np.ndarray
    price_eur: np.ndarray
    mass_g: np.ndarray
    """NaN where the tier has no mass."""
    count: np.ndarray
    """-1 where the tier has no count."""
    feedback_left: np.ndarray


def growth_curve(config: SimConfig, market_index: int) -> np.ndarray:
    """Relative demand of a market per day: logistic growth from launch, zero after its end."""
    market = config.markets[market_index]
    days = np.arange(config.days, dtype=float)
    g = max(1, market.growth_days)
    curve = 1.0 / (1.0 + np.exp(-(days - market.launch_day - g / 2.0) * 8.0 / g))
    curve[(days < market.launch_day) | (days >= market_stop(market, config.days))] = 0.0
    return curve


def weekly(config: SimConfig) -> np.ndarray:
    """The weekday factor of every day of the run."""
    first = config.start.weekday()
    return np.asarray(WEEKDAY_FACTORS[(np.arange(config.days) + first) % 7])


def shock_factors(config: SimConfig, substances: list[str]) -> np.ndarray:
    """(substances x days) demand multipliers from the configured shocks."""
    out = np.ones((len(substances), config.days))
    for shock in config.shocks:
        if shock.substance in substances:
            stop = shock.end_day if shock.end_day is not None else config.days
            out[substances.index(shock.substance), shock.start_day:stop] *= shock.factor
    return out


def expected_sales(config: SimConfig, listings: list[Listing]) -> np.ndarray:
    """The (listings x days) matrix of expected daily sales."""
    rng = stream(config.seed, "popularity")
    n = len(listings)
    names = [m.name for m in config.markets]
    curves = np.vstack([growth_curve(config, i) for i in range(len(names))])
    substances = sorted({x.substance for x in listings})
    shocks = shock_factors(config, substances)
    popularity = rng.lognormal(0.0, 0.9, size=n) / np.exp(0.9 ** 2 / 2)
    base = np.array([
        (HOLDING_FACTOR if x.holding else KIND_FACTORS[x.kind]) * x.price_effect for x in listings
    ]) * popularity * config.sales_per_listing_day
    for x, p in zip(listings, popularity, strict=True):
        x.popularity = float(p)
    market_idx = np.array([names.index(x.market) for x in listings], dtype=np.int64)
    subst_idx = np.array([substances.index(x.substance) for x in listings], dtype=np.int64)
    start = np.array([x.start for x in listings])
    stop = np.array([x.stop for x in listings])
    days = np.arange(config.days)
    active = (days[None, :] >= start[:, None]) & (days[None, :] < stop[:, None])
    rate = curves[market_idx] * shocks[subst_idx]
    rate *= weekly(config)[None, :]
    rate *= base[:, None]
    rate *= active
    return np.asarray(rate)


def simulate_sales(config: SimConfig, listings: list[Listing], rates: Rates) -> Sales:
    """Draw every transaction: day, tier, price in the listing's currency and in EUR."""
    rng = stream(config.seed, "sales")
    n_list = len(listings)
    counts = rng.poisson(expected_sales(config, listings))
    li, di = np.nonzero(counts)
    reps = counts[li, di]
    li = np.repeat(li, reps)
    di = np.repeat(di, reps)
    order = np.argsort(di, kind="stable")
    li, di = li[order], di[order]
    n_tx = len(li)

    cum = np.full((n_list, MAX_TIERS), 2.0)
    mult = np.ones((n_list, MAX_TIERS))
    tmass = np.full((n_list, MAX_TIERS), np.nan)
    tcount = np.full((n_list, MAX_TIERS), -1, dtype=np.int64)
    for i, x in enumerate(listings):
        k = len(x.tiers)
        w = np.array([1.0, 0.35, 0.15, 0.07, 0.03][:k])
        c = np.cumsum(w / w.sum())
        c[-1] = 2.0
        cum[i, :k] = c
        for j, t in enumerate(x.tiers):
            mult[i, j] = t.multiplier
            if t.mass_g is not None:
                tmass[i, j] = t.mass_g
            if t.count is not None:
                tcount[i, j] = t.count
    u = rng.random(n_tx)
    tier = (u[:, None] >= cum[li]).sum(axis=1).astype(np.int64)

    # tier-0 price on each day: search the concatenated price-change schedules
    keys = np.array([i * config.days + d for i, x in enumerate(listings) for d, _ in x.changes],
                    dtype=np.int64)
    values = np.array([p for x in listings for _, p in x.changes])
    pos = np.searchsorted(keys, li.astype(np.int64) * config.days + di, side="right") - 1
    base_price = values[pos]
    cur_idx = np.array([CURRENCIES.index(x.currency) for x in listings], dtype=np.int64)[li]
    raw = base_price * mult[li, tier]
    price = np.where(cur_idx == CURRENCIES.index("BTC"), np.round(raw, 8), np.round(raw, 2))
    price_eur = price * rates.table[cur_idx, di]
    feedback_left = rng.random(n_tx) < config.feedback_probability
    return Sales(li, di, tier, price, price_eur, tmass[li, tier], tcount[li, tier], feedback_left)
