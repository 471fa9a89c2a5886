"""Each indicator's numbers, exactly, on the hand-made store of tests/_indicators_store.py."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from _indicators_store import build_store
from dnmwatch.estimate import indicators as ind
from dnmwatch.store import Store

D = date


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = build_store(tmp_path_factory.mktemp("ind"))
    with Store.open(path, read_only=True) as s:
        yield s


def same(got: object, want: object) -> bool:
    """Equal, with floats compared to 1e-12 relative (shares are ratios)."""
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    if isinstance(want, (tuple, list)) and isinstance(got, (tuple, list)):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, float) and isinstance(got, (int, float)):
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15)
    return got == want


def rows(table: object) -> list[dict[str, object]]:
    return table.to_pylist()  # type: ignore[attr-defined,no-any-return]


def test_coverage_per_market_and_summary(store: Store) -> None:
    cov = rows(ind.coverage(store))
    assert cov == [
        {"market": "alpha", "crawls": 3, "crawls_ok": 2, "crawls_failed": 1, "pages_ok": 15,
         "pages_failed": 2, "first_day": D(2020, 1, 1), "last_day": D(2020, 1, 5),
         "days_with_data": 2, "days_without_data": 3},
        {"market": "beta", "crawls": 1, "crawls_ok": 1, "crawls_failed": 0, "pages_ok": 4,
         "pages_failed": 0, "first_day": D(2020, 1, 2), "last_day": D(2020, 1, 2),
         "days_with_data": 1, "days_without_data": 0},
    ]
    summary = ind.coverage_summary(store)
    assert (summary["crawls"], summary["crawls_ok"], summary["crawls_failed"]) == (4, 3, 1)
    assert summary["days_without_data"] == 3
    assert "3 of 4 crawls succeeded" in ind.coverage_sentence(summary)


def test_sales_totals_by_market_month(store: Store) -> None:
    got = [(r["market"], r["month"], r["sales"], r["revenue_eur"], r["unpriced"],
            r["sales_corrected"], r["revenue_corrected_eur"], r["vendors"])
           for r in rows(ind.sales_totals(store))]
    assert got == [
        ("alpha", D(2020, 1, 1), 3, 450.0, 0, 4.0, 550.0, 2),
        ("alpha", D(2020, 2, 1), 2, 970.0, 0, 2.0, 970.0, 2),
        ("beta", D(2020, 1, 1), 1, 80.0, 0, 1.0, 80.0, 1),
        ("beta", D(2020, 2, 1), 2, 1200.0, 1, 2.0, 1200.0, 1),
    ]


def test_every_indicator_carries_the_lower_bound_and_coverage(store: Store) -> None:
    for table in (ind.sales_totals(store), ind.unit_prices(store), ind.vendor_activity(store),
                  ind.market_closures(store), ind.event_impact(store, D(2020, 2, 1))):
        note = ind.table_note(table)
        assert note["bound"] == ind.LOWER_BOUND_NOTE
        assert note["coverage"]["crawls_ok"] == 3
        assert note["coverage"]["days_without_data"] == 3
        assert note["method"]


def test_sales_by_substance_and_country_and_total(store: Store) -> None:
    got = {r["substance"]: (r["sales"], r["revenue_eur"])
           for r in rows(ind.sales_totals(store, by=("substance",)))}
    assert got == {"cannabis": (2, 1000.0), "cocaine": (3, 480.0), "lsd": (2, 1200.0),
                   "mdma": (1, 20.0)}
    by_country = {r["ships_from"]: r["sales"]
                  for r in rows(ind.sales_totals(store, by=("ships_from",)))}
    assert by_country == {"DE": 2, "GB": 2, "NL": 2, "US": 1, "XX": 1}
    total = rows(ind.sales_totals(store, by=()))
    assert [(r["sales"], r["revenue_eur"]) for r in total] == [(8, 2700.0)]


def test_scope_filters_days_and_markets(store: Store) -> None:
    scope = ind.Scope(date_from=D(2020, 2, 1), markets=("alpha",))
    got = [(r["market"], r["month"], r["sales"], r["revenue_eur"])
           for r in rows(ind.sales_totals(store, scope))]
    assert got == [("alpha", D(2020, 2, 1), 2, 970.0)]
    with pytest.raises(ValueError, match="after it ends"):
        ind.Scope(date_from=D(2020, 2, 1), date_to=D(2020, 1, 1))
    with pytest.raises(ValueError, match="unknown dimensions"):
        ind.sales_totals(store, by=("colour",))


def test_origin_split_eu_non_eu_with_brexit(store: Store) -> None:
    got = [(r["month"], r["origin"], r["sales"], r["revenue_eur"], r["share_sales"])
           for r in rows(ind.origin_split(store))]
    # GB counts as EU in January 2020 (beta's cocaine), as non-EU from February (alpha's mdma).
    assert got == [
        (D(2020, 1, 1), "EU", 4, 530.0, 1.0),
        (D(2020, 2, 1), "EU", 1, 950.0, 0.25),
        (D(2020, 2, 1), "non-EU", 2, 1220.0, 0.5),
        (D(2020, 2, 1), "unknown", 1, 0.0, 0.25),
    ]
    feb_rev = {r["origin"]: r["share_revenue"] for r in rows(ind.origin_split(store))
               if r["month"] == D(2020, 2, 1)}
    assert feb_rev == pytest.approx({"EU": 950 / 2170, "non-EU": 1220 / 2170, "unknown": 0.0})


def test_category_shares(store: Store) -> None:
    got = {(r["month"], r["category"]): (r["sales"], r["share_sales"], r["share_revenue"])
           for r in rows(ind.category_shares(store))}
    assert same(got, {
        (D(2020, 1, 1), "cannabis"): (1, 0.25, 50 / 530),
        (D(2020, 1, 1), "stimulants"): (3, 0.75, 480 / 530),
        (D(2020, 2, 1), "cannabis"): (1, 0.25, 950 / 2170),
        (D(2020, 2, 1), "psychedelics"): (2, 0.5, 1200 / 2170),
        (D(2020, 2, 1), "stimulants"): (1, 0.25, 20 / 2170),
    })


def test_unit_prices_median_and_iqr(store: Store) -> None:
    got = {(r["substance"], r["unit"]): (r["n"], r["median_eur"], r["q1_eur"], r["q3_eur"],
                                         r["iqr_eur"])
           for r in rows(ind.unit_prices(store, by=("substance",)))}
    # cocaine EUR/g: 100/1, 300/4 = 75, 80/1 -> sorted 75, 80, 100.
    assert got == {
        ("cannabis", "g"): (2, 9.75, 9.625, 9.875, 0.25),
        ("cocaine", "g"): (3, 80.0, 77.5, 90.0, 12.5),
        ("lsd", "unit"): (1, 12.0, 12.0, 12.0, 0.0),
        ("mdma", "unit"): (1, 10.0, 10.0, 10.0, 0.0),
    }
    full = rows(ind.unit_prices(store))
    assert {(r["substance"], r["ships_from"], r["quarter"]) for r in full} == {
        ("cannabis", "NL", "2020-Q1"), ("cocaine", "DE", "2020-Q1"),
        ("cocaine", "GB", "2020-Q1"), ("lsd", "US", "2020-Q1"), ("mdma", "GB", "2020-Q1")}


def test_quantity_bands_use_the_days_usd_rate(store: Store) -> None:
    got = {(r["substance"], r["band"]): (r["sales"], r["revenue_eur"], r["share_sales"])
           for r in rows(ind.quantity_bands(store))}
    # lsd EUR 1,200 on 2020-02-10 (USD at 0.90 -> cut-off EUR 900): wholesale.
    # cannabis EUR 950 on 2020-02-15 (USD at 1.00 since 02-12 -> EUR 1,000): retail.
    assert got == {
        ("cannabis", "retail"): (2, 1000.0, 1.0),
        ("cocaine", "retail"): (3, 480.0, 1.0),
        ("lsd", "unknown"): (1, 0.0, 0.5),
        ("lsd", "wholesale"): (1, 1200.0, 0.5),
        ("mdma", "retail"): (1, 20.0, 1.0),
    }
    lower = {(r["substance"], r["band"]): r["sales"]
             for r in rows(ind.quantity_bands(store, cutoff_usd=900.0))}
    assert lower[("cannabis", "wholesale")] == 1 and lower[("cannabis", "retail")] == 1


def test_vendor_activity_entries_and_exits(store: Store) -> None:
    got = [(r["market"], r["month"], r["vendors_selling"], r["vendors_listed"], r["entries"],
            r["exits"], r["first_month"]) for r in rows(ind.vendor_activity(store))]
    assert got == [
        ("alpha", D(2020, 1, 1), 2, 2, 2, 0, True),
        ("alpha", D(2020, 2, 1), 2, 3, 1, 2, False),
        ("alpha", D(2020, 3, 1), 0, 1, 0, 0, False),
        ("beta", D(2020, 1, 1), 1, 1, 1, 1, True),
        ("beta", D(2020, 2, 1), 1, 1, 1, 0, False),
        ("beta", D(2020, 3, 1), 0, 1, 0, 0, False),
        ("beta", D(2020, 4, 1), 0, 1, 0, 0, False),
    ]
    # With no grace, alpha's v1 (last seen on the market's last day) still is not an exit,
    # but v2 and v3 are; a grace of 60 days hides both February exits.
    feb = [r for r in rows(ind.vendor_activity(store, grace_days=60))
           if r["market"] == "alpha" and r["month"] == D(2020, 2, 1)]
    assert feb[0]["exits"] == 0


def test_vendor_concentration_top_shares_and_hhi(store: Store) -> None:
    got = {r["market"]: r for r in rows(ind.vendor_concentration(store))}
    a, b = got["alpha"], got["beta"]
    assert (a["n_vendors"], a["top1_n"], a["top10_n"]) == (3, 1, 1)
    assert a["top1_share"] == pytest.approx(1000 / 1420)
    assert a["hhi"] == pytest.approx(10000 * ((400 / 1420) ** 2 + (1000 / 1420) ** 2
                                              + (20 / 1420) ** 2))
    assert b["top10_share"] == pytest.approx(1200 / 1280)
    assert b["hhi"] == pytest.approx(10000 * ((80 / 1280) ** 2 + (1200 / 1280) ** 2))
    overall = rows(ind.vendor_concentration(store, by=()))
    assert overall[0]["n_vendors"] == 5 and overall[0]["revenue_eur"] == 2700.0


def test_listing_activity_and_market_shares(store: Store) -> None:
    got = [(r["market"], r["category"], r["month"], r["active_listings"])
           for r in rows(ind.listing_activity(store))]
    assert got == [
        ("alpha", "cannabis", D(2020, 1, 1), 1),
        ("alpha", "stimulants", D(2020, 1, 1), 1),
        ("alpha", "stimulants", D(2020, 2, 1), 2),
        ("alpha", "stimulants", D(2020, 3, 1), 1),
        ("beta", "psychedelics", D(2020, 2, 1), 1),
        ("beta", "stimulants", D(2020, 1, 1), 1),
    ]
    shares = {(r["market"], r["month"]): (r["sales"], r["active_listings"], r["share_sales"],
                                          r["share_revenue"], r["share_listings"])
              for r in rows(ind.market_shares(store))}
    assert same(shares, {
        ("alpha", D(2020, 1, 1)): (3, 2, 0.75, 450 / 530, 2 / 3),
        ("beta", D(2020, 1, 1)): (1, 1, 0.25, 80 / 530, 1 / 3),
        ("alpha", D(2020, 2, 1)): (2, 2, 0.5, 970 / 2170, 2 / 3),
        ("beta", D(2020, 2, 1)): (2, 1, 0.5, 1200 / 2170, 1 / 3),
        ("alpha", D(2020, 3, 1)): (0, 1, None, None, 1.0),
    })


def test_market_closure_from_lifecycle(store: Store) -> None:
    (row,) = rows(ind.market_closures(store))
    # beta closed 2020-02-12; alpha survives. [01-13, 02-12): alpha sales of 01-15, 01-20,
    # 02-01 by v2, v1, v3; [02-12, 03-13): 02-15 by v2. beta's v4 and v5 were there before
    # the close; v5 is linked (vendor_links) to alpha's v2, seen after it: displaced. v4
    # shares a PGP key with alpha's v3, but v3 was last seen before the close.
    assert row == {
        "market": "beta", "closed_day": D(2020, 2, 12), "end_kind": "takedown",
        "window_days": 30, "sales_before": 3, "sales_after": 1, "vendors_before": 3,
        "vendors_after": 1, "vendors_at_close": 2, "displaced": 1, "share_displaced": 0.5,
    }


def test_market_closure_fallback_without_lifecycle(tmp_path: Path) -> None:
    with Store.open(build_store(tmp_path, lifecycle=False), read_only=True) as s:
        assert rows(ind.market_closures(s)) == []  # alpha ends 30 days before beta: not closed
        (row,) = rows(ind.market_closures(s, window_days=20))
    assert (row["market"], row["closed_day"], row["end_kind"]) == ("alpha", D(2020, 4, 1),
                                                                   "unknown")
    assert (row["sales_before"], row["sales_after"], row["vendors_at_close"]) == (0, 0, 1)


def test_event_impact_poisson_and_bootstrap(store: Store) -> None:
    got = {r["substance"]: r for r in rows(ind.event_impact(store, D(2020, 2, 1)))}
    # Sales span 01-10..02-15: the windows clip to 22 days before and 15 after.
    can = got["cannabis"]
    assert (can["days_before"], can["days_after"], can["sales_before"], can["sales_after"]) == (
        22, 15, 1, 1)
    assert can["rate_ratio"] == pytest.approx(22 / 15)
    half = 1.959963984540054 * math.sqrt(2.0)
    assert can["rate_ratio_low"] == pytest.approx(22 / 15 * math.exp(-half))
    assert can["rate_ratio_high"] == pytest.approx(22 / 15 * math.exp(half))
    assert can["revenue_ratio"] == pytest.approx((950 / 15) / (50 / 22))
    assert can["revenue_ratio_low"] <= can["revenue_ratio"] <= can["revenue_ratio_high"]
    coc = got["cocaine"]
    assert (coc["sales_before"], coc["sales_after"], coc["rate_ratio"]) == (3, 0, 0.0)
    centre = math.log((0.5 / 15) / (3.5 / 22))
    half0 = 1.959963984540054 * math.sqrt(1 / 0.5 + 1 / 3.5)
    assert coc["rate_ratio_high"] == pytest.approx(math.exp(centre + half0))
    assert got["lsd"]["rate_ratio"] is None and got["lsd"]["sales_after"] == 2
    again = {r["substance"]: r for r in rows(ind.event_impact(store, D(2020, 2, 1)))}
    assert again["cannabis"]["revenue_ratio_low"] == can["revenue_ratio_low"]  # fixed seed


def test_indicators_on_an_empty_store(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    with Store.open(tmp_path, read_only=True) as s:
        assert ind.sales_totals(s).num_rows == 0
        assert ind.unit_prices(s).num_rows == 0
        assert ind.vendor_activity(s).num_rows == 0
        assert ind.market_closures(s).num_rows == 0
        assert ind.event_impact(s, D(2020, 1, 1)).num_rows == 0
        assert ind.coverage_summary(s)["crawls"] == 0


def test_contributions_feed_disclosure_control(store: Store) -> None:
    sales = {(r["substance"], r["vendor_id"]): (r["sales"], r["revenue_eur"])
             for r in rows(ind.sales_contributions(store, by=("substance",)))}
    assert sales[("cocaine", "v1")] == (2, 400.0) and sales[("cocaine", "v4")] == (1, 80.0)
    units = {(r["substance"], r["unit"], r["vendor_id"]): r["n"]
             for r in rows(ind.unit_price_contributions(store, by=("substance",)))}
    assert units == {("cannabis", "g", "v2"): 2, ("cocaine", "g", "v1"): 2,
                     ("cocaine", "g", "v4"): 1, ("lsd", "unit", "v5"): 1,
                     ("mdma", "unit", "v3"): 1}
    event = {(r["substance"], r["side"], r["vendor_id"]): r["sales"]
             for r in rows(ind.event_contributions(store, D(2020, 2, 1)))}
    assert event[("cocaine", "before", "v1")] == 2 and event[("lsd", "after", "v5")] == 2
    assert ind.event_windows(store, D(2020, 2, 1)) == (D(2020, 1, 10), D(2020, 2, 16))


def test_coverage_of_a_market_without_crawls(store: Store) -> None:
    scope = ind.Scope(date_from=D(2020, 2, 1))  # alpha's crawls all started in January
    got = {r["market"]: r for r in rows(ind.coverage(store, scope))}
    assert got["alpha"]["crawls"] == 0 and got["alpha"]["days_without_data"] is None
    assert ind.coverage_summary(store, scope)["markets_without_crawls"] == 2
