"""Turning the generator's objects and arrays into Arrow tables of exactly the truth schemas.

Each builder sorts its rows by the table's key and casts to :data:`TRUTH_SCHEMAS`, so the
column order and types are the contract's whatever the builder did on the way. Large tables
(transactions, feedback) are built column-wise with ``take`` from per-listing arrays.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from dnmwatch.sim.actors import Account
from dnmwatch.sim.demand import Sales
from dnmwatch.sim.feedback import FeedbackRows
from dnmwatch.sim.listings import Listing
from dnmwatch.sim.model import TRUTH_SCHEMAS, SimConfig
from dnmwatch.sim.rates import CURRENCIES, Rates

_EPOCH = date(1970, 1, 1)


def epoch_day(d: date) -> int:
    """Days since 1970-01-01 (what ``date32`` stores)."""
    return (d - _EPOCH).days


def _cast(name: str, columns: dict[str, Any]) -> pa.Table:
    schema = TRUTH_SCHEMAS[name]
    arrays = []
    for f in schema:
        col = columns[f.name]
        if isinstance(col, (pa.Array, pa.ChunkedArray)):
            arrays.append(col.cast(f.type))
        elif f.type == pa.date32():
            arrays.append(pa.array(col, type=pa.int32()).cast(pa.date32()))
        else:
            arrays.append(pa.array(col, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _days(config: SimConfig, values: list[int | None]) -> list[int | None]:
    base = epoch_day(config.start)
    return [None if v is None else base + v for v in values]


def markets_table(config: SimConfig) -> pa.Table:
    ms = sorted(config.markets, key=lambda m: m.name)
    return _cast("markets", {
        "market": [m.name for m in ms], "engine": [m.engine for m in ms],
        "host": [m.host for m in ms], "launch_day": _days(config, [m.launch_day for m in ms]),
        "end_day": _days(config, [m.end_day for m in ms]),
        "end_kind": [m.end_kind for m in ms],
        "feedback_shows_price": [m.feedback_shows_price for m in ms],
    })


def vendors_table(config: SimConfig, accounts: list[Account]) -> pa.Table:
    accs = sorted(accounts, key=lambda a: (a.market, a.handle))
    return _cast("vendors", {
        "market": [a.market for a in accs], "vendor_handle": [a.handle for a in accs],
        "actor_id": [a.actor.actor_id for a in accs],
        "pgp_fingerprint": [a.fingerprint for a in accs],
        "country": [a.actor.country for a in accs], "ships_to": [a.actor.ships_to for a in accs],
        "join_day": _days(config, [a.join_day for a in accs]),
        "leave_day": _days(config, [a.leave_day for a in accs]),
        "migrated_from": [a.migrated_from for a in accs],
        "substances": [list(a.actor.substances) for a in accs],
    })


def listing_tables(config: SimConfig, listings: list[Listing]) -> dict[str, pa.Table]:
    """``listings``, ``listing_tiers`` and ``price_changes`` (listings are pre-sorted)."""
    ls = listings
    main = _cast("listings", {
        "market": [x.market for x in ls], "listing_id": [x.listing_id for x in ls],
        "vendor_handle": [x.account.handle for x in ls],
        "actor_id": [x.account.actor.actor_id for x in ls], "title": [x.title for x in ls],
        "kind": [x.kind for x in ls], "substance": [x.substance for x in ls],
        "category": [x.category for x in ls], "form": [x.form for x in ls],
        "market_category": [x.market_category for x in ls], "mass_g": [x.mass_g for x in ls],
        "count": [x.count for x in ls], "dose_value": [x.dose_value for x in ls],
        "dose_unit": [x.dose_unit for x in ls], "volume_ml": [None for _ in ls],
        "purity_pct": [x.purity_pct for x in ls], "unit": [x.unit for x in ls],
        "unit_price_eur": [x.unit_price_eur for x in ls], "currency": [x.currency for x in ls],
        "ships_from": [x.account.actor.country for x in ls],
        "ships_to": [x.account.actor.ships_to for x in ls],
        "start_day": _days(config, [x.start for x in ls]),
        "end_day": _days(config, [x.end_day for x in ls]),
        "holding_price": [x.holding for x in ls], "title_language": [x.language for x in ls],
    })
    tiers = [(x, i, t) for x in ls for i, t in enumerate(x.tiers)]
    tier_table = _cast("listing_tiers", {
        "market": [x.market for x, _, _ in tiers],
        "listing_id": [x.listing_id for x, _, _ in tiers],
        "tier": [i for _, i, _ in tiers], "label": [t.label for _, _, t in tiers],
        "mass_g": [t.mass_g for _, _, t in tiers], "count": [t.count for _, _, t in tiers],
        "multiplier": [t.multiplier for _, _, t in tiers],
    })
    changes = [(x, d, p) for x in ls for d, p in x.changes]
    change_table = _cast("price_changes", {
        "market": [x.market for x, _, _ in changes],
        "listing_id": [x.listing_id for x, _, _ in changes],
        "day": _days(config, [d for _, d, _ in changes]), "price": [p for _, _, p in changes],
        "currency": [x.currency for x, _, _ in changes],
    })
    return {"listings": main, "listing_tiers": tier_table, "price_changes": change_table}


def _per_listing(values: list[Any], index: np.ndarray, typ: pa.DataType) -> pa.Array:
    return pa.array(values, type=typ).take(pa.array(index))


def transactions_table(config: SimConfig, listings: list[Listing], sales: Sales) -> pa.Table:
    li = sales.listing
    n = len(li)
    mass = pa.array(sales.mass_g, mask=np.isnan(sales.mass_g), type=pa.float64())
    count = pa.array(sales.count, mask=sales.count < 0, type=pa.int64())
    return _cast("transactions", {
        "tx_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "market": _per_listing([x.market for x in listings], li, pa.string()),
        "listing_id": _per_listing([x.listing_id for x in listings], li, pa.string()),
        "vendor_handle": _per_listing([x.account.handle for x in listings], li, pa.string()),
        "actor_id": _per_listing([x.account.actor.actor_id for x in listings], li, pa.string()),
        "day": pa.array((sales.day + epoch_day(config.start)).astype(np.int32)),
        "tier": pa.array(sales.tier.astype(np.int32)),
        "substance": _per_listing([x.substance for x in listings], li, pa.string()),
        "category": _per_listing([x.category for x in listings], li, pa.string()),
        "mass_g": mass, "count": count, "price": pa.array(sales.price),
        "currency": _per_listing([x.currency for x in listings], li, pa.string()),
        "price_eur": pa.array(sales.price_eur), "feedback_left": pa.array(sales.feedback_left),
    })


def feedback_table(listings: list[Listing], sales: Sales, fb: FeedbackRows) -> pa.Table:
    li = sales.listing[fb.tx]
    return _cast("feedback", {
        "feedback_id": pa.array(np.arange(1, len(fb.tx) + 1, dtype=np.int64)),
        "tx_id": pa.array((fb.tx + 1).astype(np.int64)),
        "market": _per_listing([x.market for x in listings], li, pa.string()),
        "listing_id": _per_listing([x.listing_id for x in listings], li, pa.string()),
        "vendor_handle": _per_listing([x.account.handle for x in listings], li, pa.string()),
        "posted_at": pa.array(fb.posted_at, type=pa.timestamp("s", tz="UTC")),
        "rating": pa.array(fb.rating),
        "text": _per_listing(fb.text, fb.text_idx, pa.string()),
        "language": _per_listing(fb.language, fb.lang_idx, pa.string()),
        "buyer_masked": _per_listing(fb.buyers, fb.buyer_idx, pa.string()),
    })


def rates_table(config: SimConfig, rates: Rates) -> pa.Table:
    days = np.arange(config.days)
    base = epoch_day(config.start)
    day_col = np.repeat(days + base, 2).astype(np.int32)
    btc, usd = CURRENCIES.index("BTC"), CURRENCIES.index("USD")
    values = np.column_stack([rates.table[btc], rates.table[usd]]).ravel()
    return _cast("rates", {
        "day": pa.array(day_col), "currency": ["BTC", "USD"] * config.days,
        "eur_per_unit": pa.array(values),
    })


def events_table(config: SimConfig, migrations: list[tuple[int, str, str, str]]) -> pa.Table:
    rows: list[tuple[int, str | None, str, str]] = list(migrations)
    for m in config.markets:
        if m.launch_day < config.days:
            rows.append((m.launch_day, m.name, "launch", f"{m.name} opens ({m.engine} engine)"))
        if m.end_day is not None and m.end_kind is not None and m.end_day < config.days:
            what = "seized by law enforcement" if m.end_kind == "takedown" else "exit scam"
            rows.append((m.end_day, m.name, m.end_kind, f"{m.name} gone: {what}"))
    for s in config.shocks:
        if s.start_day < config.days:
            until = f" until day {s.end_day}" if s.end_day is not None else ""
            rows.append((s.start_day, None, "demand_shock",
                         f"{s.substance} demand x{s.factor:g}{until}"))
    rows.sort(key=lambda r: (r[0], r[1] or "", r[2], r[3]))
    return _cast("events", {
        "day": _days(config, [r[0] for r in rows]), "market": [r[1] for r in rows],
        "kind": [r[2] for r in rows], "detail": [r[3] for r in rows],
    })
