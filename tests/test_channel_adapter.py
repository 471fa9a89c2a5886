"""The telegram-channel adapter: offers vs chatter, price lists, places, and fuzzing of the
whole channel path (source + adapter) with mutated JSON, wrong types and huge strings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnmwatch.adapters.channel import TelegramChannelAdapter, find_price, is_offer
from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import PSEUDONYM, Pseudonymizer
from dnmwatch.records import ListingObservation, Provenance, Rejection
from dnmwatch.sources.channel import ChannelSource

KEY = bytes(range(32))
_FIXTURE = [HealthCheck.function_scoped_fixture]
PROV = Provenance(source="result.json", offset=7,
                  captured_at=datetime(2020, 5, 1, tzinfo=UTC))


def _row(text: str, **extra: str) -> dict[str, str]:
    row = {"channel": "Green Room 🌿", "channel_type": "public_channel", "channel_id": "1",
           "message_id": "7", "date": "2020-05-01T12:00:00+00:00",
           "first_seen": "2020-05-01T12:00:00+00:00", "last_seen": "2020-05-01T18:00:00+00:00",
           "reposts": "1", "author": "kushman", "author_id": "user5", "text": text}
    row.update(extra)
    return row


def _parse(text: str, **extra: str) -> list[Any]:
    adapter = TelegramChannelAdapter(Pseudonymizer(KEY))
    return list(adapter.parse_row(_row(text, **extra), PROV))


def test_registered() -> None:
    assert "telegram-channel" in load_registry(plugins=False)


def test_prices_in_several_currencies() -> None:
    assert find_price("Kush 5g - 50€")[:2] == (50.0, "EUR")
    assert find_price("Mephedrone 2г — 3 500 руб")[:2] == (3500.0, "RUB")
    assert find_price("$120 for an eighth")[:2] == (120.0, "USD")
    assert find_price("0.0021 BTC")[:2] == (0.0021, "BTC")
    assert find_price("1 гр 80 лари")[:2] == (80.0, "GEL")
    assert find_price("Preis: 45,50 €")[:2] == (45.5, "EUR")
    assert find_price("5g of the best") == (None, None, None)


def test_offer_and_chatter() -> None:
    assert is_offer("🔥 Amnesia Haze 5g\n💰 Price: €50\nShips from NL")
    assert is_offer("Продаю мефедрон, цена 2500 руб")
    assert not is_offer("paid 50€ last time, crazy")
    assert not is_offer("Закладка была на месте, спасибо")
    rejected = _parse("Hi all 👋")
    assert [r.reason for r in rejected if isinstance(r, Rejection)] == ["not_an_offer"]


def test_single_offer_fields() -> None:
    recs = _parse("🔥 **Amnesia Haze 5g** 🔥\n💰 Price: €50\nShips from Netherlands | "
                  "Stealth shipping, tracked\nDM to order")
    obs = [r for r in recs if isinstance(r, ListingObservation)]
    assert len(obs) == 1
    o = obs[0]
    assert (o.title, o.price, o.currency, o.ships_from) == ("Amnesia Haze 5g", 50.0, "EUR",
                                                           "Netherlands")
    assert o.market == "tg:Green Room" and o.vendor_id and PSEUDONYM.match(o.vendor_id)
    assert o.listing_id.startswith("tg-") and o.provenance and o.provenance.offset == 7


def test_price_list_gives_one_listing_per_line_and_reposts_span_days() -> None:
    text = "Прайс:\n🍁 Шишки AK-47 1г — 1500₽\n❄️ Мефедрон 1г — 2500 руб\nЗакладки: Ваке"
    recs = _parse(text, last_seen="2020-05-04T09:00:00+00:00")
    obs = [r for r in recs if isinstance(r, ListingObservation)]
    assert [(o.title, o.price, o.currency) for o in obs[::2]] == [
        ("Шишки AK-47 1г", 1500.0, "RUB"), ("Мефедрон 1г", 2500.0, "RUB")]
    assert all(o.ships_to == "Ваке" for o in obs)
    days = [o.provenance.captured_at.day for o in obs if o.provenance and o.provenance.captured_at]
    assert days == [1, 4, 1, 4]


def test_market_override_and_identity_across_prices() -> None:
    adapter = TelegramChannelAdapter(Pseudonymizer(KEY), market="my-channel")
    a = list(adapter.parse_row(_row("Kush 5g - 50€"), PROV))
    b = list(adapter.parse_row(_row("🔥 KUSH 5g — 45 €"), PROV))
    assert isinstance(a[0], ListingObservation) and isinstance(b[0], ListingObservation)
    assert a[0].market == "my-channel" and a[0].listing_id == b[0].listing_id
    assert a[0].price != b[0].price


# ------------------------------------------------------------------ fuzzing

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=5),
    max_leaves=20)
_MESSAGE = st.fixed_dictionaries({
    "id": st.one_of(st.integers(), st.text(max_size=5), st.none()),
    "type": st.sampled_from(["message", "service", "", 5]),
    "date": st.one_of(st.just("2020-05-01T10:00:00"), st.text(max_size=30), st.integers()),
    "date_unixtime": st.one_of(st.just("1588327200"), st.text(max_size=12),
                               st.integers(min_value=-10**20, max_value=10**20), st.none()),
    "from": st.one_of(st.text(max_size=30), st.none(), st.integers()),
    "text": st.one_of(st.text(max_size=300), _JSON,
                      st.lists(st.one_of(st.text(max_size=40), st.fixed_dictionaries(
                          {"type": st.text(max_size=5), "text": st.text(max_size=40)}))),
                      st.sampled_from(["Kush 5g - 50€\n" * 3, "Прайс:\n1г — 10₽\n2г — 1₽"])),
})


def _run(path: Path, cap: int) -> int:
    adapter = TelegramChannelAdapter(Pseudonymizer(KEY))
    n = 0
    for item in ChannelSource(path, size_cap=cap).rows():
        if isinstance(item, Rejection):
            n += 1
            continue
        prov, row = item
        n += sum(1 for _ in adapter.parse_row(row, prov))
    return n


@settings(max_examples=60, deadline=None, suppress_health_check=_FIXTURE)
@given(messages=st.lists(st.one_of(_MESSAGE, _JSON), max_size=8),
       header=st.dictionaries(st.sampled_from(["name", "type", "id", "about"]), _JSON),
       cut=st.integers(min_value=0, max_value=4000), cap=st.sampled_from([0, 10**9]))
def test_fuzz_mutated_exports(tmp_path: Path, messages: list[Any], header: dict[str, Any],
                              cut: int, cap: int) -> None:
    body = json.dumps({**header, "messages": messages}, ensure_ascii=False)
    path = tmp_path / "result.json"
    for variant in (body, body[:cut], body.replace('"', "", 1), body[::-1]):
        path.write_text(variant, encoding="utf-8")
        _run(path, cap)


@settings(max_examples=30, deadline=None, suppress_health_check=_FIXTURE)
@given(data=st.binary(max_size=2000), cap=st.sampled_from([0, 10**9]))
def test_fuzz_random_bytes(tmp_path: Path, data: bytes, cap: int) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(b'{"name": "x", "messages": [' + data)
    _run(path, cap)


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=5000), author=st.text(max_size=100),
       seen=st.text(max_size=40))
def test_fuzz_rows(text: str, author: str, seen: str) -> None:
    adapter = TelegramChannelAdapter(Pseudonymizer(KEY))
    for rec in adapter.parse_row(_row(text, author=author, first_seen=seen, last_seen=seen),
                                 PROV):
        if isinstance(rec, ListingObservation):
            assert rec.title and (rec.vendor_id is None or PSEUDONYM.match(rec.vendor_id))


def test_huge_strings(tmp_path: Path) -> None:
    big = "Kush 5g - 50€ " + "🔥" * 300_000 + "x" * 3_000_000
    msg = {"id": 1, "type": "message", "date": "2020-05-01T10:00:00", "from": "a" * 100_000,
           "text": big}
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "n" * 50_000, "messages": [msg, msg]}), encoding="utf-8")
    for cap in (0, 10**9):
        assert _run(path, cap) >= 1
    # a single message larger than the streaming bound is a counted rejection, not a crash
    huge = {"id": 1, "type": "message", "date": "2020-05-01T10:00:00", "text": "y" * 5_000_000}
    path.write_text(json.dumps({"messages": [huge]}), encoding="utf-8")
    items = list(ChannelSource(path, size_cap=0).rows())
    assert [i.reason for i in items if isinstance(i, Rejection)] == ["message_too_large"]
