"""Delivery text through extraction (issue 11): ``listing_observations.delivery`` is written by
``extract`` and read by ``build`` into ``listings.delivery_method``/``delivery_area``.

* A small SYNTHETIC Matanga-like dataset (two snapshots, columns in another order, Russian and
  English district columns, a junk ``.`` column, invented offers) goes through ``plan`` +
  ``extract`` + ``build`` into a real DuckDB store: every listing is a dead drop, the area is
  ``"<City>: <District>, ..."`` from the *latest* snapshot's flags, else ``"<City>"``.
* A SYNTHETIC Telegram export: the offers' delivery lines end up in ``delivery`` and in
  ``delivery_area``.
* The real Matanga 2020 files (every 100th), read in place from ``../shared``: measured share
  of listings that are dead drops, with an area, and with a district-level area against the
  share of listings whose latest row has a True district flag. Only shares are printed.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _normalise_shared import shared_dir
from dnmwatch.adapters.matanga import delivery_text, place_name
from dnmwatch.adapters.registry import load_registry
from dnmwatch.estimate.build import build
from dnmwatch.normalise.delivery import (
    LOCAL_METHODS,
    MAX_LISTED_AREA_CHARS,
    METHODS,
    classify_delivery,
    listed_area,
)
from dnmwatch.sources.extract import extract, plan
from dnmwatch.store import Store

KEY = bytes(range(32))
HEAD_1 = ["", "Unnamed: 0", "time_stamp", "region", "sell_code", "description", "Тбилиси",
          "готовых", "предзаказ", "город", "вес", "BTC", "$", "Saburtalo", "Авлобари",
          "Old Tbilisi (Старый город)", "Батуми", "Центр", "desc_en"]
HEAD_2 = ["", "Unnamed: 0", "time_stamp", "region", "sell_code", "description", "готовых",
          "предзаказ", "город", "вес", "BTC", "$", "Vake", "Тбилиси", "Дигоми", "Батуми", ".",
          "desc_en"]
T = "True"


def _row(head: list[str], at: str, i: int, region: str, code: str, title: str,
         flags: tuple[str, ...], pre: str = "нет") -> list[str]:
    city = {"Tbilisi": "Тбилиси", "Batumi": "Батуми"}[region]
    values = {"": str(i), "Unnamed: 0": str(i), "time_stamp": at, "region": region,
              "sell_code": code, "description": title, "готовых": "1", "предзаказ": pre,
              "город": city, "вес": "1 гр", "BTC": "0.01", "$": "100.0", "desc_en": "x",
              **{f: T for f in flags}}
    return [values.get(h, "") for h in head]


def _write(path: Path, head: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(head)
        writer.writerows(rows)
    return path


def _matanga_files(folder: Path) -> list[Path]:
    first = _write(folder / "output_01032020_030000.csv", HEAD_1, [
        _row(HEAD_1, "01-03-2020 03:00:00", 0, "Tbilisi", "aaaa000001", "Выдуманный товар А",
             ("Тбилиси",)),
        _row(HEAD_1, "01-03-2020 03:00:00", 1, "Tbilisi", "aaaa000002", "Выдуманный товар Б",
             ("Saburtalo", "Авлобари")),
        _row(HEAD_1, "01-03-2020 03:00:00", 2, "Tbilisi", "aaaa000003", "Выдуманный товар В",
             ("Тбилиси", "Old Tbilisi (Старый город)"), pre="3"),
        _row(HEAD_1, "01-03-2020 03:00:00", 3, "Batumi", "aaaa000004", "Выдуманный товар Г",
             ("Центр",)),
        _row(HEAD_1, "01-03-2020 03:00:00", 4, "Batumi", "aaaa000005",
             "Выдуманный товар Д, почта тоже", ("Батуми",)),
    ])
    second = _write(folder / "output_02032020_030000.csv", HEAD_2, [
        # the same offer as row 1 above, now in Vake and Digomi (the latest flags win)
        _row(HEAD_2, "02-03-2020 03:00:00", 0, "Tbilisi", "aaaa000002", "Выдуманный товар Б",
             ("Vake", "Дигоми", ".")),
        _row(HEAD_2, "02-03-2020 03:00:00", 1, "Tbilisi", "aaaa000001", "Выдуманный товар А",
             ("Тбилиси",)),
    ])
    return [first, second]


def test_matanga_district_columns_and_text() -> None:
    assert place_name("Old Tbilisi (Старый город)") == "Old Tbilisi"
    assert place_name("Авлобари") == "Avlabari" and place_name("  Дигоми ") == "Digomi"
    assert place_name("Центр") == "Center" and place_name("Неизвестный (район)") == "Неизвестный"
    assert place_name(".") is None and place_name("new district") == "New district"
    row = {"region": "Tbilisi", "Тбилиси": "True", "Vake": "True", "Saburtalo": "True",
           "Дигоми": "", "предзаказ": "нет", "$": "True", "description": "True"}
    assert delivery_text(row) == "dead drop: Tbilisi — Saburtalo, Vake"
    assert delivery_text({"город": "Батуми", "Батуми": "True", "предзаказ": "2"}) == \
        "dead drop: Batumi\npre-order: 2"
    assert delivery_text({}) == "dead drop"


def test_listed_area_and_delivery_precedence() -> None:
    assert listed_area("dead drop: Tbilisi — Saburtalo, Vake") == "Tbilisi: Saburtalo, Vake"
    assert listed_area("x\ndead drop: Batumi — Center\npre-order: 1") == "Batumi: Center"
    assert listed_area("dead drop: Tbilisi") is None and listed_area(None) is None
    many = "dead drop: Tbilisi — " + ", ".join(f"District{i:02d}" for i in range(40))
    cut = listed_area(many)
    assert cut is not None and len(cut) <= 200 and cut.endswith(tuple("0123456789"))
    # the delivery text outranks fields, title and default
    got = classify_delivery("MDMA 10x meetup in Camden", delivery="Ships from UK | tracked",
                            fields=("Закладки",), default="dead_drop")
    assert (got.method, got.source) == ("post", "delivery")
    assert set(got.methods) == {"post", "dead_drop", "in_person"}
    local = classify_delivery("Weed 5g", delivery="dead drop: Tbilisi — Vake",
                              fields=("район Ваке",))
    assert (local.method, local.area) == ("dead_drop", "Tbilisi: Vake")
    weak = classify_delivery("Weed 5g", delivery="доставка", default="dead_drop")
    assert (weak.method, weak.source) == ("dead_drop", "default")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=300)), st.text(max_size=600),
       st.one_of(st.none(), st.sampled_from(METHODS)))
def test_delivery_text_never_crashes(text: str | None, delivery: str, default: str | None) -> None:
    for shown in (delivery, f"dead drop: {delivery} — {delivery}"):
        d = classify_delivery(text, delivery=shown, default=default)
        assert d.method in METHODS
        assert d.area is None or len(d.area) <= MAX_LISTED_AREA_CHARS
        assert d.area is None or d.method in LOCAL_METHODS


def test_matanga_delivery_through_extract_and_build(tmp_path: Path) -> None:
    files = _matanga_files(tmp_path)
    tasks = plan(files, load_registry(plugins=False))
    assert [t.adapter for t in tasks] == ["matanga", "matanga"]
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=KEY, workers=1)
        assert not summary.failed and summary.records == {"listing": 7}
        shown = dict(store.fetchall(
            "SELECT title, delivery FROM listing_observations "
            "WHERE observed_at = TIMESTAMP '2020-03-01 03:00:00'"))
        build(store)
        got = {title: (method, area) for title, method, area in store.fetchall(
            "SELECT title, delivery_method, delivery_area FROM listings")}
    assert shown["Выдуманный товар В"] == "dead drop: Tbilisi — Old Tbilisi\npre-order: 3"
    assert got == {
        "Выдуманный товар А": ("dead_drop", "Tbilisi"),
        "Выдуманный товар Б": ("dead_drop", "Tbilisi: Digomi, Vake"),
        "Выдуманный товар В": ("dead_drop", "Tbilisi: Old Tbilisi"),
        "Выдуманный товар Г": ("dead_drop", "Batumi: Center"),
        "Выдуманный товар Д, почта тоже": ("dead_drop", "Batumi"),
    }


def _message(i: int, text: str, who: str = "Invented Seller") -> dict[str, object]:
    stamp = 1588334400 + 3600 * i
    return {"id": i, "type": "message", "date": "2020-05-01T12:00:00",
            "date_unixtime": str(stamp), "from": who, "from_id": f"user{len(who)}", "text": text}


def test_channel_delivery_lines_reach_delivery_area(tmp_path: Path) -> None:
    messages = [
        _message(1, "🔥 Мефедрон 1г — 3000 руб\nЗакладки: Ваке, Сабуртало\n"
                    "Доставка по городу, пиши @invented_handle\nПишите в ЛС"),
        _message(2, "Прайс / меню:\n💊 Шишки 2г — 2500 руб\n🍀 Гашиш 1г — 2000 руб\n"
                    "📍 Клады в районе Дидубе\nПишите в ЛС"),
        _message(3, "**Invented Haze 5g**\n💰 Preis: 50 €\nPersönliche Übergabe in Kreuzberg\nPN",
                 who="Other Seller"),
        _message(4, "Speed 10g 90€\nShips from UK | Stealth shipping, tracked\nDM to order",
                 who="Third Seller"),
        _message(5, "hello, anyone here?"),
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "Invented Market Chat", "type": "public_supergroup",
                                "id": 1, "messages": messages}, ensure_ascii=False), "utf-8")
    tasks = plan([path], load_registry(plugins=False))
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=KEY, workers=1)
        assert not summary.failed
        lines = {t: d for t, d in store.fetchall(
            "SELECT title, delivery FROM listing_observations")}
        build(store)
        got = {t: (m, a) for t, m, a in store.fetchall(
            "SELECT title, delivery_method, delivery_area FROM listings")}
    # contact details in a delivery line are scrubbed like those of titles
    assert lines["Мефедрон 1г"] == "Закладки: Ваке, Сабуртало\nДоставка по городу, пиши [telegram]"
    assert lines["Шишки 2г"] == lines["Гашиш 1г"] == "Клады в районе Дидубе"
    assert lines["Speed 10g"] == "Ships from UK | Stealth shipping, tracked"
    assert got == {
        "Мефедрон 1г": ("dead_drop", "Ваке"),
        "Шишки 2г": ("dead_drop", "Дидубе"),
        "Гашиш 1г": ("dead_drop", "Дидубе"),
        "Invented Haze 5g": ("in_person", "Kreuzberg"),
        "Speed 10g": ("post", None),
    }


# --- the real Matanga 2020 files -----------------------------------------------------------------
SAMPLE_EVERY = 100
NOT_FLAGS = frozenset({"", "Unnamed: 0", "time_stamp", "region", "sell_code", "description",
                       "готовых", "предзаказ", "город", "вес", "BTC", "ք", "₴", "Br", "$", "€",
                       "desc_en", "Тбилиси", "Батуми", "Кутаиси", "."})
"""Not district flags (the city flags included), for the independent count."""


def _real_sample() -> list[Path]:
    base = shared_dir() / "data" / "real" / "matanga-georgia-2020"
    for rel in ("SCRAPED", "DATA/INPUT/SCRAPED"):
        files = sorted((base / rel).glob("output_*.csv")) if (base / rel).is_dir() else []
        if files:
            return files[::SAMPLE_EVERY]
    pytest.skip(f"Matanga data absent under {base} (see shared/data/real/SOURCES.md)")


def _expected_district_share(files: list[Path]) -> tuple[int, float, float]:
    """(offers, share of rows with a True district flag, share of offers whose latest row has
    one), read straight from the files with the dataset's offer key."""
    latest: dict[tuple[str, ...], tuple[tuple[datetime, str, int], bool]] = {}
    rows = flagged = 0
    for path in files:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            for index, row in enumerate(csv.DictReader(fh)):
                if not (row.get("sell_code") or "").strip():
                    continue
                district = any(v == "True" for k, v in row.items()
                               if isinstance(k, str) and k not in NOT_FLAGS)
                rows += 1
                flagged += district
                key = tuple(" ".join((row.get(c) or "").split()).casefold()
                            for c in ("sell_code", "region", "вес", "description"))
                at = datetime.strptime(row["time_stamp"], "%d-%m-%Y %H:%M:%S")
                order = (at, str(path), index)  # build's order: time, source, row
                if key not in latest or latest[key][0] < order:
                    latest[key] = (order, district)
    return len(latest), flagged / rows, sum(d for _o, d in latest.values()) / len(latest)


