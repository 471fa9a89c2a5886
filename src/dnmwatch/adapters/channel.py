"""Offers in messaging channels (Telegram Desktop exports) -> listing observations.

A channel is not a market page: its unit is a message, read by
:class:`dnmwatch.sources.channel.ChannelSource` into de-duplicated rows (one row per offer and
its reposts, with ``first_seen``/``last_seen``). This adapter is a
:class:`~dnmwatch.adapters.rows.RowAdapter` over those rows, so it is registered, listed,
guarded and counted like every dataset adapter.

Rules (``docs/channels.md``):

* **Offer or chatter.** A message is an offer when it states a price (an amount next to a
  currency symbol, code or word: ``50€``, ``$120``, ``0.002 BTC``, ``3000 руб``, ``80 лари``)
  and either a quantity (``5g``, ``10 pills``, ``2 гр``, ``100 шт``) or an offer word (sell,
  WTS, menu, in stock, продаю, в наличии, прайс, verkaufe, Preis ...). Anything else is a
  counted ``not_an_offer`` rejection (greetings, reviews without a price, questions).
* **One message, one or several listings.** A price list (two or more lines each with a
  price) gives one listing per priced line; otherwise the message is one listing whose title
  is the first line that states a quantity, else the first line with words. Titles lose emoji,
  decoration and the price itself, and are cut to 300 characters.
* **Identity.** ``listing_id`` = ``tg-`` + 16 hex of a BLAKE2b digest of the channel, the
  author and the title's letters and digits: the same product reposted at a new price keeps
  its id (a price history), another product of the same seller gets another.
* **Who and when.** ``vendor_id`` = the keyed pseudonym of the message's author (``from``;
  the channel itself for channel posts). ``market`` = ``tg:`` + the channel's name unless the
  run names a market. ``captured_at`` = the first sighting; when the offer was reposted on a
  later day, a second observation at the last sighting carries the same values, so that the
  store's ``first_seen``/``last_seen`` span the reposts.
* **Where.** ``ships_from`` = the text after "ships from", "Versand aus", "отправка из" ...;
  ``ships_to`` = the text after "ships to", "Versand nach", "доставка по" ..., else the
  delivery area a line states ("Закладки: Ваке, Сабуртало", "dead drops in Kreuzberg").
* **Delivery.** ``delivery`` = the message's lines that speak of delivery (a shipping, post,
  courier, dead-drop or meet-up word, or a ships-from/to or area phrase), apart from the lines
  that became titles, cleaned of emoji and decoration, one per line (at most
  :data:`MAX_DELIVERY_LINES`); ``build`` reads it as the listing's strongest delivery evidence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import datetime

from dnmwatch.adapters.html import parse_amount
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.records import ListingObservation, Provenance, Record

MAX_TITLE_CHARS = 300
MAX_PLACE_CHARS = 120
MAX_LISTINGS_PER_MESSAGE = 200
MAX_DELIVERY_LINES = 5
MAX_DELIVERY_CHARS = 600

_CURRENCY_WORDS: dict[str, str] = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "евро": "EUR",
    "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "долларов": "USD",
    "£": "GBP", "gbp": "GBP", "₽": "RUB", "rub": "RUB", "руб": "RUB", "рублей": "RUB",
    "р": "RUB", "₾": "GEL", "gel": "GEL", "лари": "GEL", "lari": "GEL", "₴": "UAH",
    "uah": "UAH", "грн": "UAH", "btc": "BTC", "₿": "BTC", "xmr": "XMR", "ltc": "LTC",
    "chf": "CHF", "pln": "PLN", "zł": "PLN", "kr": "SEK", "sek": "SEK", "aud": "AUD",
    "cad": "CAD",
}
_CUR = "|".join(sorted((re.escape(w) for w in _CURRENCY_WORDS), key=len, reverse=True))
_NUM = r"\d{1,3}(?:[ \u00a0.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_PRICE = re.compile(
    rf"(?i)(?<![\w.,])(?:(?P<c1>{_CUR})\s?(?P<a1>{_NUM})|(?P<a2>{_NUM})\s?(?P<c2>{_CUR}))"
    r"(?![^\W\d_])")
_QUANTITY = re.compile(
    r"(?i)(?<![\w.,])\d+(?:[.,]\d+)?\s?(?:g|gr|grs|gram|grams|gramm|kg|mg|ug|ml|oz|"
    r"pills?|tabs?|caps?|pcs|x|stk|stück|pillen|гр?|грамм|кг|мг|мл|шт|штук|таб)"
    r"(?![^\W\d_])")
_OFFER_WORDS = re.compile(
    r"(?i)\b(?:sell|selling|wts|for sale|offer|available|in stock|price|prices|menu|order now|"
    r"restock|verkaufe|verkauf|angebot|preis|preise|verfügbar|auf lager|te koop|aanbod|"
    r"prijs|vente|prix|dispo|vendo|precio|disponible|продаю|продам|продажа|в наличии|"
    r"наличие|цена|цены|прайс|меню|ассортимент|заказ)\b")
_SHIPS_FROM = re.compile(
    r"(?i)(?:ships?\s+from|shipping\s+from|sent\s+from|versand\s+aus|verzending\s+(?:vanuit|uit)|"
    r"envío\s+desde|expédi(?:é|e|tion)\s+(?:de|depuis)|отправка\s+из)\s*:?\s*"
    r"(?P<place>[^\n,;|.!]{2,120})")
_SHIPS_TO = re.compile(
    r"(?i)(?:ships?\s+to|shipping\s+to|delivery\s+to|versand\s+nach|lieferung\s+nach|"
    r"verzending\s+naar|envío\s+a|livraison\s+en|доставка\s+по|доставка\s+в|отправка\s+по)"
    r"\s*:?\s*(?P<place>[^\n;|.!]{2,120})")
_AREA_LINE = re.compile(
    r"(?i)(?:dead\s*drops?|drops?|stash(?:es)?|meet\s*-?\s*ups?|pick\s*-?\s*up|delivery|"
    r"lieferung|abholung|übergabe|afhalen|закладки|закладка|клады|клад|прикопы|тайники|"
    r"встречи|встреча|доставка|самовывоз)\s*(?:in|im|en|в|по|around|:)\s*"
    r"(?:(?:в\s+)?район[еа]?\s+|the\s+)?(?P<place>[^\n;|!]{2,120})")
_AREA_WORD = re.compile(r"(?i)(?:\bрайон[еа]?|\bр-н[еа]?|\bdistrict)\s*:?\s+"
                        r"(?P<place>[^\n;|!,]{2,120})")
_DELIVERY_WORDS = re.compile(
    r"(?i)(?<![^\W\d_])(?:ship\w*|post|postal|parcel|tracked|tracking|stealth|dhl|dpd|ups|"
    r"fedex|usps|royal\s+mail|courier|express|next\s+day|overnight|deliver\w*|dead\s*drops?|"
    r"drops?|stash\w*|magnets?|meet\s*-?\s*ups?|meet|pick\s*-?\s*up|"
    r"versand\w*|paket\w*|päckchen|brief\w*|einschreiben|kurier\w*|abhol\w*|übergabe|"
    r"liefer\w*|zustell\w*|verzend\w*|pakket\w*|brievenbus|afhalen|bezorg\w*|"
    r"livraison|colis|envío|envio|correos|entrega|закладк\w*|клад\w*|магнит\w*|прикоп\w*|"
    r"тайник\w*|доставк\w*|почт\w*|посылк\w*|отправк\w*|курьер\w*|встреч\w*|"
    r"самовывоз\w*|из\s+рук\s+в\s+руки|сдэк|район\w*)(?![^\W\d_])")
_DECOR_MARKS = "*~=#•·►▶→⇒»«\ufe0f\u200d\u20e3"
_EDGE_UNDERSCORES = r"|_+(?![^\W_])|(?<![^\W_])_+"
_DECOR = re.compile(f"[{re.escape(_DECOR_MARKS)}|]+{_EDGE_UNDERSCORES}")
"""Decoration. An underscore inside a word stays: it may join a contact handle
(``@shop_name``), which the scrubber must see whole to remove."""
_DECOR_SOFT = re.compile(f"[{re.escape(_DECOR_MARKS)}]+{_EDGE_UNDERSCORES}")
"""Decoration of a delivery line: the same but ``|``, which separates statements there
("Ships from UK | Stealth")."""
_WORD = re.compile(r"[^\W_]+")


def find_price(text: str) -> tuple[float | None, str | None, tuple[int, int] | None]:
    """The first price in ``text``: amount, ISO currency and its span (or ``None``s)."""
    for match in _PRICE.finditer(text):
        amount = parse_amount(match.group("a1") or match.group("a2"))
        word = (match.group("c1") or match.group("c2") or "").lower()
        currency = _CURRENCY_WORDS.get(word)
        if amount is not None and amount > 0 and currency is not None:
            return amount, currency, match.span()
    return None, None, None


def is_offer(text: str) -> bool:
    """A price and a quantity or an offer word (see the module docstring)."""
    if find_price(text)[0] is None:
        return False
    return bool(_QUANTITY.search(text) or _OFFER_WORDS.search(text))


def clean_title(line: str, price_span: tuple[int, int] | None = None) -> str:
    """A line without its price, emoji, symbols and decoration, in one space-separated run."""
    if price_span is not None:
        line = line[:price_span[0]] + " " + line[price_span[1]:]
    kept = "".join(ch if not unicodedata.category(ch).startswith(("S", "C")) or ch in "%+"
                   else " " for ch in line)
    kept = _DECOR.sub(" ", kept)
    kept = " ".join(kept.split()).strip(" -–—:,;/|()[]")
    return kept[:MAX_TITLE_CHARS]


def _title_key(title: str) -> str:
    """Letters and digits of a title, case-folded: what identifies a product across reposts."""
    return " ".join(_WORD.findall(title.casefold()))


def _place(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    if found is None:
        return None
    place = clean_title(found.group("place"))[:MAX_PLACE_CHARS]
    return place or None


def delivery_lines(text: str, titles: set[str]) -> str | None:
    """The lines of ``text`` that speak of delivery, apart from lines that became ``titles``
    (see the module docstring); ``None`` when there is none."""
    out: list[str] = []
    for line in text.splitlines():
        if not _DELIVERY_WORDS.search(line) or clean_title(line, find_price(line)[2]) in titles:
            continue
        kept = "".join(ch if not unicodedata.category(ch).startswith(("S", "C")) or ch in "%+|"
                       else " " for ch in line)
        kept = " ".join(_DECOR_SOFT.sub(" ", kept).split()).strip(" -–—:,;/|()[]")
        if kept and kept not in out:
            out.append(kept)
        if len(out) >= MAX_DELIVERY_LINES:
            break
    return "\n".join(out)[:MAX_DELIVERY_CHARS] or None


def _stamp(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


class TelegramChannelAdapter(RowAdapter):
    """Offer messages of a channel export (rows of ``ChannelSource``) -> listings."""

    name = "telegram-channel"
    source_type = "channel"
    version = "1.1"
    description = "messaging channel exports (Telegram Desktop result.json): offers -> listings"
    columns = frozenset({"channel", "message_id", "first_seen", "last_seen", "author", "text"})

    def read_row(self, row: Mapping[str, str], provenance: Provenance) -> Iterator[Record]:
        text = row.get("text") or ""
        if not is_offer(text):
            yield self.reject("not_an_offer", "message without a price and a product")
            return
        channel = " ".join(clean_title(row.get("channel") or "").split())[:80]
        market = self.market if self.market != self.name or not channel else f"tg:{channel}"
        author = row.get("author") or row.get("author_id") or row.get("channel") or ""
        vendor = self.vendor_id(author)
        first = _stamp(row.get("first_seen")) or provenance.captured_at
        last = _stamp(row.get("last_seen"))
        ships_from = _place(_SHIPS_FROM, text)
        ships_to = (_place(_SHIPS_TO, text) or _place(_AREA_LINE, text)
                    or _place(_AREA_WORD, text))
        items = list(self._items(text))
        delivery = delivery_lines(text, {title for title, _p, _c in items})
        for title, price, currency in items:
            listing_id = "tg-" + hashlib.blake2b("\x1f".join(
                (channel, author.casefold().strip(), _title_key(title))).encode(),
                digest_size=8).hexdigest()
            obs = ListingObservation(
                market=market, listing_id=listing_id, title=title, vendor_id=vendor,
                price=price, currency=currency, ships_from=ships_from, ships_to=ships_to,
                delivery=delivery, provenance=dataclasses.replace(provenance, captured_at=first))
            yield obs
            if last is not None and first is not None and last.date() != first.date():
                yield dataclasses.replace(
                    obs, provenance=dataclasses.replace(provenance, captured_at=last))

    def _items(self, text: str) -> Iterator[tuple[str, float | None, str | None]]:
        """(title, price, currency) of each listing in a message."""
        lines = [line for line in text.splitlines() if line.strip()]
        priced = []
        for line in lines:
            amount, currency, span = find_price(line)
            title = clean_title(line, span) if amount is not None else ""
            if amount is not None and re.search(r"[^\W\d_]{2,}", title):
                priced.append((title, amount, currency))
        if len(priced) >= 2:
            yield from priced[:MAX_LISTINGS_PER_MESSAGE]
            return
        amount, currency, _span = find_price(text)
        head = next((ln for ln in lines if _QUANTITY.search(ln)), None) or next(
            (ln for ln in lines if re.search(r"[^\W\d_]{3,}", ln)), lines[0] if lines else "")
        title = clean_title(head, find_price(head)[2]) or clean_title(head)
        yield title, amount, currency
