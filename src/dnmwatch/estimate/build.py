"""``dnmwatch build``: raw observations -> listings, vendors, feedback, sales and the rest.

Why a full, deterministic rebuild rather than an append: every derived row depends on *all*
sightings (a later crawl narrows a feedback's date, changes the nearest price, links a vendor),
so patching rows in place would make the result depend on the order builds ran in. Instead the
build

1. fingerprints its inputs (row count and an order-independent hash of every raw table, the
   rates, crawls and pages, plus the build options and :data:`BUILD_VERSION`);
2. does nothing when the fingerprint equals the last build's (``build_state``): running it twice
   changes nothing, not even a timestamp;
3. otherwise recomputes, from scratch and deterministically (sorted inputs, hash-based ids),
   the per-market rows of only the markets whose own fingerprint changed (their raw rows, or
   the rates, options or version, which invalidate every market; see
   :mod:`dnmwatch.estimate.build_parts`), then the cheap cross-market tables, and replaces them
   in one transaction: readers see the old or the new result, never half of each. The result
   is identical to a full rebuild (``force``), which stays available.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dnmwatch.adapters.registry import load_registry
from dnmwatch.consolidate.feedback import DATE_TOLERANCE, deduplicate, load_sightings
from dnmwatch.consolidate.lifecycle import CLOSE_AFTER_FAILED, lifecycle_rows
from dnmwatch.consolidate.listings import (
    VendorFacts,
    listing_row,
    load_histories,
    load_vendors,
    price_history_rows,
    vendor_row,
)
from dnmwatch.consolidate.vendors import link_vendors
from dnmwatch.errors import ConfigError
from dnmwatch.estimate.build_parts import facts_from_json, facts_to_json, market_fingerprints
from dnmwatch.estimate.sales import (
    HOLDING_FACTOR,
    PURCHASE_LAG_DAYS,
    PURCHASE_WINDOW_DAYS,
    SalesOptions,
    estimate_sales,
)
from dnmwatch.normalise.rates import RateTable
from dnmwatch.normalise.rates_store import load_rate_table
from dnmwatch.records import Counters
from dnmwatch.store import Store

BUILD_VERSION = "8"
"""Bumped whenever a rule changes, so that the next build recomputes everything."""
INPUT_TABLES = ("listing_observations", "vendor_observations", "feedback_observations",
                "rates", "crawls", "pages")
DERIVED_TABLES = ("listings", "listing_prices", "vendors", "feedback", "sales",
                  "sales_exclusions", "vendor_links", "market_lifecycle")
MARKET_DERIVED = ("listings", "listing_prices", "feedback", "sales", "sales_exclusions")
"""Derived tables whose rows depend on one market only: rebuilt market by market."""
STEPS = ("fingerprint", "listings", "vendors", "feedback", "vendor links", "sales",
         "lifecycle", "write")


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Every knob of the build (all documented in docs/estimation.md)."""

    feedback_probability: float | None = None
    holding_factor: float = HOLDING_FACTOR
    purchase_lag_days: float = PURCHASE_LAG_DAYS
    purchase_window_days: int = PURCHASE_WINDOW_DAYS
    close_after_failed: int = CLOSE_AFTER_FAILED
    date_tolerance_s: float = DATE_TOLERANCE.total_seconds()


@dataclass(slots=True)
class BuildResult:
    skipped: bool
    fingerprint: str
    rows: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def exclusions(self) -> dict[str, int]:
        """Excluded feedback and rejected sightings, by reason."""
        out: dict[str, int] = {}
        for key, n in sorted(self.counters.items()):
            if key.startswith("excluded:"):
                out[key.removeprefix("excluded:")] = n
            elif key.startswith("feedback:rejected:"):
                out[key.removeprefix("feedback:rejected:")] = n
        return out


def table_checksum(store: Store, table: str) -> tuple[int, int]:
    """Row count and an order-independent hash of every column of ``table``."""
    cols = ", ".join(f'"{c}"' for c in store.columns(table))
    row = store.fetchall(
        f'SELECT count(*), coalesce(sum(hash({cols})::HUGEINT) % 18446744073709551557, 0) '  # noqa: S608 - names come from the catalog
        f'FROM "{table}"')[0]
    return int(row[0]), int(row[1])


def input_fingerprint(store: Store, options: BuildOptions) -> str:
    parts = [BUILD_VERSION, json.dumps(asdict(options), sort_keys=True)]
    parts += [f"{t}:{table_checksum(store, t)}" for t in INPUT_TABLES]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _state(store: Store, key: str) -> str | None:
    rows = store.fetchall("SELECT value FROM build_state WHERE key = ?", [key])
    return str(rows[0][0]) if rows else None


