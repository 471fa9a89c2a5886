"""The DuckDB store: real files in tmp_path, real second processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from dnmwatch.errors import SchemaError, StoreError
from dnmwatch.settings import load_settings
from dnmwatch.store import MIGRATIONS, SCHEMA_VERSION, Migration, Store, apply_migrations

CONTRACT = {
    "markets": {"market", "adapter", "first_seen", "last_seen"},
    "crawls": {
        "crawl_id",
        "market",
        "started_at",
        "finished_at",
        "pages_ok",
        "pages_failed",
        "status",
    },
    "listing_observations": {
        "market",
        "listing_id",
        "crawl_id",
        "observed_at",
        "title",
        "vendor_id",
        "price",
        "currency",
        "price_eur",
        "ships_from",
        "ships_to",
        "source",
    },
    "listings": {
        "market",
        "listing_id",
        "vendor_id",
        "title",
        "substance",
        "category",
        "form",
        "mass_g",
        "count",
        "dose_value",
        "dose_unit",
        "first_seen",
        "last_seen",
    },
    "vendors": {"market", "vendor_id", "first_seen", "last_seen", "ships_from"},
    "feedback": {"market", "feedback_id", "listing_id", "vendor_id", "posted_at", "rating"},
    "sales": {
        "market",
        "listing_id",
        "vendor_id",
        "day",
        "substance",
        "category",
        "ships_from",
        "price_eur",
        "mass_g",
        "count",
    },
    "rates": {"day", "currency", "eur_per_unit"},
}

HOLD_WRITER = """
import sys
from pathlib import Path
from dnmwatch.store import Store
store = Store.open(Path(sys.argv[1]), read_only=sys.argv[2] == "ro")
print("ready", flush=True)
sys.stdin.read()
store.close()
"""


@contextmanager
def other_process(data_dir: Path, mode: str = "rw") -> Iterator[subprocess.Popen[str]]:
    """A second process holding the store open until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(data_dir), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
        yield proc
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def column_types(store: Store, table: str) -> dict[str, str]:
    rows = store.fetchall(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]
    )
    return dict(rows)


def test_open_creates_data_dir_and_contract_tables(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    with Store.open(data_dir) as store:
        assert store.data_dir == data_dir and store.path == data_dir / "dnmwatch.duckdb"
        assert store.path.is_file() and (data_dir / "warc").is_dir()
        assert store.warc_dir == data_dir / "warc"
        assert store.schema_version == SCHEMA_VERSION == MIGRATIONS[-1].version
        raw = {"vendor_observations", "feedback_observations", "pages", "rejections"}
        assert set(CONTRACT) | raw | {"schema_migrations"} <= set(store.tables())
        for table, key_columns in CONTRACT.items():
            assert key_columns <= set(store.columns(table)), table
        assert store.primary_key("rates") == ["day", "currency"]
        assert store.primary_key("listings") == ["market", "listing_id"]
        assert store.primary_key("feedback") == ["market", "feedback_id"]
        assert store.primary_key("crawls") == ["crawl_id"]
        types = column_types(store, "listing_observations")
        assert types["observed_at"] == "TIMESTAMP" and types["price_eur"] == "DOUBLE"
        assert column_types(store, "rates")["day"] == "DATE"
        assert column_types(store, "sales")["count"] == "BIGINT"


def test_migrations_recorded_once(tmp_path: Path) -> None:
    for _ in range(3):
        with Store.open(tmp_path) as store:
            rows = store.fetchall("SELECT version, description FROM schema_migrations")
    assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]


