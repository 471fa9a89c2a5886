"""The dataset adapters on small SYNTHETIC CSV files (``tests/fixtures/adapters/<market>/``),
always run in CI, with every record expected exactly.

The rows are invented but mimic each dataset's quirks: Agora's laid-out and collapsed feedback
blocks, R's ``1e-04`` prices, ``NA`` cells and padded ship strings; AlphaBay's Mac Roman file
with ``\\r`` line ends, UTF-8 mojibake (``Œæ`` -> ``ξ``), emoji lost for good, auctions,
``Item #`` ids and a ``null`` listing price; Matanga's Cyrillic header and text, six price
columns (USD, EUR, BTC only, none) and one ``sell_code`` over several offers.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dnmwatch.adapters.registry import load_registry
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Counters, QuantityTier, Record, Rejection
from dnmwatch.sources.csvdata import CsvSource
from dnmwatch.sources.extract import extract, plan
from dnmwatch.sources.mirror import date_from_path
from dnmwatch.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
FILES = {"agora": FIXTURES / "agora" / "products-2014-01-01.csv",
         "alphabay": FIXTURES / "alphabay" / "D&C_-_benzos_-_pills_-_20170422.csv",
         "matanga": FIXTURES / "matanga" / "output_01032020_030252.csv"}
PSEUD = Pseudonymizer(bytes(32))
V77 = PSEUD.vendor_id("Invented_Vendor_77")
OTHER = PSEUD.vendor_id("Other Invented")
CAFE = PSEUD.vendor_id("Café_Invented")
HANDLES = ("Invented_Vendor_77", "Other Invented", "Café_Invented", "a***r", "b***y")


def day(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=UTC)


def parse(market: str) -> tuple[list[dict[str, Any]], Counters]:
    """Every record of the market's fixture as a plain dict (row offset and capture time from
    the provenance; market and source path left out), and the counters."""
    path = FILES[market]
    adapter = load_registry(plugins=False).create(market, PSEUD)
    assert isinstance(adapter, RowAdapter)
    source = CsvSource(path, captured_at=date_from_path(path.name))
    out: list[dict[str, Any]] = []
    for item in source.rows():
        assert not isinstance(item, Rejection)
        for record in adapter.parse_row(item[1], item[0]):
            out.append(flat(record))
    adapter.counters.merge(source.counters)
    return out, adapter.counters


def flat(record: Record) -> dict[str, Any]:
    data = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    prov = data.pop("provenance")
    assert prov is not None and prov.source.endswith(".csv")
    data.pop("source", None)
    assert data.pop("market", "agora") in ("agora", "alphabay", "matanga")
    return {"row": prov.offset, "at": prov.captured_at, "kind": record.kind, **data}


def listing(row: int, at: datetime, **fields: Any) -> dict[str, Any]:
    base = {"row": row, "at": at, "kind": "listing", "vendor_id": None, "price": None,
            "currency": None, "ships_from": None, "ships_to": None, "category": None,
            "tiers": (), "stock": None, "sold": None, "delivery": None}
    return {**base, **fields}


def feedback(row: int, at: datetime, **fields: Any) -> dict[str, Any]:
    base = {"row": row, "at": at, "kind": "feedback", "captured_at": at, "price": None,
            "currency": None, "item": None}
    return {**base, **fields}


def rejection(row: int, at: datetime | None, reason: str, detail: str) -> dict[str, Any]:
    return {"row": row, "at": at, "kind": "rejection", "reason": reason, "detail": detail}


AGORA = [
    listing(1, day(2014, 1, 1), listing_id="aB3dE5fG7h", title="5g Invented Haze",
            vendor_id=V77, price=0.132, currency="BTC", ships_from="Narnia",
            ships_to="Worldwide", category="Drugs / Cannabis / Weed"),
    feedback(1, day(2014, 1, 1), listing_id="aB3dE5fG7h", vendor_id=V77, rating=5.0,
             text="5/5 arrived in 2 days\nweight is spot on", posted="4 days ago"),
    feedback(1, day(2014, 1, 1), listing_id="aB3dE5fG7h", vendor_id=V77, rating=3.0,
             text="slow but ok, sent 2 days ago", posted="12 days ago"),
    listing(2, day(2014, 1, 2), listing_id="zZ9yX8wV7u", title="Invented guide", vendor_id=V77,
            price=0.0001, currency="BTC", category="Information / Guides"),
    listing(3, day(2014, 1, 3), listing_id="Qq1Ww2Ee3R", title="10 x 100ug blotter",
            vendor_id=OTHER, price=0.025, currency="BTC", ships_from="Atlantis",
            ships_to="EU, USA", category="Drugs / Psychedelics / LSD"),
    feedback(3, day(2014, 1, 3), listing_id="Qq1Ww2Ee3R", vendor_id=OTHER, rating=5.0,
             text="great stealth", posted="9 days ago"),
    feedback(3, day(2014, 1, 3), listing_id="Qq1Ww2Ee3R", vendor_id=OTHER, rating=4.0,
             text="ok 5/5 next time", posted="3 weeks ago"),
    feedback(3, day(2014, 1, 3), listing_id="Qq1Ww2Ee3R", vendor_id=OTHER, rating=1.0,
             text="never arrived", posted="1 months ago"),
    listing(4, day(2014, 1, 3), listing_id="Tt4Yy5Uu6I", title="0.5g invented crystal",
            vendor_id=OTHER, price=0.05, currency="BTC", ships_to="Worldwide",
            category="Drugs / Stimulants"),
    rejection(4, day(2014, 1, 3), "malformed_feedback", "feedback entry without its date line"),
    rejection(5, day(2014, 1, 1), "missing_field", "listing title"),
    listing(6, day(2014, 1, 1), listing_id="Dd0Ff1Gg2H", title="row without a date",
            vendor_id=V77, price=1.0, currency="BTC", category="Drugs"),
]
APRIL_22 = day(2017, 4, 22)
ALPHABAY = [
    listing(1, APRIL_22, listing_id="t_8ed9fce45b3ee6d3", title="10x Gräser pills 2mg ξ",
            vendor_id=V77, price=1050.17, currency="USD",
            category="Drugs & Chemicals / Benzos / Pills", stock=7, sold=116),
    listing(2, APRIL_22, listing_id="4242", title="Invented auction ‰÷É lost emoji",
            vendor_id=OTHER, price=20.0, currency="USD",
            category="Drugs & Chemicals / Stimulants", sold=3),
    listing(3, APRIL_22, listing_id="t_f370ea0432cbb1e9", title="Invented powder",
            vendor_id=CAFE, price=3.0, currency="USD",
            category="Drugs & Chemicals / Benzos / Powder", sold=0),
    rejection(4, APRIL_22, "missing_field", "listing title"),
]
MARCH_1 = day(2020, 3, 1, 2, 56, 54)
MATANGA = [
    listing(1, MARCH_1, listing_id="0a1b2c3d4e-00a6f98c", title="0,5гр. Придуманный товар",
            price=109.0, currency="USD", ships_from="GE", ships_to="GE",
            tiers=(QuantityTier("0.5 гр", 109.0, "USD"),), stock=1,
            delivery="dead drop: Tbilisi"),
    listing(2, MARCH_1, listing_id="0a1b2c3d4e-ed494e8f", title="1гр. Придуманный товар",
            price=200.0, currency="USD", ships_from="GE", ships_to="GE",
            tiers=(QuantityTier("1 гр", 200.0, "USD"),), stock=3,
            delivery="dead drop: Tbilisi — Saburtalo"),
    listing(3, MARCH_1, listing_id="9f8e7d6c5b-81717b96", title="Шишки придуманные",
            price=150.0, currency="EUR", ships_from="GE", ships_to="GE",
            tiers=(QuantityTier("2 гр", 150.0, "EUR"),), stock=0,
            delivery="dead drop: Batumi\npre-order: yes"),
    listing(4, MARCH_1, listing_id="1234abcd00-bc535a9d", title="Только биткоин",
            price=0.035, currency="BTC", ships_from="GE", ships_to="GE",
            tiers=(QuantityTier("5 шт", 0.035, "BTC"),), stock=2,
            delivery="dead drop: Kutaisi"),
    listing(5, MARCH_1, listing_id="ffff000011-cf000fc4", title="Без цены", ships_from="GE",
            ships_to="GE", tiers=(QuantityTier("1 гр", None, None),), stock=0,
            delivery="dead drop: Batumi"),
    rejection(6, None, "missing_field", "row without a time_stamp"),  # no date in the name
]
EXPECTED = {"agora": AGORA, "alphabay": ALPHABAY, "matanga": MATANGA}
COUNTERS = {
    "agora": {"rows": 6, "records:listing": 5, "records:feedback": 5, "rows:empty": 1,
              "rejected:malformed_feedback": 1, "rejected:missing_field": 1,
              "csv:encoding:utf-8": 1, "csv:rows": 6},
    "alphabay": {"rows": 4, "records:listing": 3, "rows:empty": 1, "rejected:missing_field": 1,
                 "csv:encoding:mac_roman": 1, "csv:repaired_fields": 3, "csv:rows": 4},
    "matanga": {"rows": 6, "records:listing": 5, "rows:empty": 1, "rejected:missing_field": 1,
                "csv:encoding:utf-8": 1, "csv:rows": 6},
}


@pytest.mark.parametrize("market", list(EXPECTED))
def test_every_record_is_exactly_the_expected_one(market: str) -> None:
    got, counters = parse(market)
    want = EXPECTED[market]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert {k: g.get(k) for k in w} == w
        assert set(g) == set(w)
    assert dict(counters.counts) == COUNTERS[market]


def test_the_header_names_its_adapter() -> None:
    tasks = plan(list(FILES.values()), load_registry(plugins=False))
    assert [t.adapter for t in tasks] == ["agora", "alphabay", "matanga"]


def test_extract_loads_the_fixtures_with_provenance_and_no_handles(tmp_path: Path) -> None:
    tasks = plan(list(FILES.values()), load_registry(plugins=False))
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=bytes(32), workers=1)
        assert summary.records == {"listing": 13, "feedback": 5}
        assert summary.rejections == {"malformed_feedback": 1, "missing_field": 3}
        rows = store.fetchall("SELECT market, listing_id, source, source_offset, observed_at "
                              "FROM listing_observations ORDER BY market, source_offset")
        assert rows[0] == ("agora", "aB3dE5fG7h", str(FILES["agora"].resolve()), 1,
                           datetime(2014, 1, 1))
        assert [r[1] for r in rows if r[0] == "matanga"][:2] == ["0a1b2c3d4e-00a6f98c",
                                                                  "0a1b2c3d4e-ed494e8f"]
        vendors = store.fetchall("SELECT count(DISTINCT vendor_id) FROM listing_observations")
        assert vendors[0][0] == 3
        for table in ("listing_observations", "feedback_observations", "rejections"):
            dump = repr(store.fetchall(f"SELECT * FROM {table}")).casefold()
            assert not [h for h in HANDLES if h.casefold() in dump]
        # extracting the same files again replaces their rows instead of adding to them
        again = extract(store, tasks, key=bytes(32), workers=1)
        assert again.records == summary.records
        assert store.fetchall("SELECT count(*) FROM listing_observations")[0][0] == 13
