"""Prices: per gram or unit by substance and vendor country, with quantity discounts and tiers.

The unit price of a listing at its title quantity is drawn near the top of the substance's band
for small quantities and falls with ``quantity ** elasticity`` for larger ones, then is clamped
into the band: the band is the yardstick that realism tests and price indicators rely on. Larger
*tiers* of the same listing get the discount without the clamp, so wholesale tiers fall below the
band, as they do on real markets. Prices are rounded the way markets show them (cents, satoshis)
and nudged so that rounding never pushes a title-quantity price out of its band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnmwatch.sim.catalog import IMPERIAL
from dnmwatch.sim.model import PriceBand

COUNTRY_PRICE: dict[str, float] = {
    "AU": 1.35, "US": 1.15, "CA": 1.1, "SE": 1.15, "CH": 1.2, "GB": 1.05, "NL": 0.82,
    "DE": 0.9, "ES": 0.88, "BE": 0.9, "CZ": 0.88, "PL": 0.88, "FR": 1.0, "IT": 1.0, "AT": 0.95,
    "RU": 0.95, "CN": 0.8, "IN": 0.8, "XX": 1.0,
}
"""Relative price level by vendor country (Australia and the US dear, the Netherlands cheap)."""

_TIER_STEPS: tuple[float, ...] = (2.0, 4.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0)
_TIER_WEIGHTS: tuple[float, ...] = (1.0, 0.35, 0.15, 0.07, 0.03)


@dataclass(frozen=True, slots=True)
class Tier:
    """One purchasable quantity of a listing."""

    label: str
    mass_g: float | None
    count: int | None
    multiplier: float


def decimals(currency: str) -> int:
    """How many decimals markets show: cents, or satoshis for BTC."""
    return 8 if currency == "BTC" else 2


def title_unit_price(rng: np.random.Generator, band: PriceBand, country: str, quantity: float,
                     smallest: float, elasticity: float) -> float:
    """EUR per g/unit at the title quantity: high for retail, low for wholesale, inside the band."""
    ref = band.high_eur * float(np.exp(rng.normal(-0.1, 0.1))) * COUNTRY_PRICE.get(country, 1.0)
    unit = float(ref * (quantity / smallest) ** elasticity)
    width = band.high_eur - band.low_eur
    if unit > band.high_eur:
        unit = band.high_eur - width * float(rng.uniform(0.0, 0.1))
    elif unit < band.low_eur:
        unit = band.low_eur + width * float(rng.uniform(0.0, 0.12))
    return unit


def in_currency(eur_total: float, currency: str, eur_per_unit: float) -> float:
    """An EUR amount in the listing's currency, rounded as shown."""
    return round(eur_total / eur_per_unit, decimals(currency))


def banded_price(unit_eur: float, quantity: float, band: PriceBand, currency: str,
                 eur_per_unit: float) -> float:
    """The rounded listing price whose EUR unit price lies inside the band at this rate."""
    price = in_currency(unit_eur * quantity, currency, eur_per_unit)
    step = 10.0 ** -decimals(currency)
    for _ in range(1000):
        unit = price * eur_per_unit / quantity
        if unit > band.high_eur:
            price = round(price - step, decimals(currency))
        elif unit < band.low_eur:
            price = round(price + step, decimals(currency))
        else:
            break
    return price


def quantity_label(mass_g: float | None, count: int | None) -> str:
    """How a tier is labelled in a listing's option list."""
    if count is not None or mass_g is None:
        return f"{count or 1} pcs"
    key = round(mass_g, 6)
    if key in IMPERIAL:
        return IMPERIAL[key][0]
    if mass_g >= 1000 and mass_g % 1000 == 0:
        return f"{mass_g / 1000:g} kg"
    return f"{round(mass_g, 3):g} g"


def make_tiers(rng: np.random.Generator, mass_g: float | None, count: int | None,
               elasticity: float, offer_more: bool) -> list[Tier]:
    """Tier 0 (the title quantity) and, if ``offer_more``, 1-4 larger tiers at a discount."""
    tiers = [Tier(quantity_label(mass_g, count), mass_g, count, 1.0)]
    if not offer_more:
        return tiers
    n = int(rng.integers(1, 5))
    steps = sorted(float(s) for s in rng.choice(_TIER_STEPS, size=n, replace=False))
    for k in steps:
        m = round(mass_g * k, 6) if mass_g is not None else None
        c = int(count * k) if count is not None else None
        tiers.append(Tier(quantity_label(m, c), m, c, round(k ** (1.0 + elasticity), 4)))
    return tiers


def tier_probabilities(n_tiers: int) -> np.ndarray:
    """How often buyers choose each tier: mostly the smallest."""
    w = np.array(_TIER_WEIGHTS[:n_tiers])
    return np.asarray(w / w.sum())


def change_days(rng: np.random.Generator, start: int, stop: int) -> list[int]:
    """Days on which a listing's price changes (a few over its life)."""
    life = stop - start
    if life < 4:
        return []
    n = min(4, int(rng.poisson(life / 45.0)))
    return sorted({start + int(d) for d in rng.integers(1, life, size=n)})


def change_factor(rng: np.random.Generator) -> float:
    """A price change of 5-15% up or down (down slightly more often)."""
    size = float(rng.uniform(0.05, 0.15))
    return 1.0 + size if rng.random() < 0.45 else 1.0 - size