def test_forward_migration_applies_only_missing_steps(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    n = len(MIGRATIONS)
    step = Migration(n + 1, "add a column", "ALTER TABLE rates ADD COLUMN note VARCHAR")
    conn = duckdb.connect(str(tmp_path / "dnmwatch.duckdb"))
    try:
        assert apply_migrations(conn, (*MIGRATIONS, step)) == n + 1
        assert apply_migrations(conn, (*MIGRATIONS, step)) == n + 1
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        assert versions == [(v,) for v in range(1, n + 2)]
        bad = Migration(
            n + 2, "broken", "ALTER TABLE rates ADD COLUMN x INT; SELECT * FROM nowhere"
        )
        with pytest.raises(SchemaError, match=rf"migration {n + 2} \(broken\) failed"):
            apply_migrations(conn, (*MIGRATIONS, step, bad))
        cols = [r[0] for r in conn.execute("DESCRIBE rates").fetchall()]
        assert "note" in cols and "x" not in cols  # the broken step rolled back whole
        with pytest.raises(SchemaError, match="numbered"):
            apply_migrations(conn, (step,))
    finally:
        conn.close()


def test_a_version_1_store_is_brought_forward(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "dnmwatch.duckdb"))
    assert apply_migrations(conn, MIGRATIONS[:1]) == 1
    conn.execute("INSERT INTO rates VALUES (DATE '2020-01-02', 'USD', 0.9, 'ecb')")
    conn.close()
    with Store.open(tmp_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert "feedback_observations" in store.tables()
        assert store.fetchall("SELECT eur_per_unit FROM rates") == [(0.9,)]


def test_newer_store_refused(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    conn = duckdb.connect(str(tmp_path / "dnmwatch.duckdb"))
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', now()::TIMESTAMP)")
    conn.close()
    with pytest.raises(SchemaError, match="version 99 is newer"):
        Store.open(tmp_path)
    with pytest.raises(SchemaError, match="upgrade dnmwatch"):
        Store.open(tmp_path, read_only=True)
    # The refused writer released its lock.
    conn = duckdb.connect(str(tmp_path / "dnmwatch.duckdb"))
    conn.execute("DELETE FROM schema_migrations WHERE version = 99")
    conn.close()
    Store.open(tmp_path).close()


def test_second_writer_in_process_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path):
        with pytest.raises(StoreError, match=rf"in use by another writer \(pid {os.getpid()}"):
            Store.open(tmp_path)
        with pytest.raises(StoreError, match="other mode"):
            Store.open(tmp_path, read_only=True)
    with Store.open(tmp_path) as again:  # released on close
        assert again.schema_version == SCHEMA_VERSION


def test_second_writer_in_other_process_refused(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    with other_process(tmp_path) as proc:
        with pytest.raises(StoreError, match=rf"in use by another writer \(pid {proc.pid}\)"):
            Store.open(tmp_path)
        with pytest.raises(StoreError, match=rf"being written by another process \(pid {proc.pid}"):
            Store.open(tmp_path, read_only=True, busy_timeout_s=0.2)
    with Store.open(tmp_path, read_only=True) as reader:
        assert reader.read_only


def test_reader_in_other_process_blocks_writer_clearly(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    with other_process(tmp_path, "ro") as proc:
        with pytest.raises(StoreError, match=rf"open in another process \(pid {proc.pid}\)"):
            Store.open(tmp_path)
        with Store.open(tmp_path, read_only=True) as reader:  # readers share
            assert reader.tables()
    Store.open(tmp_path).close()  # and the failed writer released its lock


def test_read_only_cannot_write(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store"):
        Store.open(tmp_path / "absent", read_only=True)
    assert not (tmp_path / "absent").exists()
    Store.open(tmp_path).close()
    with Store.open(tmp_path, read_only=True) as store:
        with pytest.raises(StoreError, match="read-only"):
            store.execute("INSERT INTO rates VALUES (DATE '2020-01-01', 'BTC', 1.0, NULL)")
        with pytest.raises(StoreError, match="read-only"):
            store.insert_rows("rates", [{"day": date(2020, 1, 1), "currency": "BTC"}])
        assert store.fetchall("SELECT count(*) FROM rates") == [(0,)]


def test_extensions_never_autoloaded(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        settings = store.fetchall(
            "SELECT current_setting('autoinstall_known_extensions'), "
            "current_setting('autoload_known_extensions'), current_setting('TimeZone')"
        )
        assert settings == [(False, False, "UTC")]
        with pytest.raises(StoreError, match="httpfs"):
            store.execute("SELECT * FROM 'https://example.invalid/data.parquet'")


def test_insert_rows_and_upsert(tmp_path: Path) -> None:
    cest = timezone(timedelta(hours=2))
    c1 = {"crawl_id": "c1", "market": "m", "status": "complete", "pages_ok": 3}
    c2 = {"crawl_id": "c2", "market": "m", "status": "partial", "pages_ok": 7}
    with Store.open(tmp_path) as store:
        n = store.insert_rows(
            "crawls",
            [
                {**c1, "started_at": datetime(2020, 5, 1, 12, tzinfo=cest)},
                {**c2, "started_at": datetime(2020, 5, 2, 9), "finished_at": None},
            ],
        )
        assert n == 2
        sql = "SELECT crawl_id, started_at, pages_ok, pages_failed, finished_at FROM crawls"
        assert store.fetchall(sql + " ORDER BY 1") == [
            ("c1", datetime(2020, 5, 1, 10), 3, 0, None),  # stored as UTC; default filled
            ("c2", datetime(2020, 5, 2, 9), 7, 0, None),
        ]
        assert store.insert_rows("crawls", []) == 0
        with pytest.raises(StoreError, match="no column"):
            store.insert_rows("crawls", [{"crawl_id": "c3", "bogus": 1}])
        with pytest.raises(StoreError, match="no table"):
            store.insert_rows("nope", [{"a": 1}])
        with pytest.raises(StoreError, match="crawls failed"):  # duplicate primary key
            store.insert_rows("crawls", [{**c1, "started_at": datetime.now(UTC)}])

        day = date(2020, 5, 1)
        btc = {"day": day, "currency": "BTC"}
        usd = {"day": day, "currency": "USD", "eur_per_unit": 0.9}
        twice = [{**btc, "eur_per_unit": 1.0}, {**btc, "eur_per_unit": 2.0}]
        assert store.upsert("rates", twice) == 1  # last row of a key wins
        assert store.upsert("rates", [{**btc, "eur_per_unit": 3.0}, usd]) == 2
        assert store.fetchall("SELECT currency, eur_per_unit FROM rates ORDER BY 1") == [
            ("BTC", 3.0),
            ("USD", 0.9),
        ]
        with pytest.raises(StoreError, match="primary key"):
            store.upsert("sales", [{"market": "m", "day": day}])


def test_transaction_rolls_back(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.insert_rows("markets", [{"market": "m", "adapter": "a"}])
            raise RuntimeError("boom")
        assert store.fetchall("SELECT count(*) FROM markets") == [(0,)]
        with store.transaction():
            store.insert_rows("markets", [{"market": "m", "adapter": "a"}])
        assert store.fetchall("SELECT count(*) FROM markets") == [(1,)]
    with pytest.raises(StoreError, match="closed"):
        _ = store.connection
    store.close()  # twice is fine


def test_data_dir_precedence_through_settings(tmp_path: Path) -> None:
    env = {"DNMWATCH_DATA_DIR": str(tmp_path / "from-env")}
    settings = load_settings(env=env)
    with Store.open(settings.data_dir) as store:
        assert store.path == tmp_path / "from-env" / "dnmwatch.duckdb"
    settings = load_settings(env=env, overrides={"data_dir": tmp_path / "from-cli"})
    with Store.open(settings.data_dir) as store:
        assert store.path.is_file() and store.data_dir == tmp_path / "from-cli"


def test_foreign_or_old_files_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "dnmwatch.duckdb").write_bytes(b"not a database" * 1000)
    with pytest.raises(StoreError, match="cannot open store"):
        Store.open(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    duckdb.connect(str(empty / "dnmwatch.duckdb")).close()  # a DuckDB file without our schema
    with pytest.raises(SchemaError, match=r"version 0.*open it once for writing"):
        Store.open(empty, read_only=True)
    Store.open(empty).close()
    with Store.open(empty, read_only=True) as reader:
        assert reader.schema_version == SCHEMA_VERSION


def test_a_read_only_store_answers_query_after_query(tmp_path: Path) -> None:
    """Opening checks the schema version; that check must leave no result open (DuckDB refuses
    further work on a connection with an unfinished result)."""
    Store.open(tmp_path).close()
    with Store.open(tmp_path, read_only=True) as store:
        assert store.fetchall("SELECT count(*) FROM sales") == [(0,)]
        assert store.connection.execute("SELECT count(*) FROM rates").fetchall() == [(0,)]


def test_a_failed_insert_in_a_transaction_reports_its_own_error(tmp_path: Path) -> None:
    """The insert's error (here a duplicate key) is what surfaces, as a StoreError; before,
    cleaning up the registered rows inside the aborted transaction raised DuckDB's
    "transaction is aborted" instead and hid it."""
    row = {"market": "m", "listing_id": "L", "valid_from": datetime(2020, 1, 1),
           "valid_to": datetime(2020, 1, 1), "observations": 1}
    with Store.open(tmp_path / "data") as store:
        with pytest.raises(StoreError, match="listing_prices failed: Constraint Error"), \
                store.transaction():
            store.insert_rows("listing_prices", [row, dict(row)])
        assert store.fetchall("SELECT count(*) FROM listing_prices") == [(0,)]
