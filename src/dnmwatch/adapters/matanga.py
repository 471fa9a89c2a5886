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
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from dnmwatch.adapters.html import clean, parse_amount, parse_int
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.records import ListingObservation, Provenance, QuantityTier, Record

PRICE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("$", "USD"), ("€", "EUR"), ("BTC", "BTC"), ("₴", "UAH"), ("Br", "BYN"), ("ք", "AMD"))
"""(column, ISO code) in order of preference."""
_TIME_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M:%S")


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
    version = "1.1"
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
            stock=parse_int(row.get("готовых")),
            provenance=dataclasses.replace(provenance, captured_at=captured))
