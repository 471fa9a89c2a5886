"""Feedback rows for the transactions whose buyer left feedback, vectorised.

Rule (documented in the truth): a buyer who leaves feedback posts it 0..``feedback_max_delay_days``
days after the purchase, mostly within a few days, and always before the market closes and
before the run ends. Where the drawn delay would fall after that, the delay is redrawn
uniformly within the days that remain, so that ``feedback_left`` keeps exactly its configured
probability and every feedback row is visible on the market that carried the sale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnmwatch.sim.actors import market_stop
from dnmwatch.sim.demand import Sales
from dnmwatch.sim.feedback_text import LANG_WEIGHTS, RATING_P, masked_buyers, text_pools
from dnmwatch.sim.model import SimConfig
from dnmwatch.sim.rng import stream

_HOUR_WEIGHTS = np.array([3, 2, 1.5, 1, 0.8, 0.6, 0.8, 1.2, 2, 2.5, 3, 3.2, 3.5, 3.5, 3.4, 3.5,
                          3.8, 4.2, 4.8, 5.4, 5.8, 5.6, 5, 4])


@dataclass(frozen=True, slots=True)
class FeedbackRows:
    """Feedback sorted by (posted_at, tx); arrays are aligned."""

    tx: np.ndarray
    """Index into the sales arrays (tx_id - 1)."""
    posted_at: np.ndarray
    """Seconds since the Unix epoch, UTC."""
    rating: np.ndarray
    text: list[str]
    """The pool of texts; row ``i`` has text ``text[text_idx[i]]`` (one take, no loops)."""
    text_idx: np.ndarray
    language: list[str]
    lang_idx: np.ndarray
    buyers: list[str]
    buyer_idx: np.ndarray


def delay_probabilities(max_delay: int) -> np.ndarray:
    """P(delay = k days), k = 0..max_delay: most within a few days, a tail to the maximum."""
    w = np.exp(-np.arange(max_delay + 1) / 3.5)
    return np.asarray(w / w.sum())


def make_feedback(config: SimConfig, sales: Sales, listing_market: np.ndarray,
                  epoch_day0: int) -> FeedbackRows:
    """Feedback for every sale with ``feedback_left``; ``listing_market`` maps listing->market."""
    rng = stream(config.seed, "feedback")
    tx = np.nonzero(sales.feedback_left)[0]
    n = len(tx)
    market = listing_market[sales.listing[tx]]
    stops = np.array([market_stop(m, config.days) for m in config.markets])[market]
    day = sales.day[tx]
    window = stops - 1 - day
    delay = rng.choice(config.feedback_max_delay_days + 1, size=n,
                       p=delay_probabilities(config.feedback_max_delay_days))
    late = delay > window
    delay[late] = np.floor(rng.random(int(late.sum())) * (window[late] + 1)).astype(np.int64)
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    seconds = hour * 3600 + rng.integers(0, 3600, size=n)
    posted_at = (epoch_day0 + day + delay).astype(np.int64) * 86400 + seconds

    rating = (rng.choice(5, size=n, p=RATING_P) + 1).astype(np.int8)
    polarity = np.where(rating >= 4, 0, np.where(rating == 3, 1, 2))
    langs = list(LANG_WEIGHTS)
    lang_idx = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for m_i, spec in enumerate(config.markets):
        w = np.array([LANG_WEIGHTS[x] for x in langs])
        if spec.locale in langs and spec.locale != "en":
            w[langs.index(spec.locale)] += 0.8
        cum = np.cumsum(w / w.sum())
        cum[-1] = 1.0 + 1e-9
        mask = market == m_i
        lang_idx[mask] = np.searchsorted(cum, u[mask], side="right")
    pool, index = text_pools()
    offsets = np.array([[index[(lang, p)][0] for p in range(3)] for lang in langs])
    sizes = np.array([[index[(lang, p)][1] for p in range(3)] for lang in langs])
    pick = np.floor(rng.random(n) * sizes[lang_idx, polarity]).astype(np.int64)
    text_idx = offsets[lang_idx, polarity] + pick
    buyers = masked_buyers(rng, max(300, n // 6))
    buyer_idx = rng.integers(0, len(buyers), size=n)

    order = np.lexsort((tx, posted_at))
    return FeedbackRows(tx[order], posted_at[order], rating[order], pool, text_idx[order],
                        langs, lang_idx[order], buyers, buyer_idx[order])
