"""Source types, delivery indicators and cross-channel displacement, exactly, on hand-made stores.

The figures below are read off tests/_channels_store.py by hand (its docstring tells the story).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from _channels_store import T, build_channels_store
from _estimate_rows import listing, put
from dnmwatch.adapters.registry import load_registry
from dnmwatch.estimate import indicators as ind
from dnmwatch.estimate.build import build
from dnmwatch.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = build_channels_store(tmp_path_factory.mktemp("ch"))
    with Store.open(path, read_only=True) as s:
        yield s


def pick(table: Any, *cols: str) -> list[tuple[Any, ...]]:
    return [tuple(r[c] for c in cols) for r in table.to_pylist()]


# ------------------------------------------------------------------------------ source type

def test_adapters_declare_their_source_type() -> None:
    registry = load_registry(plugins=False)
    kinds = {n: registry.get(n).source_type for n in registry.names()}
    assert kinds["sim-shop"] == "shop"
    assert kinds["sim-forum"] == "forum"
    assert kinds["telegram-channel"] == "channel"
    assert kinds["dream"] == kinds["matanga"] == kinds["sim-table"] == "marketplace"
    assert set(kinds.values()) <= set(ind.SOURCE_TYPES)


def test_build_fills_source_type_from_the_adapter(tmp_path: Path) -> None:
    def obs(market: str, adapter: str) -> dict[str, object]:
        return {**listing(market, "L1", 0), "adapter": adapter}

    with Store.open(tmp_path / "s") as store:
        put(store, "listing_observations", [
            obs("mk", "dream"), obs("shop", "sim-shop"), obs("tg:x", "telegram-channel"),
            obs("fr", "sim-forum"), obs("odd", "no-such-adapter")])
        put(store, "markets", [{"market": "quiet", "adapter": "sim-shop"}])  # extract's row only
        build(store)
        got = dict(store.fetchall("SELECT market, source_type FROM markets"))
    assert got == {"mk": "marketplace", "shop": "shop", "tg:x": "channel", "fr": "forum",
                   "odd": None, "quiet": "shop"}


# --------------------------------------------------------------------------------- delivery

def test_delivery_methods_by_market(store: Store) -> None:
    got = pick(ind.delivery_methods(store), "market", "delivery_method", "listings",
               "share_listings", "sales", "share_sales", "revenue_eur", "share_revenue",
               "vendors")
    assert got == [
        ("dream", "express_courier", 1, pytest.approx(1 / 3), 1, pytest.approx(1 / 3), 100.0,
         pytest.approx(100 / 180), 1),
        ("dream", "post", 2, pytest.approx(2 / 3), 2, pytest.approx(2 / 3), 80.0,
         pytest.approx(80 / 180), 2),
        ("empire", "post", 2, 1.0, 1, 1.0, 90.0, 1.0, 2),
        ("shop:green", "in_person", 1, 0.5, 0, 0.0, 0.0, 0.0, 1),
        ("shop:green", "post", 1, 0.5, 1, 1.0, 60.0, 1.0, 1),
        ("tg:weedchat", "dead_drop", 3, 1.0, 0, None, 0.0, None, 1),  # no sales: no share
    ]


def test_delivery_methods_by_country_and_source_type(store: Store) -> None:
    by_country = pick(ind.delivery_methods(store, by=("ships_from",)), "ships_from",
                      "delivery_method", "listings", "sales", "revenue_eur", "vendors")
    assert by_country == [
        ("DE", "dead_drop", 3, 0, 0.0, 1),
        ("DE", "in_person", 1, 0, 0.0, 1),
        ("DE", "post", 5, 4, 230.0, 4),
        ("NL", "express_courier", 1, 1, 100.0, 1),
    ]
    by_type = pick(ind.delivery_methods(store, by=("source_type",)), "source_type",
                   "delivery_method", "listings", "share_listings")
    assert by_type == [
        ("channel", "dead_drop", 3, 1.0),
        ("marketplace", "express_courier", 1, 0.2),
        ("marketplace", "post", 4, 0.8),
        ("shop", "in_person", 1, 0.5),
        ("shop", "post", 1, 0.5),
    ]
    overall = pick(ind.delivery_methods(store, by=()), "delivery_method", "listings")
    assert overall == [("dead_drop", 3), ("express_courier", 1), ("in_person", 1), ("post", 5)]


def test_delivery_methods_respect_scope_and_countries(store: Store) -> None:
    march = ind.Scope(date_from=T, markets=("empire", "shop:green", "tg:weedchat"))
    got = pick(ind.delivery_methods(store, march), "market", "delivery_method", "listings",
               "sales")
    assert got == [("empire", "post", 2, 1), ("shop:green", "in_person", 1, 0),
                   ("shop:green", "post", 1, 1), ("tg:weedchat", "dead_drop", 2, 0)]
    nl = pick(ind.delivery_methods(store, countries=("nl",)), "market", "delivery_method",
              "listings", "sales")
    assert nl == [("dream", "express_courier", 1, 1)]
    contrib = pick(ind.delivery_contributions(store, by=("market",)), "market",
                   "delivery_method", "vendor_id", "sales")
    assert ("dream", "post", "v1", 1) in contrib and len(contrib) == 5
    with pytest.raises(ValueError, match="unknown dimensions"):
        ind.delivery_methods(store, by=("month",))


def test_delivery_areas_top_per_market(store: Store) -> None:
    got = pick(ind.delivery_areas(store), "market", "rank", "area", "listings", "vendors",
               "areas_in_market")
    assert got == [("tg:weedchat", 1, "Kreuzberg", 2, 1, 2),
                   ("tg:weedchat", 2, "Neukölln", 1, 1, 2)]
    top1 = pick(ind.delivery_areas(store, top=1, methods=("dead_drop", "in_person")),
                "market", "delivery_method", "area")
    assert top1 == [("shop:green", "in_person", "Berlin"), ("tg:weedchat", "dead_drop",
                                                             "Kreuzberg")]
    note = ind.table_note(ind.delivery_areas(store))
    assert note["indicator"] == "delivery_areas" and note["bound"] == ind.LOWER_BOUND_NOTE


def test_an_offer_in_several_districts_counts_in_each(tmp_path: Path) -> None:
    """Matanga's areas list the districts of one city (``Tbilisi: Saburtalo, Vake``): each
    district is an area of its own, so Vake's count holds every offer picked up there."""
    from _channels_store import _listing

    path = build_channels_store(tmp_path)
    with Store.open(path) as s:
        s.insert_rows("listings", [
            _listing("matanga", f"M{n}", None, "cocaine", "stimulants", date(2020, 3, 1),
                     date(2020, 3, 9), "dead_drop", area, ships_from="GE")  # type: ignore[arg-type]
            for n, area in enumerate(("Tbilisi: Saburtalo, Vake", "Tbilisi: Vake", "Batumi"))])
    with Store.open(path, read_only=True) as s:
        got = [r for r in pick(ind.delivery_areas(s), "market", "area", "listings")
               if r[0] == "matanga"]
    assert sorted(got) == [("matanga", "Batumi", 1), ("matanga", "Tbilisi: Saburtalo", 1),
                           ("matanga", "Tbilisi: Vake", 2)]


