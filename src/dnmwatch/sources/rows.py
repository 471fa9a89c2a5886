"""Records -> store rows, with the Arrow schema of each table extraction writes.

Why explicit schemas: a batch in which a column happens to be all ``None`` would otherwise get
Arrow's ``null`` type, and batches of one table must agree with each other and with the DuckDB
columns (migration v2). The columns and names here mirror ``store/migrations.py``; a change
there needs one here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from dnmwatch.privacy.scrub import scrub, scrub_title
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Provenance,
    Record,
    Rejection,
    VendorObservation,
)

_TS = pa.timestamp("us")
SCHEMAS: dict[str, Any] = {
    "listing_observations": pa.schema([
        ("market", pa.string()), ("listing_id", pa.string()), ("crawl_id", pa.string()),
        ("observed_at", _TS), ("title", pa.string()), ("vendor_id", pa.string()),
        ("price", pa.float64()), ("currency", pa.string()), ("ships_from", pa.string()),
        ("ships_to", pa.string()), ("category", pa.string()), ("stock", pa.int64()),
        ("sold", pa.int64()), ("tiers", pa.string()), ("adapter", pa.string()),
        ("source", pa.string()), ("source_offset", pa.int64()), ("delivery", pa.string())]),
    "vendor_observations": pa.schema([
        ("market", pa.string()), ("vendor_id", pa.string()), ("crawl_id", pa.string()),
        ("observed_at", _TS), ("pgp_fingerprint", pa.string()), ("ships_from", pa.string()),
        ("sales", pa.int64()), ("rating", pa.float64()), ("member_since", pa.string()),
        ("other_markets", pa.string()), ("adapter", pa.string()), ("source", pa.string()),
        ("source_offset", pa.int64())]),
    "feedback_observations": pa.schema([
        ("market", pa.string()), ("listing_id", pa.string()), ("vendor_id", pa.string()),
        ("crawl_id", pa.string()), ("observed_at", _TS), ("rating", pa.float64()),
        ("text", pa.string()), ("posted_shown", pa.string()), ("price", pa.float64()),
        ("currency", pa.string()), ("position", pa.int64()), ("adapter", pa.string()),
        ("source", pa.string()), ("source_offset", pa.int64()), ("item", pa.string())]),
    "pages": pa.schema([
        ("source", pa.string()), ("source_offset", pa.int64()), ("market", pa.string()),
        ("crawl_id", pa.string()), ("url", pa.string()), ("captured_at", _TS),
        ("page_type", pa.string()), ("adapter", pa.string()), ("records", pa.int64())]),
    "rejections": pa.schema([
        ("stage", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
        ("market", pa.string()), ("source", pa.string()), ("source_offset", pa.int64()),
        ("recorded_at", _TS)]),
}
"""Arrow schema of every table extraction writes, in the store's column order."""
TABLES: tuple[str, ...] = tuple(SCHEMAS)
KIND_TABLE: dict[str, str] = {"listing": "listing_observations", "vendor": "vendor_observations",
                              "feedback": "feedback_observations", "rejection": "rejections"}


SCRUB_STAGE = "scrub"
"""``rejections.stage`` of the rows that count scrubbed items (one row per item, reason =
kind, detail = field), so the report's count by stage and reason shows what was removed."""


def scrub_record(record: Record) -> tuple[Record, dict[str, dict[str, int]]]:
    """``record`` with contact details removed from its free text, and the counts by field
    and kind. Feedback text is scrubbed of everything :mod:`dnmwatch.privacy.scrub` knows;
    listing titles and delivery text of contact details only (they feed normalisation, see
    :data:`~dnmwatch.privacy.scrub.CONTACT_KINDS`). Other records carry no free text."""
    if isinstance(record, FeedbackObservation) and record.text:
        done = scrub(record.text)
        if done.total:
            return replace(record, text=done.text), {"feedback.text": done.counts}
    elif isinstance(record, ListingObservation):
        counts: dict[str, dict[str, int]] = {}
        title = scrub_title(record.title) if record.title else None
        if title is not None and title.total:
            record = replace(record, title=title.text)
            counts["listing.title"] = title.counts
        delivery = scrub_title(record.delivery) if record.delivery else None
        if delivery is not None and delivery.total:  # a channel's delivery lines: free text
            record = replace(record, delivery=delivery.text)
            counts["listing.delivery"] = delivery.counts
        return record, counts
    return record, {}


