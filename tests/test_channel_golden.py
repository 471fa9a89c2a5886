"""Golden: a simulated channel export through the channel source and adapter, against the
simulator's truth, with per-field floors; and once through ``dnmwatch extract`` into a store.

Matching: an extracted listing is the truth offer with the same first message id and the same
title after folding to letters and digits (a title error therefore shows as a missed offer).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dnmwatch.adapters.channel import TelegramChannelAdapter
from dnmwatch.adapters.registry import load_registry
from dnmwatch.normalise.delivery import classify_delivery
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import ListingObservation, Rejection
from dnmwatch.sim.channels import ChannelExport, ChannelOffer, generate_channel
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sources.channel import ChannelSource
from dnmwatch.sources.extract import extract, plan
from dnmwatch.store import Store

KEY = bytes(range(32))
FLOORS = {"recall": 0.97, "precision": 1.0, "title": 1.0, "price": 0.97, "currency": 0.97,
          "vendor": 1.0, "first_seen": 1.0, "last_seen": 1.0, "ships_from": 0.95,
          "area": 0.95, "delivery": 0.95, "delivery_area": 0.9}


def _key(title: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", title.casefold()))


@pytest.fixture(scope="module", params=[1, 2])
def export(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[
        ChannelExport, Path]:
    world = generate_world(preset("tiny", seed=request.param))
    exp = generate_channel(world, sellers=10)
    return exp, exp.write(tmp_path_factory.mktemp("chan") / "result.json")


def test_offers_match_the_truth(export: tuple[ChannelExport, Path]) -> None:
    exp, path = export
    pseudo = Pseudonymizer(KEY)
    adapter = TelegramChannelAdapter(pseudo)
    source = ChannelSource(path)
    found: dict[tuple[int | None, str], list[ListingObservation]] = {}
    texts: dict[int | None, str] = {}
    for item in source.rows():
        assert not isinstance(item, Rejection)
        prov, row = item
        texts[prov.offset] = row["text"]
        for rec in adapter.parse_row(row, prov):
            if isinstance(rec, ListingObservation):
                assert rec.provenance is not None
                found.setdefault((rec.provenance.offset, _key(rec.title)), []).append(rec)
    truth: dict[tuple[int | None, str], ChannelOffer] = {
        (o.message_id, _key(o.title)): o for o in exp.offers}
    hits = {k: v for k, v in found.items() if k in truth}
    score: dict[str, list[bool]] = {name: [] for name in FLOORS}
    score["recall"] = [k in found for k in truth]
    score["precision"] = [k in truth for k in found]
    for k, obs in hits.items():
        t, first = truth[k], obs[0]
        times = sorted(o.provenance.captured_at for o in obs if o.provenance
                       and o.provenance.captured_at)
        score["title"].append(_key(first.title) == _key(t.title))
        score["price"].append(first.price is not None and abs(first.price - t.price)
                              <= 1e-9 * max(1.0, t.price))
        score["currency"].append(first.currency == t.currency)
        score["vendor"].append(first.vendor_id == pseudo.vendor_id(t.vendor_handle))
        score["first_seen"].append(times[0] == t.first_seen)
        score["last_seen"].append(times[-1].date() == t.last_seen.date())
        if t.ships_from:
            score["ships_from"].append(first.ships_from == t.ships_from)
        if t.area:
            score["area"].append(first.ships_to is not None and t.area in first.ships_to)
        d = classify_delivery(texts[k[0]])
        score["delivery"].append(d.method == t.delivery)
        if t.area:
            wanted = "centre" if t.area == "Центр" else t.area  # centre words are unified
            score["delivery_area"].append(d.area is not None and wanted in d.area)
    rates = {name: sum(v) / len(v) for name, v in score.items() if v}
    print({name: round(r, 4) for name, r in rates.items()}, len(truth), "offers")
    assert len(truth) >= 20 and exp.chatter >= 20
    assert adapter.counters["rejected:not_an_offer"] >= exp.chatter * 0.8
    for name, floor in FLOORS.items():
        assert rates[name] >= floor, (name, rates[name])
    # listing identity: the same product of the same seller keeps its id at a new price
    ids: dict[tuple[str, str], set[str]] = {}
    for obs in found.values():
        ids.setdefault((obs[0].vendor_id or "", _key(obs[0].title)), set()).add(obs[0].listing_id)
    assert all(len(v) == 1 for v in ids.values())


def test_extract_loads_a_channel_export(export: tuple[ChannelExport, Path],
                                        tmp_path: Path) -> None:
    exp, path = export
    tasks = plan([path], load_registry(plugins=False))
    assert [(t.kind, t.adapter) for t in tasks] == [("channel", "telegram-channel")]
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=KEY, workers=1)
        assert not summary.failed
        n, markets = store.fetchall(
            "SELECT count(DISTINCT listing_id), list(DISTINCT market) FROM listing_observations")[0]
        adapters = store.fetchall("SELECT adapter FROM markets")
        rejected = store.fetchall(
            "SELECT count(*) FROM rejections WHERE reason = 'not_an_offer'")[0][0]
    assert n >= len({(o.vendor_handle, _key(o.title)) for o in exp.offers}) * 0.95
    assert markets == ["tg:Grey Bazaar Chat"] and adapters == [("telegram-channel",)]
    assert rejected >= exp.chatter * 0.8
