"""The world generator: schema conformance, lifecycles, migration, internal consistency."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dnmwatch.errors import SimulationError
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import (
    TRUTH_SCHEMAS,
    TRUTH_TABLES,
    PriceBand,
    SimConfig,
    World,
    preset,
    with_overrides,
)


@pytest.fixture(scope="module")
def small() -> World:
    return generate_world(preset("small"))


@pytest.fixture(scope="module")
def tiny() -> World:
    return generate_world(preset("tiny"))


def _rows(world: World, name: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = world.table(name).to_pylist()
    return rows


def test_every_table_has_exactly_the_contract_schema(tiny: World, small: World) -> None:
    for world in (tiny, small):
        assert set(world.tables) == set(TRUTH_TABLES)
        for name in TRUTH_TABLES:
            assert world.table(name).schema.equals(TRUTH_SCHEMAS[name]), name
            assert world.table(name).num_rows > 0, name


def test_scales_have_the_promised_sizes(tiny: World, small: World) -> None:
    assert 1_000 <= tiny.table("transactions").num_rows <= 10_000
    assert 15_000 <= small.table("transactions").num_rows <= 40_000
    assert 200 <= small.table("listings").num_rows <= 400


def test_progress_is_reported_from_zero_to_one() -> None:
    seen: list[tuple[str, float]] = []
    generate_world(preset("tiny"), progress=lambda stage, f: seen.append((stage, f)))
    fractions = [f for _, f in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)


def test_tables_are_sorted_by_their_keys(small: World) -> None:
    listings = [(r["market"], r["listing_id"]) for r in _rows(small, "listings")]
    assert listings == sorted(listings)
    vendors = [(r["market"], r["vendor_handle"]) for r in _rows(small, "vendors")]
    assert vendors == sorted(vendors)
    tx = small.table("transactions")
    assert tx["tx_id"].to_pylist() == list(range(1, tx.num_rows + 1))
    days = tx["day"].cast(pa.int32()).to_numpy()
    assert np.all(np.diff(days) >= 0)
    fb = small.table("feedback")
    posted = fb["posted_at"].cast(pa.int64()).to_numpy()
    assert np.all(np.diff(posted) >= 0)


def test_ids_handles_and_keys_are_well_formed(small: World) -> None:
    listings = _rows(small, "listings")
    keys = [(r["market"], r["listing_id"]) for r in listings]
    assert len(set(keys)) == len(keys)
    vendors = _rows(small, "vendors")
    per_market = [(r["market"], str(r["vendor_handle"]).lower()) for r in vendors]
    assert len(set(per_market)) == len(per_market)
    for v in vendors:
        fp = str(v["pgp_fingerprint"])
        assert len(fp) == 40 and all(c in "0123456789ABCDEF" for c in fp)
        assert v["substances"]
    accounts = {(r["market"], r["vendor_handle"]): r["actor_id"] for r in vendors}
    for r in listings:
        assert accounts[(r["market"], r["vendor_handle"])] == r["actor_id"]


def test_nothing_happens_on_a_market_after_its_end(small: World) -> None:
    ends = {m.name: m.end_day for m in small.config.markets}
    start = small.config.start
    for r in _rows(small, "listings"):
        end = ends[str(r["market"])]
        if end is None:
            continue
        end_date = start + timedelta(days=end)
        assert r["start_day"] < end_date  # type: ignore[operator]
        assert r["end_day"] is None or r["end_day"] <= end_date  # type: ignore[operator]
    for table, column in (("transactions", "day"), ("feedback", "posted_at")):
        t = small.table(table)
        for market, end in ends.items():
            if end is None:
                continue
            mine = t.filter(pc.equal(t["market"], market))[column].to_pylist()
            assert mine, market
            last = max(v.date() if hasattr(v, "date") else v for v in mine)
            assert last < start + timedelta(days=end), (table, market)


def test_transactions_fall_inside_listing_lifetimes(small: World) -> None:
    start = small.config.start
    life: dict[tuple[object, object], tuple[date, date]] = {}
    stops = {m.name: m.end_day or small.config.days for m in small.config.markets}
    for r in _rows(small, "listings"):
        stop = r["end_day"] or start + timedelta(days=stops[str(r["market"])])
        life[(r["market"], r["listing_id"])] = (r["start_day"], stop)  # type: ignore[assignment]
    for r in _rows(small, "transactions"):
        first, stop = life[(r["market"], r["listing_id"])]
        assert first <= r["day"] < stop  # type: ignore[operator]


def test_migrants_arrive_after_the_end_mostly_with_their_key(small: World) -> None:
    vendors = _rows(small, "vendors")
    ends = {m.name: m.end_day for m in small.config.markets}
    start = small.config.start
    migrants = [v for v in vendors if v["migrated_from"] is not None]
    assert migrants
    by_actor: dict[tuple[object, object], dict[str, object]] = {
        (v["actor_id"], v["market"]): v for v in vendors
    }
    same_key = changed_handle = 0
    for v in migrants:
        end = ends[str(v["migrated_from"])]
        assert end is not None
        assert v["join_day"] > start + timedelta(days=end - 1)  # type: ignore[operator]
        assert v["join_day"] <= start + timedelta(days=end + 21)  # type: ignore[operator]
        origin = by_actor[(v["actor_id"], v["migrated_from"])]
        same_key += origin["pgp_fingerprint"] == v["pgp_fingerprint"]
        changed_handle += origin["vendor_handle"] != v["vendor_handle"]
    assert same_key >= 0.6 * len(migrants)
    assert 1 <= changed_handle < len(migrants)


def test_multi_market_actors_share_their_key(small: World) -> None:
    vendors = [v for v in _rows(small, "vendors") if v["migrated_from"] is None]
    markets_of: dict[object, set[object]] = {}
    for v in vendors:
        markets_of.setdefault(v["actor_id"], set()).add(v["pgp_fingerprint"])
    multi = [a for a in markets_of if sum(v["actor_id"] == a for v in vendors) > 1]
    assert multi
    assert all(len(markets_of[a]) == 1 for a in multi)


def test_prices_in_eur_use_the_rate_of_the_day(small: World) -> None:
    rates = {(r["day"], r["currency"]): r["eur_per_unit"] for r in _rows(small, "rates")}
    assert len(rates) == 2 * small.config.days
    tx = small.table("transactions")
    for r in tx.slice(0, 5000).to_pylist():
        rate = 1.0 if r["currency"] == "EUR" else rates[(r["day"], r["currency"])]
        assert r["price_eur"] == pytest.approx(r["price"] * rate, rel=1e-12)
        assert r["price"] > 0


def test_transactions_carry_their_tier_quantities(small: World) -> None:
    tiers = {(r["market"], r["listing_id"], r["tier"]): r for r in _rows(small, "listing_tiers")}
    for r in small.table("transactions").slice(0, 5000).to_pylist():
        tier = tiers[(r["market"], r["listing_id"], r["tier"])]
        assert tier["mass_g"] == r["mass_g"] and tier["count"] == r["count"]


def test_feedback_rows_match_transactions_with_feedback(small: World) -> None:
    tx = small.table("transactions")
    fb = small.table("feedback")
    left = tx.filter(tx["feedback_left"])
    assert fb.num_rows == left.num_rows
    assert sorted(fb["tx_id"].to_pylist()) == left["tx_id"].to_pylist()
    by_id = {r["tx_id"]: r for r in left.select(["tx_id", "market", "listing_id"]).to_pylist()}
    for r in fb.select(["tx_id", "market", "listing_id", "rating", "buyer_masked"]).to_pylist():
        t = by_id[r["tx_id"]]
        assert (t["market"], t["listing_id"]) == (r["market"], r["listing_id"])
        assert 1 <= r["rating"] <= 5
        masked = str(r["buyer_masked"])
        assert len(masked) == 5 and masked[1:4] == "***"


def test_configured_price_bands_restrict_what_is_sold() -> None:
    config = with_overrides(preset("tiny"), price_bands=(PriceBand("cannabis", "g", 8.0, 15.0),))
    world = generate_world(config)
    assert set(world.table("listings")["substance"].to_pylist()) <= {"cannabis", "non_drug"}
    with pytest.raises(SimulationError):
        generate_world(with_overrides(config, price_bands=(PriceBand("x", "g", 1.0, 2.0),)))


def test_invalid_config_is_rejected() -> None:
    with pytest.raises(SimulationError, match="at least one market"):
        generate_world(SimConfig(scale="tiny", days=40))
