"""Retention: raw pages and free text expire; derived tables stay.

Why: raw captures and free text (feedback, titles as shown) are where personal data hides —
handles in page headers, contact details a scrubber missed, writing style. The measurements
(``listings``, ``sales``, ``vendors``...) are what research needs, and they are derived, so the
raw material is kept only as long as re-extraction is useful (``privacy.warc_retention_days``)
and free text only as long as ``privacy.text_retention_days``. GDPR Art. 5(1)(e) (storage
limitation) and the Art. 89 safeguards expect exactly this.

:func:`plan` lists what would go (a dry run, the default of ``dnmwatch purge``);
:func:`apply` deletes the WARC files, blanks (sets NULL) the free-text cells and writes one
audit entry with the counts. Age is the file's modification time for WARC files and the row's
own time column for text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dnmwatch.errors import StoreError
from dnmwatch.privacy.audit import AuditLog

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
FREE_TEXT: tuple[tuple[str, str, str], ...] = (
    ("feedback", "text", "coalesce(first_seen, posted_at)"),
    ("listing_observations", "title", "observed_at"),
    ("listing_observations", "delivery", "observed_at"),
)
"""(table, free-text column, time expression) blanked once older than the text period.
``listings.title`` (the latest title, a derived value) is kept. ``delivery`` holds message
lines of channel offers (written by people), so it goes with the titles; a rebuild after the
purge falls back to the title and the market's default delivery method."""


@dataclass(frozen=True, slots=True)
class ExpiredFile:
    path: Path
    size: int
    modified: datetime


@dataclass(frozen=True, slots=True)
class Plan:
    """What a purge removes. ``text`` maps ``table.column`` to the number of cells blanked."""

    warc_cutoff: datetime
    text_cutoff: datetime
    files: list[ExpiredFile] = field(default_factory=list)
    text: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    def summary(self) -> dict[str, Any]:
        """Counts only (no file names of researchers' machines): for the audit log."""
        return {
            "warc_cutoff": self.warc_cutoff.isoformat(),
            "text_cutoff": self.text_cutoff.isoformat(),
            "warc_files": len(self.files),
            "warc_bytes": self.bytes,
            "text_cells": dict(self.text),
        }


def _naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def plan(
    conn: Any, warc_dir: Path, *, warc_days: int, text_days: int, now: datetime | None = None
) -> Plan:
    """What would be purged at ``now`` (default: the current time)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    result = Plan(now - timedelta(days=warc_days), now - timedelta(days=text_days))
    if warc_dir.is_dir():
        for path in sorted(warc_dir.rglob("*")):
            if not path.is_file() or path.is_symlink() or not path.name.endswith(WARC_SUFFIXES):
                continue
            info = path.stat()
            modified = datetime.fromtimestamp(info.st_mtime, UTC)
            if modified < result.warc_cutoff:
                result.files.append(ExpiredFile(path, info.st_size, modified))
    cutoff = _naive_utc(result.text_cutoff)
    for table, column, when in FREE_TEXT:
        try:
            row = conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NOT NULL '  # noqa: S608
                f"AND {when} < ?",
                [cutoff],
            ).fetchall()[0]
        except Exception as exc:  # duckdb.Error: translated at the boundary
            raise StoreError(f"retention query on {table} failed: {exc}") from exc
        result.text[f"{table}.{column}"] = int(row[0])
    return result


def apply(conn: Any, purge: Plan, *, audit: AuditLog, warc_root: Path, actor: str = "cli") -> Plan:
    """Carry out ``purge``: delete its files (only those under ``warc_root``), blank the text.

    The text update runs in one transaction; files are removed afterwards, one by one (a
    failure leaves the remaining ones for the next purge). Returns what was actually done.
    """
    cutoff = _naive_utc(purge.text_cutoff)
    done = Plan(purge.warc_cutoff, purge.text_cutoff)
    try:
        conn.execute("BEGIN TRANSACTION")
        for table, column, when in FREE_TEXT:
            row = conn.execute(
                f'UPDATE "{table}" SET "{column}" = NULL WHERE "{column}" IS NOT NULL '  # noqa: S608
                f"AND {when} < ?",
                [cutoff],
            ).fetchall()
            done.text[f"{table}.{column}"] = int(row[0][0]) if row else 0
        conn.execute("COMMIT")
    except Exception as exc:
        conn.execute("ROLLBACK")
        raise StoreError(f"blanking expired free text failed: {exc}") from exc
    root = warc_root.resolve()
    for item in purge.files:
        if not item.path.resolve().is_relative_to(root):
            continue  # never delete outside the store's warc folder
        try:
            item.path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            continue
        done.files.append(item)
    audit.append(actor, "purge", done.summary())
    return done
