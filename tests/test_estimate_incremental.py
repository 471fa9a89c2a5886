"""The per-market incremental build gives exactly what a fresh full build of the same inputs
gives, table by table, while recomputing only the markets whose inputs changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _estimate_rows import crawl, feedback, listing, put, rates, vendor
from dnmwatch.estimate.build import DERIVED_TABLES, BuildResult, build, table_checksum
from dnmwatch.store import Store

SHARED = "v_00000000000000a1"


def _market_a() -> dict[str, list[dict[str, Any]]]:
    """Market ``a``: a vendor that closes after three failed crawls (displacement shares)."""
    return {
        "listing_observations": [listing("a", "L1", k, price=100.0 - k) for k in range(3)]
        + [listing("a", "L2", 1, title="MDMA 10 pills", price=40.0, currency="USD")],
        "feedback_observations": [feedback("a", "L1", k, "Great stuff", f"{2 + 7 * k} days ago")
                                  for k in range(3)]
        + [feedback("a", "L2", 2, "ok", "sometime soon", position=1)],
        "vendor_observations": [vendor("a", SHARED, 1, fpr="ABCD 1234")],
        "crawls": [crawl("a", k) for k in range(3)]
        + [crawl("a", k, "failed") for k in range(3, 6)],
    }


def _market_b() -> dict[str, list[dict[str, Any]]]:
    """Market ``b``: the same vendor (same key), seen after ``a`` closed."""
    return {
        "listing_observations": [listing("b", "X1", k, price=90.0) for k in range(4, 7)],
        "feedback_observations": [feedback("b", "X1", 6, "fast", "3 days ago")],
        "vendor_observations": [vendor("b", SHARED, 5, fpr="ABCD1234")],
        "crawls": [crawl("b", k) for k in range(4, 7)],
    }


def _put_all(store: Store, *parts: dict[str, list[dict[str, Any]]]) -> None:
    for part in parts:
        for table, rows in part.items():
            put(store, table, rows)


def _snapshot(store: Store, result: BuildResult) -> dict[str, Any]:
    sums: dict[str, Any] = {t: table_checksum(store, t) for t in (*DERIVED_TABLES, "markets")}
    sums["rejections"] = store.fetchall(
        "SELECT stage, reason, detail, market, source FROM rejections ORDER BY ALL")
    sums["result"] = (result.rows, result.counters)
    return sums


def _fresh(tmp_path: Path, name: str, *parts: dict[str, list[dict[str, Any]]]
           ) -> dict[str, Any]:
    with Store.open(tmp_path / name) as store:
        rates(store, "USD", 0.9)
        _put_all(store, *parts)
        return _snapshot(store, build(store))


def _build(store: Store) -> tuple[BuildResult, int]:
    """Build; how many markets it recomputed (one ``listings`` step per market)."""
    steps: list[str] = []
    result = build(store, progress=steps.append)
    return result, steps.count("listings")


def test_incremental_build_equals_a_fresh_full_build(tmp_path: Path) -> None:
    a, b = _market_a(), _market_b()
    with Store.open(tmp_path / "inc") as store:
        rates(store, "USD", 0.9)
        _put_all(store, a)
        _, rebuilt = _build(store)
        assert rebuilt == 1
        _put_all(store, b)
        result, rebuilt = _build(store)
        assert rebuilt == 1, "only the new market is recomputed"
        both = _snapshot(store, result)
        assert both == _fresh(tmp_path, "full", a, b)
        shares = store.fetchall(
            "SELECT vendors_elsewhere_30d FROM market_lifecycle WHERE market = 'a'")
        assert shares == [(1,)], "cross-market parts follow the new market"
        assert store.fetchall("SELECT count(DISTINCT actor_id) FROM vendor_links") == [(1,)]

        extra = {"feedback_observations": [feedback("a", "L1", 2, "Again!", "5 days ago",
                                                    position=2)]}
        put(store, "feedback_observations", extra["feedback_observations"])
        result, rebuilt = _build(store)
        assert rebuilt == 1
        assert _snapshot(store, result) == _fresh(tmp_path, "full2", a, b, extra)
        assert _build(store)[0].skipped

        forced = build(store, force=True)
        assert _snapshot(store, forced) == _snapshot(store, result)


def test_rates_invalidate_every_market_and_removed_markets_vanish(tmp_path: Path) -> None:
    a, b = _market_a(), _market_b()
    with Store.open(tmp_path / "inc") as store:
        rates(store, "USD", 0.9)
        _put_all(store, a, b)
        build(store)
        rates(store, "USD", 0.8)
        _, rebuilt = _build(store)
        assert rebuilt == 2
        for table in b:
            store.execute(f"DELETE FROM {table} WHERE market = 'b'")
        result, rebuilt = _build(store)
        assert rebuilt == 0
        mine = _snapshot(store, result)
    with Store.open(tmp_path / "full") as store:
        rates(store, "USD", 0.8)
        _put_all(store, a)
        expected = _snapshot(store, build(store))
    mine.pop("markets"), expected.pop("markets")  # the markets registry keeps what it saw
    assert mine == expected
