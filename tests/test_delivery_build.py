"""`dnmwatch build` fills ``listings.delivery_method``/``delivery_area`` (issue 11, Delivery).

Small hand-made store: a marketplace listing with no delivery cue stays ``unknown``, stated
methods come from the latest title, and a listing read by the ``matanga`` adapter gets the
market's dead-drop default (with the district its title names, since the adapter carries none).
"""

from __future__ import annotations

from pathlib import Path

from _estimate_rows import listing, put
from dnmwatch.estimate.build import build
from dnmwatch.store import Store


def _matanga(lid: str, crawl: int, title: str) -> dict[str, object]:
    row = listing("matanga", lid, crawl, title=title, vendor="", currency="USD",
                  ships_from="GE")
    return {**row, "ships_to": "GE", "adapter": "matanga"}


def test_build_fills_delivery_columns(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d") as store:
        put(store, "listing_observations", [
            listing("m", "PLAIN", 0),
            listing("m", "POST", 0, title="MDMA 10x"),
            listing("m", "POST", 1, title="MDMA 10x tracked shipping, express delivery"),
            listing("m", "MEET", 0, title="Weed 5g meetup in Berlin"),
            _matanga("M1", 0, "Мефедрон 1г"),
            _matanga("M2", 0, "Мефедрон 1г клад в районе Ваке"),
        ])
        build(store)
        got = {lid: (method, area) for lid, method, area in store.fetchall(
            "SELECT listing_id, delivery_method, delivery_area FROM listings")}
    assert got == {
        "PLAIN": ("unknown", None),
        "POST": ("post", None),
        "MEET": ("in_person", "Berlin"),
        "M1": ("dead_drop", None),
        "M2": ("dead_drop", "Ваке"),
    }
