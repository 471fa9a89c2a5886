"""The consolidate stage: from repeated snapshots to one row per real thing.

Listing identity and price history (:mod:`.listings`), feedback dates as intervals
(:mod:`.dates`), feedback de-duplication (:mod:`.feedback`), vendor linking across markets
(:mod:`.vendors`) and the market lifecycle (:mod:`.lifecycle`). Imports normalise, records,
errors and store only; never ``sim``. Every rule is documented in ``docs/estimation.md``.
"""

from __future__ import annotations

from dnmwatch.consolidate.dates import Interval, parse_posted
from dnmwatch.consolidate.listings import fallback_listing_id
from dnmwatch.consolidate.observations import RAW_TABLES, observation_rows

__all__ = ["RAW_TABLES", "Interval", "fallback_listing_id", "observation_rows", "parse_posted"]
