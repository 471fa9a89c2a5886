"""When to try a page again, and how long to wait first. Pure functions, easy to test.

The rules (FIELD-NOTES, Reliability): retry time-outs, connection and SOCKS errors, a dropped or
timed-out body, 408, 429 and 5xx; never retry other 4xx (the answer will not change and
hammering a market is both rude and conspicuous). Waits grow exponentially from
``backoff_base_s``, are capped at ``backoff_cap_s``, carry jitter (so two crawlers that failed
together do not retry together), and never undercut a server's ``Retry-After``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from dnmwatch.settings import CrawlSettings


def retryable_status(status: int) -> bool:
    """408, 429 and 5xx are worth another try; every other status is final."""
    return status in (408, 429) or 500 <= status <= 599


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta-seconds or HTTP date), or ``None``."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_s(attempt: int, crawl: CrawlSettings, rng: random.Random,
              retry_after: float | None = None) -> float:
    """Wait before attempt ``attempt + 1`` (``attempt`` >= 1 tries done so far).

    "Equal jitter": half the exponential step fixed, half random; capped; at least the server's
    ``Retry-After`` (itself capped, so a hostile header cannot park the crawl for a day).
    """
    step = min(crawl.backoff_cap_s, crawl.backoff_base_s * 2.0 ** max(0, attempt - 1))
    wait = step / 2 + rng.uniform(0, step / 2)
    if retry_after is not None:
        wait = max(wait, min(retry_after, crawl.backoff_cap_s))
    return wait


def polite_delay_s(crawl: CrawlSettings, rng: random.Random) -> float:
    """The pause between two requests to a market: ``delay_s`` plus up to ``jitter_s``."""
    return crawl.delay_s + rng.uniform(0, crawl.jitter_s)
