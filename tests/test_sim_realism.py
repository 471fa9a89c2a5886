"""The simulated world looks like a real market: prices in band, messy multilingual titles that
state the truth, quantities of every kind, weekly rhythm, the demand shock, feedback habits."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest

from dnmwatch.sim.catalog import IMPERIAL
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset

_NUM = re.compile(r"\d+(?:[.,]\d+)*")


@pytest.fixture(scope="module")
def small() -> World:
    return generate_world(preset("small"))


def _rows(world: World, name: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = world.table(name).to_pylist()
    return rows


def _drugs(world: World) -> list[dict[str, object]]:
    return [r for r in _rows(world, "listings") if r["kind"] == "drug"]


def test_title_quantity_unit_price_lies_in_the_band(small: World) -> None:
    bands = {b.substance: b for b in small.config.price_bands}
    rates = {(r["day"], r["currency"]): float(r["eur_per_unit"])  # type: ignore[arg-type]
             for r in _rows(small, "rates")}
    first_price: dict[tuple[object, object], tuple[object, object]] = {}
    for r in _rows(small, "price_changes"):
        first_price.setdefault((r["market"], r["listing_id"]), (r["day"], r["price"]))
    checked = 0
    for r in _drugs(small):
        if r["holding_price"]:
            continue
        quantity = r["mass_g"] if r["unit"] == "g" else r["count"]
        assert quantity, r["title"]
        day, price = first_price[(r["market"], r["listing_id"])]
        assert day == r["start_day"]
        rate = 1.0 if r["currency"] == "EUR" else rates[(day, r["currency"])]
        unit = float(price) * rate / float(quantity)  # type: ignore[arg-type]
        band = bands[str(r["substance"])]
        assert band.unit == r["unit"]
        assert band.low_eur - 1e-9 <= unit <= band.high_eur + 1e-9, (r["title"], unit, band)
        assert unit == pytest.approx(r["unit_price_eur"], rel=1e-9)
        checked += 1
    assert checked >= 200


def test_holding_prices_are_absurd_and_barely_sell(small: World) -> None:
    bands = {b.substance: b for b in small.config.price_bands}
    holding = [r for r in _drugs(small) if r["holding_price"]]
    assert holding
    for r in holding:
        assert float(r["unit_price_eur"]) > 10 * bands[str(r["substance"])].high_eur  # type: ignore[arg-type]
    ids = {(r["market"], r["listing_id"]) for r in holding}
    tx = [1 for r in _rows(small, "transactions") if (r["market"], r["listing_id"]) in ids]
    assert len(tx) <= 5 * len(holding)


def test_many_distinct_title_shapes(small: World) -> None:
    shapes = {_NUM.sub("#", str(r["title"])) for r in _rows(small, "listings")}
    assert len(shapes) >= 200


def test_titles_in_many_languages(small: World) -> None:
    langs = Counter(r["title_language"] for r in _rows(small, "listings"))
    assert len(langs) >= 6
    assert langs["en"] > max(n for lang, n in langs.items() if lang != "en")
    titles = " ".join(str(r["title"]) for r in _rows(small, "listings"))
    assert re.search(r"[а-яА-Я]", titles)
    assert re.search(r"\d,\d", titles)  # decimal comma
    assert re.search(r"[🔥💎🍀]", titles)


def test_placeholders_and_non_drug_goods_are_present(small: World) -> None:
    listings = _rows(small, "listings")
    kinds = Counter(r["kind"] for r in listings)
    assert kinds["placeholder"] >= 3 and kinds["non_drug"] >= 5
    for r in listings:
        if r["kind"] != "drug":
            assert (r["substance"], r["category"]) == ("non_drug", "non_drug")
            assert r["mass_g"] is None and r["count"] is None and r["unit"] is None


def test_every_kind_of_quantity_occurs(small: World) -> None:
    drugs = _drugs(small)
    imperial = {round(g, 6) for g in IMPERIAL}
    masses = [float(r["mass_g"]) for r in drugs if r["mass_g"] is not None]  # type: ignore[arg-type]
    assert any(re.search(r"kg|kilo|кг", str(r["title"]), re.I) for r in drugs
               if r["mass_g"] is not None and float(r["mass_g"]) >= 1000)  # type: ignore[arg-type]
    assert any(round(m, 6) in imperial for m in masses)
    assert any(m < 1 for m in masses) or any(m != int(m) for m in masses)
    assert sum(r["count"] is not None for r in drugs) >= 20
    units = {r["dose_unit"] for r in drugs if r["dose_value"] is not None}
    assert {"mg", "ug"} <= units
    assert any(r["purity_pct"] is not None for r in drugs)


def _numbers(title: str) -> set[float]:
    return {float(n.replace(",", ".")) for n in re.findall(r"\d+(?:[.,]\d+)?", title)}


def test_titles_state_exactly_the_truth(small: World) -> None:
    imperial = {round(g, 6) for g in IMPERIAL}
    for r in _drugs(small):
        title = str(r["title"])
        nums = _numbers(title)
        if r["count"] is not None:
            assert float(r["count"]) in nums, title  # type: ignore[arg-type]
            assert r["mass_g"] is None
        else:
            mass = float(r["mass_g"])  # type: ignore[arg-type]
            if round(mass, 6) in imperial:
                assert re.search(r"oz|lb|QP|HP|pound|ounce|eighth", title, re.I), title
            else:
                ok = ({mass, mass * 1000, mass / 1000} & nums
                      or any(k in nums and mass / k in nums for k in (2, 3, 4, 5, 10)))
                assert ok, (title, mass)
        if r["dose_value"] is not None:
            assert float(r["dose_value"]) in nums, title  # type: ignore[arg-type]
        if r["purity_pct"] is not None:
            assert float(r["purity_pct"]) in nums and "%" in title, title  # type: ignore[arg-type]


def test_market_categories_are_sometimes_wrong_but_mostly_right(small: World) -> None:
    drugs = _drugs(small)
    other = sum("Other" in str(r["market_category"]) or r["market_category"] == "other"
                for r in drugs)
    assert other < 0.1 * len(drugs)


def test_feedback_share_and_delays(small: World) -> None:
    tx = small.table("transactions")
    share = float(np.mean(tx["feedback_left"].to_numpy(zero_copy_only=False)))
    assert abs(share - 0.75) <= 0.03
    tx_day = dict(zip(tx["tx_id"].to_pylist(), tx["day"].to_pylist(), strict=True))
    delays: Counter[int] = Counter()
    for r in small.table("feedback").select(["tx_id", "posted_at"]).to_pylist():
        delay = (r["posted_at"].date() - tx_day[r["tx_id"]]).days
        assert 0 <= delay <= small.config.feedback_max_delay_days
        delays[delay] += 1
    assert delays[0] > delays[10]
    langs = Counter(small.table("feedback")["language"].to_pylist())
    assert len(langs) >= 6


def test_weekends_sell_more(small: World) -> None:
    days = small.table("transactions")["day"].cast(pa.int32()).to_numpy()
    day0 = int(pa.scalar(small.config.start, pa.date32()).cast(pa.int32()).as_py())
    per_day = np.bincount(days - day0, minlength=small.config.days)
    weekday = np.array([(small.config.start + timedelta(days=d)).weekday()
                        for d in range(small.config.days)])
    assert per_day[weekday >= 5].mean() > per_day[weekday < 5].mean()


def test_demand_shock_raises_cannabis_sales_by_its_factor() -> None:
    world = generate_world(preset("medium"))
    shock = world.config.shocks[0]
    start = world.config.start
    lo, hi = shock.start_day - 28, shock.start_day + 28
    stops = {m.name: m.end_day or world.config.days for m in world.config.markets}
    span = {}
    for r in _rows(world, "listings"):
        first = (r["start_day"] - start).days  # type: ignore[operator]
        stop = (r["end_day"] - start).days if r["end_day"] else stops[str(r["market"])]  # type: ignore[operator]
        if r["kind"] == "drug" and not r["holding_price"] and first <= lo and stop >= hi:
            span[(r["market"], r["listing_id"])] = r["substance"] == "cannabis"
    sums = np.zeros((2, 2))
    tx = world.table("transactions").select(["market", "listing_id", "day"]).to_pylist()
    for r in tx:
        key = (r["market"], r["listing_id"])
        day = (r["day"] - start).days
        if key in span and lo <= day < hi:
            sums[int(span[key]), int(day >= shock.start_day)] += 1
    ratio = (sums[1, 1] / sums[1, 0]) / (sums[0, 1] / sums[0, 0])
    assert ratio == pytest.approx(shock.factor, abs=0.12)
