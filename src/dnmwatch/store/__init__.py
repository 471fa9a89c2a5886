"""The DuckDB store: schema, migrations, one writer, many readers.

``store`` is used by the pipeline stages but imports none of them (ARCHITECTURE.md). Open it
with :meth:`Store.open`; the tables it holds are created by :mod:`dnmwatch.store.migrations`.
"""

from dnmwatch.store.core import DB_NAME, WARC_DIR, Store
from dnmwatch.store.lock import LOCK_NAME
from dnmwatch.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, apply_migrations

__all__ = [
    "DB_NAME",
    "LOCK_NAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "WARC_DIR",
    "Migration",
    "Store",
    "apply_migrations",
]
