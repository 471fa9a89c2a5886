"""Schema versions of the store and the forward migrations between them.

A store records every migration it has received in ``schema_migrations``; its version is the
highest one. Opening a store for writing applies the missing migrations in order, each in its
own transaction (DuckDB's DDL is transactional, so a failed migration leaves the previous
version intact). A store newer than this code is refused rather than guessed at: an old
binary must not write into tables whose meaning it does not know.

Migrations are append-only: never edit a released one, add the next version instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dnmwatch.errors import SchemaError

VERSION_TABLE = "schema_migrations"


@dataclass(frozen=True, slots=True)
class Migration:
    """One step forward: SQL (several statements allowed) or a function of the connection."""

    version: int
    description: str
    apply: str | Callable[[Any], None]


# Times are TIMESTAMP holding UTC (no zone); days are DATE; money is DOUBLE; counts BIGINT.
# The names and key columns are a contract researchers query (ARCHITECTURE.md).
_V1_CONTRACT_TABLES = """
CREATE TABLE markets (
    market          VARCHAR PRIMARY KEY,
    adapter         VARCHAR NOT NULL,
    first_seen      TIMESTAMP,
    last_seen       TIMESTAMP
);
CREATE TABLE crawls (
    crawl_id        VARCHAR PRIMARY KEY,
    market          VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    pages_ok        BIGINT NOT NULL DEFAULT 0,
    pages_failed    BIGINT NOT NULL DEFAULT 0,
    status          VARCHAR NOT NULL,
    warc_path       VARCHAR,
    counters        VARCHAR
);
CREATE TABLE listing_observations (
    market          VARCHAR NOT NULL,
    listing_id      VARCHAR NOT NULL,
    crawl_id        VARCHAR,
    observed_at     TIMESTAMP NOT NULL,
    title           VARCHAR,
    vendor_id       VARCHAR,
    price           DOUBLE,
    currency        VARCHAR,
    price_eur       DOUBLE,
    ships_from      VARCHAR,
    ships_to        VARCHAR,
    category        VARCHAR,
    stock           BIGINT,
    sold            BIGINT,
    tiers           VARCHAR,
    adapter         VARCHAR,
    source          VARCHAR NOT NULL,
    source_offset   BIGINT
);
CREATE TABLE listings (
    market          VARCHAR NOT NULL,
    listing_id      VARCHAR NOT NULL,
    vendor_id       VARCHAR,
    title           VARCHAR,
    substance       VARCHAR,
    category        VARCHAR,
    form            VARCHAR,
    mass_g          DOUBLE,
    count           BIGINT,
    dose_value      DOUBLE,
    dose_unit       VARCHAR,
    volume_ml       DOUBLE,
    purity_pct      DOUBLE,
    ships_from      VARCHAR,
    ships_to        VARCHAR,
    first_seen      TIMESTAMP,
    last_seen       TIMESTAMP,
    observations    BIGINT,
    last_price_eur  DOUBLE,
    PRIMARY KEY (market, listing_id)
);
CREATE TABLE vendors (
    market          VARCHAR NOT NULL,
    vendor_id       VARCHAR NOT NULL,
    first_seen      TIMESTAMP,
    last_seen       TIMESTAMP,
    ships_from      VARCHAR,
    pgp_fingerprint VARCHAR,
    vendor_group    VARCHAR,
    PRIMARY KEY (market, vendor_id)
);
CREATE TABLE feedback (
    market          VARCHAR NOT NULL,
    feedback_id     VARCHAR NOT NULL,
    listing_id      VARCHAR,
    vendor_id       VARCHAR,
    posted_at       TIMESTAMP,
    posted_shown    VARCHAR,
    rating          DOUBLE,
    price           DOUBLE,
    currency        VARCHAR,
    price_eur       DOUBLE,
    text            VARCHAR,
    first_seen      TIMESTAMP,
    last_seen       TIMESTAMP,
    PRIMARY KEY (market, feedback_id)
);
CREATE TABLE sales (
    market          VARCHAR NOT NULL,
    listing_id      VARCHAR,
    vendor_id       VARCHAR,
    day             DATE NOT NULL,
    substance       VARCHAR,
    category        VARCHAR,
    ships_from      VARCHAR,
    price_eur       DOUBLE,
    mass_g          DOUBLE,
    count           BIGINT,
    feedback_id     VARCHAR,
    weight          DOUBLE NOT NULL DEFAULT 1.0
);
CREATE TABLE rates (
    day             DATE NOT NULL,
    currency        VARCHAR NOT NULL,
    eur_per_unit    DOUBLE NOT NULL,
    source          VARCHAR,
    PRIMARY KEY (day, currency)
);
"""

# What extraction writes, before consolidation: every observation as seen on one page, with its
# provenance, so `build` can be re-run from them and any figure traced back to a stored page.
# Buyer names have no column anywhere; vendor_id is always a keyed pseudonym.
_V2_RAW_OBSERVATIONS = """
CREATE TABLE vendor_observations (
    market          VARCHAR NOT NULL,
    vendor_id       VARCHAR NOT NULL,
    crawl_id        VARCHAR,
    observed_at     TIMESTAMP NOT NULL,
    pgp_fingerprint VARCHAR,
    ships_from      VARCHAR,
    sales           BIGINT,
    rating          DOUBLE,
    member_since    VARCHAR,
    other_markets   VARCHAR,
    adapter         VARCHAR,
    source          VARCHAR NOT NULL,
    source_offset   BIGINT
);
CREATE TABLE feedback_observations (
    market          VARCHAR NOT NULL,
    listing_id      VARCHAR,
    vendor_id       VARCHAR,
    crawl_id        VARCHAR,
    observed_at     TIMESTAMP NOT NULL,
    rating          DOUBLE,
    text            VARCHAR,
    posted_shown    VARCHAR NOT NULL,
    price           DOUBLE,
    currency        VARCHAR,
    position        BIGINT,
    adapter         VARCHAR,
    source          VARCHAR NOT NULL,
    source_offset   BIGINT
);
CREATE TABLE pages (
    source          VARCHAR NOT NULL,
    source_offset   BIGINT,
    market          VARCHAR,
    crawl_id        VARCHAR,
    url             VARCHAR,
    captured_at     TIMESTAMP,
    page_type       VARCHAR NOT NULL,
    adapter         VARCHAR,
    records         BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE rejections (
    stage           VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL,
    detail          VARCHAR,
    market          VARCHAR,
    source          VARCHAR,
    source_offset   BIGINT,
    recorded_at     TIMESTAMP
);
"""

# What `dnmwatch build` derives (consolidate + estimate): resolved feedback date intervals, the
# listing price history, excluded feedback with their reason, vendor links across markets, the
# market lifecycle, and the fingerprint of the inputs of the last build (for incremental runs).
_V3_CONSOLIDATION = """
ALTER TABLE feedback ADD COLUMN posted_earliest TIMESTAMP;
ALTER TABLE feedback ADD COLUMN posted_latest TIMESTAMP;
ALTER TABLE feedback ADD COLUMN sightings BIGINT;
ALTER TABLE sales ADD COLUMN price_source VARCHAR;
ALTER TABLE sales ADD COLUMN tier VARCHAR;
ALTER TABLE sales ADD COLUMN unit_price_eur DOUBLE;
CREATE TABLE listing_prices (
    market          VARCHAR NOT NULL,
    listing_id      VARCHAR NOT NULL,
    valid_from      TIMESTAMP NOT NULL,
    valid_to        TIMESTAMP NOT NULL,
    price           DOUBLE,
    currency        VARCHAR,
    price_eur       DOUBLE,
    observations    BIGINT NOT NULL,
    PRIMARY KEY (market, listing_id, valid_from)
);
CREATE TABLE sales_exclusions (
    market          VARCHAR NOT NULL,
    feedback_id     VARCHAR NOT NULL,
    listing_id      VARCHAR,
    reason          VARCHAR NOT NULL,
    detail          VARCHAR,
    PRIMARY KEY (market, feedback_id)
);
CREATE TABLE vendor_links (
    market          VARCHAR NOT NULL,
    vendor_id       VARCHAR NOT NULL,
    actor_id        VARCHAR NOT NULL,
    method          VARCHAR NOT NULL,
    score           DOUBLE NOT NULL,
    PRIMARY KEY (market, vendor_id)
);
CREATE TABLE market_lifecycle (
    market          VARCHAR PRIMARY KEY,
    first_seen      TIMESTAMP,
    last_seen       TIMESTAMP,
    crawls_ok       BIGINT,
    crawls_failed   BIGINT,
    status          VARCHAR NOT NULL,
    end_kind        VARCHAR,
    closed_at       TIMESTAMP,
    vendors         BIGINT,
    vendors_elsewhere_30d BIGINT,
    share_elsewhere_30d   DOUBLE,
    vendors_elsewhere_90d BIGINT,
    share_elsewhere_90d   DOUBLE
);
CREATE TABLE build_state (
    key             VARCHAR PRIMARY KEY,
    value           VARCHAR NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
"""

# The quantity option a feedback row names as bought ("5 g", "1x 10 pills"), where the market
# shows one: it tells which quantity tier the sale was, so `build` prices it at that tier.
_V4_FEEDBACK_ITEM = """
ALTER TABLE feedback_observations ADD COLUMN item VARCHAR;
ALTER TABLE feedback ADD COLUMN item VARCHAR;
"""

# v5: how a listing reaches the buyer (normalise/delivery.py, docs/channels.md): the primary
# method and, for local methods, the area; filled by `build` from title, fields and the market.
_V5_LISTING_DELIVERY = """
ALTER TABLE listings ADD COLUMN delivery_method VARCHAR;
ALTER TABLE listings ADD COLUMN delivery_area VARCHAR;
"""

# v6: beyond marketplaces (issue 11). ``delivery`` is the delivery text a source shows apart from
# the title (Matanga's city and district flags, a channel offer's delivery line), read by
# `build`; ``source_type`` says what kind of source a "market" is (marketplace, shop, forum,
# channel), from its adapter, for the cross-channel indicators.
_V6_BEYOND_MARKETPLACES = """
ALTER TABLE listing_observations ADD COLUMN delivery VARCHAR;
ALTER TABLE markets ADD COLUMN source_type VARCHAR;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "contract tables of ARCHITECTURE.md", _V1_CONTRACT_TABLES),
    Migration(
        2, "raw observations, pages and rejections written by extraction", _V2_RAW_OBSERVATIONS
    ),
    Migration(3, "consolidation and sales estimation (dnmwatch build)", _V3_CONSOLIDATION),
    Migration(4, "the option bought, as a feedback row shows it", _V4_FEEDBACK_ITEM),
    Migration(5, "delivery method and area of each listing", _V5_LISTING_DELIVERY),
    Migration(6, "delivery text of observations; source type of markets",
              _V6_BEYOND_MARKETPLACES),
)
"""Every migration, in order. The last version is the one this code reads and writes."""

