"""Where a crawl keeps its state, how crawls are named and found again for ``--resume``.

Layout under the data directory (beside the store)::

    <data_dir>/crawls/<market>/<crawl_id>/frontier.sqlite   the durable frontier
    <data_dir>/warc/<market>/<crawl_id>-NNNNN.warc.gz       the captures (sealed files)

The crawl id says which market and when (UTC), plus a few random hex digits so that two crawls
started in the same second differ; it holds no host name.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path

from dnmwatch.store import WARC_DIR

CRAWLS_DIR = "crawls"
FRONTIER_NAME = "frontier.sqlite"


class ExitCode(IntEnum):
    """Process exit statuses of ``dnmwatch crawl`` (documented in docs/collect.md)."""

    FINISHED = 0
    FAILED = 1
    PAUSED = 75
    """EX_TEMPFAIL: a gate needs a person; state is saved, ``--resume`` continues."""


def new_crawl_id(market: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{market}-{stamp}-{secrets.token_hex(2)}"


@dataclass(frozen=True, slots=True)
class CrawlPaths:
    data_dir: Path
    market: str
    crawl_id: str

    @property
    def state_dir(self) -> Path:
        return self.data_dir / CRAWLS_DIR / self.market / self.crawl_id

    @property
    def frontier(self) -> Path:
        return self.state_dir / FRONTIER_NAME

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / WARC_DIR / self.market


def latest_unfinished(data_dir: Path, market: str) -> str | None:
    """The newest crawl of ``market`` whose frontier does not say it finished."""
    root = data_dir / CRAWLS_DIR / market
    if not root.is_dir():
        return None
    for state_dir in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
        db = state_dir / FRONTIER_NAME
        if not db.is_file():
            continue
        conn = sqlite3.connect(db)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
        except sqlite3.Error:
            row = None
        finally:
            conn.close()
        if row is None or row[0] != "finished":
            return state_dir.name
    return None