def scrub_rows(counts: Mapping[str, Mapping[str, int]], *, market: str | None,
               prov: Provenance, recorded_at: datetime) -> list[dict[str, Any]]:
    """The ``rejections`` rows that count what :func:`scrub_record` removed (no content)."""
    return [{"stage": SCRUB_STAGE, "reason": kind, "detail": where, "market": market,
             "source": prov.source, "source_offset": prov.offset,
             "recorded_at": utc_naive(recorded_at)}
            for where, kinds in sorted(counts.items()) for kind, n in sorted(kinds.items())
            for _ in range(n)]


VENDOR_PAGE_PATH = "/[vendor profile]"


def profile_url(url: str) -> str:
    """The ``pages.url`` of a vendor's profile: the site only. Profile addresses carry the
    handle in clear (``/u/DrugLord``, ``?user=DrugLord``); the page itself stays findable
    through ``source`` and ``source_offset`` in the WARC file while that is kept."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return VENDOR_PAGE_PATH
    return f"{parts.scheme}://{parts.netloc}{VENDOR_PAGE_PATH}" if parts.netloc \
        else VENDOR_PAGE_PATH


def utc_naive(moment: datetime | None) -> datetime | None:
    """Columns are TIMESTAMP holding UTC without a zone."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _where(record: Record, fallback: Provenance) -> Provenance:
    return record.provenance or fallback


def record_row(record: Record, *, adapter: str, market: str | None, crawl_id: str | None,
               fallback: Provenance, position: int, recorded_at: datetime) -> dict[str, Any]:
    """The row of ``record`` for its table (:data:`KIND_TABLE`); ``fallback`` is the provenance
    of the page or row it came from, used when the record carries none."""
    prov = _where(record, fallback)
    common = {"source": prov.source, "source_offset": prov.offset}
    observed = utc_naive(prov.captured_at or fallback.captured_at)
    if isinstance(record, ListingObservation):
        # the format consolidate.listings reads (and consolidate.observation_rows writes)
        tiers = json.dumps([{"label": t.label, "price": t.price, "currency": t.currency}
                            for t in record.tiers],
                           ensure_ascii=False) if record.tiers else None
        return {"market": record.market, "listing_id": record.listing_id, "crawl_id": crawl_id,
                "observed_at": observed, "title": record.title, "vendor_id": record.vendor_id,
                "price": record.price, "currency": record.currency,
                "ships_from": record.ships_from, "ships_to": record.ships_to,
                "category": record.category, "stock": record.stock, "sold": record.sold,
                "tiers": tiers, "adapter": adapter, **common, "delivery": record.delivery}
    if isinstance(record, VendorObservation):
        others = json.dumps(list(record.other_markets), ensure_ascii=False) \
            if record.other_markets else None
        return {"market": record.market, "vendor_id": record.vendor_id, "crawl_id": crawl_id,
                "observed_at": observed, "pgp_fingerprint": record.pgp_fingerprint,
                "ships_from": record.ships_from, "sales": record.sales, "rating": record.rating,
                "member_since": record.member_since, "other_markets": others,
                "adapter": adapter, **common}
    if isinstance(record, FeedbackObservation):
        return {"market": record.market, "listing_id": record.listing_id,
                "vendor_id": record.vendor_id, "crawl_id": crawl_id,
                "observed_at": utc_naive(record.captured_at) or observed,
                "rating": record.rating, "text": record.text, "posted_shown": record.posted,
                "price": record.price, "currency": record.currency, "position": position,
                "adapter": adapter, **common, "item": record.item}
    return rejection_row(record, market=market, fallback=fallback, recorded_at=recorded_at)


def rejection_row(record: Rejection, *, market: str | None, fallback: Provenance,
                  recorded_at: datetime, stage: str = "extract") -> dict[str, Any]:
    prov = _where(record, fallback)
    return {"stage": stage, "reason": record.reason, "detail": record.detail or None,
            "market": market, "source": prov.source, "source_offset": prov.offset,
            "recorded_at": utc_naive(recorded_at)}


def page_row(*, source: str, offset: int | None, market: str | None, crawl_id: str | None,
             url: str, captured_at: datetime, page_type: str, adapter: str | None,
             records: int) -> dict[str, Any]:
    return {"source": source, "source_offset": offset, "market": market, "crawl_id": crawl_id,
            "url": url, "captured_at": utc_naive(captured_at), "page_type": page_type,
            "adapter": adapter, "records": records}


def to_table(table: str, rows: Sequence[Mapping[str, Any]]) -> Any:
    """An Arrow table of ``rows`` with the schema of ``table``."""
    schema = SCHEMAS[table]
    return pa.table({name: [row.get(name) for row in rows] for name in schema.names},
                    schema=schema)