# ----------------------------------------------------------------------------- displacement

def test_displacement_of_a_closed_marketplace(store: Store) -> None:
    table = ind.displacement(store)
    rows = table.to_pylist()
    assert {(r["market"], r["closed_day"], r["end_kind"], r["source_type"], r["window_days"],
             r["days_after_observed"], r["actors_at_close"]) for r in rows} == {
        ("dream", T, "takedown", "marketplace", 90, 62, 4)}  # tg:old is a channel: not asked
    got = pick(table, "kind", "destination", "destination_type", "actors", "actors_new",
               "share")
    assert got == [
        ("anywhere", None, None, 2, 1, 0.5),  # A1 (was on the channel before) and v2 (new shop)
        ("not_seen", None, None, 2, None, 0.5),  # v3 (its empire account ended before), v4
        ("type", None, "channel", 1, 0, 0.25),
        ("type", None, "marketplace", 1, 1, 0.25),
        ("type", None, "shop", 1, 1, 0.25),
        ("market", "tg:weedchat", "channel", 1, 0, 0.25),  # unlinked v1 takes A1 by handle
        ("market", "empire", "marketplace", 1, 1, 0.25),
        ("market", "shop:green", "shop", 1, 1, 0.25),  # same pseudonym = same handle
    ]
    note = ind.table_note(table)
    assert note["indicator"] == "displacement" and "90 days" in note["method"]


