"""WARC files -> pages, streaming with constant memory, tolerant of damage.

Why warcio and not our collector's reader (``collect.warc_read``): extraction must read any
archive, not only ours: whole-file gzip or one member per record, uncompressed ``.warc``,
``resource`` records, HTTP bodies with chunked or gzip transfer encodings; warcio handles those
and is already a dependency. (``sources`` may not import ``collect`` anyway: imports run one
way.)

Memory stays flat however large the file: records are read one at a time and a body is read
only up to ``max_body_bytes`` (the rest is skipped, and the page becomes a ``too_large``
rejection rather than a silently cut page).

Damage is counted, never fatal. A record that warcio cannot read (corrupt gzip member, bad
header, garbage) becomes a ``broken_record`` rejection with its byte offset, and reading
resumes at the next gzip member (or ``WARC/1.`` line in an uncompressed file). A record whose
body ends before its ``Content-Length`` (a file cut short) is a ``truncated_record``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import redirect_stderr
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]

from dnmwatch.records import Counters, Page, Provenance, Rejection

DEFAULT_MAX_BODY = 8 * 1024 * 1024
"""Same bound as the adapters' ``max_body_bytes``."""
GZIP_MAGIC = b"\x1f\x8b\x08"
PLAIN_MAGIC = b"WARC/1."
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_SCAN_CHUNK = 1 << 20
_PAGE_TYPES = ("html", "xml", "text/plain")


def is_warc(path: Path) -> bool:
    """Whether ``path`` is named like a (sealed) WARC file."""
    return path.name.lower().endswith(WARC_SUFFIXES)


