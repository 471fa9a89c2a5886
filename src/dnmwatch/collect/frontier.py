"""The crawl frontier: every URL of one crawl and its state, in SQLite, durable on every change.

Why SQLite (WAL, ``synchronous=FULL``) and a commit per change: Scrapy's job directory keeps its
queue in memory and loses it on a crash (its issues #2399, #4106, #7978). Here every transition
is committed before the crawler acts on it, so a SIGKILL at any instant loses nothing.

States::

    queued --claim--> in_flight --done--> done
      ^                   |    \\--fail--> failed   (with a reason)
      |----requeue--------|
      \\----recover() at start: in_flight left by a crash goes back to queued

Each claim draws a fresh ``record_id``; the crawler gives the WARC record of a page's *final*
capture that id, so after a crash an in-flight URL whose record already reached the WARC file is
completed from that record instead of fetched twice (see ``crawler.py``).
URLs are de-duplicated by :func:`dnmwatch.collect.urls.normalise`.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dnmwatch.collect.urls import normalise
from dnmwatch.errors import CaptureError

State = Literal["queued", "in_flight", "done", "failed"]
STATES: tuple[State, ...] = ("queued", "in_flight", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'in_flight', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    reason      TEXT,
    depth       INTEGER NOT NULL DEFAULT 0,
    not_before  REAL NOT NULL DEFAULT 0,
    record_id   TEXT,
    updated_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS urls_ready ON urls (state, not_before, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One URL of the frontier as it was when read."""

    key: str
    url: str
    state: State
    attempts: int
    depth: int
    reason: str | None
    record_id: str | None


