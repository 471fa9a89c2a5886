"""Simulator configuration, scale presets and the ground-truth contract.

Everything about the simulated world is decided here or derived from a :class:`SimConfig` by a
seeded generator, so the same config always yields the same world and byte-identical truth files.

Days are counted as integers from ``SimConfig.start`` (day 0) inside the simulator; the truth
files carry real dates (``date32``) and UTC timestamps so that researchers can query them in SQL
beside the store.

The truth tables (one Parquet file each, named ``<table>.parquet``) and their columns are listed
in :data:`TRUTH_SCHEMAS`. They are the contract between the generator, the web servers (which
render pages from them) and the accuracy checks of later stages. Add columns at the end; never
rename one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

import pyarrow as pa

from dnmwatch.errors import SimulationError

Scale = Literal["tiny", "small", "medium", "large"]
Engine = Literal["table", "cards", "minimal"]
EndKind = Literal["takedown", "exit"]

SCALES: tuple[str, ...] = ("tiny", "small", "medium", "large")
"""``tiny`` is for unit tests; ``small`` is the demo; ``large`` has at least 1,000,000 sales."""


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """One simulated market and its lifecycle."""

    name: str
    """Short lower-case name, also the market key in the truth and in the store."""
    engine: Engine
    """Which HTML/URL design serves it (see the server module)."""
    host: str
    """Its fake onion host name (56 base32 characters + ``.onion``)."""
    launch_day: int
    end_day: int | None = None
    """First day the market is gone (exclusive end), or ``None`` if it survives the run."""
    end_kind: EndKind | None = None
    feedback_shows_price: bool = False
    """Whether feedback rows show the price paid (as Dream, Apollon and Cryptonia did)."""
    growth_days: int = 60
    """Days from launch until demand reaches its plateau (logistic growth)."""
    locale: str = "en"
    """Main language of the market's users: a share of its titles and feedback use it."""


@dataclass(frozen=True, slots=True)
class DemandShock:
    """A step change in demand for one substance from a day on (e.g. a lockdown effect)."""

    substance: str
    start_day: int
    factor: float = 1.3
    end_day: int | None = None


@dataclass(frozen=True, slots=True)
class PriceBand:
    """Realistic retail price band for one substance, in EUR per gram or per unit.

    The band applies to the *base* quantity of a listing; larger quantities get a discount
    (``elasticity``), so wholesale listings fall below the band by design.
    """

    substance: str
    unit: Literal["g", "unit"]
    low_eur: float
    high_eur: float


DEFAULT_PRICE_BANDS: tuple[PriceBand, ...] = (
    PriceBand("cannabis", "g", 8.0, 15.0),
    PriceBand("cocaine", "g", 60.0, 100.0),
    PriceBand("amphetamine", "g", 8.0, 20.0),
    PriceBand("methamphetamine", "g", 40.0, 100.0),
    PriceBand("mdma", "unit", 4.0, 12.0),
    PriceBand("heroin", "g", 40.0, 90.0),
    PriceBand("ketamine", "g", 20.0, 40.0),
    PriceBand("lsd", "unit", 5.0, 12.0),
    PriceBand("psilocybin", "g", 6.0, 15.0),
    PriceBand("alprazolam", "unit", 1.0, 4.0),
    PriceBand("oxycodone", "unit", 10.0, 30.0),
    PriceBand("cathinone", "g", 10.0, 30.0),
    PriceBand("2c", "unit", 5.0, 12.0),
    PriceBand("diazepam", "unit", 0.5, 2.0),
    PriceBand("tramadol", "unit", 0.5, 2.5),
    PriceBand("anabolic_steroid", "unit", 0.3, 2.0),
)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything that determines a simulated world. Same config => same world, same bytes."""

    seed: int = 1
    scale: Scale = "small"
    start: date = date(2019, 9, 1)
    days: int = 120
    vendors: int = 60
    """Number of distinct actors (a vendor active on several markets counts once)."""
    listings_per_vendor: float = 5.0
    sales_per_listing_day: float = 0.35
    """Mean daily sales of an average listing at full market demand, before seasonality."""
    markets: tuple[MarketSpec, ...] = ()
    feedback_probability: float = 0.75
    feedback_max_delay_days: int = 14
    shocks: tuple[DemandShock, ...] = ()
    price_bands: tuple[PriceBand, ...] = DEFAULT_PRICE_BANDS
    quantity_elasticity: float = -0.15
    """Unit price ~ quantity ** elasticity (the literature reports about -0.1 to -0.2)."""
    placeholder_share: float = 0.04
    non_drug_share: float = 0.08
    multi_market_share: float = 0.2
    """Share of actors who sell on more than one market from the start."""
    migration_share: float = 0.7
    """Share of a closed market's vendors who move to a surviving market."""
    handle_change_share: float = 0.25
    """Share of migrating vendors who alter their handle slightly (most keep their PGP key)."""
    key_change_share: float = 0.1

    def day_date(self, day: int) -> date:
        """The calendar date of simulator day ``day``."""
        return self.start + timedelta(days=day)

    def validate(self) -> None:
        """Raise :class:`SimulationError` listing every inconsistency at once."""
        problems: list[str] = []
        if self.scale not in SCALES:
            problems.append(f"scale must be one of {', '.join(SCALES)}, not {self.scale!r}")
        if self.days < 14:
            problems.append("days must be at least 14")
        if self.vendors < 3:
            problems.append("vendors must be at least 3")
        if len(self.markets) < 1:
            problems.append("at least one market is needed")
        names = [m.name for m in self.markets]
        if len(set(names)) != len(names):
            problems.append("market names must be unique")
        for m in self.markets:
            if m.end_day is not None and not m.launch_day < m.end_day:
                problems.append(f"market {m.name}: end_day must come after launch_day")
            if (m.end_day is None) != (m.end_kind is None):
                problems.append(f"market {m.name}: end_day and end_kind go together")
        if not 0.0 <= self.feedback_probability <= 1.0:
            problems.append("feedback_probability must be within [0, 1]")
        if problems:
            raise SimulationError("; ".join(problems))


