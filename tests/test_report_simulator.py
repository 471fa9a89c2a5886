"""On the simulator: the report's revenue by substance and month against the ground truth.

The tiny world is crawled on loopback every 4 days by the real adapters (the harness of the
estimation tests, ``_estimate_simcrawl.py``), built with ``dnmwatch build``'s function, and the
report's own protected table (the data of its "revenue by substance and month" chart) is
compared with the truth: the revenue of the transactions whose feedback was visible to a crawl,
by substance and month of the feedback. On the market whose feedback shows the price paid, the
estimate must match within the accuracy of the estimation issue (2 %); on every market the
report must reproduce the store's estimate exactly (the lower-bound property of markets that
hide the price paid is the estimation's, tested in test_estimate_accuracy.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from _estimate_simcrawl import built_store
from dnmwatch.estimate.indicators import Scope
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.report.disclosed import protected_sales
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.store import Store

OPEN = Rules(min_vendors=1, dominance_pct=100.0)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


@pytest.fixture(scope="module")
def store(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = built_store(world, tmp_path_factory.mktemp("simrep") / "data")
    yield s
    s.close()


def _live(row: dict[str, Any], day: date) -> bool:
    start = row.get("start_day") or row.get("join_day")
    end = row.get("end_day") or row.get("leave_day")
    return (start is None or start <= day) and (end is None or day < end)


def truth_revenue(world: World, store: Store) -> dict[tuple[str, str, str], float]:
    """(market, substance, YYYY-MM of the feedback) -> true EUR of visible feedback's sales."""
    captures: dict[str, list[datetime]] = defaultdict(list)
    for market, at in store.fetchall(
            "SELECT DISTINCT market, observed_at FROM listing_observations ORDER BY 1, 2"):
        captures[market].append(at)
    listings = {(r["market"], r["listing_id"]): r for r in world.table("listings").to_pylist()}
    tx = {r["tx_id"]: r for r in world.table("transactions").to_pylist()}
    vendors = {(r["market"], r["vendor_handle"]): r for r in world.table("vendors").to_pylist()}
    out: dict[tuple[str, str, str], float] = defaultdict(float)
    for f in world.table("feedback").to_pylist():
        posted = f["posted_at"].astimezone(UTC).replace(tzinfo=None)
        listing = listings.get((f["market"], f["listing_id"]))
        t = tx.get(f["tx_id"])
        if listing is None or t is None or listing["kind"] == "placeholder" \
                or listing["holding_price"]:
            continue
        vendor = vendors.get((f["market"], f["vendor_handle"]))
        if not any(at >= posted and _live(listing, at.date())
                   and (vendor is None or _live(vendor, at.date()))
                   for at in captures[f["market"]]):
            continue
        out[(f["market"], t["substance"], f"{posted:%Y-%m}")] += float(t["price_eur"])
    return out


def report_revenue(store: Store, market: str) -> dict[tuple[str, str], float]:
    rows = protected_sales(store, Scope(markets=(market,)), ["month", "substance"], OPEN, "month")
    return {(r["substance"], f"{r['month']:%Y-%m}"): r["revenue_eur"] for r in rows}


# Worst substance-month cell allowed per market. gidra launches late in the tiny world: its two
# month cells hold a few wholesale sales whose relative date ("3 days ago", read at a noon
# crawl) straddles midnight of 30 Sept, which no estimator can place (docs/estimation.md); the
# demo's small world scores every market-month within 2%.
CELL_TOLERANCE = {"silkway": 0.02, "bazaar": 0.02, "gidra": 0.10}


@pytest.mark.parametrize("market", sorted(CELL_TOLERANCE))
def test_revenue_by_substance_and_month_matches_truth(
    world: World, store: Store, market: str
) -> None:
    truth = truth_revenue(world, store)
    est = report_revenue(store, market)
    true_here = {(s, m): v for (mk, s, m), v in truth.items() if mk == market}
    assert len(true_here) >= 5
    total_true = sum(true_here.values())
    total_est = sum(est.values())
    print(f"\n{market}: est {total_est:,.0f} true {total_true:,.0f} "
          f"({(total_est / total_true - 1) * 100:+.2f}%)")
    worst = 0.0
    for key in sorted(set(true_here) | set(est)):
        e, t = est.get(key, 0.0), true_here.get(key, 0.0)
        if t >= 0.02 * total_true:  # cells big enough for a relative error to mean something
            worst = max(worst, abs(e / t - 1))
            print(f"  {key[0]:<18} {key[1]} est {e:>10,.0f} true {t:>10,.0f} "
                  f"({(e / t - 1) * 100:+.2f}%)")
    assert abs(total_est / total_true - 1) <= 0.02
    assert worst <= CELL_TOLERANCE[market]


def test_report_adds_no_error_to_the_estimate(world: World, store: Store) -> None:
    """On every market the report's cells are the store's sales, to the cent: whatever gap to
    the truth remains is the estimation's (issue 6 pins those), not the report's."""
    truth = truth_revenue(world, store)
    markets = sorted({m for m, _, _ in truth})
    assert len(markets) >= 2
    for market in markets:
        got = report_revenue(store, market)
        want = {(sub, month): eur for sub, month, eur in store.fetchall(
            "SELECT coalesce(substance, 'unknown'), strftime(day, '%Y-%m'), sum(price_eur) "
            "FROM sales WHERE market = ? GROUP BY ALL", [market])}
        assert got.keys() == want.keys()
        assert all(abs(got[k] - want[k]) < 1e-6 for k in want), market
        true = sum(v for (mk, _, _), v in truth.items() if mk == market)
        print(f"{market}: report {sum(got.values()):,.0f} true {true:,.0f}")
