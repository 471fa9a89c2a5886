"""WARC 1.1 writer: one gzip member per record, digests, truncation marks, rotation, sealing.

Why our own few dozen lines instead of warcio's writer: warcio's ``capture_http`` only wraps
``requests``, so with aiohttp the records are built by hand anyway, and warcio ships no type
information. The format written here is plain WARC 1.1 (read back by warcio and fastwarc; the
tests check warcio can read it).

Crash safety: a file being written is named ``*.warc.gz.open``. Every exchange (request and
response record) is written and ``fsync``-ed before the crawler marks the URL done. Closing a
file (at rotation or at the end) re-reads it member by member (:func:`verify`) and only then
renames it to ``*.warc.gz``; after a crash :func:`dnmwatch.collect.warc_read.recover` cuts a torn
last record off an ``.open`` file, quarantines the cut bytes, and seals what is left. A new run
never appends to an old file.

The ``warcinfo`` record names the market, the crawl id and the software version, and nothing
that could identify the researcher or the capture path: no host name, no IP, no cookies.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dnmwatch import __version__
from dnmwatch.collect.exchange import (
    Exchange,
    archived_request_headers,
    archived_response_headers,
)
from dnmwatch.collect.warc_read import OPEN_SUFFIX, SEALED_SUFFIX, verify
from dnmwatch.errors import CaptureError

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_FILE_SEQ = re.compile(r"-(\d{5})\.warc\.gz")


def warc_date(when: datetime) -> str:
    """WARC 1.1 date: UTC, ISO 8601, microseconds allowed."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha1_digest(data: bytes) -> str:
    """The ``sha1:BASE32`` form used by WARC digest fields."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")  # noqa: S324


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f"Content-Length: {len(block)}\r\n\r\n"
    return gzip.compress(head.encode("utf-8") + block + b"\r\n\r\n", compresslevel=6, mtime=0)


def _http_head(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [first_line] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


@dataclass(frozen=True, slots=True)
class Written:
    """Where an exchange's response record went (file named as it will be once sealed)."""

    path: Path
    offset: int
    record_id: str


class WarcWriter:
    """Writes a crawl's exchanges into rotating ``<prefix>-NNNNN.warc.gz`` files."""

    def __init__(self, directory: Path, prefix: str, *, info: Mapping[str, str],
                 max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.directory = directory
        self.prefix = prefix
        self.info = dict(info)
        self.max_bytes = max_bytes
        self._clock = clock
        self._fd: int | None = None
        self._path: Path | None = None
        self._warcinfo_id = ""
        self._size = 0
        self.sealed: list[Path] = []

    # ------------------------------------------------------------------ files

    def _next_seq(self) -> int:
        seqs = [int(m.group(1)) for p in self.directory.glob(f"{self.prefix}-*.warc.gz*")
                if (m := _FILE_SEQ.search(p.name))]
        return max(seqs, default=-1) + 1

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{self.prefix}-{self._next_seq():05d}{SEALED_SUFFIX}"
        path = self.directory / (name + OPEN_SUFFIX)
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o640)
        except OSError as exc:
            raise CaptureError(f"cannot create WARC file {path}: {exc.strerror}") from exc
        self._path, self._size = path, 0
        self._warcinfo_id = new_record_id()
        fields = {"software": f"dnmwatch/{__version__}", "format": "WARC File Format 1.1",
                  "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                                "warc-format/warc-1.1/", **self.info}
        block = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
        self._append([_record([("WARC-Type", "warcinfo"),
                               ("WARC-Record-ID", self._warcinfo_id),
                               ("WARC-Date", warc_date(self._clock())),
                               ("WARC-Filename", name),
                               ("Content-Type", "application/warc-fields"),
                               ("WARC-Block-Digest", sha1_digest(block))], block)])

    def _append(self, members: list[bytes]) -> int:
        assert self._fd is not None
        offset = self._size
        data = b"".join(members)
        try:
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
            os.fsync(self._fd)
        except OSError as exc:
            raise CaptureError(f"cannot write WARC file {self._path}: {exc.strerror}") from exc
        self._size += len(data)
        return offset

    @property
    def current(self) -> Path | None:
        """The file being written (its ``.open`` name), if any."""
        return self._path

    # ------------------------------------------------------------------ records

    def write(self, exchange: Exchange, *, record_id: str | None = None) -> Written:
        """Append the request and response records of ``exchange`` (synced to disk before
        returning). ``record_id`` names the response record (the frontier's attempt id)."""
        if self._fd is None:
            self._open()
        assert self._path is not None
        when = warc_date(exchange.started_at)
        response_id = record_id or new_record_id()
        request_id = new_record_id()
        req_block = _http_head(
            f"{exchange.method} {exchange.request_target} HTTP/{exchange.http_version}",
            archived_request_headers(exchange.request_headers)) + exchange.request_body
        resp_block = _http_head(
            f"HTTP/{exchange.http_version} {exchange.status} {exchange.reason}".rstrip(),
            archived_response_headers(exchange.response_headers, len(exchange.body))
        ) + exchange.body
        common = [("WARC-Date", when), ("WARC-Target-URI", exchange.url),
                  ("WARC-Warcinfo-ID", self._warcinfo_id)]
        response_headers = [("WARC-Type", "response"), ("WARC-Record-ID", response_id), *common,
                            ("Content-Type", "application/http;msgtype=response"),
                            ("WARC-Payload-Digest", sha1_digest(exchange.body)),
                            ("WARC-Block-Digest", sha1_digest(resp_block))]
        if exchange.truncated is not None:
            response_headers.append(("WARC-Truncated", exchange.truncated))
        request_headers = [("WARC-Type", "request"), ("WARC-Record-ID", request_id), *common,
                           ("WARC-Concurrent-To", response_id),
                           ("Content-Type", "application/http;msgtype=request"),
                           ("WARC-Payload-Digest", sha1_digest(exchange.request_body)),
                           ("WARC-Block-Digest", sha1_digest(req_block))]
        offset = self._append([_record(response_headers, resp_block),
                               _record(request_headers, req_block)])
        sealed_name = self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX))
        if self._size >= self.max_bytes:
            self.close()
        return Written(sealed_name, offset, response_id)

    def close(self) -> Path | None:
        """Seal the current file: verify it member by member, then drop ``.open``.

        Raises :class:`CaptureError` (leaving the ``.open`` file for :func:`recover`) if the file
        does not read back cleanly, which means the disk lost data.
        """
        if self._fd is None or self._path is None:
            return None
        fd, path = self._fd, self._path
        self._fd, self._path = None, None
        os.close(fd)
        report = verify(path)
        if not report.ok:
            raise CaptureError(f"WARC file {path} failed verification: {report.errors[0]}")
        sealed = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        os.replace(path, sealed)
        _fsync_dir(sealed.parent)
        self.sealed.append(sealed)
        return sealed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