def last_result(store: Store) -> BuildResult | None:
    """The summary the last build stored (``None`` before the first build)."""
    fpr, summary = _state(store, "input_fingerprint"), _state(store, "summary")
    if fpr is None or summary is None:
        return None
    data = json.loads(summary)
    return BuildResult(True, fpr, dict(data["rows"]), dict(data["counters"]))


def build(store: Store, options: BuildOptions | None = None, *, force: bool = False,
          progress: Callable[[str], None] | None = None) -> BuildResult:
    """Consolidate and estimate; a no-op when nothing changed since the last build, and a
    rebuild of only the markets whose inputs changed otherwise (all of them with ``force``)."""
    opts = options or BuildOptions()
    step = progress or (lambda name: None)
    step("fingerprint")
    fpr = input_fingerprint(store, opts)
    previous = last_result(store)
    if previous is not None and previous.fingerprint == fpr and not force:
        return previous
    global_part = "\n".join([BUILD_VERSION, json.dumps(asdict(opts), sort_keys=True),
                             f"rates:{table_checksum(store, 'rates')}"])
    fingerprints = market_fingerprints(store, global_part)
    stored = _market_state(store)
    full = force or previous is None or _state(store, "build_version") != BUILD_VERSION
    rebuild = sorted(m for m, f in fingerprints.items()
                     if full or stored.get(m, {}).get("fingerprint") != f)
    gone = sorted(set(stored) - set(fingerprints))
    conn = store.connection
    rates = load_rate_table(conn)
    tables: dict[str, list[dict[str, Any]]] = {t: [] for t in MARKET_DERIVED}
    rejected: list[dict[str, Any]] = []
    facts: dict[tuple[str, str], VendorFacts] = {}
    per_market: dict[str, dict[str, str]] = {}
    for market in rebuild:
        counters = Counters()
        market_facts = _build_market(conn, market, opts, rates, counters, tables, rejected,
                                     step)
        facts.update(market_facts)
        per_market[market] = {"fingerprint": fingerprints[market],
                              "counters": json.dumps(counters.counts, sort_keys=True),
                              "facts": facts_to_json(list(market_facts.values()))}
    for market, state in stored.items():
        if market not in per_market and market not in gone:
            facts.update(facts_from_json(state["facts"]))
    facts = dict(sorted(facts.items()))
    step("vendor links")
    links = link_vendors(facts)
    actor_of = {(r["market"], r["vendor_id"]): str(r["actor_id"]) for r in links}
    step("lifecycle")
    lifecycle = lifecycle_rows(conn, facts, actor_of, opts.close_after_failed)
    tables["vendors"] = [vendor_row(f, actor_of.get(k)) for k, f in facts.items()]
    tables["vendor_links"] = links
    tables["market_lifecycle"] = lifecycle
    step("write")
    counts: dict[str, int] = {}
    for market in fingerprints:
        state = per_market.get(market) or stored[market]
        for key, n in json.loads(state["counters"]).items():
            counts[key] = counts.get(key, 0) + int(n)
    result = BuildResult(False, fpr, {}, dict(sorted(counts.items())))
    _write(store, tables, rejected, None if full else rebuild + gone, per_market, gone,
           result)
    return result


def _build_market(conn: Any, market: str, opts: BuildOptions, rates: RateTable,
                  counters: Counters, tables: dict[str, list[dict[str, Any]]],
                  rejected: list[dict[str, Any]],
                  step: Callable[[str], None]) -> dict[tuple[str, str], VendorFacts]:
    """One market's listings, feedback and sales (appended to ``tables``); its vendor facts."""
    step("listings")
    histories = load_histories(conn, market)
    step("vendors")
    facts = load_vendors(conn, histories, market)
    step("feedback")
    clusters = deduplicate(load_sightings(conn, counters, rejected, market), counters,
                           timedelta(seconds=opts.date_tolerance_s))
    for c in clusters:
        if c.vendor_id is None and c.first.listing_id is not None:
            hist = histories.get((c.first.market, c.first.listing_id))
            c.vendor_id = hist.vendor_id if hist is not None else None
    step("sales")
    origins = {k: f.origin for k, f in facts.items()}
    sales = estimate_sales(clusters, histories, rates, origins,
                           SalesOptions(opts.feedback_probability, opts.holding_factor,
                                        opts.purchase_lag_days, opts.purchase_window_days))
    counters.merge(sales.counters)
    tables["listings"] += [listing_row(h) for _, h in sorted(histories.items())]
    tables["listing_prices"] += [r for _, h in sorted(histories.items())
                                 for r in price_history_rows(h)]
    tables["feedback"] += sorted((c.row() for c in clusters),
                                 key=lambda r: (r["market"], r["feedback_id"]))
    tables["sales"] += sales.rows
    tables["sales_exclusions"] += sales.exclusions
    return facts


