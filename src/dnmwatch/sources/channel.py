"""Messaging-channel exports -> de-duplicated message rows, with provenance.

Drug sellers advertise in channels and groups of messaging services as well as on markets. The
format read here is what Telegram Desktop writes with "Export chat history" (JSON):
``result.json`` = ``{"name", "type", "id", "messages": [{"id", "type": "message", "date":
"2020-05-01T12:34:56", "date_unixtime": "1588336496", "from", "from_id", "text", ...}]}``, where
``text`` is a string or a list of strings and entity objects (``{"type": "bold", "text":
"..."}``); newer exports add ``text_entities`` (used when ``text`` is absent).

**Memory.** A file up to :data:`SIZE_CAP` bytes (16 MiB) is read with ``json.load`` (simple;
Python objects take about nine times the file's size: 103 MiB of export peaked at 956 MiB).
A larger one is streamed: a small incremental reader walks the top object and decodes one
message at a time with ``json.JSONDecoder.raw_decode`` over a sliding buffer, so memory is one
message (at most :data:`MAX_MESSAGE_CHARS`) plus the open repost groups, whatever the file
size (the same 103 MiB, 300,000 messages: 33 MiB peak, no slower). In a streamed file the
header keys must come before ``messages`` (Telegram writes them first).

**Times.** ``date_unixtime`` (UTC seconds) when present; else ``date``, which Telegram writes in
the exporting computer's local time without a zone, taken as UTC (counted
``channel:date_without_zone``).

**Reposts.** Sellers repost the same offer many times. Messages with the same author
(``from_id``, else ``from``) and the same normalised text (case-folded, accents stripped,
only letters and digits kept, so emoji and decoration do not matter) within
:data:`DEDUP_DAYS` days of the previous sighting are one row with ``first_seen``,
``last_seen`` and ``reposts``; a repost after a longer gap starts a new row. Rows are emitted
when their window closes (the file is chronological), so open groups are the only state;
there are at most :data:`MAX_OPEN_GROUPS` (the oldest is emitted early beyond that, counted
``channel:dedup_evicted``).

Service messages (joins, pins) and messages without text are counted, not emitted. Problems
are counted :class:`~dnmwatch.records.Rejection` values (``not_a_channel_export``,
``bad_json``, ``bad_message``, ``message_too_large``, ``unreadable_file``); nothing raises.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from dnmwatch.records import Counters, Provenance, Rejection

SIZE_CAP = 16 * 1024 * 1024
"""Files up to this size are parsed whole with ``json.load``; larger ones are streamed."""
MAX_MESSAGE_CHARS = 4 * 1024 * 1024
"""Largest single message object accepted by the streaming reader."""
MAX_TEXT_CHARS = 20_000
"""Message text is cut to this length (Telegram's own limit is 4,096 characters)."""
DEDUP_DAYS = 7
MAX_OPEN_GROUPS = 100_000
CHUNK_CHARS = 1 << 16
_CHECK_EVERY = timedelta(hours=1)
ROW_COLUMNS: tuple[str, ...] = (
    "channel", "channel_type", "channel_id", "message_id", "date", "first_seen", "last_seen",
    "reposts", "author", "author_id", "text")
"""The keys of every row (all strings), for row adapters."""

_WORD = re.compile(r"[^\W_]+")


class _ExportError(Exception):
    """Internal: the file cannot be read as an export (becomes a Rejection)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def is_channel_export(path: Path) -> bool:
    """Whether ``path`` looks like a messaging export: a ``.json`` file whose first KiB opens an
    object with ``"messages"`` or a chat ``"type"`` key (Telegram's ``result.json``)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return False
    start = head.lstrip("\ufeff \t\r\n")
    return start.startswith("{") and ('"messages"' in head or '"type"' in head)


def message_text(value: Any) -> str:
    """The plain text of a ``text`` value: a string, or a list of strings and entity objects."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for item in value[:10_000]:
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                parts.append(item["text"])
        return "".join(parts)
    return ""


def normalised_text(text: str) -> str:
    """The repost key of a text: folded, accents stripped, letters and digits only."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(folded))


def message_time(msg: dict[str, Any], counters: Counters) -> datetime | None:
    """UTC time of a message (see the module docstring), ``None`` when unreadable."""
    unix = msg.get("date_unixtime")
    if isinstance(unix, str | int) and not isinstance(unix, bool):
        try:
            return datetime.fromtimestamp(int(unix), UTC)
        except (ValueError, OverflowError, OSError):
            pass
    raw = msg.get("date")
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw[:40])
        except ValueError:
            return None
        if moment.tzinfo is None:
            counters.inc("channel:date_without_zone")
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    return None


# ------------------------------------------------------------------ streaming reader

class _Stream:
    """An incremental JSON reader over a text file: one value at a time, bounded buffer."""

    def __init__(self, fh: IO[str], max_value: int = MAX_MESSAGE_CHARS) -> None:
        self.fh, self.max_value = fh, max_value
        self.buf, self.pos, self.eof = "", 0, False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(CHUNK_CHARS)
        if not chunk:
            self.eof = True
            return False
        if self.pos:
            self.buf, self.pos = self.buf[self.pos:], 0
        self.buf += chunk
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at the end), without consuming it."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n\ufeff":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def take(self, expected: str) -> None:
        if self.peek() != expected:
            raise _ExportError("bad_json", f"expected {expected!r}")
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value. A number ending the buffer is re-read with more data."""
        self.peek()
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if len(self.buf) - self.pos > self.max_value:
                    raise _ExportError("message_too_large",
                                       f"value over {self.max_value} characters") from None
                if not self._fill():
                    raise _ExportError("bad_json", "malformed or truncated JSON") from None
                continue
            if end >= len(self.buf) and not self.eof and self._fill():
                continue
            self.pos = end
            return obj


def _stream_export(fh: IO[str], header: dict[str, Any]) -> Iterator[Any]:
    """Messages of a streamed export; header keys seen before ``messages`` go to ``header``."""
    s = _Stream(fh)
    if s.peek() != "{":
        raise _ExportError("not_a_channel_export", "top level is not an object")
    s.take("{")
    found = False
    while s.peek() not in ("}", ""):
        key = s.value()
        s.take(":")
        if key == "messages" and s.peek() == "[":
            found = True
            s.take("[")
            while s.peek() not in ("]", ""):
                yield s.value()
                if s.peek() == ",":
                    s.take(",")
            s.take("]")
        else:
            value = s.value()
            if isinstance(key, str) and not isinstance(value, dict | list):
                header[key] = value
        if s.peek() == ",":
            s.take(",")
    if not found:
        raise _ExportError("not_a_channel_export", "no messages list")


# ------------------------------------------------------------------ repost groups

@dataclass(slots=True)
class _Group:
    row: dict[str, str]
    offset: int | None
    first: datetime
    last: datetime
    reposts: int = 0
    extra: list[int] = field(default_factory=list)


class ChannelSource:
    """The de-duplicated message rows of one export, as ``(provenance, row)`` pairs."""

    def __init__(self, path: Path, *, counters: Counters | None = None,
                 size_cap: int = SIZE_CAP, dedup_days: int = DEDUP_DAYS,
                 max_open: int = MAX_OPEN_GROUPS) -> None:
        self.path = Path(path)
        self.source = str(self.path)
        self.counters = counters if counters is not None else Counters()
        self.size_cap, self.max_open = size_cap, max_open
        self.window = timedelta(days=dedup_days)
        self.header: dict[str, Any] = {}

    def _problem(self, reason: str, detail: str) -> Rejection:
        self.counters.inc(f"channel:{reason}")
        return Rejection(reason=reason, detail=detail, source=self.source,
                         provenance=Provenance(source=self.source))

    def messages(self) -> Iterator[dict[str, Any] | Rejection]:
        """The raw message objects in file order (json.load or streamed, see above)."""
        try:
            size = self.path.stat().st_size
            fh = self.path.open(encoding="utf-8-sig", errors="replace")
        except OSError as exc:
            yield self._problem("unreadable_file", exc.strerror or type(exc).__name__)
            return
        with fh:
            try:
                if size <= self.size_cap:
                    self.counters.inc("channel:read_whole")
                    items: Iterable[Any] = self._whole(fh)
                else:
                    self.counters.inc("channel:read_streamed")
                    items = _stream_export(fh, self.header)
                for item in items:
                    if isinstance(item, dict):
                        yield item
                    else:
                        yield self._problem("bad_message", f"message is {type(item).__name__}")
            except _ExportError as exc:
                yield self._problem(exc.reason, exc.detail)
            except (RecursionError, ValueError) as exc:
                yield self._problem("bad_json", type(exc).__name__)

    def _whole(self, fh: IO[str]) -> list[Any]:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise _ExportError("bad_json", f"line {exc.lineno} column {exc.colno}") from None
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise _ExportError("not_a_channel_export", "no messages list")
        self.header = {k: v for k, v in data.items() if not isinstance(v, dict | list)}
        messages: list[Any] = data["messages"]
        return messages

    def _row(self, msg: dict[str, Any], when: datetime) -> dict[str, str] | None:
        if msg.get("type", "message") != "message":
            self.counters.inc("channel:service_messages")
            return None
        raw = msg.get("text")
        text = message_text(raw if raw is not None else msg.get("text_entities"))
        text = text[:MAX_TEXT_CHARS].strip()
        if not text:
            self.counters.inc("channel:no_text")
            return None
        author = msg.get("from") if isinstance(msg.get("from"), str) else None
        author_id = msg.get("from_id") if isinstance(msg.get("from_id"), str | int) else None
        channel = self.header.get("name")
        return {
            "channel": str(channel)[:500] if channel is not None else "",
            "channel_type": str(self.header.get("type", ""))[:100],
            "channel_id": str(self.header.get("id", ""))[:100],
            "message_id": str(msg.get("id", ""))[:100],
            "date": when.isoformat(),
            "author": (author or "")[:500],
            "author_id": str(author_id)[:100] if author_id is not None else "",
            "text": text,
        }

    def rows(self) -> Iterator[tuple[Provenance, dict[str, str]] | Rejection]:
        """De-duplicated rows (keys :data:`ROW_COLUMNS`), each with its provenance."""
        groups: dict[str, _Group] = {}
        checked: datetime | None = None
        for item in self.messages():
            if isinstance(item, Rejection):
                yield item
                continue
            self.counters.inc("channel:messages")
            when = message_time(item, self.counters)
            if when is None:
                yield self._problem("bad_message", "message without a readable date")
                continue
            row = self._row(item, when)
            if row is None:
                continue
            if checked is None or when - checked >= _CHECK_EVERY:
                # closing expired groups scans them all: do it once an hour of message time
                checked = when
                yield from self._close(groups, when - self.window)
            key = hashlib.blake2b("\x1f".join((
                row["author_id"] or row["author"], normalised_text(row["text"]))).encode(),
                digest_size=16).hexdigest()
            group = groups.get(key)
            msg_id = item.get("id")
            offset = msg_id if isinstance(msg_id, int) and not isinstance(msg_id, bool) else None
            if group is not None and abs(when - group.last) <= self.window:
                group.reposts += 1
                group.first, group.last = min(group.first, when), max(group.last, when)
                self.counters.inc("channel:reposts")
                continue
            if group is not None:
                yield self._emit(groups.pop(key))
            groups[key] = _Group(row, offset, when, when)
            if len(groups) > self.max_open:
                self.counters.inc("channel:dedup_evicted")
                yield self._emit(groups.pop(next(iter(groups))))
        for key in list(groups):
            yield self._emit(groups.pop(key))

    def _close(self, groups: dict[str, _Group], before: datetime) -> Iterator[
            tuple[Provenance, dict[str, str]]]:
        for key in [k for k, g in groups.items() if g.last < before]:
            yield self._emit(groups.pop(key))

    def _emit(self, group: _Group) -> tuple[Provenance, dict[str, str]]:
        row = dict(group.row)
        row.update(first_seen=group.first.isoformat(), last_seen=group.last.isoformat(),
                   reposts=str(group.reposts))
        self.counters.inc("channel:rows")
        return Provenance(source=self.source, offset=group.offset, captured_at=group.first), row