class Frontier:
    """One crawl's frontier file. Not thread-safe: one asyncio loop uses it."""

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Callable[[], float]) -> None:
        self._conn = conn
        self.path = path
        self._clock = clock

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> Frontier:
        """Open or create the frontier at ``path`` (WAL mode, every commit synced)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise CaptureError(f"cannot open frontier {path}: {exc}") from exc
        return cls(conn, path, clock)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise CaptureError(f"frontier {self.path}: {exc}") from exc

    # ------------------------------------------------------------------ metadata and counters

    def set_meta(self, **values: str) -> None:
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                           list(values.items()))

    def meta(self) -> dict[str, str]:
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def counters(self) -> dict[str, int]:
        return dict(self._conn.execute("SELECT key, n FROM counters ORDER BY key").fetchall())

    @staticmethod
    def _count(db: sqlite3.Connection, counts: Iterable[str]) -> None:
        db.executemany(
            "INSERT INTO counters (key, n) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1",
            [(c,) for c in counts])

    def count(self, *keys: str) -> None:
        """Add one to each counter (durably, like everything else)."""
        with self._tx() as db:
            self._count(db, keys)

    # ------------------------------------------------------------------ transitions

    def add(self, urls: Iterable[str], *, depth: int = 0) -> int:
        """Queue the URLs not seen before; returns how many were new."""
        return self._add_in(None, urls, depth)

    def _add_in(self, db: sqlite3.Connection | None, urls: Iterable[str], depth: int) -> int:
        now = self._clock()
        rows = [(normalise(u), u, depth, now) for u in urls]
        if not rows:
            return 0
        sql = ("INSERT OR IGNORE INTO urls (key, url, state, depth, updated_at) "
               "VALUES (?, ?, 'queued', ?, ?)")
        if db is not None:
            before = db.total_changes
            db.executemany(sql, rows)
            return db.total_changes - before
        with self._tx() as tx:
            before = tx.total_changes
            tx.executemany(sql, rows)
            return tx.total_changes - before

    def recover(self) -> list[Entry]:
        """Put every in-flight URL (left by a crash) back in the queue; returns them as they
        were, record ids included, so the caller can look for their capture in the WARC."""
        with self._tx() as db:
            rows = db.execute(_SELECT + " WHERE state = 'in_flight' ORDER BY seq").fetchall()
            db.execute("UPDATE urls SET state = 'queued', updated_at = ? WHERE state = 'in_flight'",
                       (self._clock(),))
        return [_entry(r) for r in rows]

    def claim(self) -> Entry | None:
        """The oldest queued URL whose retry time has come, now in flight with a new attempt
        and record id; ``None`` if none is ready (see :meth:`next_ready_in`)."""
        now = self._clock()
        with self._tx() as db:
            row = db.execute(_SELECT + " WHERE state = 'queued' AND not_before <= ? "
                             "ORDER BY not_before, seq LIMIT 1", (now,)).fetchone()
            if row is None:
                return None
            record_id = f"<urn:uuid:{uuid.uuid4()}>"
            db.execute("UPDATE urls SET state = 'in_flight', attempts = attempts + 1, "
                       "record_id = ?, updated_at = ? WHERE key = ?", (record_id, now, row[0]))
        entry = _entry(row)
        return Entry(entry.key, entry.url, "in_flight", entry.attempts + 1, entry.depth,
                     entry.reason, record_id)

    def next_ready_in(self) -> float | None:
        """Seconds until the next queued URL may be claimed; ``None`` if nothing is queued."""
        row = self._conn.execute("SELECT MIN(not_before) FROM urls WHERE state = 'queued'"
                                 ).fetchone()
        if row is None or row[0] is None:
            return None
        return max(0.0, float(row[0]) - self._clock())

    def done(self, entry: Entry, links: Iterable[str] = (), *, counts: Iterable[str] = (),
             reason: str | None = None) -> int:
        """Mark ``entry`` done and queue its new links in the same transaction; returns how
        many links were new. ``counts`` are counters to bump in that transaction too."""
        with self._tx() as db:
            db.execute("UPDATE urls SET state = 'done', reason = ?, updated_at = ? WHERE key = ?",
                       (reason, self._clock(), entry.key))
            self._count(db, counts)
            return self._add_in(db, links, entry.depth + 1)

    def fail(self, entry: Entry, reason: str, *, counts: Iterable[str] = ()) -> None:
        """Give up on ``entry`` with a reason (kept for the crawl's report)."""
        with self._tx() as db:
            db.execute("UPDATE urls SET state = 'failed', reason = ?, updated_at = ? "
                       "WHERE key = ?", (reason, self._clock(), entry.key))
            self._count(db, counts)

    def requeue(self, entry: Entry, reason: str, *, delay_s: float = 0.0,
                refund: bool = False, counts: Iterable[str] = ()) -> None:
        """Put ``entry`` back in the queue, claimable after ``delay_s``. ``refund`` gives the
        attempt back (a gate or a pause is not the page's fault)."""
        with self._tx() as db:
            db.execute("UPDATE urls SET state = 'queued', reason = ?, not_before = ?, "
                       "attempts = attempts - ?, updated_at = ? WHERE key = ?",
                       (reason, self._clock() + delay_s, 1 if refund else 0, self._clock(),
                        entry.key))
            self._count(db, counts)

    # ------------------------------------------------------------------ reading

    def get(self, url: str) -> Entry | None:
        row = self._conn.execute(_SELECT + " WHERE key = ?", (normalise(url),)).fetchone()
        return None if row is None else _entry(row)

    def entries(self, state: State | None = None) -> list[Entry]:
        if state is None:
            rows = self._conn.execute(_SELECT + " ORDER BY seq").fetchall()
        else:
            rows = self._conn.execute(_SELECT + " WHERE state = ? ORDER BY seq",
                                      (state,)).fetchall()
        return [_entry(r) for r in rows]

    def stats(self) -> dict[State, int]:
        """Number of URLs in each state (every state present, zero included)."""
        found = dict(self._conn.execute("SELECT state, COUNT(*) FROM urls GROUP BY state"
                                        ).fetchall())
        return {s: int(found.get(s, 0)) for s in STATES}


_SELECT = "SELECT key, url, state, attempts, depth, reason, record_id FROM urls"


def _entry(row: tuple[object, ...]) -> Entry:
    key, url, state, attempts, depth, reason, record_id = row
    assert isinstance(state, str) and state in STATES
    return Entry(str(key), str(url), state, int(str(attempts)), int(str(depth)),
                 None if reason is None else str(reason),
                 None if record_id is None else str(record_id))
