"""Sales rules on hand-made cases: price attribution, tiers, EUR, exclusions, correction."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from _estimate_rows import T0, at, feedback, listing, put, rates
from dnmwatch.estimate.build import BuildOptions, build
from dnmwatch.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def _sales(store: Store) -> dict[str, dict[str, object]]:
    cur = store.execute("SELECT * FROM sales ORDER BY day, listing_id")
    cols = [d[0] for d in cur.description]
    return {str(r[cols.index("listing_id")]) + "@" + str(r[cols.index("day")]):
            dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def _excluded(store: Store) -> dict[str, str]:
    return dict(store.fetchall("SELECT listing_id, reason FROM sales_exclusions"))


def test_price_change_between_snapshots_prices_each_sale_at_the_nearest_earlier_price(
        store: Store) -> None:
    put(store, "listing_observations", [
        listing("m", "L1", 0, price=100.0), listing("m", "L1", 1, price=80.0),
        listing("m", "L1", 2, price=80.0)])
    put(store, "feedback_observations", [
        feedback("m", "L1", 1, "before the change", "2 days ago"),   # posted T0+5d: 100
        feedback("m", "L1", 2, "after the change", "2 days ago"),    # posted T0+12d: 80
        feedback("m", "L1", 0, "older than any sighting", "2 weeks ago"),  # first price: 100
    ])
    result = build(store)
    sales = {s["price_eur"] for s in _sales(store).values()}
    assert result.rows["sales"] == 3 and sales == {100.0, 80.0}
    by_text = dict(store.fetchall(
        "SELECT f.text, s.price_eur FROM sales s JOIN feedback f USING (market, feedback_id)"))
    assert by_text == {"before the change": 100.0, "after the change": 80.0,
                       "older than any sighting": 100.0}
    history = store.fetchall("SELECT price, observations, valid_from, valid_to FROM "
                             "listing_prices ORDER BY valid_from")
    assert history == [(100.0, 1, at(0), at(0)), (80.0, 2, at(1), at(2))]
    sale = next(iter(_sales(store).values()))
    assert sale["substance"] == "cocaine" and sale["mass_g"] == 1.0
    assert sale["ships_from"] == "DE" and sale["price_source"] == "listing"
    assert sale["weight"] == 1.0


def test_listing_that_disappears_keeps_first_and_last_seen(store: Store) -> None:
    put(store, "listing_observations", [listing("m", "L1", 0), listing("m", "L1", 1),
                                         listing("m", "L2", 0, title="Amnesia Haze 5g")])
    build(store)
    rows = dict((lid, (first, last)) for lid, first, last in store.fetchall(
        "SELECT listing_id, first_seen, last_seen FROM listings"))
    assert rows == {"L1": (at(0), at(1)), "L2": (at(0), at(0))}
    norm = store.fetchall("SELECT substance, mass_g FROM listings WHERE listing_id = 'L2'")
    assert norm == [("cannabis", 5.0)]


def test_feedback_price_wins_and_matches_the_tier(store: Store) -> None:
    tiers = json.dumps([{"label": "1 g", "price": 100.0, "currency": "USD"},
                        {"label": "5 g", "price": 450.0, "currency": "USD"}])
    rates(store, "USD", 0.9)
    put(store, "listing_observations", [listing("m", "L1", 0, price=100.0, currency="USD",
                                                tiers=tiers)])
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, "bulk", "2 days ago", price=451.0, currency="USD"),
        feedback("m", "L1", 0, "single", "3 days ago"),
    ])
    build(store)
    got = dict((text, (eur, mass, src, tier)) for text, eur, mass, src, tier in store.fetchall(
        "SELECT f.text, s.price_eur, s.mass_g, s.price_source, s.tier FROM sales s "
        "JOIN feedback f USING (market, feedback_id)"))
    assert got["bulk"] == (pytest.approx(451.0 * 0.9), 5.0, "feedback", "5 g")
    assert got["single"] == (pytest.approx(90.0), 1.0, "listing", None)


def test_market_rate_shown_on_the_page_wins_over_the_table(store: Store) -> None:
    rates(store, "BTC", 8000.0)
    obs = listing("m", "L1", 0, price=0.01, currency="BTC")
    obs["price_eur"] = 85.0  # the market's own rate: 8500 EUR/BTC
    put(store, "listing_observations", [obs, listing("m", "L2", 0, price=0.01,
                                                     currency="BTC")])
    put(store, "feedback_observations", [feedback("m", "L1", 0, "a", "yesterday"),
                                         feedback("m", "L2", 0, "b", "yesterday")])
    build(store)
    assert sorted(p for (p,) in store.fetchall("SELECT price_eur FROM sales")) == \
        [pytest.approx(80.0), pytest.approx(85.0)]


def test_exclusions_are_counted_by_reason(store: Store) -> None:
    put(store, "listing_observations", [
        listing("m", "TEST", 0, title="TEST LISTING DO NOT BUY", price=1.0),
        listing("m", "TIP", 0, title="Tip jar", price=5.0),
        listing("m", "GUIDE", 0, title="Stealth shipping guide", price=5.0),
        listing("m", "PARK", 0, title="Cocaine 1g", price=99_999.0),
        listing("m", "USD", 0, title="Cocaine 1g", price=100.0, currency="USD"),
        listing("m", "NOPRICE", 0, title="Cocaine 1g", price=None),
        *[listing("m", f"C{i}", 0, title="Cocaine 1g", price=90.0 + i) for i in range(5)],
    ])
    put(store, "feedback_observations", [
        feedback("m", lid, 0, "ok", "yesterday")
        for lid in ("TEST", "TIP", "GUIDE", "PARK", "USD", "NOPRICE", "GONE", "C0")])
    result = build(store)
    assert _excluded(store) == {"TEST": "placeholder", "TIP": "placeholder",
                                "PARK": "holding_price", "USD": "no_rate",
                                "NOPRICE": "no_price", "GONE": "no_listing"}
    assert result.exclusions() == {"holding_price": 1, "no_listing": 1, "no_price": 1,
                                   "no_rate": 1, "placeholder": 2}
    kept = store.fetchall("SELECT listing_id, substance FROM sales ORDER BY 1")
    assert kept == [("C0", "cocaine"), ("GUIDE", "non_drug")]


def test_correction_is_reported_beside_the_lower_bound(store: Store) -> None:
    put(store, "listing_observations", [listing("m", "L1", 0, price=100.0)])
    put(store, "feedback_observations", [feedback("m", "L1", 0, "a", "yesterday")])
    build(store, BuildOptions(feedback_probability=0.5))
    lower, corrected = store.fetchall("SELECT sum(price_eur), sum(price_eur * weight) "
                                      "FROM sales")[0]
    assert (lower, corrected) == (100.0, 200.0)
    day = store.fetchall("SELECT day FROM sales")[0][0]
    assert day == (T0 - timedelta(days=1.5)).date() == date(2020, 3, 1)
