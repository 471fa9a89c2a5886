"""Daily exchange rates of the simulated world: BTC->EUR and USD->EUR.

BTC follows a geometric random walk (start 8,000-9,000 EUR, about 3% daily volatility, as in
2019-2020); USD->EUR wanders slowly around 0.9. Every listing priced in BTC or USD is converted
at the rate of the day of the sale, so the truth's ``price_eur`` moves with the rate even where
the vendor did not change the price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnmwatch.sim.rng import stream

CURRENCIES: tuple[str, ...] = ("EUR", "USD", "BTC")
"""Index order of :attr:`Rates.table` rows."""


@dataclass(frozen=True, slots=True)
class Rates:
    """EUR per unit of each currency, one column per day."""

    table: np.ndarray
    """Shape (3, days): rows EUR (all ones), USD, BTC."""

    def eur_per(self, currency: str, day: int) -> float:
        return float(self.table[CURRENCIES.index(currency), day])


def make_rates(seed: int, days: int) -> Rates:
    """The seeded rate series for ``days`` days."""
    rng = stream(seed, "rates")
    btc_start = rng.uniform(8000.0, 9000.0)
    btc_steps = rng.normal(0.0005, 0.03, size=days)
    btc_steps[0] = 0.0
    btc = btc_start * np.exp(np.cumsum(btc_steps))
    usd_steps = rng.normal(0.0, 0.003, size=days)
    usd_steps[0] = 0.0
    usd = 0.9 * np.exp(np.cumsum(usd_steps))
    # round like published rate tables do; downstream arithmetic uses these exact values
    table = np.vstack([np.ones(days), np.round(usd, 6), np.round(btc, 2)])
    return Rates(table)
