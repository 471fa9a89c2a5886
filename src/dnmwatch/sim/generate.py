"""Generating a world: rates, vendors, listings, sales and feedback, as truth tables.

:func:`generate_world` is the one entry point. Every random draw comes from a stream named
after its part and seeded by ``config.seed`` (:mod:`dnmwatch.sim.rng`), nothing depends on
the clock or on Python's salted hashes, and every table is sorted by its key, so the same config
always yields the same tables and byte-identical Parquet files.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dnmwatch.errors import SimulationError
from dnmwatch.sim.actors import Account, make_actors, place_accounts
from dnmwatch.sim.catalog import sellable_substances
from dnmwatch.sim.demand import simulate_sales
from dnmwatch.sim.feedback import make_feedback
from dnmwatch.sim.listings import Listing, ListingFactory, assign_ids
from dnmwatch.sim.model import SimConfig, World
from dnmwatch.sim.rates import make_rates
from dnmwatch.sim.rng import stream
from dnmwatch.sim.tables import (
    epoch_day,
    events_table,
    feedback_table,
    listing_tables,
    markets_table,
    rates_table,
    transactions_table,
    vendors_table,
)

Progress = Callable[[str, float], None]


def _noop(stage: str, fraction: float) -> None:
    """Progress sink used when the caller passes none."""


def _all_listings(config: SimConfig, factory: ListingFactory,
                  accounts: list[Account]) -> list[Listing]:
    rng = stream(config.seed, "listing-counts")
    markets = {m.name: m for m in config.markets}
    out: list[Listing] = []
    for acc in accounts:
        n = 1 + int(rng.poisson(max(0.0, config.listings_per_vendor - 1.0)))
        out.extend(factory.listings_for(acc, markets[acc.market], n))
    assign_ids(config, out)
    out.sort(key=lambda x: (x.market, x.listing_id))
    return out


def generate_world(config: SimConfig, progress: Progress | None = None) -> World:
    """Generate the world of ``config``: every truth table of the contract, sorted by key."""
    config.validate()
    report = progress or _noop
    bands = {b.substance for b in config.price_bands}
    substances = sellable_substances(bands)
    if not substances:
        raise SimulationError("no price band matches a substance the simulator can sell; "
                              "bands given: " + ", ".join(sorted(bands)))
    report("rates", 0.0)
    rates = make_rates(config.seed, config.days)
    report("vendors", 0.1)
    actors = make_actors(config, substances)
    accounts, migration_events = place_accounts(config, actors)
    report("listings", 0.2)
    listings = _all_listings(config, ListingFactory(config, rates), accounts)
    report("sales", 0.4)
    sales = simulate_sales(config, listings, rates)
    report("feedback", 0.7)
    names = [m.name for m in config.markets]
    listing_market = np.array([names.index(x.market) for x in listings], dtype=np.int64)
    day0 = epoch_day(config.start)
    feedback = make_feedback(config, sales, listing_market, day0)
    report("tables", 0.85)
    tables = {"markets": markets_table(config), "vendors": vendors_table(config, accounts)}
    tables.update(listing_tables(config, listings))
    tables["transactions"] = transactions_table(config, listings, sales)
    tables["feedback"] = feedback_table(listings, sales, feedback)
    tables["rates"] = rates_table(config, rates)
    tables["events"] = events_table(config, migration_events)
    report("done", 1.0)
    return World(config=config, tables=tables)