def test_displacement_window_and_closed_types(store: Store) -> None:
    short = pick(ind.displacement(store, window_days=7), "kind", "destination", "actors")
    # 7 days: v4 (last seen 02-25) and v2 (first on the shop 03-05) still count; A1 is on
    # the channel on 03-01..03-07, but its empire account starts on 03-10
    assert ("market", "empire", 1) not in short
    assert ("market", "tg:weedchat", 1) in short and ("market", "shop:green", 1) in short
    channels = ind.displacement(store, closed_types=("channel",)).to_pylist()
    assert [(r["market"], r["kind"], r["actors"], r["share"]) for r in channels] == [
        ("tg:old", "anywhere", 0, None), ("tg:old", "not_seen", 0, None)]
    assert ind.displacement(store, ind.Scope(markets=("empire",))).num_rows == 0
    assert ind.displacement(store, ind.Scope(date_to=date(2020, 2, 29))).num_rows == 0
    with pytest.raises(ValueError, match="window_days"):
        ind.displacement(store, window_days=0)


def test_product_shift_moves_cannabis_to_channels_and_shops(store: Store) -> None:
    got = pick(ind.product_shift(store), "substance", "source_type", "listings_before",
               "listings_after", "share_listings_before", "share_listings_after",
               "sales_before", "sales_after", "revenue_before_eur", "revenue_after_eur")
    assert got == [
        ("cannabis", "channel", 1, 2, 0.25, 0.4, 0, 0, 0.0, 0.0),
        ("cannabis", "marketplace", 3, 1, 0.75, 0.2, 2, 0, 80.0, 0.0),
        ("cannabis", "shop", 0, 2, 0.0, 0.4, 0, 1, 0.0, 60.0),
        ("cocaine", "marketplace", 1, 1, 1.0, 1.0, 1, 1, 100.0, 90.0),
    ]
    by_cat = pick(ind.product_shift(store, by="category"), "category", "source_type",
                  "listings_after")
    assert ("stimulants", "marketplace", 1) in by_cat
    contrib = pick(ind.product_shift_contributions(store), "substance", "source_type", "side",
                   "vendor_id", "sales")
    assert contrib == [
        ("cannabis", "marketplace", "before", "v1", 1),
        ("cannabis", "marketplace", "before", "v2", 1),
        ("cannabis", "shop", "after", "v2", 1),
        ("cocaine", "marketplace", "after", "e1", 1),
        ("cocaine", "marketplace", "before", "v3", 1),
    ]
    with pytest.raises(ValueError, match="by must be"):
        ind.product_shift(store, by="market")


def test_no_closure_gives_empty_tables(tmp_path: Path) -> None:
    path = build_channels_store(tmp_path / "open", closure=False)
    with Store.open(path, read_only=True) as s:
        assert ind.displacement(s).num_rows == 0
        assert ind.product_shift(s).num_rows == 0
        assert ind.product_shift_contributions(s).num_rows == 0
        assert ind.delivery_methods(s).num_rows == 6
    Store.open(tmp_path / "empty").close()
    with Store.open(tmp_path / "empty", read_only=True) as s:
        assert ind.delivery_methods(s).num_rows == 0
        assert ind.delivery_areas(s).num_rows == 0
        assert ind.displacement(s).num_rows == 0
