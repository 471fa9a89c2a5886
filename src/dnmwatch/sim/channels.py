"""Simulated messaging-channel exports: a seller group as Telegram Desktop would export it.

Why: channel sources need a golden corpus whose truth is known, and real exports hold real
people's handles. This module writes a ``result.json`` in the Telegram Desktop layout
(``name``, ``type``, ``id``, ``messages`` with ``id``, ``type``, ``date`` in the exporting
computer's local time, ``date_unixtime``, ``from``, ``from_id``, ``text`` as a string or a list
of entity objects) from a generated world, and returns the truth of every offer in it.

What is in a channel (a ``public_supergroup`` where several sellers post):

* offers of some vendors' drug listings, in the listing's language family (English, Russian,
  German), priced in EUR, USD, GBP, BTC, RUB or GEL (converted from the world's price with
  the fixed rates of :data:`CHANNEL_RATES`), with a delivery line: post or express for English
  sellers, dead drops with a district for Russian sellers, post or a meet-up for German ones;
* some Russian sellers post price lists (one line per product);
* reposts of the same offer within a few days, with other emoji (one offer in the truth, with
  its first and last sighting); a later repost at a new price is a new offer of the same
  listing;
* chatter: greetings, questions, thanks, reviews without a price, a price without a product,
  service messages (pins, joins) and photos without text.

Like the rest of ``sim``, it imports nothing from the pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from dnmwatch.sim.model import World
from dnmwatch.sim.rng import pick, stream

CHANNEL_RATES: dict[str, float] = {
    "EUR": 1.0, "USD": 1.1, "GBP": 0.86, "RUB": 80.0, "GEL": 3.2, "BTC": 1 / 8000}
"""Units of each currency per EUR used to price channel offers (the channel's own rates)."""
LOCAL_OFFSET = timedelta(hours=3)
"""The exporting computer's clock (``date`` is local time; ``date_unixtime`` is UTC)."""
DISTRICTS = ("Ваке", "Сабуртало", "Глдани", "Дидубе", "Центр", "Авлабари", "Марьино",
             "Бутово", "Кунцево")
DE_PLACES = ("Berlin-Kreuzberg", "Hamburg-Altona", "Köln", "Leipzig")
EMOJI = ("🔥", "❄️", "🌿", "💊", "🍁", "⭐", "💎", "🚀", "✅", "")
CHATTER = (
    "Hi all 👋 new stock tomorrow", "Anyone tried the new batch?", "Thanks bro, got it 👍",
    "Привет всем! Скоро обновление", "Кто брал? Как качество?", "Спасибо, всё пришло 🙏",
    "Kann jemand was empfehlen?", "Danke, alles angekommen", "paid 50€ last time, crazy",
    "Закладка была на месте, спасибо", "Admin please check DMs", "🔥🔥🔥",
    "Что по ценам? Когда будет?", "Wann kommt neue Ware?",
)


@dataclass(frozen=True, slots=True)
class ChannelOffer:
    """One offer as the channel shows it (the truth a channel adapter should find)."""

    message_id: int
    """The id of the first message that posted it."""
    listing_id: str
    vendor_handle: str
    title: str
    price: float
    currency: str
    first_seen: datetime
    last_seen: datetime
    reposts: int
    language: str
    delivery: str
    """post | express_courier | dead_drop | in_person."""
    area: str | None
    ships_from: str | None


@dataclass(slots=True)
class ChannelExport:
    """A generated export (``data`` is what ``result.json`` holds) and its truth."""

    data: dict[str, Any]
    offers: list[ChannelOffer] = field(default_factory=list)
    chatter: int = 0

    def write(self, path: Path) -> Path:
        """Write ``result.json`` (UTF-8, not ASCII-escaped, as Telegram Desktop does)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), encoding="utf-8")
        return path

    def truth_rows(self) -> list[dict[str, Any]]:
        return [asdict(o) for o in self.offers]


def _fmt_price(amount: float, currency: str, lang: str, rng: np.random.Generator) -> str:
    if currency == "BTC":
        return f"{amount:.5f} BTC"
    value = f"{amount:.0f}" if amount >= 100 else f"{amount:.2f}".rstrip("0").rstrip(".")
    if lang == "de":
        value = value.replace(".", ",")
    if currency == "RUB":
        return f"{value} {pick(rng, ('руб', '₽', 'рублей'))}"
    if currency == "GEL":
        return f"{value} {pick(rng, ('лари', '₾', 'GEL'))}"
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}[currency]
    if lang == "de" or rng.random() < 0.3:
        return f"{value} {symbol}" if rng.random() < 0.7 else f"{value} {currency}"
    return f"{symbol}{value}"


@dataclass(slots=True)
class _Seller:
    handle: str
    user_id: str
    lang: str
    delivery: str
    area: str | None
    ships_from: str | None
    currency: str
    menu: bool


def _seller(rng: np.random.Generator, handle: str, lang: str, country: str, n: int) -> _Seller:
    if lang == "ru":
        return _Seller(handle, f"user{7000 + n}", "ru", "dead_drop", pick(rng, DISTRICTS), None,
                       pick(rng, ("RUB", "GEL", "USD")), bool(rng.random() < 0.5))
    if lang == "de":
        meet = bool(rng.random() < 0.4)
        return _Seller(handle, f"user{7000 + n}", "de", "in_person" if meet else "post",
                       pick(rng, DE_PLACES) if meet else None, None if meet else "Deutschland",
                       "EUR", False)
    express = bool(rng.random() < 0.3)
    where = country if country not in ("XX", "") else "UK"
    return _Seller(handle, f"user{7000 + n}", "en", "express_courier" if express else "post",
                   None, where, pick(rng, ("EUR", "USD", "GBP", "BTC")), False)


def _delivery_line(s: _Seller, rng: np.random.Generator) -> str:
    if s.delivery == "dead_drop":
        return pick(rng, (f"Закладки: {s.area}", f"📍 Клады в районе {s.area}",
                          f"Магниты и прикопы, район {s.area}"))
    if s.delivery == "in_person":
        return pick(rng, (f"Abholung in {s.area}", f"Persönliche Übergabe in {s.area}"))
    if s.lang == "de":
        return f"Versand aus {s.ships_from}, per DHL Paket mit Sendungsverfolgung"
    if s.delivery == "express_courier":
        return f"Ships from {s.ships_from} | Next day delivery, DHL Express"
    return f"Ships from {s.ships_from} | Stealth shipping, tracked"


def _offer_text(s: _Seller, items: list[tuple[str, str]], rng: np.random.Generator,
                emoji: str) -> Any:
    delivery = _delivery_line(s, rng)
    if len(items) > 1:
        lines = [f"{pick(rng, EMOJI)} {t} — {p}" for t, p in items]
        return "\n".join(["Прайс / меню:", *lines, delivery, "Пишите в ЛС"])
    title, price = items[0]
    label = {"ru": "Цена", "de": "Preis", "en": "Price"}[s.lang]
    tail = {"ru": "Пишите в ЛС 📩", "de": "Bestellung per PN", "en": "DM to order"}[s.lang]
    head = f"{emoji} {title}".strip()
    if rng.random() < 0.4:  # text as an entity list, as exports write formatted messages
        return [{"type": "bold", "text": head}, f"\n💰 {label}: {price}\n{delivery}\n{tail}"]
    return f"{head}\n💰 {label}: {price}\n{delivery}\n{tail}"


def _stamp(msg_id: int, when: datetime, sender: str, sender_id: str, text: Any) -> dict[str, Any]:
    return {"id": msg_id, "type": "message",
            "date": (when + LOCAL_OFFSET).replace(tzinfo=None).isoformat(),
            "date_unixtime": str(int(when.timestamp())), "from": sender, "from_id": sender_id,
            "text": text}


def generate_channel(world: World, *, seed: int | None = None, name: str = "Grey Bazaar Chat",
                     sellers: int = 8, offers_per_seller: int = 4, days: int | None = None,
                     chatter: int = 60, handles: Sequence[str] = (),
                     handles_from_day: int = 0) -> ChannelExport:
    """A channel export over the first ``days`` of ``world`` (default: all of it).

    The sellers are ``handles`` (vendor handles of the world; one without a drug listing is
    skipped), then vendors drawn at random up to ``sellers`` in all: a study of displacement
    chooses, say, the vendors of a market that closed, to see them turn up in the channel.
    ``handles_from_day`` is the day from which the ``handles`` sellers post (the closing day:
    they came to the channel after their market closed); the others post throughout."""
    rng = stream(world.config.seed if seed is None else seed, "channels")
    start = datetime.combine(world.config.start, datetime.min.time(), tzinfo=UTC)
    span = days or world.config.days
    listings = [r for r in world.table("listings").to_pylist()
                if r["kind"] == "drug" and not any(c in r["title"] for c in "$€£₽\n")]
    prices = {(r["market"], r["listing_id"]): r for r in
              world.table("price_changes").to_pylist()}
    by_vendor: dict[str, list[dict[str, Any]]] = {}
    for row in listings:
        by_vendor.setdefault(row["vendor_handle"], []).append(row)
    pool = sorted(by_vendor)
    drawn = [pool[int(i)] for i in rng.permutation(len(pool))]
    first = [h for h in dict.fromkeys(handles) if h in by_vendor]
    chosen = (first + [h for h in drawn if h not in first])[:max(sellers, len(first))]
    events: list[tuple[datetime, str, Any, list[ChannelOffer] | None]] = []
    # (time, sender handle or "", text, truth offer for the first post)
    sellers_by_handle: dict[str, _Seller] = {}
    for n, handle in enumerate(chosen):
        rows = by_vendor[handle]
        lang_votes = [r["title_language"] for r in rows]
        lang = "ru" if "ru" in lang_votes else ("de" if {"de", "nl"} & set(lang_votes) else "en")
        s = _seller(rng, handle, lang, rows[0]["ships_from"] or "", n)
        sellers_by_handle[handle] = s
        picked = [rows[int(i)] for i in rng.permutation(len(rows))[:offers_per_seller]]
        groups = [picked] if s.menu and len(picked) > 1 else [[r] for r in picked]
        begin = min(handles_from_day, span - 1) if handle in first else 0
        for group in groups:
            day = begin + float(rng.uniform(0, (span - begin) * 0.7))
            for episode in range(1 + int(rng.random() < 0.3)):
                items, truths = [], []
                factor = 1.0 if episode == 0 else 0.9
                for r in group:
                    base = prices.get((r["market"], r["listing_id"]))
                    eur = r["unit_price_eur"] * (r["mass_g"] or r["count"] or 1.0) * factor
                    if base is not None and base["currency"] == s.currency:
                        amount = base["price"] * factor
                    else:
                        amount = eur * CHANNEL_RATES[s.currency]
                    amount = round(amount, 5) if s.currency == "BTC" else round(amount, 2)
                    if s.currency in ("RUB", "GEL") or amount >= 100:
                        amount = float(round(amount))
                    items.append((r["title"], _fmt_price(amount, s.currency, s.lang, rng)))
                    truths.append((r, amount))
                when = start + timedelta(days=day, minutes=float(rng.uniform(0, 600)))
                reposts = int(rng.integers(0, 4))
                times = [when + timedelta(days=float(k * rng.uniform(0.5, 2.5)))
                         for k in range(reposts + 1)]
                times = sorted(t.replace(microsecond=0) for t in times)
                emoji = pick(rng, EMOJI)
                text = _offer_text(s, items, rng, emoji)
                for k, moment in enumerate(times):
                    # reposts change the decoration only: one offer in the truth
                    body = text if k == 0 or not isinstance(text, str) else \
                        text.replace(emoji, pick(rng, EMOJI), 1) if emoji else text
                    truth = [ChannelOffer(0, r["listing_id"], handle, r["title"], amount,
                                          s.currency, times[0], times[-1], reposts, s.lang,
                                          s.delivery, s.area, s.ships_from)
                             for r, amount in truths] if k == 0 else None
                    events.append((moment, handle, body, truth))
                day += float(rng.uniform(9, 20))  # a later episode at a new price
    for _ in range(chatter):
        moment = (start + timedelta(days=float(rng.uniform(0, span)))).replace(microsecond=0)
        kind = rng.random()
        buyer = f"user{int(rng.integers(100, 999))}"
        if kind < 0.1:
            events.append((moment, "", {"service": "pin_message"}, None))
        elif kind < 0.18:
            events.append((moment, buyer, "", None))
        else:
            events.append((moment, buyer, pick(rng, CHATTER), None))
    events.sort(key=lambda e: e[0])
    messages: list[dict[str, Any]] = []
    offers: list[ChannelOffer] = []
    chat = 0
    for msg_id, (moment, sender, text, truth) in enumerate(events, start=1):
        if isinstance(text, dict):
            messages.append({"id": msg_id, "type": "service",
                             "date": (moment + LOCAL_OFFSET).replace(tzinfo=None).isoformat(),
                             "date_unixtime": str(int(moment.timestamp())),
                             "actor": name, "action": text["service"]})
            continue
        seller = sellers_by_handle.get(sender)
        sender_id = seller.user_id if seller else "user" + "".join(c for c in sender if c.isdigit())
        chat += seller is None
        msg = _stamp(msg_id, moment, sender, sender_id, text)
        if text == "":
            msg["photo"] = "(File not included. Change data exporting settings to download.)"
        messages.append(msg)
        if truth:
            offers.extend(replace(t, message_id=msg_id) for t in truth)
    data = {"name": name, "type": "public_supergroup",
            "id": int(rng.integers(10**9, 10**10)), "messages": messages}
    return ChannelExport(data, offers, chat)

