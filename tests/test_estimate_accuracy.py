"""Accuracy of consolidate + estimate against the simulator's truth (tiny world).

Observations come WITHOUT the crawler: the simulator's pages are served on loopback every 4
days, walked by following the adapters' links, fetched with urllib and parsed by the real
adapters of ``dnmwatch.adapters`` (see ``_estimate_simcrawl.py``). The figures are printed
(run with ``-s``) and pinned to the acceptance floors of issue 6.

Every market's feedback names the option bought ("5 g"), so every sale is priced at its tier:
the 2% floors hold on all three markets. What remains is noise the data cannot remove: relative
dates read at noon are noon-to-noon intervals, so a few bulk sales of a month's last day can
land in the next month. Months are therefore pinned at 2% where at least
:data:`MIN_MONTH_FEEDBACK` feedback stand behind them (every month of the weekly ``small``
measurement in docs/estimation.md is), each market's whole period at 2% too; EUR per gram at 2%
for substances with at least :data:`MIN_SUBSTANCE_SALES` sales (a median over few listings
jumps between their price clusters), 5% for the others.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from _estimate_simcrawl import KEY, built_store
from dnmwatch.estimate.accuracy import Accuracy, evaluate
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server.index import opaque_id
from dnmwatch.store import Store

MARKETS = frozenset({"silkway", "bazaar", "gidra"})
MIN_MONTH_FEEDBACK = 500
MIN_SUBSTANCE_SALES = 500


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


@pytest.fixture(scope="module")
def built(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = built_store(world, tmp_path_factory.mktemp("acc") / "data")
    yield store
    store.close()


@pytest.fixture(scope="module")
def accuracy(world: World, built: Store) -> Accuracy:
    key = Pseudonymizer(KEY)
    acc = evaluate(built, world.tables, vendor_key=key.vendor_id,
                   listing_key=lambda m, lid: opaque_id(m, lid) if m == "bazaar" else lid)
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
    pinned = [(m, mon, est, true) for m, mon, est, true in accuracy.revenue
              if accuracy.revenue_feedback.get((m, mon), 0) >= MIN_MONTH_FEEDBACK]
    assert {m for m, *_ in pinned} >= {"silkway", "bazaar"}  # gidra's tiny months are smaller
    for m, mon, est, true in pinned:
        assert abs(est / true - 1) <= 0.02, (m, mon, est, true)
    for market in MARKETS:
        est = sum(e for m, _, e, _ in accuracy.revenue if m == market)
        true = sum(t for m, _, _, t in accuracy.revenue if m == market)
        assert true > 0 and abs(est / true - 1) <= 0.02, (market, est, true)


def test_median_eur_per_gram_per_substance(accuracy: Accuracy) -> None:
    assert any(n >= MIN_SUBSTANCE_SALES for *_, n in accuracy.eur_per_gram)
    for sub, est, true, n in accuracy.eur_per_gram:
        assert abs(est / true - 1) <= (0.02 if n >= MIN_SUBSTANCE_SALES else 0.05), (sub, n)


def test_sales_are_priced_at_the_option_bought(built: Store) -> None:
    sources = dict(built.fetchall("SELECT price_source, count(*) FROM sales GROUP BY 1"))
    assert sources.get("tier", 0) > 1000 and sources.get("feedback", 0) > 300
    assert sources.get("listing", 0) == 0
    assert built.fetchall("SELECT count(*) FROM sales WHERE tier IS NULL")[0][0] == 0


def test_lifecycle_sees_the_takedown(built: Store) -> None:
    rows = dict(built.fetchall("SELECT market, end_kind FROM market_lifecycle "
                               "WHERE status = 'closed'"))
    assert rows == {"silkway": "takedown"}
