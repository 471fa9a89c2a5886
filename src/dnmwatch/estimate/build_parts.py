"""Per-market parts of ``dnmwatch build``: fingerprints and the cached vendor facts.

Why per market: every derived row but the cross-market ones (vendor links, the ``vendor_group``
of ``vendors``, lifecycle displacement shares) depends on one market's observations only, plus
the global rates table. So a market whose inputs are unchanged keeps its rows, and the build's
work follows the new data rather than the size of the store. The cross-market parts need every
market's :class:`VendorFacts`; the unchanged markets' facts are cached as JSON in
``build_state`` so they need not be recomputed from the (large) listing histories.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from typing import Any

from dnmwatch.consolidate.listings import VendorFacts
from dnmwatch.store import Store

MARKET_TABLES = ("listing_observations", "vendor_observations", "feedback_observations",
                 "crawls")
"""Raw tables whose rows belong to one market (``pages`` only feeds the global lifecycle)."""


def _market_checksums(store: Store, table: str) -> dict[str, tuple[int, int]]:
    cols = ", ".join(f'"{c}"' for c in store.columns(table))
    rows = store.fetchall(
        f'SELECT market, count(*), sum(hash({cols})::HUGEINT) % 18446744073709551557 '  # noqa: S608 - names come from the catalog
        f'FROM "{table}" WHERE market IS NOT NULL GROUP BY market')
    return {str(m): (int(n), int(h)) for m, n, h in rows}


def market_fingerprints(store: Store, global_part: str) -> dict[str, str]:
    """One fingerprint per market: its rows of :data:`MARKET_TABLES` plus ``global_part``
    (build version, options, rates), so that a global change invalidates every market."""
    sums = {t: _market_checksums(store, t) for t in MARKET_TABLES}
    markets = sorted({m for per in sums.values() for m in per})
    return {m: hashlib.sha256("\n".join(
        [global_part] + [f"{t}:{sums[t].get(m, (0, 0))}" for t in MARKET_TABLES]
    ).encode()).hexdigest() for m in markets}


def facts_to_json(facts: list[VendorFacts]) -> str:
    """Facts as JSON, keeping every order that matters (counters' ties go by insertion)."""
    return json.dumps([{
        "market": f.market, "vendor_id": f.vendor_id, "first_seen": f.first_seen.isoformat(),
        "last_seen": f.last_seen.isoformat(), "fingerprints": f.fingerprints,
        "ships_from": f.ships_from, "listing_origins": list(f.listing_origins.items()),
        "substances": list(f.substances.items()), "claims": sorted(f.claims),
    } for f in facts])


def facts_from_json(text: str) -> dict[tuple[str, str], VendorFacts]:
    out: dict[tuple[str, str], VendorFacts] = {}
    for d in json.loads(text):
        f = VendorFacts(str(d["market"]), str(d["vendor_id"]),
                        datetime.fromisoformat(d["first_seen"]),
                        datetime.fromisoformat(d["last_seen"]), list(d["fingerprints"]),
                        d["ships_from"], Counter(dict(d["listing_origins"])),
                        Counter(dict(d["substances"])), set(d["claims"]))
        out[(f.market, f.vendor_id)] = f
    return out


def state_rows(prefix: str, values: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    return [{"key": f"{prefix}{k}", "value": v, "updated_at": now} for k, v in values.items()]
