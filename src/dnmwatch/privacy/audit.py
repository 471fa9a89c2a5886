"""An append-only, hash-chained audit log of what was done with the data.

Why: a data-protection officer or an ethics board must be able to see every crawl, export,
purge, key use and dashboard login, and to trust that nobody quietly removed an entry. Each
entry is one JSON line holding the SHA-256 of the previous entry (``prev_hash``) and its own
hash over its canonical JSON form (sorted keys, no spaces, UTF-8). Editing, deleting,
reordering or inserting a line breaks the chain at that point, and :func:`verify` names the
first sequence number where it breaks.

Cutting off the *last* lines leaves a valid chain, so every append also rewrites a small head
file (``audit.head``: last seq and hash); :func:`verify` compares the log with it. Someone able
to rewrite both files and recompute every hash defeats any local log; against that, copy the
head hash (``dnmwatch audit show --head``) somewhere else from time to time: a later log whose
chain does not pass through that hash has been rewritten.

Appends from several processes are serialised with an exclusive ``flock`` on the log file, so
sequence numbers never repeat. The log holds no researcher identity: the actor is a role
(``cli``, ``crawler``, a dashboard account), never the operating-system user or host name.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dnmwatch.errors import DnmwatchError

AUDIT_NAME = "audit.jsonl"
HEAD_NAME = "audit.head"
GENESIS = "0" * 64
"""``prev_hash`` of the first entry."""
ACTIONS = frozenset(
    {"crawl", "extract", "build", "export", "purge", "key_use", "key_init", "key_rotate", "login",
     "rekey"}
)
"""Known actions; others are accepted (plugins) but must be lower-case words."""
_FIELDS = ("seq", "time", "actor", "action", "details", "prev_hash", "hash")

Clock = Callable[[], datetime]


class AuditError(DnmwatchError):
    """The audit log cannot be read or written."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, compact separators, UTF-8, no ``hash`` field."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical form of ``entry``."""
    return hashlib.sha256(canonical(entry)).hexdigest()


@dataclass(frozen=True, slots=True)
class Verification:
    """Outcome of :func:`verify`. ``first_bad_seq`` is the sequence number where the chain
    first breaks (for a cut-off tail: the first missing one); ``None`` when intact."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


def audit_path(data_dir: Path) -> Path:
    """Where the audit log of a data directory lives."""
    return Path(data_dir) / AUDIT_NAME


class AuditLog:
    """The audit log of one data directory. Cheap to build; opens the file per call."""

    def __init__(self, path: Path, *, clock: Clock = _utcnow) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(HEAD_NAME)
        self._clock = clock

    @classmethod
    def for_data_dir(cls, data_dir: Path, *, clock: Clock = _utcnow) -> AuditLog:
        return cls(audit_path(data_dir), clock=clock)

    def append(
        self, actor: str, action: str, details: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Add one entry and return it. ``details`` must be JSON-serialisable; it must never
        hold a vendor handle, a key or a secret (callers pass counts, labels, file hashes)."""
        if not actor or not action or not action.replace("_", "").isalpha() or not action.islower():
            raise AuditError(f"audit action must be a lower-case word, got {action!r}")
        when = self._clock()
        if when.tzinfo is None:
            raise AuditError("the audit clock must return aware datetimes (UTC)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise AuditError(f"cannot open audit log {self.path}: {exc.strerror}") from exc
        with os.fdopen(fd, "r+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                last = _last_entry(fh)
                entry: dict[str, Any] = {
                    "seq": 1 if last is None else int(last["seq"]) + 1,
                    "time": when.astimezone(UTC).isoformat(timespec="microseconds"),
                    "actor": actor,
                    "action": action,
                    "details": dict(details or {}),
                    "prev_hash": GENESIS if last is None else str(last["hash"]),
                }
                try:
                    entry["hash"] = entry_hash(entry)
                    line = json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n"
                except (TypeError, ValueError) as exc:
                    raise AuditError(f"audit details are not JSON-serialisable: {exc}") from exc
                fh.seek(0, os.SEEK_END)
                fh.write(line.encode())
                fh.flush()
                os.fsync(fh.fileno())
                self._write_head(entry)
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return entry

    def _write_head(self, entry: Mapping[str, Any]) -> None:
        tmp = self.head_path.with_name(HEAD_NAME + ".tmp")
        tmp.write_text(json.dumps({"seq": entry["seq"], "hash": entry["hash"]}) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.head_path)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry as stored (no verification; use :func:`verify` for that)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                try:
                    value = json.loads(raw)
                except ValueError as exc:
                    raise AuditError(f"audit log line {number} is not JSON") from exc
                if not isinstance(value, dict):
                    raise AuditError(f"audit log line {number} is not an object")
                yield value

    def head(self) -> dict[str, Any] | None:
        """The head file's ``{"seq", "hash"}``, or None when nothing was logged yet."""
        try:
            value = json.loads(self.head_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise AuditError(f"cannot read audit head {self.head_path}") from exc
        return value if isinstance(value, dict) else None

    def verify(self) -> Verification:
        return verify(self)


def _last_entry(fh: Any) -> dict[str, Any] | None:
    """The last complete line of an open log, read backwards in blocks (logs grow long)."""
    end = fh.seek(0, os.SEEK_END)
    if end == 0:
        return None
    block = 4096
    pos = end
    tail = b""
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        tail = fh.read(step) + tail
        if tail.rstrip(b"\n").count(b"\n") >= 1:
            break
    line = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise AuditError("the last line of the audit log is damaged; run audit verify") from exc
    if not isinstance(value, dict) or "seq" not in value or "hash" not in value:
        raise AuditError("the last line of the audit log is damaged; run audit verify")
    return value


def verify(log: AuditLog) -> Verification:
    """Walk the chain; report the first entry that is edited, missing, moved or inserted."""
    expected_seq = 1
    prev = GENESIS
    count = 0
    if log.path.exists():
        with log.path.open("rb") as fh:
            for raw in fh:
                bad = _check_line(raw, expected_seq, prev)
                if bad is not None:
                    return Verification(False, count, expected_seq, bad)
                entry = json.loads(raw)
                prev = entry["hash"]
                expected_seq += 1
                count += 1
    head = log.head()
    if head is None:
        if count:
            return Verification(False, count, None, "the head file audit.head is missing")
        return Verification(True, 0)
    head_seq = head.get("seq")
    if not isinstance(head_seq, int) or head_seq > count:
        return Verification(
            False, count, expected_seq, f"log ends at seq {count} but the head says {head_seq}"
        )
    if head_seq < count:
        return Verification(
            False, count, head_seq + 1, f"entries after seq {head_seq} are not in the head"
        )
    if count and head.get("hash") != prev:
        return Verification(False, count, count, "last entry's hash differs from the head")
    return Verification(True, count)


def _check_line(raw: bytes, seq: int, prev: str) -> str | None:
    """Why this line breaks the chain at position ``seq``, or None if it fits."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return "line is not valid JSON"
    if not isinstance(entry, dict) or set(entry) != set(_FIELDS):
        return "entry does not have exactly the fields " + ", ".join(_FIELDS)
    if entry["seq"] != seq:
        return f"expected seq {seq}, found {entry['seq']!r} (deleted, inserted or moved line)"
    if entry["prev_hash"] != prev:
        return "prev_hash does not match the previous entry (deleted, inserted or moved line)"
    if entry["hash"] != entry_hash(entry):
        return "hash does not match the entry's content (edited line)"
    return None
