"""A hand-made store for the indicator and report tests: every number is checkable by hand.

Two markets, five vendors, eight sales (see tests/test_indicators.py for the expected figures).
Written with :class:`dnmwatch.store.Store` into a real DuckDB file.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from dnmwatch.store import Store


def _sale(
    market: str, vendor: str, day: date, substance: str, category: str, ships_from: str,
    price: float | None, mass: float | None = None, count: int | None = None,
    weight: float = 1.0, listing: str = "L",
) -> dict[str, Any]:
    return {
        "market": market, "listing_id": listing, "vendor_id": vendor, "day": day,
        "substance": substance, "category": category, "ships_from": ships_from,
        "price_eur": price, "mass_g": mass, "count": count, "weight": weight,
        "feedback_id": f"{market}-{vendor}-{day.isoformat()}",
    }


SALES = [
    _sale("alpha", "v1", date(2020, 1, 10), "cocaine", "stimulants", "DE", 100.0, mass=1.0,
          weight=2.0, listing="L1"),
    _sale("alpha", "v1", date(2020, 1, 20), "cocaine", "stimulants", "DE", 300.0, mass=4.0,
          listing="L1"),
    _sale("alpha", "v2", date(2020, 1, 15), "cannabis", "cannabis", "NL", 50.0, mass=5.0,
          listing="L2"),
    _sale("alpha", "v3", date(2020, 2, 1), "mdma", "stimulants", "GB", 20.0, count=2,
          listing="L3"),
    _sale("beta", "v4", date(2020, 1, 25), "cocaine", "stimulants", "GB", 80.0, mass=1.0,
          listing="L4"),
    _sale("beta", "v5", date(2020, 2, 10), "lsd", "psychedelics", "US", 1200.0, count=100,
          listing="L5"),
    _sale("beta", "v5", date(2020, 2, 11), "lsd", "psychedelics", "XX", None, count=10,
          listing="L5"),
    _sale("alpha", "v2", date(2020, 2, 15), "cannabis", "cannabis", "NL", 950.0, mass=100.0,
          listing="L2"),
]


def _ts(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, 0, 0)


def build_store(data_dir: Path, *, lifecycle: bool = True) -> Path:
    """Write the hand-made store into ``data_dir`` and return it."""
    with Store.open(data_dir) as store:
        store.insert_rows("markets", [
            {"market": "alpha", "adapter": "sim_table", "first_seen": _ts(2020, 1, 1),
             "last_seen": _ts(2020, 3, 31)},
            {"market": "beta", "adapter": "sim_cards", "first_seen": _ts(2020, 1, 2),
             "last_seen": _ts(2020, 4, 30)},
        ])
        store.insert_rows("crawls", [
            {"crawl_id": "a1", "market": "alpha", "started_at": _ts(2020, 1, 1),
             "pages_ok": 10, "pages_failed": 0, "status": "finished"},
            {"crawl_id": "a2", "market": "alpha", "started_at": _ts(2020, 1, 3),
             "pages_ok": 0, "pages_failed": 2, "status": "failed"},
            {"crawl_id": "a3", "market": "alpha", "started_at": _ts(2020, 1, 5),
             "pages_ok": 5, "pages_failed": 0, "status": "finished"},
            {"crawl_id": "b1", "market": "beta", "started_at": _ts(2020, 1, 2),
             "pages_ok": 4, "pages_failed": 0, "status": "finished"},
        ])
        store.insert_rows("sales", SALES)
        store.insert_rows("rates", [
            {"day": date(2020, 1, 1), "currency": "USD", "eur_per_unit": 0.9},
            {"day": date(2020, 2, 12), "currency": "USD", "eur_per_unit": 1.0},
            {"day": date(2020, 1, 1), "currency": "BTC", "eur_per_unit": 6500.0},
        ])
        store.insert_rows("vendors", [
            {"market": "alpha", "vendor_id": "v1", "first_seen": _ts(2020, 1, 1),
             "last_seen": _ts(2020, 3, 31), "pgp_fingerprint": "PGP1"},
            {"market": "alpha", "vendor_id": "v2", "first_seen": _ts(2020, 1, 1),
             "last_seen": _ts(2020, 2, 20), "pgp_fingerprint": None},
            {"market": "alpha", "vendor_id": "v3", "first_seen": _ts(2020, 2, 1),
             "last_seen": _ts(2020, 2, 5), "pgp_fingerprint": "PGP4"},
            {"market": "beta", "vendor_id": "v4", "first_seen": _ts(2020, 1, 2),
             "last_seen": _ts(2020, 1, 26), "pgp_fingerprint": "PGP4"},
            {"market": "beta", "vendor_id": "v5", "first_seen": _ts(2020, 2, 5),
             "last_seen": _ts(2020, 4, 30), "pgp_fingerprint": None},
        ])
        store.insert_rows("vendor_links", [
            {"market": "beta", "vendor_id": "v5", "actor_id": "A", "method": "pgp", "score": 1.0},
            {"market": "alpha", "vendor_id": "v2", "actor_id": "A", "method": "pgp", "score": 1.0},
        ])
        store.insert_rows("listings", [
            {"market": "alpha", "listing_id": "L1", "category": "stimulants",
             "title": "Cocaine <b>1g</b> & \"pure\"",
             "first_seen": _ts(2020, 1, 5), "last_seen": _ts(2020, 2, 10)},
            {"market": "alpha", "listing_id": "L2", "category": "cannabis", "title": "Weed",
             "first_seen": _ts(2020, 1, 10), "last_seen": _ts(2020, 1, 20)},
            {"market": "alpha", "listing_id": "L3", "category": "stimulants", "title": "XTC",
             "first_seen": _ts(2020, 2, 1), "last_seen": _ts(2020, 3, 1)},
            {"market": "beta", "listing_id": "L4", "category": "stimulants", "title": "Coke",
             "first_seen": _ts(2020, 1, 2), "last_seen": _ts(2020, 1, 3)},
            {"market": "beta", "listing_id": "L5", "category": "psychedelics", "title": "LSD",
             "first_seen": _ts(2020, 2, 5), "last_seen": _ts(2020, 2, 28)},
        ])
        store.insert_rows("rejections", [
            {"stage": "extract", "reason": "layout:unknown", "market": "alpha"},
            {"stage": "extract", "reason": "layout:unknown", "market": "alpha"},
            {"stage": "normalise", "reason": "<script>alert(1)</script>", "market": "beta"},
        ])
        if lifecycle:
            store.insert_rows("market_lifecycle", [
                {"market": "alpha", "status": "active"},
                {"market": "beta", "status": "closed", "end_kind": "takedown",
                 "closed_at": _ts(2020, 2, 12)},
            ])
    return data_dir
