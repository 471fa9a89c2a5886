"""A hand-made store for the delivery and displacement indicators: every figure checkable by hand.

Sources (``markets.source_type`` as ``build`` fills it):

* ``dream`` (marketplace) closes on 2020-03-01 (takedown). Before it, vendors ``v1`` (actor
  ``A1``), ``v2``, ``v3`` and ``v4`` sell there; ``v0`` left long before (2019-10-01).
* ``empire`` (marketplace): ``e1`` (actor ``A1``, first seen 2020-03-10), ``v9`` (throughout)
  and ``v3`` (an account that ended on 2020-02-01, before the closure).
* ``shop:green`` (shop, from 2020-03-05): the handle ``v2`` — same pseudonym, same handle.
* ``tg:weedchat`` (channel): ``v1`` since 2020-01-01 (unlinked, so it takes ``A1`` by handle).
* ``tg:old`` (channel) closed 2020-02-01 with no vendor: excluded unless channels are asked for.

So of dream's 4 actors, 2 are seen elsewhere after the closure (``A1`` on empire, new, and on
the channel, not new; ``v2`` on the shop, new) and 2 nowhere. Cannabis moves from the
marketplaces to the shop and the channel; cocaine stays on marketplaces. Delivery: post on the
marketplaces and the shop (one in-person listing), dead drops with areas on the channel, one
express-courier listing shipping from NL on dream.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from dnmwatch.store import Store

T = date(2020, 3, 1)
"""The closing day of ``dream``."""

SOURCE_TYPES = {"dream": "marketplace", "empire": "marketplace", "shop:green": "shop",
                "tg:weedchat": "channel", "tg:old": "channel"}
ADAPTERS = {"dream": "dream", "empire": "empire", "shop:green": "sim-shop",
            "tg:weedchat": "telegram-channel", "tg:old": "telegram-channel"}


def _ts(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 12, 0)


def _listing(market: str, lid: str, vendor: str, substance: str, category: str, first: date,
             last: date, method: str | None, area: str | None = None,
             ships_from: str = "DE") -> dict[str, Any]:
    return {"market": market, "listing_id": lid, "vendor_id": vendor, "title": lid,
            "substance": substance, "category": category, "ships_from": ships_from,
            "first_seen": _ts(first), "last_seen": _ts(last), "delivery_method": method,
            "delivery_area": area}


def _sale(market: str, lid: str, vendor: str, day: date, substance: str, category: str,
          price: float, ships_from: str = "DE") -> dict[str, Any]:
    return {"market": market, "listing_id": lid, "vendor_id": vendor, "day": day,
            "substance": substance, "category": category, "ships_from": ships_from,
            "price_eur": price, "weight": 1.0, "feedback_id": f"{market}-{lid}-{day}"}


def _vendor(market: str, vid: str, first: date, last: date) -> dict[str, Any]:
    return {"market": market, "vendor_id": vid, "first_seen": _ts(first), "last_seen": _ts(last)}


D = date
LISTINGS = [
    _listing("dream", "L1", "v2", "cannabis", "cannabis", D(2020, 1, 1), D(2020, 2, 28), "post"),
    _listing("dream", "L2", "v1", "cannabis", "cannabis", D(2020, 1, 15), D(2020, 2, 28), "post"),
    _listing("dream", "L3", "v3", "cocaine", "stimulants", D(2020, 1, 1), D(2020, 2, 20),
             "express_courier", ships_from="NL"),
    _listing("empire", "E1", "e1", "cocaine", "stimulants", D(2020, 3, 10), D(2020, 5, 1),
             "post"),
    _listing("empire", "E2", "v9", "cannabis", "cannabis", D(2020, 1, 1), D(2020, 4, 1), "post"),
    _listing("shop:green", "S1", "v2", "cannabis", "cannabis", D(2020, 3, 5), D(2020, 4, 30),
             "post"),
    _listing("shop:green", "S2", "v2", "cannabis", "cannabis", D(2020, 3, 5), D(2020, 4, 30),
             "in_person", "Berlin"),
    _listing("tg:weedchat", "T1", "v1", "cannabis", "cannabis", D(2020, 1, 1), D(2020, 1, 5),
             "dead_drop", "Kreuzberg"),
    _listing("tg:weedchat", "T2", "v1", "cannabis", "cannabis", D(2020, 3, 2), D(2020, 3, 20),
             "dead_drop", "Kreuzberg"),
    _listing("tg:weedchat", "T3", "v1", "cannabis", "cannabis", D(2020, 3, 3), D(2020, 3, 4),
             "dead_drop", "Neukölln"),
]

SALES = [
    _sale("dream", "L1", "v2", D(2020, 2, 1), "cannabis", "cannabis", 50.0),
    _sale("dream", "L2", "v1", D(2020, 2, 10), "cannabis", "cannabis", 30.0),
    _sale("dream", "L3", "v3", D(2020, 2, 15), "cocaine", "stimulants", 100.0, ships_from="NL"),
    _sale("shop:green", "S1", "v2", D(2020, 3, 20), "cannabis", "cannabis", 60.0),
    _sale("empire", "E1", "e1", D(2020, 4, 1), "cocaine", "stimulants", 90.0),
]

VENDORS = [
    _vendor("dream", "v0", D(2019, 6, 1), D(2019, 10, 1)),
    _vendor("dream", "v1", D(2019, 12, 1), D(2020, 2, 28)),
    _vendor("dream", "v2", D(2020, 1, 1), D(2020, 2, 28)),
    _vendor("dream", "v3", D(2020, 1, 1), D(2020, 2, 20)),
    _vendor("dream", "v4", D(2020, 2, 1), D(2020, 2, 25)),
    _vendor("empire", "e1", D(2020, 3, 10), D(2020, 5, 1)),
    _vendor("empire", "v9", D(2020, 1, 1), D(2020, 4, 1)),
    _vendor("empire", "v3", D(2019, 11, 1), D(2020, 2, 1)),
    _vendor("shop:green", "v2", D(2020, 3, 5), D(2020, 4, 30)),
    _vendor("tg:weedchat", "v1", D(2020, 1, 1), D(2020, 3, 20)),
]


def build_channels_store(data_dir: Path, *, closure: bool = True) -> Path:
    """Write the store into ``data_dir`` (``closure=False``: no market is closed)."""
    with Store.open(data_dir) as store:
        store.insert_rows("markets", [
            {"market": m, "adapter": ADAPTERS[m], "source_type": k,
             "first_seen": _ts(D(2019, 6, 1)), "last_seen": _ts(D(2020, 5, 1))}
            for m, k in SOURCE_TYPES.items()])
        store.insert_rows("listings", LISTINGS)
        store.insert_rows("sales", SALES)
        store.insert_rows("vendors", VENDORS)
        store.insert_rows("vendor_links", [
            {"market": "dream", "vendor_id": "v1", "actor_id": "A1", "method": "pgp",
             "score": 1.0},
            {"market": "empire", "vendor_id": "e1", "actor_id": "A1", "method": "pgp",
             "score": 1.0},
        ])
        store.insert_rows("crawls", [
            {"crawl_id": f"c-{m}", "market": m, "started_at": _ts(D(2020, 1, 2)),
             "pages_ok": 3, "pages_failed": 0, "status": "finished"}
            for m in ("dream", "empire")])
        store.insert_rows("market_lifecycle", [
            {"market": "dream", "status": "closed" if closure else "active",
             "end_kind": "takedown" if closure else None,
             "closed_at": _ts(T) if closure else None},
            {"market": "empire", "status": "active"},
            {"market": "shop:green", "status": "active"},
            {"market": "tg:weedchat", "status": "active"},
            {"market": "tg:old", "status": "closed" if closure else "active",
             "end_kind": "exit" if closure else None,
             "closed_at": _ts(D(2020, 2, 1)) if closure else None},
        ])
    return data_dir
