"""Matanga (2020, Georgia) listing dataset: CSV snapshots of a Russian-language shop market.

One file per scrape (``output_DDMMYYYY_HHMMSS.csv``), one row per offer: ``time_stamp``
(``01-03-2020 02:56:54``, day first), ``region`` (a city of Georgia), ``sell_code`` (the offer
id), ``description`` (Russian title), ``готовых`` (ready-to-pick-up stock), ``вес`` (weight,
``"0.5 гр"``) and the price in six currencies: ``BTC``, ``ք`` (AMD), ``₴`` (UAH), ``Br`` (BYN),
``$`` (USD), ``€`` (EUR).

Decisions: the price kept is the first shown of USD, EUR, BTC, UAH, BYN, AMD (USD is shown on
every row and has daily reference rates); the weight becomes the listing's one quantity tier
(label as shown, with that price). The dataset covers Georgia only and has no vendor column
(offers are the market's own dead drops), so ``ships_from`` = ``ships_to`` = ``GE`` and
``vendor_id`` is empty. Times in the file carry no zone; they are taken as UTC.

Listing identity: ``sell_code`` is not an offer id. In one snapshot most codes appear on several
rows: the same shop's offers of other weights, in other cities, or under other descriptions,
each with its own price and stock. The dataset's authors identify an offer by (sell_code,
region, quantity, description) (their ``uid`` is one-to-one with that tuple), and so does
:func:`offer_id`: ``<sell_code>-<8 hex>`` of a BLAKE2b digest of region, weight and
description. Without it, price histories and stock-based sales of different offers would be
mixed under one listing.

Delivery: every offer is a dead drop, and a row says where it can be picked up with one
boolean column per place: the city (``Тбилиси``, ``Батуми``, ``Кутаиси``) and districts
(``Saburtalo``, ``Vake``, ``Авлобари``, ``Old Tbilisi (Старый город)``, ``Центр`` ...). The set
of columns varies per file, so a district column is *any* column outside
:data:`NOT_PLACE_COLUMNS` whose value is ``True``; :data:`DISTRICTS` maps the Russian and
English spellings of one district to one name (an unknown column is kept as written, without
a bracketed part). ``delivery`` is then ``"dead drop: <City> — <District>, <District>"``
(districts sorted; ``"dead drop: <City>"`` when only the city flag is set), plus a line
``"pre-order: <n>"`` when ``предзаказ`` offers pre-orders. ``build`` reads that text into
``delivery_method``/``delivery_area`` (``docs/channels.md``, "Delivery").
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from dnmwatch.adapters.html import clean, parse_amount, parse_int
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.records import ListingObservation, Provenance, QuantityTier, Record

PRICE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("$", "USD"), ("€", "EUR"), ("BTC", "BTC"), ("₴", "UAH"), ("Br", "BYN"), ("ք", "AMD"))
"""(column, ISO code) in order of preference."""
_TIME_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M:%S")


NOT_PLACE_COLUMNS: frozenset[str] = frozenset({
    "", "unnamed: 0", "uid", "time_stamp", "region", "sell_code", "description", "desc_en",
    "готовых", "предзаказ", "город", "вес", *(column.casefold() for column, _ in PRICE_COLUMNS)})
"""Columns that are not place flags (case-folded)."""
CITIES: dict[str, str] = {
    "тбилиси": "Tbilisi", "tbilisi": "Tbilisi", "батуми": "Batumi", "batumi": "Batumi",
    "кутаиси": "Kutaisi", "kutaisi": "Kutaisi"}
"""City flags and ``region``/``город`` values -> the city's English name."""
DISTRICTS: dict[str, str] = {
    "авлобари": "Avlabari", "авлабари": "Avlabari", "avlabari": "Avlabari",
    "дигоми": "Digomi", "digomi": "Digomi", "центр": "Center", "center": "Center",
    "centre": "Center", "old tbilisi": "Old Tbilisi", "старый город": "Old Tbilisi",
    "старый тбилиси": "Old Tbilisi", "сабуртало": "Saburtalo", "saburtalo": "Saburtalo",
    "ваке": "Vake", "vake": "Vake", "дидубе": "Didube", "didube": "Didube",
    "глдани": "Gldani", "gldani": "Gldani", "варкетили": "Varketili", "varketili": "Varketili",
    "надзаладеви": "Nadzaladevi", "nadzaladevi": "Nadzaladevi", "вазисубани": "Vazisubani",
    "vazisubani": "Vazisubani", "tbilisis zgva": "Tbilisis Zgva",
    "тбилисское море": "Tbilisis Zgva", "tbilisi sea": "Tbilisis Zgva", "загэс": "Zahesi",
    "захеси": "Zahesi", "zahesi": "Zahesi"}
