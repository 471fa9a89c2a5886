"""Sales rules on hand-made cases: price attribution, tiers, EUR, exclusions, correction."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from _estimate_rows import T0, at, feedback, listing, put, rates
from dnmwatch.estimate.build import BuildOptions, build
from dnmwatch.estimate.sales import Undated, assign_days, day_shares, purchase_weights
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
    # "yesterday" at noon is noon-to-noon: the sale's day is drawn inside it (rule 1).
    assert day in {(T0 - timedelta(days=2)).date(), (T0 - timedelta(days=1)).date()}


def test_option_bought_prices_the_sale_at_that_tier(store: Store) -> None:
    tiers = json.dumps([{"label": "5 g", "price": 40.0, "currency": "EUR"},
                        {"label": "25 G", "price": 150.0, "currency": "EUR"},
                        {"label": "2x", "price": 76.0, "currency": "EUR"}])
    put(store, "listing_observations", [
        listing("m", "W", 0, title="Weed 5g", price=40.0, tiers=tiers),
        listing("m", "W", 5, title="Weed 5g", price=40.0,
                tiers=tiers.replace("150.0", "170.0"))])
    rows = [feedback("m", "W", 3, "a", "2 days ago", position=0),
            feedback("m", "W", 3, "b", "2 days ago", position=1),
            feedback("m", "W", 3, "c", "2 days ago", position=2),
            feedback("m", "W", 3, "d", "2 days ago", position=3)]
    for row, item in zip(rows, ["25 g", "2X", "10 kg", None], strict=True):
        row["item"] = item
    put(store, "feedback_observations", rows)
    build(store)
    got = sorted(store.fetchall("SELECT f.text, s.price_source, s.tier, s.price_eur, s.mass_g "
                                "FROM sales s JOIN feedback f USING (market, feedback_id)"))
    assert got == [("a", "tier", "25 G", 150.0, 25.0),   # tiers seen before the feedback
                   ("b", "tier", "2x", 76.0, 10.0),      # a bare multiple of the title's 5 g
                   ("c", "listing", None, 40.0, 5.0),    # an option the listing never showed
                   ("d", "listing", None, 40.0, 5.0)]
    assert store.fetchall("SELECT count(*) FROM feedback WHERE item = '25 g'")[0][0] == 1


def test_day_shares_split_an_interval_at_midnight() -> None:
    noon = datetime(2020, 3, 31, 12)
    assert day_shares(noon, noon + timedelta(days=1)) == {date(2020, 3, 31): 0.5,
                                                          date(2020, 4, 1): 0.5}
    assert day_shares(noon, noon) == {date(2020, 3, 31): 1.0}
    midnight = datetime(2020, 4, 1)
    assert day_shares(midnight, midnight + timedelta(days=1)) == {date(2020, 4, 1): 1.0}
    shares = day_shares(datetime(2020, 3, 31, 18), datetime(2020, 4, 2, 6))  # 36 hours
    expected = {date(2020, 3, 31): 6 / 36, date(2020, 4, 1): 24 / 36, date(2020, 4, 2): 6 / 36}
    assert shares.keys() == expected.keys()
    assert all(abs(shares[d] - expected[d]) < 1e-12 for d in expected)


def test_assign_days_balances_each_day_to_its_expected_value() -> None:
    """A month-boundary interval holding one large and many small sales: the independent
    draw this replaces put the large one in either month at random; balancing keeps each
    day within one sale of half the group's value whatever the order of the input."""
    noon = datetime(2020, 3, 31, 12)
    values = [8000.0, 3900.0, 2200.0, 2150.0, *[500.0 + 10 * i for i in range(12)]]
    sales = [Undated("m", f"k{i}", noon, noon + timedelta(days=1), v)
             for i, v in enumerate(values)]
    days = assign_days(sales)
    march = sum(v for v, d in zip(values, days, strict=True) if d == date(2020, 3, 31))
    assert set(days) == {date(2020, 3, 31), date(2020, 4, 1)}
    assert abs(march - sum(values) / 2) <= max(values[4:])  # within the largest small sale
    assert assign_days(sales[::-1]) == days[::-1]  # order-independent
    assert days == assign_days(sales)  # deterministic


def test_assign_days_keeps_one_day_intervals_and_separates_markets() -> None:
    noon = datetime(2020, 3, 31, 12)
    one_day = Undated("m", "a", datetime(2020, 3, 31, 1), datetime(2020, 3, 31, 2), 99.0)
    wide = [Undated(m, f"{m}{i}", noon, noon + timedelta(days=1), 100.0)
            for m in ("m", "n") for i in range(2)]
    days = assign_days([one_day, *wide])
    assert days[0] == date(2020, 3, 31)
    # each market's pair of equal sales is split between the two days, not pooled
    assert sorted(days[1:3]) == sorted(days[3:5]) == [date(2020, 3, 31), date(2020, 4, 1)]
    uneven = [Undated("m", f"u{i}", datetime(2020, 3, 31, 18), datetime(2020, 4, 1, 18), 10.0)
              for i in range(8)]  # a quarter of the interval is on the 31st
    got = assign_days(uneven)
    assert got.count(date(2020, 3, 31)) == 2 and got.count(date(2020, 4, 1)) == 6
    assert assign_days([]) == []


def test_purchase_weights_decay_and_sum_to_one() -> None:
    w = purchase_weights(3.5, 14)
    assert len(w) == 15 and abs(sum(w) - 1) < 1e-12 and list(w) == sorted(w, reverse=True)
    assert purchase_weights(0, 14) == (1.0,)
