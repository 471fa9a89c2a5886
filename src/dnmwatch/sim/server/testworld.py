"""A small hand-built World with known shapes, for exact tests of the servers.

The generator's worlds are realistic but their counts are whatever the seed gives; tests of
pagination, visibility over time and escaping need a world whose shape is chosen: so many
listings in a category, so much feedback on one listing, a listing that starts on a known day,
a title full of HTML metacharacters. Every table of :data:`TRUTH_SCHEMAS` is filled, so the
servers cannot tell this world from a generated one. Tests still derive expected values from the
tables, not from these constants alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from dnmwatch.sim.model import TRUTH_SCHEMAS, MarketSpec, SimConfig, World, _onion

START = date(2020, 1, 1)
DAYS = 40
CANNABIS_LISTINGS = 23
FEEDBACK_ON_FIRST = 37
LATE_LISTING_DAY = 10
HOSTILE_TITLE = "<script>alert(\"x\")</script> & 'Speed' 50/50 \U0001f680 <b>bold</b>"
MARKETS = (
    MarketSpec("silkway", "table", _onion("silkway"), launch_day=0, end_day=20,
               end_kind="takedown", feedback_shows_price=True),
    MarketSpec("bazaar", "cards", _onion("bazaar"), launch_day=0, end_day=30, end_kind="exit"),
    MarketSpec("gidra", "minimal", _onion("gidra"), launch_day=3),
)
_CURRENCY = {"silkway": "USD", "bazaar": "EUR", "gidra": "BTC"}
_ACTORS = (("greenleaf", "A1", "NL"), ("nordicsnow", "A2", "SE"), ("h&<x>'\"", "A3", "DE"))


def _fpr(actor: str) -> str:
    import hashlib

    return hashlib.sha1(actor.encode()).hexdigest().upper()  # noqa: S324 - not security


def _d(day: int | None) -> date | None:
    return None if day is None else START + timedelta(days=day)


def first_listing(market: str) -> str:
    """The id of the listing with :data:`FEEDBACK_ON_FIRST` feedback on ``market``."""
    return f"{market[:2]}1000"


def late_listing(market: str) -> str:
    """The id of the listing that starts on :data:`LATE_LISTING_DAY`."""
    return f"{market[:2]}9000"


def hostile_listing(market: str) -> str:
    return f"{market[:2]}6660"


def handmade_world() -> World:
    """The world; rows are built per market with the same shape on every market."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TRUTH_SCHEMAS}
    tx_id = 0
    for spec in MARKETS:
        m, cur = spec.name, _CURRENCY[spec.name]
        rows["markets"].append({
            "market": m, "engine": spec.engine, "host": spec.host,
            "launch_day": _d(spec.launch_day),
            "end_day": _d(spec.end_day), "end_kind": spec.end_kind,
            "feedback_shows_price": spec.feedback_shows_price})
        for handle, actor, country in _ACTORS:
            rows["vendors"].append({
                "market": m, "vendor_handle": handle, "actor_id": actor,
                "pgp_fingerprint": _fpr(actor), "country": country, "ships_to": "EU,GB",
                "join_day": _d(spec.launch_day), "leave_day": None, "migrated_from": None,
                "substances": ["cannabis"]})
        listings: list[tuple[str, str, str, str, int]] = [
            (f"{m[:2]}{1000 + i}", "greenleaf", f"Amnesia Haze {i + 1}g #{i} top shelf",
             "Cannabis", spec.launch_day) for i in range(CANNABIS_LISTINGS)]
        listings.append((hostile_listing(m), _ACTORS[2][0], HOSTILE_TITLE, "Stimulants",
                         spec.launch_day))
        listings.append((late_listing(m), "nordicsnow", "Cocaine 1g 90% fishscale", "Stimulants",
                         LATE_LISTING_DAY))
        for lid, handle, title, cat, start in listings:
            actor = next(a for h, a, _ in _ACTORS if h == handle)
            rows["listings"].append({
                "market": m, "listing_id": lid, "vendor_handle": handle, "actor_id": actor,
                "title": title, "kind": "drug", "substance": "cannabis", "category": "cannabis",
                "form": "herb", "market_category": cat, "mass_g": 1.0, "count": None,
                "dose_value": None, "dose_unit": None, "volume_ml": None, "purity_pct": None,
                "unit": "g", "unit_price_eur": 10.0, "currency": cur, "ships_from": "NL",
                "ships_to": "EU", "start_day": _d(start), "end_day": None,
                "holding_price": False})
            base = 0.001 if cur == "BTC" else 10.0
            rows["listing_tiers"] += [
                {"market": m, "listing_id": lid, "tier": 0, "label": "1 g", "mass_g": 1.0,
                 "count": None, "multiplier": 1.0},
                {"market": m, "listing_id": lid, "tier": 1, "label": "5 g", "mass_g": 5.0,
                 "count": None, "multiplier": 4.5}]
            rows["price_changes"].append({"market": m, "listing_id": lid, "day": _d(start),
                                          "price": base, "currency": cur})
            if lid == first_listing(m):
                rows["price_changes"].append({"market": m, "listing_id": lid,
                                              "day": _d(spec.launch_day + 8),
                                              "price": base * 1.2, "currency": cur})
        for i in range(FEEDBACK_ON_FIRST + 5):
            tx_id += 1
            day = spec.launch_day + i // 2
            left = i < FEEDBACK_ON_FIRST
            rows["transactions"].append({
                "tx_id": tx_id, "market": m, "listing_id": first_listing(m),
                "vendor_handle": "greenleaf", "actor_id": "A1", "day": _d(day), "tier": 0,
                "substance": "cannabis", "category": "cannabis", "mass_g": 1.0, "count": None,
                "price": 10.0, "currency": cur, "price_eur": 9.0 + i, "feedback_left": left})
            if left:
                posted = datetime.combine(_d(day) or START, datetime.min.time(), tzinfo=UTC)
                rows["feedback"].append({
                    "feedback_id": tx_id, "tx_id": tx_id, "market": m,
                    "listing_id": first_listing(m), "vendor_handle": "greenleaf",
                    "posted_at": posted + timedelta(hours=6 + (i % 2) * 8),
                    "rating": 5 - i % 3, "text": f"great stuff #{i} <fast> & stealthy",
                    "language": "en", "buyer_masked": "b***r"})
        rows["events"].append({"day": _d(spec.launch_day), "market": m, "kind": "launch",
                               "detail": ""})
    for day in range(DAYS):
        rows["rates"] += [{"day": _d(day), "currency": "BTC", "eur_per_unit": 7000.0 + 10 * day},
                          {"day": _d(day), "currency": "USD", "eur_per_unit": 0.9}]
    config = SimConfig(seed=7, scale="tiny", start=START, days=DAYS, vendors=3, markets=MARKETS)
    tables = {name: pa.Table.from_pylist(rows[name], schema=schema)
              for name, schema in TRUTH_SCHEMAS.items()}
    return World(config=config, tables=tables)
