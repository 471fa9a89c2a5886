"""The :class:`Store`: one DuckDB file per data directory, one writer, many readers.

Layout of a data directory::

    <data_dir>/dnmwatch.duckdb   the tables researchers query (see migrations.py)
    <data_dir>/dnmwatch.lock     the single-writer lock (lock.py)
    <data_dir>/warc/             raw captures, written by the collector

Concurrency, and why it is arranged so. DuckDB lets one *process* hold a file read-write; while
it does, no other process can open the file at all, not even read-only; and a process holding
read-only connections keeps writers of other processes out. Inside one process DuckDB shares one
database instance, so a second read-write connection is allowed and a read-only one (a different
configuration) is refused. dnmwatch therefore:

* takes an advisory writer lock before touching DuckDB, so a second writer (any process, this
  one included) gets "store is in use by another writer (pid N)" instead of a lock traceback;
* lets readers (``read_only=True``) retry for ``busy_timeout_s`` while a writer holds the file,
  then fail with a message naming the writer's pid; readers that must run beside a long writer
  should read an export (Parquet) instead.

DuckDB never installs or loads extensions on its own here (no network behind our back), and
the session time zone is UTC so that aware datetimes are stored as UTC.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from dnmwatch.errors import SchemaError, StoreError
from dnmwatch.store.lock import WriterLock
from dnmwatch.store.migrations import SCHEMA_VERSION, apply_migrations, read_version
from dnmwatch.store.rows import insert_statement, to_arrow

DB_NAME = "dnmwatch.duckdb"
WARC_DIR = "warc"
CONNECT_CONFIG: dict[str, str | bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_HELD_BY = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")


class Store:
    """An open store. Build it with :meth:`Store.open`; close it (or use ``with``)."""

    def __init__(
        self, data_dir: Path, conn: Any, *, read_only: bool, lock: WriterLock | None, version: int
    ) -> None:
        self._data_dir = data_dir
        self._conn: Any = conn
        self._read_only = read_only
        self._lock = lock
        self._version = version

    # ------------------------------------------------------------------ opening and closing

    @classmethod
    def open(cls, data_dir: Path, *, read_only: bool = False, busy_timeout_s: float = 2.0) -> Store:
        """Open (creating and migrating if needed) the store in ``data_dir``.

        A writer creates ``data_dir`` and ``data_dir/warc``, takes the writer lock and applies
        missing migrations. A reader needs an existing store at the current schema version.
        Raises :class:`StoreError` (or :class:`SchemaError` for version trouble).
        """
        data_dir = Path(data_dir)
        if read_only:
            return cls._open_reader(data_dir, busy_timeout_s)
        try:
            (data_dir / WARC_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data dir {data_dir}: {exc.strerror}") from exc
        lock = WriterLock.acquire(data_dir)
        try:
            conn = _connect(data_dir / DB_NAME, read_only=False)
            try:
                version = apply_migrations(conn)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            lock.release()
            raise
        return cls(data_dir, conn, read_only=False, lock=lock, version=version)

    @classmethod
    def _open_reader(cls, data_dir: Path, busy_timeout_s: float) -> Store:
        path = data_dir / DB_NAME
        if not path.is_file():
            raise StoreError(f"no store at {path}: a writer (e.g. extract) creates it")
        deadline = time.monotonic() + busy_timeout_s
        while True:
            try:
                conn = _connect(path, read_only=True)
                break
            except _Busy as busy:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"store {path} is being written by another process ({busy.holder}); "
                        "DuckDB lets no other process open it, even read-only, until that "
                        "writer closes. Wait, or read an export instead."
                    ) from None
                time.sleep(0.1)
        try:
            version = read_version(conn)
        except duckdb.Error as exc:
            conn.close()
            raise StoreError(f"cannot read schema version of {path}: {exc}") from exc
        if version != SCHEMA_VERSION:
            conn.close()
            hint = "upgrade dnmwatch" if version > SCHEMA_VERSION else "open it once for writing"
            raise SchemaError(
                f"store {path} has schema version {version}, this dnmwatch reads "
                f"{SCHEMA_VERSION}: {hint}"
            )
        return cls(data_dir, conn, read_only=True, lock=None, version=version)

    def close(self) -> None:
        """Close the connection and release the writer lock; safe to call twice."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ properties

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def path(self) -> Path:
        """The DuckDB file."""
        return self._data_dir / DB_NAME

    @property
    def warc_dir(self) -> Path:
        return self._data_dir / WARC_DIR

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def schema_version(self) -> int:
        return self._version

    @property
    def connection(self) -> Any:
        """The raw ``duckdb.DuckDBPyConnection``. Errors raised through it are DuckDB's own;
        :meth:`execute` and the helpers below translate them into :class:`StoreError`."""
        if self._conn is None:
            raise StoreError("store is closed")
        return self._conn

    # ------------------------------------------------------------------ queries and writes

    def execute(self, sql: str, params: Iterable[Any] | Mapping[str, Any] | None = None) -> Any:
        """Run SQL; returns the DuckDB connection (call ``.fetchall()`` etc. on it)."""
        try:
            if params is None:
                return self.connection.execute(sql)
            return self.connection.execute(
                sql, params if isinstance(params, Mapping) else list(params)
            )
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {exc}") from exc

    def fetchall(
        self, sql: str, params: Iterable[Any] | Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.execute(sql, params).fetchall()
        return rows

    def tables(self) -> list[str]:
        """Names of the tables in the store (main schema), sorted."""
        rows = self.fetchall(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
        )
        return [r[0] for r in rows]

    def columns(self, table: str) -> list[str]:
        """Column names of ``table`` in table order; :class:`StoreError` if there is none."""
        rows = self.fetchall(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND table_name = ? ORDER BY column_index",
            [table],
        )
        if not rows:
            raise StoreError(f"no table {table!r} in the store")
        return [r[0] for r in rows]

    def primary_key(self, table: str) -> list[str]:
        """Primary-key columns of ``table`` (empty when it has none)."""
        self.columns(table)
        rows = self.fetchall(
            "SELECT constraint_column_names FROM duckdb_constraints() WHERE schema_name = 'main' "
            "AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
            [table],
        )
        return list(rows[0][0]) if rows else []

    def insert_rows(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Append rows (mappings of column -> value) in one atomic statement; returns the
        number written. A column absent from every row gets its default; one given in some
        rows is NULL where a row lacks it. Aware datetimes are stored as UTC, naive ones are
        taken to be UTC already."""
        return self._write(table, rows, key=None)

    def upsert(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert rows, replacing those with the same primary key (the last row of a key wins
        inside one call). The table must have a primary key."""
        key = self.primary_key(table)
        if not key:
            raise StoreError(f"upsert needs a primary key and {table!r} has none")
        return self._write(table, rows, key=key)

    def _write(self, table: str, rows: Iterable[Mapping[str, Any]], key: list[str] | None) -> int:
        if self._read_only:
            raise StoreError("store is open read-only")
        batch = [dict(r) for r in rows]
        if key is not None:  # DuckDB refuses to replace one key twice in one statement
            batch = list({tuple(r.get(k) for k in key): r for r in batch}.values())
        if not batch:
            return 0
        known = self.columns(table)
        arrow, cols = to_arrow(batch, known, table)
        view = f"_dnmwatch_rows_{id(arrow):x}"
        try:
            self.connection.register(view, arrow)
            self.connection.execute(insert_statement(table, cols, view, replace=key is not None))
        except duckdb.Error as exc:
            raise StoreError(f"writing {len(batch)} rows to {table} failed: {exc}") from exc
        finally:
            # Inside a transaction that the failed insert aborted, DuckDB refuses even this;
            # the view goes with the rollback, and the insert's error is the one to report.
            with contextlib.suppress(duckdb.Error):
                self.connection.unregister(view)
        return len(batch)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All writes inside commit together or not at all."""
        self.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def __repr__(self) -> str:
        mode = "read-only" if self._read_only else "writer"
        state = "closed" if self._conn is None else f"v{self._version}"
        return f"Store({str(self._data_dir)!r}, {mode}, {state})"


class _Busy(Exception):
    """Another process holds the DuckDB file lock."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def _connect(path: Path, *, read_only: bool) -> Any:
    """duckdb.connect with our config, its errors translated."""
    try:
        conn = duckdb.connect(str(path), read_only=read_only, config=dict(CONNECT_CONFIG))
    except duckdb.IOException as exc:
        match = _HELD_BY.search(str(exc))
        if match is None:
            raise StoreError(f"cannot open store {path}: {exc}") from exc
        holder = f"pid {match.group(1)}"
        if read_only:
            raise _Busy(holder) from exc
        raise StoreError(
            f"store {path} is open in another process ({holder}), e.g. a dashboard or a "
            "reader; close it before writing"
        ) from exc
    except duckdb.ConnectionException as exc:
        raise StoreError(
            f"cannot open store {path} {'read-only' if read_only else 'for writing'}: this "
            "process already has it open in the other mode; use that Store's connection"
        ) from exc
    except duckdb.Error as exc:
        raise StoreError(f"cannot open store {path}: {exc}") from exc
    try:
        conn.execute("SET TimeZone = 'UTC'")
    except duckdb.Error as exc:
        conn.close()
        raise StoreError(f"cannot set the store's time zone to UTC: {exc}") from exc
    return conn
