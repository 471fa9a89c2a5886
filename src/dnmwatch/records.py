"""The record types that flow between pipeline stages.

Plain frozen dataclasses: cheap to build in hot loops, hashable, easy to turn into JSON lines
(:func:`record_to_dict`) or DuckDB rows. Fields hold values *as shown* on the page; the
normalise stage adds comparable values later. ``vendor_id`` is always a keyed pseudonym, never a
handle in clear, and no record type has a field for a buyer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

PageType = Literal[
    "index",
    "listing",
    "feedback",
    "vendor",
    "login",
    "gate:captcha",
    "gate:queue",
    "gate:login",
    "gate:ban",
    "gate:rate_limit",
    "gate:seized",
    "error",
    "unknown",
]


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record came from, so any figure can be traced back to a stored page."""

    source: str
    """File path or URL of the input."""
    offset: int | None = None
    """Byte offset of the WARC record, row number of a CSV, ``None`` for a whole file."""
    captured_at: datetime | None = None
    """When the page was captured (UTC)."""


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched page: the unit an adapter parses. No network, clock or database needed."""

    url: str
    captured_at: datetime
    body: bytes
    status: int = 200
    content_type: str = "text/html"
    provenance: Provenance | None = None


@dataclass(frozen=True, slots=True)
class QuantityTier:
    """One purchasable option of a listing ("10 g for 80 EUR"), as shown."""

    label: str
    price: float | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class ListingObservation:
    """A listing as seen on one page at one time."""

    market: str
    listing_id: str
    title: str
    vendor_id: str | None
    price: float | None
    currency: str | None
    ships_from: str | None = None
    ships_to: str | None = None
    category: str | None = None
    tiers: tuple[QuantityTier, ...] = ()
    stock: int | None = None
    sold: int | None = None
    delivery: str | None = None
    """Delivery text shown apart from the title (method words, areas, districts), if any."""
    provenance: Provenance | None = None
    kind: Literal["listing"] = "listing"


@dataclass(frozen=True, slots=True)
class VendorObservation:
    """A vendor profile as seen on one page at one time."""

    market: str
    vendor_id: str
    pgp_fingerprint: str | None = None
    ships_from: str | None = None
    sales: int | None = None
    rating: float | None = None
    member_since: str | None = None
    other_markets: tuple[str, ...] = ()
    provenance: Provenance | None = None
    kind: Literal["vendor"] = "vendor"


@dataclass(frozen=True, slots=True)
class FeedbackObservation:
    """One buyer feedback row as shown. The buyer's (masked) name is deliberately absent."""

    market: str
    listing_id: str | None
    vendor_id: str | None
    rating: float | None
    text: str
    posted: str
    """The date as shown: absolute ("2017-05-01") or relative ("3 days ago")."""
    captured_at: datetime
    price: float | None = None
    currency: str | None = None
    provenance: Provenance | None = None
    kind: Literal["feedback"] = "feedback"
    item: str | None = None
    """The option bought as the row shows it ("5 g", "1x 10 pills"), where the market shows one:
    it tells which quantity tier the sale was, so the price is that tier's."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A typed, counted refusal: a page or value a stage could not use, and why."""

    reason: str
    detail: str = ""
    source: str | None = None
    provenance: Provenance | None = None
    kind: Literal["rejection"] = "rejection"


@dataclass(slots=True)
class Counters:
    """Counts by reason, in the style of scrapy's stats: every drop is counted."""

    counts: dict[str, int] = field(default_factory=dict)

    def inc(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def merge(self, other: Counters) -> None:
        for key, n in other.counts.items():
            self.inc(key, n)

    def __getitem__(self, key: str) -> int:
        return self.counts.get(key, 0)


Record = ListingObservation | VendorObservation | FeedbackObservation | Rejection


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def record_to_dict(record: Record) -> dict[str, Any]:
    """A JSON-ready dict of a record (``kind`` first), as ``dnmwatch parse`` prints it."""
    raw = dataclasses.asdict(record)
    out: dict[str, Any] = {"kind": raw.pop("kind")}
    out.update({k: _jsonable(v) for k, v in raw.items()})
    return out