def parse_warc_date(value: str | None) -> datetime | None:
    """``WARC-Date`` (ISO 8601, ``Z``) as an aware UTC datetime, or ``None``."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _find(fh: BinaryIO, start: int, magic: bytes) -> int | None:
    """Offset of the first ``magic`` at or after ``start``, scanning in bounded chunks."""
    fh.seek(start)
    base, tail = start, b""
    while True:
        chunk = fh.read(_SCAN_CHUNK)
        if not chunk:
            return None
        data = tail + chunk
        hit = data.find(magic)
        if hit >= 0:
            return base - len(tail) + hit
        tail = data[-(len(magic) - 1):]
        base += len(chunk)


class WarcSource:
    """The pages of one WARC file. ``info`` holds the ``warcinfo`` fields once read (our
    crawler writes ``dnmwatch-market`` and ``dnmwatch-crawl-id`` there); ``counters`` counts
    records by type and every problem (``warc:*``)."""

    def __init__(self, path: Path, *, max_body_bytes: int = DEFAULT_MAX_BODY,
                 counters: Counters | None = None) -> None:
        self.path = Path(path)
        self.source = str(self.path)
        self.max_body_bytes = max_body_bytes
        self.counters = counters if counters is not None else Counters()
        self.info: dict[str, str] = {}
        self.arc = self.path.name.lower().endswith((".arc", ".arc.gz"))
        self._sink = io.StringIO()

    @property
    def market(self) -> str | None:
        return self.info.get("dnmwatch-market") or None

    @property
    def crawl_id(self) -> str | None:
        return self.info.get("dnmwatch-crawl-id") or None

    def _problem(self, reason: str, detail: str, offset: int | None) -> Rejection:
        self.counters.inc(f"warc:{reason}")
        return Rejection(reason=reason, detail=detail, source=self.source,
                         provenance=Provenance(source=self.source, offset=offset))

    def pages(self) -> Iterator[Page | Rejection]:
        """Each HTML-ish response as a :class:`Page` (provenance: file, offset, WARC-Date), and
        each damaged stretch as a :class:`Rejection`. Never raises on bad content."""
        try:
            fh = self.path.open("rb")
        except OSError as exc:
            yield self._problem("unreadable_file", exc.strerror or type(exc).__name__, None)
            return
        with fh:
            gzipped = fh.read(3) == GZIP_MAGIC
            magic = GZIP_MAGIC if gzipped else PLAIN_MAGIC
            pos: int | None = 0
            while pos is not None:
                start, pos = pos, None
                fh.seek(start)
                iterator = ArchiveIterator(fh)
                records = iter(iterator)
                try:
                    while True:
                        # warcio prints a warning on stderr for a record followed by junk (a
                        # wrong Content-Length); count it instead of letting it garble output.
                        with redirect_stderr(self._sink):
                            record = next(records, None)
                            item = None if record is None else self._convert(record, iterator)
                        self._count_warnings()
                        if record is None:
                            break
                        if item is not None:
                            yield item
                    tail = self._unread_tail(fh, int(iterator.offset))
                    if tail is not None:
                        yield tail
                except Exception as exc:  # warcio raises many types on damaged input
                    self._count_warnings()
                    failed = max(int(iterator.offset), start)
                    yield self._problem("broken_record", f"{type(exc).__name__} at byte "
                                        f"{failed}", failed)
                    pos = _find(fh, failed + 1, magic)
                    if pos is not None:
                        self.counters.inc("warc:resynced")

    def _count_warnings(self) -> None:
        text = self._sink.getvalue()
        if text:
            self.counters.inc("warc:length_mismatch", text.count("WARNING"))
            self._sink.seek(0)
            self._sink.truncate()

    def _unread_tail(self, fh: BinaryIO, end: int) -> Rejection | None:
        """A file that ends inside a gzip member reads as a clean end in warcio: what is left
        after the last whole record (other than blank padding) is a cut record."""
        size = os.fstat(fh.fileno()).st_size
        if size <= end:
            return None
        fh.seek(end)
        if not fh.read(_SCAN_CHUNK).strip(b"\r\n\t \x00"):
            return None
        return self._problem("truncated_record", f"{size - end} bytes after the last whole "
                             "record", end)

    def _convert(self, record: Any, iterator: Any) -> Page | Rejection | None:
        if record.format != "warc" and not self.arc:
            raise ValueError(f"{record.format} record in a file not named .arc")
        rtype = record.rec_type
        self.counters.inc(f"warc:type:{rtype}")
        offset = int(iterator.offset)
        if rtype == "warcinfo":
            self._read_info(record)
            return None
        if rtype not in ("response", "resource"):
            return None
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI") or ""
        captured = parse_warc_date(headers.get_header("WARC-Date"))
        if captured is None or not url:
            return self._problem("bad_record", "response without WARC-Target-URI or "
                                 "WARC-Date", offset)
        status, ctype = 200, headers.get_header("Content-Type") or "text/html"
        if rtype == "response":
            http = record.http_headers
            if http is None:
                return self._problem("bad_record", "response without HTTP headers", offset)
            status = int(http.get_statuscode() or 0)
            ctype = http.get_header("Content-Type") or ""
        wanted = not ctype or any(kind in ctype.lower() for kind in _PAGE_TYPES)
        body = record.content_stream().read(self.max_body_bytes + 1) if wanted else b""
        raw = record.raw_stream
        while raw.read(_SCAN_CHUNK):
            pass
        missing = int(getattr(raw, "limit", 0))
        if missing > 0:
            return self._problem("truncated_record", f"{missing} bytes missing", offset)
        if not wanted:
            self.counters.inc("warc:skipped_not_html")
            return None
        if len(body) > self.max_body_bytes:
            return self._problem("too_large", f"body over {self.max_body_bytes} bytes", offset)
        if headers.get_header("WARC-Truncated"):
            self.counters.inc("warc:truncated_by_crawler")
        self.counters.inc("warc:pages")
        return Page(url=url, captured_at=captured, body=body, status=status,
                    content_type=ctype or "text/html",
                    provenance=Provenance(source=self.source, offset=offset,
                                          captured_at=captured))

    def _read_info(self, record: Any) -> None:
        text = record.content_stream().read(64 * 1024).decode("utf-8", errors="replace")
        for line in text.splitlines():
            name, colon, value = line.partition(":")
            if colon and name.strip():
                self.info.setdefault(name.strip(), value.strip())