SCHEMA_VERSION = MIGRATIONS[-1].version


def read_version(conn: Any) -> int:
    """The store's schema version: 0 for an empty file. Works on read-only connections."""
    # fetchall, not fetchone: DuckDB refuses further work on a connection while a result is
    # still open, which broke every later query of a read-only Store.
    exists = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
        [VERSION_TABLE],
    ).fetchall()[0][0]
    if not exists:
        return 0
    rows = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()
    return int(rows[0][0])


def _check_order(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise SchemaError(f"migrations must be numbered 1, 2, 3... in order, got {versions}")


def apply_migrations(conn: Any, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring a writable connection up to the last of ``migrations``; return that version.

    Raises :class:`SchemaError` if the store is newer than ``migrations`` or a step fails
    (that step is rolled back; earlier steps stay applied and recorded).
    """
    _check_order(migrations)
    latest = migrations[-1].version if migrations else 0
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, "
        "applied_at TIMESTAMP NOT NULL)"
    )
    current = read_version(conn)
    if current > latest:
        raise SchemaError(
            f"store schema version {current} is newer than this dnmwatch ({latest}); "
            "upgrade dnmwatch to use this store"
        )
    for migration in migrations[current:]:
        conn.execute("BEGIN TRANSACTION")
        try:
            if isinstance(migration.apply, str):
                conn.execute(migration.apply)
            else:
                migration.apply(conn)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [migration.version, migration.description, _utcnow()],
            )
            conn.execute("COMMIT")
        except Exception as exc:  # any failure: undo this step, report it as a schema error
            conn.execute("ROLLBACK")
            raise SchemaError(
                f"migration {migration.version} ({migration.description}) failed: {exc}"
            ) from exc
    return latest


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