def _onion(label: str) -> str:
    """A deterministic, valid-looking v3 onion host for a market name (56 base32 chars)."""
    import base64
    import hashlib

    digest = hashlib.sha3_256(label.encode()).digest() + hashlib.sha256(label.encode()).digest()
    return base64.b32encode(digest).decode().lower().rstrip("=")[:56] + ".onion"


def default_markets(days: int) -> tuple[MarketSpec, ...]:
    """Three markets with different engines: one is taken down, one exits, one survives.

    The takedown falls at 55% of the run and the exit scam at 80%, so every run shows growth,
    an abrupt end, and vendors migrating to the survivor. Growth to the plateau takes a quarter
    of the run (at most 60 days), so even a short test run reaches it.
    """
    growth = max(7, min(60, days // 4))
    return (
        MarketSpec("silkway", "table", _onion("silkway"), launch_day=0,
                   end_day=int(days * 0.55), end_kind="takedown", feedback_shows_price=True,
                   growth_days=growth),
        MarketSpec("bazaar", "cards", _onion("bazaar"), launch_day=0,
                   end_day=int(days * 0.8), end_kind="exit", growth_days=growth),
        MarketSpec("gidra", "minimal", _onion("gidra"), launch_day=int(days * 0.1), locale="ru",
                   growth_days=growth),
    )


def preset(scale: Scale, seed: int = 1, days: int | None = None) -> SimConfig:
    """The configuration of a named scale.

    ``tiny`` (tests, a few seconds), ``small`` (the demo: tens of thousands of sales),
    ``medium`` (hundreds of thousands, generated in well under a minute), ``large`` (over a
    million sales, for benchmarks).
    """
    table: dict[str, tuple[int, int, float, float]] = {
        # scale: (days, actors, sales per listing-day, listings per vendor account)
        "tiny": (40, 12, 2.5, 5.0),
        "small": (120, 60, 3.3, 3.0),
        "medium": (365, 400, 1.0, 5.0),
        "large": (540, 1200, 0.9, 5.0),
    }
    if scale not in table:
        raise SimulationError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    preset_days, actors, rate, per_vendor = table[scale]
    n_days = days if days is not None else preset_days
    markets = default_markets(n_days)
    shock_day = int(n_days * 0.6)
    config = SimConfig(
        seed=seed,
        scale=scale,
        days=n_days,
        vendors=actors,
        sales_per_listing_day=rate,
        listings_per_vendor=per_vendor,
        markets=markets,
        shocks=(DemandShock("cannabis", shock_day, 1.3),),
    )
    config.validate()
    return config


def with_overrides(config: SimConfig, **changes: object) -> SimConfig:
    """A copy of ``config`` with some fields changed, validated."""
    new = replace(config, **changes)  # type: ignore[arg-type]
    new.validate()
    return new


# --- the truth contract -------------------------------------------------------------------

TRUTH_SCHEMAS: dict[str, pa.Schema] = {
    "markets": pa.schema([
        ("market", pa.string()),
        ("engine", pa.string()),
        ("host", pa.string()),
        ("launch_day", pa.date32()),
        ("end_day", pa.date32()),          # null: survives the run
        ("end_kind", pa.string()),         # takedown | exit | null
        ("feedback_shows_price", pa.bool_()),
    ]),
    # One row per vendor account on a market. actor_id is the cross-market identity.
    "vendors": pa.schema([
        ("market", pa.string()),
        ("vendor_handle", pa.string()),
        ("actor_id", pa.string()),
        ("pgp_fingerprint", pa.string()),  # 40 hex upper-case
        ("country", pa.string()),          # ISO alpha-2 or XX (undeclared)
        ("ships_to", pa.string()),         # comma list of codes: WW, EU, GB, ...
        ("join_day", pa.date32()),
        ("leave_day", pa.date32()),        # null: active to the market's end
        ("migrated_from", pa.string()),    # market the account moved from, or null
        ("substances", pa.list_(pa.string())),
    ]),
    # One row per listing. Quantities are the title's base quantity (tier 0).
    "listings": pa.schema([
        ("market", pa.string()),
        ("listing_id", pa.string()),
        ("vendor_handle", pa.string()),
        ("actor_id", pa.string()),
        ("title", pa.string()),
        ("kind", pa.string()),             # drug | placeholder | non_drug
        ("substance", pa.string()),        # taxonomy.csv vocabulary
        ("category", pa.string()),         # taxonomy.csv category
        ("form", pa.string()),
        ("market_category", pa.string()),  # the category the market files it under (may be wrong)
        ("mass_g", pa.float64()),
        ("count", pa.int64()),
        ("dose_value", pa.float64()),
        ("dose_unit", pa.string()),
        ("volume_ml", pa.float64()),
        ("purity_pct", pa.float64()),
        ("unit", pa.string()),             # g | unit | null (non-drug, placeholder)
        ("unit_price_eur", pa.float64()),  # true EUR per g / per unit at the base quantity
        ("currency", pa.string()),         # the currency the listing is priced in: USD EUR BTC
        ("ships_from", pa.string()),
        ("ships_to", pa.string()),
        ("start_day", pa.date32()),
        ("end_day", pa.date32()),          # exclusive; null: until the market ends
        ("holding_price", pa.bool_()),     # parked at an absurd price
        ("title_language", pa.string()),   # language the title is written in (ISO 639-1)
    ]),
    # Quantity tiers: tier 0 is the title's quantity; prices in the listing's currency.
    "listing_tiers": pa.schema([
        ("market", pa.string()),
        ("listing_id", pa.string()),
        ("tier", pa.int32()),
        ("label", pa.string()),
        ("mass_g", pa.float64()),
        ("count", pa.int64()),
        ("multiplier", pa.float64()),      # price of this tier / price of tier 0
    ]),
    # Base (tier 0) price of a listing in its own currency, from `day` until the next change.
    "price_changes": pa.schema([
        ("market", pa.string()),
        ("listing_id", pa.string()),
        ("day", pa.date32()),
        ("price", pa.float64()),
        ("currency", pa.string()),
    ]),
    "transactions": pa.schema([
        ("tx_id", pa.int64()),
        ("market", pa.string()),
        ("listing_id", pa.string()),
        ("vendor_handle", pa.string()),
        ("actor_id", pa.string()),
        ("day", pa.date32()),
        ("tier", pa.int32()),
        ("substance", pa.string()),
        ("category", pa.string()),
        ("mass_g", pa.float64()),
        ("count", pa.int64()),
        ("price", pa.float64()),           # in the listing's currency
        ("currency", pa.string()),
        ("price_eur", pa.float64()),       # at that day's rate
        ("feedback_left", pa.bool_()),
    ]),
    "feedback": pa.schema([
        ("feedback_id", pa.int64()),
        ("tx_id", pa.int64()),
        ("market", pa.string()),
        ("listing_id", pa.string()),
        ("vendor_handle", pa.string()),
        ("posted_at", pa.timestamp("s", tz="UTC")),
        ("rating", pa.int8()),             # 1..5
        ("text", pa.string()),
        ("language", pa.string()),
        ("buyer_masked", pa.string()),     # "a***e": what a market shows; never stored by dnmwatch
    ]),
    "rates": pa.schema([
        ("day", pa.date32()),
        ("currency", pa.string()),         # BTC | USD
        ("eur_per_unit", pa.float64()),
    ]),
    "events": pa.schema([
        ("day", pa.date32()),
        ("market", pa.string()),           # null for world-wide events
        ("kind", pa.string()),             # launch | takedown | exit | migration | demand_shock
        ("detail", pa.string()),
    ]),
}

TRUTH_TABLES: tuple[str, ...] = tuple(TRUTH_SCHEMAS)


@dataclass(slots=True)
class World:
    """A generated world: its config and one Arrow table per truth table.

    Tables are sorted deterministically by the generator (markets by name, rows by key), so that
    Parquet files written from them are byte-identical for the same seed.
    """

    config: SimConfig
    tables: dict[str, pa.Table] = field(default_factory=dict)

    def table(self, name: str) -> pa.Table:
        try:
            return self.tables[name]
        except KeyError:
            raise SimulationError(f"world has no table {name!r}") from None

    def market(self, name: str) -> MarketSpec:
        for m in self.config.markets:
            if m.name == name:
                return m
        raise SimulationError(f"no market named {name!r}; markets: "
                              + ", ".join(m.name for m in self.config.markets))
