"""Read-only access to the store for one request, with a time limit on its queries.

Why not one long-lived connection: a DuckDB file held open (even read-only) by the dashboard
keeps every writer of another process out, so it would stop crawls and builds. The connection
is shared by requests in flight and closed ``keep_open`` seconds after the last one.

Why a guard around the connection: DuckDB has no statement timeout. A timer interrupts every
cursor the request opened when :attr:`StoreReader.time_limit` passes, and the interrupted query
surfaces as :class:`QueryTimeout`. The dashboard runs only its own SQL (no SQL comes from the
browser); the limit protects the server from an expensive filter on a large store.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dnmwatch.errors import StoreError
from dnmwatch.store import Store


class QueryTimeout(StoreError):
    """A dashboard query ran past the time limit and was interrupted."""


class _Guarded:
    """A DuckDB connection whose cursors are remembered so they can all be interrupted."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._cursors: list[Any] = []
        self._lock = threading.Lock()
        self.interrupted = False

    def cursor(self) -> Any:
        cur = self._conn.cursor()
        with self._lock:
            self._cursors.append(cur)
        return cur

    def interrupt(self) -> None:
        with self._lock:
            self.interrupted = True
            targets = list(self._cursors)  # never the shared root: other requests use it
        for conn in targets:
            with contextlib.suppress(Exception):  # a closed cursor has nothing to stop
                conn.interrupt()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class StoreReader:
    """Read-only store access for requests, shared while requests keep coming.

    A fresh DuckDB connection answers its first queries slowly (about 200 ms of catalogue and
    file reading), so the connection is shared by concurrent requests and kept for
    ``keep_open`` seconds after the last one ends, then closed so that writers of other
    processes can open the store. ``keep_open=0`` closes it after every request.
    """

    def __init__(self, data_dir: Path, *, time_limit: float = 10.0, keep_open: float = 2.0) -> None:
        self.data_dir = Path(data_dir)
        self.time_limit = time_limit
        self.keep_open = keep_open
        self._lock = threading.Lock()
        self._base: Store | None = None
        self._users = 0
        self._last = 0.0
        self._closer: threading.Timer | None = None

    def _acquire(self) -> Store:
        with self._lock:
            if self._base is None:
                self._base = Store.open(self.data_dir, read_only=True)
            self._users += 1
            return self._base

    def _release(self) -> None:
        with self._lock:
            self._users -= 1
            self._last = time.monotonic()
            if self._users > 0:
                return
            if self.keep_open <= 0:
                self._close_locked()
                return
            if self._closer is not None:
                self._closer.cancel()
            self._closer = threading.Timer(self.keep_open, self._close_if_idle)
            self._closer.daemon = True
            self._closer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            if self._users == 0 and time.monotonic() - self._last >= self.keep_open * 0.99:
                self._close_locked()

    def _close_locked(self) -> None:
        if self._base is not None:
            base, self._base = self._base, None
            base.close()

    def close(self) -> None:
        """Close the shared connection now (server shutdown)."""
        with self._lock:
            if self._closer is not None:
                self._closer.cancel()
            self._close_locked()

    @contextmanager
    def open(self) -> Iterator[Store]:
        base = self._acquire()
        guard = _Guarded(base.connection)
        store = Store(base.data_dir, guard, read_only=True, lock=None, version=base.schema_version)
        timer = threading.Timer(self.time_limit, guard.interrupt)
        timer.daemon = True
        timer.start()
        try:
            yield store
        except StoreError as exc:
            if guard.interrupted:
                raise QueryTimeout(
                    f"a dashboard query ran longer than {self.time_limit:g} s and was stopped; "
                    "narrow the filters"
                ) from exc
            raise
        finally:
            timer.cancel()
            self._release()