"""Spellings of a district (case-folded) -> its one name."""
_TRUE = frozenset({"true", "да", "yes"})
_BRACKETED = re.compile(r"\s*\([^)]*\)\s*")
_LETTER = re.compile(r"[^\W\d_]")


def place_name(column: str) -> str | None:
    """The canonical name of a district column (``None`` for a name without letters); an
    unknown one is capitalised, as the listed-area format expects of a place."""
    name = " ".join(column.split())
    key = name.casefold()
    if key in DISTRICTS:
        return DISTRICTS[key]
    bare = _BRACKETED.sub(" ", name).strip()
    if bare.casefold() in DISTRICTS:
        return DISTRICTS[bare.casefold()]
    return bare[:1].upper() + bare[1:] if _LETTER.search(bare) else None


def delivery_text(row: Mapping[str, str]) -> str:
    """The row's dead drop and where it can be picked up (see the module docstring)."""
    city = CITIES.get(clean(row.get("region")).casefold()) or CITIES.get(
        clean(row.get("город")).casefold())
    districts: set[str] = set()
    for column, value in row.items():
        if not isinstance(column, str) or clean(value).casefold() not in _TRUE:
            continue
        key = " ".join(column.split()).casefold()
        if key in NOT_PLACE_COLUMNS:
            continue
        if key in CITIES:
            city = city or CITIES[key]
            continue
        name = place_name(column)
        if name is not None:
            districts.add(name)
    text = "dead drop"
    if city or districts:
        text += f": {city or 'Georgia'}"
    if districts:
        text += " — " + ", ".join(sorted(districts))
    shown = clean(row.get("предзаказ"))
    pre = parse_int(shown)
    if pre is not None and pre > 0:
        text += f"\npre-order: {pre}"
    elif pre is None and shown.casefold() in _TRUE:
        text += "\npre-order: yes"
    return text


def stamp(text: str | None) -> datetime | None:
    value = clean(text)
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def offer_id(sell_code: str, region: str, weight: str, description: str) -> str:
    """``sell_code`` qualified by what tells its offers apart (see the module docstring)."""
    key = "\x1f".join((region, weight, description)).casefold()
    return f"{sell_code}-{hashlib.blake2b(key.encode(), digest_size=4).hexdigest()}"


def first_price(row: Mapping[str, str]) -> tuple[float | None, str | None]:
    for column, code in PRICE_COLUMNS:
        amount = parse_amount(row.get(column))
        if amount is not None and amount > 0:
            return amount, code
    return None, None


class MatangaAdapter(RowAdapter):
    name = "matanga"
    version = "1.2"
    description = "Matanga 2020 Georgia dataset (CSV in Russian, prices in six currencies)"
    columns = frozenset({"time_stamp", "sell_code", "description", "вес"})

    def read_row(self, row: Mapping[str, str], provenance: Provenance) -> Iterator[Record]:
        captured = stamp(row.get("time_stamp")) or provenance.captured_at
        if captured is None:
            yield self.reject("missing_field", "row without a time_stamp")
            return
        price, currency = first_price(row)
        weight = clean(row.get("вес"))
        code, title = clean(row.get("sell_code")), clean(row.get("description"))
        tiers = (QuantityTier(weight, price, currency),) if weight else ()
        yield ListingObservation(
            market=self.market,
            listing_id=offer_id(code, clean(row.get("region")), weight, title) if code else "",
            title=title, vendor_id=None, price=price,
            currency=currency, ships_from="GE", ships_to="GE", tiers=tiers,
            stock=parse_int(row.get("готовых")), delivery=delivery_text(row),
            provenance=dataclasses.replace(provenance, captured_at=captured))
