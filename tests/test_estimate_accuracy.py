"""Accuracy of consolidate + estimate against the simulator's truth (tiny world).

Observations come WITHOUT the crawler: the simulator's pages are served on loopback every 4
days, walked by following the adapters' links, fetched with urllib and parsed by the real
adapters of ``dnmwatch.adapters`` (see ``_estimate_simcrawl.py``). The figures are printed
(run with ``-s``) and pinned to the acceptance floors of issue 6.

Known gap, asserted as such: on markets whose feedback does not show the price paid, the
quantity tier a buyer chose is unknown, so the sale is valued at the listing's base tier. That
is a lower bound, far below the truth where bulk tiers sell (here about 60% below); the 2%
revenue floor is therefore pinned on the market that shows prices, and the others are checked
to stay below the truth.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from _estimate_simcrawl import KEY, crawl_world
from dnmwatch.estimate.accuracy import Accuracy, evaluate
from dnmwatch.estimate.build import build
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server.index import opaque_id
from dnmwatch.store import Store

SHOWS_PRICE = frozenset({"silkway"})


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


@pytest.fixture(scope="module")
def built(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store.open(tmp_path_factory.mktemp("acc") / "data")
    crawl_world(world, store, list(range(0, world.config.days, 4)))
    build(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def accuracy(world: World, built: Store) -> Accuracy:
    key = Pseudonymizer(KEY)
    acc = evaluate(built, world.tables, vendor_key=key.vendor_id,
                   listing_key=lambda m, lid: opaque_id(m, lid) if m == "bazaar" else lid,
                   unit_markets=SHOWS_PRICE)
    print("\n" + acc.report())
    return acc


def test_feedback_recall_and_duplicates(accuracy: Accuracy) -> None:
    assert accuracy.visible_feedback > 1000
    assert accuracy.recall >= 0.99
    assert accuracy.duplicates <= 0.005


def test_vendor_links_precision_and_recall(accuracy: Accuracy) -> None:
    predicted, real, _ = accuracy.link_pairs
    assert real > 0 and predicted > 0
    assert accuracy.link_precision >= 0.98
    assert accuracy.link_recall >= 0.90


def test_revenue_per_market_month(accuracy: Accuracy) -> None:
    shown = [(m, mon, est, true) for m, mon, est, true in accuracy.revenue
             if m in SHOWS_PRICE and true > 0]
    assert shown
    for m, mon, est, true in shown:
        assert abs(est / true - 1) <= 0.02, (m, mon, est, true)
    for m, mon, est, true in accuracy.revenue:
        assert est <= true * 1.02, f"{m} {mon} is not a lower bound"


def test_median_eur_per_gram_per_substance(accuracy: Accuracy) -> None:
    assert accuracy.eur_per_gram
    for sub, est, true, _ in accuracy.eur_per_gram:
        assert abs(est / true - 1) <= 0.02, (sub, est, true)


def test_lifecycle_sees_the_takedown(built: Store) -> None:
    rows = dict(built.fetchall("SELECT market, end_kind FROM market_lifecycle "
                               "WHERE status = 'closed'"))
    assert rows == {"silkway": "takedown"}
