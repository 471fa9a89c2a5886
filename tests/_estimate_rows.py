"""Hand-made raw observations for the consolidate/estimate tests (small, exact cases)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from dnmwatch.store import Store

T0 = datetime(2020, 3, 2, 12, 0)
"""Capture time of the first hand-made crawl (noon UTC); crawl ``k`` is ``k`` weeks later."""


def at(crawl: int) -> datetime:
    return T0 + timedelta(days=7 * crawl)


def listing(market: str, lid: str, crawl: int, *, title: str = "Cocaine 1g 90% pure",
            vendor: str = "v_00000000000000a1", price: float | None = 100.0,
            currency: str = "EUR", ships_from: str = "Germany", tiers: str | None = None,
            ) -> dict[str, Any]:
    return {"market": market, "listing_id": lid, "crawl_id": f"{market}-{crawl}",
            "observed_at": at(crawl), "title": title, "vendor_id": vendor, "price": price,
            "currency": currency, "ships_from": ships_from, "ships_to": "EU",
            "tiers": tiers, "source": f"http://{market}/l/{lid}", "adapter": "hand"}


def feedback(market: str, lid: str, crawl: int, text: str, posted: str, *, rating: float = 5,
             position: int = 0, price: float | None = None, currency: str | None = None,
             vendor: str | None = None) -> dict[str, Any]:
    return {"market": market, "listing_id": lid, "vendor_id": vendor,
            "crawl_id": f"{market}-{crawl}", "observed_at": at(crawl), "rating": rating,
            "text": text, "posted_shown": posted, "price": price, "currency": currency,
            "position": position, "source": f"http://{market}/f/{lid}", "adapter": "hand"}


def vendor(market: str, vid: str, crawl: int, *, fpr: str | None = None,
           ships_from: str = "Germany", claims: str = "[]") -> dict[str, Any]:
    return {"market": market, "vendor_id": vid, "crawl_id": f"{market}-{crawl}",
            "observed_at": at(crawl), "pgp_fingerprint": fpr, "ships_from": ships_from,
            "other_markets": claims, "source": f"http://{market}/v/{vid}", "adapter": "hand"}


def crawl(market: str, k: int, status: str = "finished") -> dict[str, Any]:
    return {"crawl_id": f"{market}-{k}", "market": market, "started_at": at(k),
            "finished_at": at(k), "status": status}


def rates(store: Store, currency: str, eur: float, days: int = 120) -> None:
    store.upsert("rates", [{"day": date(2020, 2, 1) + timedelta(days=i), "currency": currency,
                            "eur_per_unit": eur, "source": "test"} for i in range(days)])


def put(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    store.insert_rows(table, rows)