def test_real_matanga_sample_gets_districts(tmp_path: Path) -> None:
    files = _real_sample()
    offers, row_share, offer_share = _expected_district_share(files)
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, plan(files, load_registry(plugins=False)), key=KEY, workers=1)
        assert not summary.failed
        build(store)
        n, drop, area, district = store.fetchall(
            "SELECT count(*), count(*) FILTER (delivery_method = 'dead_drop'), "
            "count(*) FILTER (coalesce(delivery_area, '') <> ''), "
            "count(*) FILTER (delivery_area LIKE '%: %') FROM listings")[0]
        areas = Counter(a.split(":")[0] for (a,) in store.fetchall(
            "SELECT delivery_area FROM listings WHERE delivery_area IS NOT NULL"))
    print(f"matanga sample files={len(files)} listings={n} offers={offers} "
          f"dead_drop={drop / n:.4f} area={area / n:.4f} district_area={district / n:.4f} "
          f"rows_with_district_flag={row_share:.4f} offers_with_district_flag={offer_share:.4f} "
          f"cities={sorted(areas)}")
    assert n == offers and n > 500
    assert drop / n == 1.0
    assert area / n >= 0.99
    assert district / n >= offer_share - 1e-9
    assert district / n >= 0.05
    assert set(areas) <= {"Tbilisi", "Batumi", "Kutaisi"}
