"""Vendor linking across markets and the market lifecycle, on hand-made cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from _estimate_rows import crawl, listing, put, vendor
from dnmwatch.estimate.build import BuildOptions, build
from dnmwatch.store import Store

FPR_A = "A" * 40
FPR_B = "B" * 40


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def _actors(store: Store) -> dict[tuple[str, str], tuple[str, str, float]]:
    return {(m, v): (a, how, score) for m, v, a, how, score in store.fetchall(
        "SELECT market, vendor_id, actor_id, method, score FROM vendor_links")}


def test_same_pgp_key_links_accounts_even_with_another_handle(store: Store) -> None:
    put(store, "vendor_observations", [
        vendor("old", "v_000000000000000a", 0, fpr=FPR_A),
        vendor("new", "v_000000000000000b", 3, fpr="aaaa " * 10),  # spaced, lower case
        vendor("new", "v_000000000000000c", 3, fpr=FPR_B),
    ])
    build(store)
    links = _actors(store)
    assert links[("old", "v_000000000000000a")][0] == links[("new", "v_000000000000000b")][0]
    assert links[("new", "v_000000000000000b")][1:] == ("pgp", 1.0)
    assert links[("new", "v_000000000000000c")][1] == "single"
    groups = dict(store.fetchall("SELECT vendor_id, vendor_group FROM vendors"))
    assert groups["v_000000000000000a"] == links[("old", "v_000000000000000a")][0]


def test_same_handle_links_with_a_lower_score(store: Store) -> None:
    put(store, "vendor_observations", [vendor("old", "v_000000000000000a", 0, fpr=FPR_A),
                                       vendor("new", "v_000000000000000a", 3, fpr=FPR_B)])
    build(store)
    links = _actors(store)
    assert links[("old", "v_000000000000000a")][0] == links[("new", "v_000000000000000a")][0]
    assert links[("new", "v_000000000000000a")][1:] == ("handle", 0.9)


def test_weak_signal_links_mutual_best_candidates_only(store: Store) -> None:
    put(store, "vendor_observations", [
        vendor("old", "v_00000000000000a1", 0, fpr=FPR_A, claims='["New"]'),
        vendor("new", "v_00000000000000b1", 3, fpr=FPR_B, claims='["Old"]'),
        vendor("new", "v_00000000000000b2", 3, fpr="C" * 40, ships_from="Spain"),
    ])
    put(store, "listing_observations", [
        listing("old", "L1", 0, vendor="v_00000000000000a1", title="Cocaine 1g"),
        listing("new", "L2", 3, vendor="v_00000000000000b1", title="Cocaine 2g"),
        listing("new", "L3", 3, vendor="v_00000000000000b2", title="Cocaine 1g",
                ships_from="Spain"),
    ])
    build(store)
    links = _actors(store)
    a, b1, b2 = (links[("old", "v_00000000000000a1")], links[("new", "v_00000000000000b1")],
                 links[("new", "v_00000000000000b2")])
    assert a[0] == b1[0] and a[1] == "weak" and a[2] >= 0.75
    assert b2[0] != a[0]


def test_takedown_detected_after_failed_crawls_and_vendors_followed(store: Store) -> None:
    crawls = [crawl("old", k) for k in range(3)]
    crawls += [crawl("old", k, "failed") for k in range(3, 6)]
    crawls += [crawl("new", k) for k in range(6)]
    crawls += [crawl("gone", 0), crawl("gone", 1, "failed")]
    put(store, "crawls", crawls)
    put(store, "pages", [{"source": "x", "market": "old", "crawl_id": "old-3",
                          "page_type": "gate:seized"}])
    put(store, "vendor_observations", [
        *[vendor("old", "v_00000000000000a1", k, fpr=FPR_A) for k in range(3)],
        *[vendor("old", "v_00000000000000a2", k, fpr=FPR_B) for k in range(3)],
        *[vendor("new", "v_00000000000000b1", k, fpr=FPR_A) for k in range(2, 6)],
        vendor("gone", "v_00000000000000c1", 0),
    ])
    build(store, BuildOptions(close_after_failed=3))
    rows = {r[0]: r for r in store.fetchall(
        "SELECT market, status, end_kind, vendors, vendors_elsewhere_30d, "
        "share_elsewhere_90d, crawls_ok, crawls_failed FROM market_lifecycle")}
    assert rows["old"] == ("old", "closed", "takedown", 2, 1, 0.5, 3, 3)
    assert rows["new"][1:3] == ("active", None)
    assert rows["gone"][1] == "active"  # one failure is not yet a closure
    markets = dict(store.fetchall("SELECT market, adapter FROM markets"))
    assert set(markets) == {"old", "new", "gone"}


def test_exit_is_a_vanished_site_without_seizure_banner(store: Store) -> None:
    put(store, "crawls", [crawl("x", 0), *[crawl("x", k, "failed") for k in (1, 2)]])
    put(store, "vendor_observations", [vendor("x", "v_00000000000000a1", 0)])
    build(store, BuildOptions(close_after_failed=2))
    assert store.fetchall("SELECT status, end_kind FROM market_lifecycle") == \
        [("closed", "exit")]
