"""Records -> rows of the raw observation tables, the form ``dnmwatch build`` reads.

Extraction writes these tables; this module gives every producer (the extract command, the
dataset readers, the accuracy tests) one way to do it, so that ``build`` can rely on the
details: ``observed_at`` is the capture time (naive UTC), ``tiers`` is a JSON list of
``{"label", "price", "currency"}`` objects, ``position`` is the order of a feedback row within
its page (0 = first shown), ``item`` is the option bought as the row shows it, and buyer names
have no column at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Record,
    Rejection,
    VendorObservation,
)

RAW_TABLES = ("listing_observations", "vendor_observations", "feedback_observations")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def tiers_json(record: ListingObservation) -> str | None:
    """The quantity tiers of a listing as the JSON text stored in ``listing_observations``."""
    if not record.tiers:
        return None
    return json.dumps(
        [{"label": t.label, "price": t.price, "currency": t.currency} for t in record.tiers],
        ensure_ascii=False,
    )


def observation_rows(
    records: Iterable[Record],
    *,
    crawl_id: str | None,
    observed_at: datetime | None = None,
    adapter: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Rows per raw table (keys of :data:`RAW_TABLES`) for the records of one crawl.

    ``observed_at`` defaults to each record's provenance capture time. Rejections are not
    observations and are skipped (the extract stage counts them in ``rejections``).
    """
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in RAW_TABLES}
    position: dict[str, int] = {}
    for record in records:
        if isinstance(record, Rejection):
            continue
        prov = record.provenance
        when = _utc(observed_at or (prov.captured_at if prov else None))
        if isinstance(record, FeedbackObservation):
            when = when or _utc(record.captured_at)
        if when is None:
            continue
        common = {
            "market": record.market,
            "crawl_id": crawl_id,
            "observed_at": when,
            "adapter": adapter,
            "source": prov.source if prov else "unknown",
            "source_offset": prov.offset if prov else None,
        }
        if isinstance(record, ListingObservation):
            out["listing_observations"].append({
                **common, "listing_id": record.listing_id, "title": record.title,
                "vendor_id": record.vendor_id, "price": record.price,
                "currency": record.currency, "ships_from": record.ships_from,
                "ships_to": record.ships_to, "category": record.category,
                "stock": record.stock, "sold": record.sold, "tiers": tiers_json(record),
                "delivery": record.delivery,
            })
        elif isinstance(record, VendorObservation):
            out["vendor_observations"].append({
                **common, "vendor_id": record.vendor_id,
                "pgp_fingerprint": record.pgp_fingerprint, "ships_from": record.ships_from,
                "sales": record.sales, "rating": record.rating,
                "member_since": record.member_since,
                "other_markets": json.dumps(list(record.other_markets), ensure_ascii=False),
            })
        else:
            page = prov.source if prov else "unknown"
            position[page] = position.get(page, -1) + 1
            out["feedback_observations"].append({
                **common, "listing_id": record.listing_id, "vendor_id": record.vendor_id,
                "rating": record.rating, "text": record.text, "posted_shown": record.posted,
                "price": record.price, "currency": record.currency,
                "position": position[page], "item": record.item,
            })
    return out