def _market_state(store: Store) -> dict[str, dict[str, str]]:
    """What the last build stored per market: fingerprint, counters and vendor facts."""
    out: dict[str, dict[str, str]] = {}
    for key, value in store.fetchall(
            "SELECT key, value FROM build_state WHERE key LIKE 'market:%'"):
        _, part, market = str(key).split(":", 2)
        out.setdefault(market, {})[part] = str(value)
    return {m: v for m, v in out.items() if {"fingerprint", "counters", "facts"} <= set(v)}


def source_types() -> dict[str, str]:
    """Adapter name -> its ``source_type`` (marketplace, shop, forum, channel), for every
    built-in adapter and installed plugin. A plugin that fails to load must not stop a build
    that never runs it, so the built-in adapters alone answer then."""
    try:
        registry = load_registry()
    except ConfigError:
        registry = load_registry(plugins=False)
    return {name: registry.get(name).source_type for name in registry.names()}


def _fill_source_types(store: Store) -> None:
    """``markets.source_type`` from each market's adapter; NULL for an adapter this install
    does not know (an imported store, a removed plugin): unknown is not "marketplace"."""
    kinds = sorted(source_types().items())
    store.execute("UPDATE markets SET source_type = NULL")
    store.execute(
        "UPDATE markets SET source_type = k.kind FROM (SELECT unnest(?::VARCHAR[]) AS adapter, "
        "unnest(?::VARCHAR[]) AS kind) AS k WHERE markets.adapter = k.adapter",
        [[a for a, _ in kinds], [k for _, k in kinds]])


def _write(store: Store, tables: dict[str, list[dict[str, Any]]],
           rejected: list[dict[str, Any]], markets: list[str] | None,
           per_market: dict[str, dict[str, str]], gone: list[str],
           result: BuildResult) -> None:
    """Replace the rebuilt markets' rows (every row when ``markets`` is ``None``) and every
    cross-market table, in one transaction."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.transaction():
        scope = "" if markets is None else " AND market IN (SELECT unnest(?))"
        params = [] if markets is None else [markets]
        for table in DERIVED_TABLES:
            if table in MARKET_DERIVED:
                store.execute(f'DELETE FROM "{table}" WHERE TRUE{scope}', params)  # noqa: S608 - a fixed table name
            else:
                store.execute(f'DELETE FROM "{table}"')  # noqa: S608 - a fixed table name
            store.insert_rows(table, tables[table])
        store.execute(f"DELETE FROM rejections WHERE stage = 'consolidate'{scope}",  # noqa: S608 - fixed text
                      params)
        store.insert_rows("rejections", rejected)
        lifecycle = tables["market_lifecycle"]
        known = dict(store.fetchall("SELECT market, adapter FROM markets"))
        adapters = dict(store.fetchall(
            "SELECT market, min(adapter) FROM listing_observations GROUP BY market"))
        store.upsert("markets", [
            {"market": r["market"], "adapter": known.get(r["market"])
             or adapters.get(r["market"]) or "unknown",
             "first_seen": r["first_seen"], "last_seen": r["last_seen"]}
            for r in lifecycle if r["first_seen"] is not None])
        _fill_source_types(store)
        if markets is None:
            store.execute("DELETE FROM build_state WHERE key LIKE 'market:%'")
        for market in gone:
            store.execute("DELETE FROM build_state WHERE key LIKE ?", [f"market:%:{market}"])
        store.upsert("build_state", [
            {"key": f"market:{part}:{market}", "value": value, "updated_at": now}
            for market, state in sorted(per_market.items()) for part, value in state.items()])
        result.rows.update({t: int(store.fetchall(f'SELECT count(*) FROM "{t}"')[0][0])  # noqa: S608 - a fixed table name
                            for t in DERIVED_TABLES})
        summary = json.dumps({"rows": result.rows, "counters": result.counters},
                             sort_keys=True)
        store.upsert("build_state", [
            {"key": "input_fingerprint", "value": result.fingerprint, "updated_at": now},
            {"key": "summary", "value": summary, "updated_at": now},
            {"key": "build_version", "value": BUILD_VERSION, "updated_at": now},
        ])
